from django.apps import AppConfig


class DashboardAppConfig(AppConfig):
    name = "dashboard_app"
    default_auto_field = "django.db.models.BigAutoField"
