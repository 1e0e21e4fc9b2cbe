"""Mounted at api/workflows (no trailing slash), so every pattern starts with "/"."""

from django.urls import path

from workflows_app import apis

urlpatterns = [
    path("", apis.WorkflowListCreateApi.as_view(), name="workflow-list"),
    path("/validate", apis.WorkflowValidateApi.as_view(), name="workflow-validate"),
    path("/import", apis.WorkflowImportApi.as_view(), name="workflow-import"),
    path("/node-types", apis.NodeTypeListApi.as_view(), name="workflow-node-types"),
    path("/<uuid:pk>", apis.WorkflowDetailApi.as_view(), name="workflow-detail"),
    path("/<uuid:pk>/versions", apis.WorkflowVersionListApi.as_view(), name="workflow-versions"),
    path("/<uuid:pk>/versions/<int:number>", apis.WorkflowVersionDetailApi.as_view(), name="workflow-version"),
    path("/<uuid:pk>/export", apis.WorkflowExportApi.as_view(), name="workflow-export"),
]
