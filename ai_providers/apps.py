from django.apps import AppConfig


class AiProvidersConfig(AppConfig):
    name = "ai_providers"
    verbose_name = "AI providers"
    default_auto_field = "django.db.models.BigAutoField"
