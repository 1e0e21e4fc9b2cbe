"""The real collaborators every node is given (workflows_app/nodes/ports.py), built once
per process: the guarded HTTP client, the owner-bound record store, the AI router, the
runner of child executions."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any

from executions_app.engine.children import EngineChildren
from outbound import guarded_client
from records_app.store import OwnerRecords
from workflows_app.nodes.ports import NodePorts

logger = logging.getLogger(__name__)


class RoutedCompleter:
    """The AI completer: the router with fallback. Its SDKs load on first use, or in
    prepare() on a worker that serves the `ai` queue (about 1 s and 45 MB), so the web
    process and the other workers never load them."""

    def prepare(self) -> None:
        started = time.perf_counter()
        from ai_providers import services  # noqa: F401, PLC0415 - start-up cost: the vendor SDKs
        from ai_providers.registry import provider_names  # noqa: PLC0415 - the same

        names = provider_names()
        logger.info("Loaded the AI provider adapters (%s) in %.2f s", ", ".join(names), time.perf_counter() - started)

    def complete(self, **request: Any) -> Any:
        return _complete_with_fallback()(**request)


@functools.cache
def _complete_with_fallback() -> Callable[..., Any]:
    from ai_providers.services import complete_with_fallback  # noqa: PLC0415 - start-up cost: the vendor SDKs

    return complete_with_fallback


@functools.cache
def node_ports() -> NodePorts:
    """The one NodePorts of this process."""
    return NodePorts(records_for=OwnerRecords, http=guarded_client(), ai=RoutedCompleter(), children=EngineChildren())
