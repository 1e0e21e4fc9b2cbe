from django.apps import AppConfig


class ExecutionsAppConfig(AppConfig):
    name = "executions_app"
    default_auto_field = "django.db.models.BigAutoField"
