from django.apps import AppConfig


class WorkersConfig(AppConfig):
    name = "workers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from config import checks  # noqa: F401 - registers the broker/limits system checks
        from workers import signals  # noqa: F401 - connects the worker signal handlers
