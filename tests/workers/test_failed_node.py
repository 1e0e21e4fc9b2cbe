"""The return value a node task reports its node's failure with (workers/task_events.py):
the worker's main process sees only Celery's repr of it, which must carry it whole."""

from __future__ import annotations

from celery.utils.saferepr import saferepr

from config.celery import app
from workers.task_events import FAILED, FailedNode


def test_a_node_error_of_any_length_reaches_the_main_process_whole() -> None:
    app.loader.import_default_modules()
    maxsize = app.tasks["workers.node_run"].resultrepr_maxsize
    for message in ("", "division by zero", "x" * 2000, "quoted 'text' and\nlines"):
        failed = FailedNode({"code": "expression_error", "message": message})
        seen = saferepr(failed, maxsize)  # what Celery's trace hands the main process
        assert seen == repr(failed)
        assert seen.startswith(f"{FAILED}expression_error: ")
    assert repr(FailedNode(None)) == f"{FAILED}failed: "
