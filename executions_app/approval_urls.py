"""The public pages of signed approval links, under /approvals/ (config/urls.py)."""

from django.urls import path

from executions_app import approval_views

urlpatterns = [
    path("<str:token>", approval_views.approval_page, name="approval-page"),
]
