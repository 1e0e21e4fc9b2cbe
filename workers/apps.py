from django.apps import AppConfig


class WorkersConfig(AppConfig):
    name = "workers"
    verbose_name = "Workers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from workers import (
            checks,  # noqa: F401 - registers the broker and heartbeat system checks
            signals,  # noqa: F401 - connects the worker signal handlers
        )
