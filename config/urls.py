from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/auth/", include("accounts_app.urls")),
    path("api/workflows", include("workflows_app.urls")),
    path("api/", include("executions_app.urls")),
    path("api/dashboard/", include("dashboard_app.urls")),
    path("api/dashboard/", include("ai_providers.urls")),
    path("api/schema", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("", include("dashboard_app.pages")),
]

handler400 = "config.api.json_400"
handler404 = "config.api.json_404"
handler500 = "config.api.json_500"
