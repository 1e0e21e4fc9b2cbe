from django.apps import AppConfig


class RecordsAppConfig(AppConfig):
    name = "records_app"
    verbose_name = "Record collections"
    default_auto_field = "django.db.models.BigAutoField"
