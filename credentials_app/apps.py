from django.apps import AppConfig


class CredentialsAppConfig(AppConfig):
    name = "credentials_app"
    verbose_name = "Credentials"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from credentials_app import checks  # noqa: F401 - registers the credentials key check
