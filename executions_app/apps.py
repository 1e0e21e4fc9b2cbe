from django.apps import AppConfig


class ExecutionsAppConfig(AppConfig):
    name = "executions_app"
    verbose_name = "Executions"
    default_auto_field = "django.db.models.BigAutoField"
