from django.apps import AppConfig


class DashboardAppConfig(AppConfig):
    name = "dashboard_app"
    verbose_name = "Dashboard"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from dashboard_app import counters
        from executions_app.signals import execution_finished

        # The engine signals ends; the counters listen (the engine never imports them).
        execution_finished.connect(counters.queue_execution_finished, dispatch_uid="dashboard-counters")
