"""DRF's and drf-spectacular's settings: the API's authentication, parsing and rendering,
errors, throttles and schema. config/settings.py imports them from here."""

from __future__ import annotations

from config.env import env_int, env_str

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts_app.authentication.CachedJWTAuthentication",
        "accounts_app.authentication.ApiKeyAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["core.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "accounts_app.throttles.UserOrKeyRateThrottle",
        "accounts_app.throttles.AnonAddressRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env_str("SWITCHBOARD_THROTTLE_USER", "6000/min"),
        "anon": env_str("SWITCHBOARD_THROTTLE_ANON", "600/min"),
        "login": env_str("SWITCHBOARD_THROTTLE_LOGIN", "10/min"),
        "register": env_str("SWITCHBOARD_THROTTLE_REGISTER", "5/min"),
    },
    # The throttle address is the socket peer unless a proxy count is configured.
    "NUM_PROXIES": env_int("SWITCHBOARD_NUM_PROXIES", 0),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Switchboard API",
    "DESCRIPTION": "AI workflow automation: workflows, executions, providers, monitoring.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "core.schema.document_errors"],
}
