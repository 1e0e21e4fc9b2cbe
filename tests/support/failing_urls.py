"""The site's URLs plus routes that fail on purpose, for the error tests only (mounted
with `@pytest.mark.urls`). The error handlers are the site's own, imported so that one
removed from config.urls breaks these tests too."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import handler400, handler404, handler500
from config.urls import urlpatterns as site_urlpatterns

__all__ = ["handler400", "handler404", "handler500", "urlpatterns"]

INTERNAL_DETAIL = "database password is hunter2"  # must never reach the client


class FailingApi(APIView):
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        raise RuntimeError(INTERNAL_DETAIL)


def failing_plain_view(request: HttpRequest) -> HttpResponse:
    raise RuntimeError(INTERNAL_DETAIL)


urlpatterns = [
    path("api/test-failures/drf", FailingApi.as_view()),
    path("api/test-failures/plain", failing_plain_view),
    *site_urlpatterns,
]
