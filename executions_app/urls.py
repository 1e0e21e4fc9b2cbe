from django.urls import path

from executions_app import apis, approval_apis

urlpatterns = [
    path("executions", apis.ExecutionListCreateApi.as_view(), name="execution-list"),
    path("executions/<uuid:pk>", apis.ExecutionDetailApi.as_view(), name="execution-detail"),
    path("executions/<uuid:pk>/logs", apis.ExecutionLogsApi.as_view(), name="execution-logs"),
    path("executions/<uuid:pk>/cancel", apis.ExecutionCancelApi.as_view(), name="execution-cancel"),
    path("executions/<uuid:pk>/retry", apis.ExecutionRetryApi.as_view(), name="execution-retry"),
    path("executions/<uuid:pk>/events", apis.ExecutionEventsApi.as_view(), name="execution-events"),
    path(
        "executions/<uuid:pk>/nodes/<str:node_id>/decision",
        approval_apis.ApprovalDecisionApi.as_view(),
        name="approval-decision",
    ),
    path(
        "executions/<uuid:pk>/nodes/<str:node_id>/links",
        approval_apis.ApprovalLinksApi.as_view(),
        name="approval-links",
    ),
    path("approvals", approval_apis.ApprovalListApi.as_view(), name="approval-list"),
]
