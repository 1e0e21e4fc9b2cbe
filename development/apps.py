from django.apps import AppConfig


class DevelopmentConfig(AppConfig):
    """The development tools: the `make run` launcher, the embedded Redis and the demo
    seeding (`manage.py seed_demo`). An app only so that its command is found."""

    name = "development"
    verbose_name = "Development"
