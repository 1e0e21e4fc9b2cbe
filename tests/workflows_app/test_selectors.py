from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.api import NotFound
from config.resilient_cache import cache_get
from tests.workflows_app.factories import WorkflowFactory, echo_definition, support_triage
from workflows_app.selectors import (
    current_version_for,
    current_version_key,
    graph_for_version,
    version_get,
    workflow_get,
)
from workflows_app.services import workflow_archive, workflow_update

pytestmark = pytest.mark.django_db


def version_queries(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if "workflows_app_workflow" in q["sql"]]


def test_current_version_is_cached_after_the_first_read():
    workflow = WorkflowFactory(definition=support_triage())
    first = current_version_for(workflow.pk)
    with CaptureQueriesContext(connection) as queries:
        again = current_version_for(workflow.pk)
    assert version_queries(queries) == []
    assert (again.pk, again.number, again.definition) == (first.pk, 1, support_triage())


def test_version_is_cached_by_id():
    version = WorkflowFactory().current_version
    version_get(version.pk)
    with CaptureQueriesContext(connection) as queries:
        cached = version_get(version.pk)
    assert queries.captured_queries == []
    assert cached.definition == version.definition


def test_update_invalidates_the_pointer_after_commit(django_capture_on_commit_callbacks):
    workflow = WorkflowFactory(definition=echo_definition("one"))
    assert current_version_for(workflow.pk).number == 1
    with django_capture_on_commit_callbacks(execute=True):
        workflow_update(workflow=workflow, user=workflow.owner, definition=echo_definition("two"))
        # Not before the commit: a rolled-back update must not lose the cached pointer.
        assert cache_get(current_version_key(workflow.pk)) is not None
    assert cache_get(current_version_key(workflow.pk)) is None
    current = current_version_for(workflow.pk)
    assert current.number == 2
    assert current.definition == echo_definition("two")


def test_rename_keeps_the_cached_pointer(django_capture_on_commit_callbacks):
    workflow = WorkflowFactory()
    current_version_for(workflow.pk)
    with django_capture_on_commit_callbacks(execute=True):
        workflow_update(workflow=workflow, user=workflow.owner, name="renamed")
    assert cache_get(current_version_key(workflow.pk)) is not None


def test_archive_drops_the_pointer(django_capture_on_commit_callbacks):
    workflow = WorkflowFactory()
    current_version_for(workflow.pk)
    with django_capture_on_commit_callbacks(execute=True):
        workflow_archive(workflow=workflow)
    assert cache_get(current_version_key(workflow.pk)) is None


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
        current_version_for("not-a-uuid")
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
    assert current_version_for(workflow.pk).number == 1
    assert version_get(workflow.current_version_id).pk == workflow.current_version_id
