from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularSwaggerView

from accounts_app.throttles import login_form_throttled
from core.api import api_not_found
from core.schema import SchemaApi

# The admin's sign-in, and its own password change (which checks the old password), count
# in the same per-address budget as the API's and the dashboard's. The default site's views
# are replaced on the instance (Django looks them up there when it builds the admin's URLs);
# the wrapper answers a 429 with a plain HttpResponse, not the TemplateResponse of the stubs.
admin.site.login = login_form_throttled(admin.site.login)  # type: ignore[method-assign, assignment]
admin.site.password_change = login_form_throttled(admin.site.password_change)  # type: ignore[method-assign, assignment]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/auth/", include("accounts_app.urls")),
    path("api/workflows", include("workflows_app.urls")),
    path("api/", include("executions_app.urls")),
    path("api/", include("credentials_app.urls")),
    path("api/", include("triggers_app.urls")),
    path("api/dashboard/", include("dashboard_app.urls")),
    path("api/dashboard/", include("ai_providers.urls")),
    path("api/schema", SchemaApi.as_view(), name="schema"),
    path("api/docs", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    # Last of the API's routes: an unknown /api/ path is the JSON 404, DEBUG on or off.
    re_path(r"^api(?:/(?P<path>.*))?$", api_not_found, name="api-not-found"),
    # Token-addressed, outside /api/: a hook's caller holds no account (triggers_app/hook_urls.py).
    path("hooks/", include("triggers_app.hook_urls")),
    path("approvals/", include("executions_app.approval_urls")),
    path("", include("dashboard_app.page_urls")),
]

handler400 = "core.api.json_400"
handler404 = "core.api.json_404"
handler500 = "core.api.json_500"
