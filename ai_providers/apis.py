"""Provider health over HTTP, for the dashboard to mount (docs/api/index.md: POST
/api/dashboard/test-ai, GET /api/dashboard/ai-status). Both are dashboard routes, so they
accept the session cookie like every other one (SessionApi); CSRF applies to the POST."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import IsAdminUser, IsAuthenticated
from rest_framework.response import Response

from ai_providers.health import provider_status, test_all_providers
from core.api import SessionApi


class ProviderTestApi(SessionApi):
    """A live call to every configured provider: staff only, since it spends real quota."""

    permission_classes = [IsAdminUser]

    @extend_schema(
        request=None,
        responses={200: OpenApiTypes.OBJECT, 403: OpenApiResponse(description="Staff only (`permission_denied`).")},
    )
    def post(self, request):
        return Response({"results": test_all_providers()})


class ProviderStatusApi(SessionApi):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return Response({"providers": provider_status()})
