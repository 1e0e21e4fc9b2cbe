from django.urls import path

from executions_app import credential_views, views

urlpatterns = [
    path("executions", views.ExecutionListCreateApi.as_view(), name="execution-list"),
    path("executions/<uuid:pk>", views.ExecutionDetailApi.as_view(), name="execution-detail"),
    path("executions/<uuid:pk>/logs", views.ExecutionLogsApi.as_view(), name="execution-logs"),
    path("executions/<uuid:pk>/cancel", views.ExecutionCancelApi.as_view(), name="execution-cancel"),
    path("executions/<uuid:pk>/retry", views.ExecutionRetryApi.as_view(), name="execution-retry"),
    path("executions/<uuid:pk>/events", views.ExecutionEventsApi.as_view(), name="execution-events"),
    path("credentials", credential_views.CredentialListCreateApi.as_view(), name="credential-list"),
    path("credentials/<uuid:pk>", credential_views.CredentialDetailApi.as_view(), name="credential-detail"),
]
