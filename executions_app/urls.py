from django.urls import path

from executions_app import apis

urlpatterns = [
    path("executions", apis.ExecutionListCreateApi.as_view(), name="execution-list"),
    path("executions/<uuid:pk>", apis.ExecutionDetailApi.as_view(), name="execution-detail"),
    path("executions/<uuid:pk>/logs", apis.ExecutionLogsApi.as_view(), name="execution-logs"),
    path("executions/<uuid:pk>/cancel", apis.ExecutionCancelApi.as_view(), name="execution-cancel"),
    path("executions/<uuid:pk>/retry", apis.ExecutionRetryApi.as_view(), name="execution-retry"),
    path("executions/<uuid:pk>/events", apis.ExecutionEventsApi.as_view(), name="execution-events"),
]
