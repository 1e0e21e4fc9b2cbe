"""The public hook routes, under /hooks/ (config/urls.py). The token is the credential:
the access log and our own logs redact it (core/access_log.py, core/log_filters.py)."""

from django.urls import path

from triggers_app import hook_views

urlpatterns = [
    path("<str:token>", hook_views.deliver, name="hook-deliver"),
    path("<str:token>/deliveries/<str:delivery_id>", hook_views.delivery, name="hook-delivery"),
]
