from django.apps import AppConfig


class AccountsAppConfig(AppConfig):
    name = "accounts_app"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Accounts"

    def ready(self) -> None:
        # Registers the system checks, signal receivers and OpenAPI extensions.
        from accounts_app import checks, receivers, schema  # noqa: F401
