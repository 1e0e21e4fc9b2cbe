from django.urls import path

from dashboard_app import apis

urlpatterns = [
    path("overview", apis.OverviewApi.as_view(), name="dashboard-overview"),
    path("workflows", apis.WorkflowsApi.as_view(), name="dashboard-workflows"),
    path("triggers", apis.TriggersApi.as_view(), name="dashboard-triggers"),
    path("health", apis.HealthApi.as_view(), name="dashboard-health"),
    path("metrics", apis.MetricsApi.as_view(), name="dashboard-metrics"),
]
