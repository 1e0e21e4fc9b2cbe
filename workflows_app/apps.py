from django.apps import AppConfig


class WorkflowsAppConfig(AppConfig):
    name = "workflows_app"
    default_auto_field = "django.db.models.BigAutoField"
