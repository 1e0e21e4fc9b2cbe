from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.api import NotFound
from tests.support.definitions import support_triage
from tests.support.factories import WorkflowFactory
from workflows_app.selectors import graph_for_version, version_get, workflow_get

pytestmark = pytest.mark.django_db


def version_queries(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if "workflows_app_workflow" in q["sql"]]


def test_version_is_cached_by_id():
    version = WorkflowFactory().current_version
    version_get(version.pk)
    with CaptureQueriesContext(connection) as queries:
        cached = version_get(version.pk)
    assert queries.captured_queries == []
    assert cached.definition == version.definition


def test_graph_for_version_is_parsed_once_per_process():
    version = WorkflowFactory(definition=support_triage()).current_version
    graph = graph_for_version(version.pk)
    with CaptureQueriesContext(connection) as queries:
        again = graph_for_version(str(version.pk))
    assert again is graph
    assert queries.captured_queries == []
    assert graph.input_node_id == "ticket"


def test_unknown_ids_are_not_found():
    with pytest.raises(NotFound):
        version_get("00000000-0000-0000-0000-000000000000")
    with pytest.raises(NotFound):
        version_get("not-a-uuid")
    with pytest.raises(NotFound):
        graph_for_version("00000000-0000-0000-0000-000000000000")


def test_workflow_get_accepts_keyword_arguments():
    workflow = WorkflowFactory()
    assert workflow_get(user=workflow.owner, workflow_id=workflow.pk) == workflow


def test_redis_outage_falls_back_to_the_database(settings):
    workflow = WorkflowFactory()
    settings.CACHES = {
        "default": {
            **settings.CACHES["default"],
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }
    assert version_get(workflow.current_version_id).pk == workflow.current_version_id
