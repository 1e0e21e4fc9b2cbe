from django.urls import path

from executions_app import views

urlpatterns = [
    path("executions", views.ExecutionListCreateApi.as_view(), name="execution-list"),
    path("executions/<uuid:pk>", views.ExecutionDetailApi.as_view(), name="execution-detail"),
    path("executions/<uuid:pk>/logs", views.ExecutionLogsApi.as_view(), name="execution-logs"),
    path("executions/<uuid:pk>/cancel", views.ExecutionCancelApi.as_view(), name="execution-cancel"),
]
