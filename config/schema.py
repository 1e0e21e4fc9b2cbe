"""The OpenAPI schema view."""

from __future__ import annotations

import threading
from typing import Any

from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SCHEMA_KWARGS, SpectacularAPIView
from rest_framework.request import Request
from rest_framework.response import Response


class SchemaApi(SpectacularAPIView):
    """drf-spectacular's schema view, generating one schema at a time per process. Its
    extensions import their target classes lazily on first use, without a lock: two first
    requests at once (gthread workers serve several) could see an extension half-loaded by
    the other and answer 500."""

    _generating = threading.Lock()

    @extend_schema(**SCHEMA_KWARGS)  # as the base view's get: the schema leaves itself out
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with self._generating:
            return super().get(request, *args, **kwargs)
