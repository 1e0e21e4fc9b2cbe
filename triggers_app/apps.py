from django.apps import AppConfig


class TriggersAppConfig(AppConfig):
    name = "triggers_app"
    verbose_name = "Triggers"
    default_auto_field = "django.db.models.BigAutoField"
