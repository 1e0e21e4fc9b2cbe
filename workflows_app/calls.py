"""Save-time checks of the calls a definition makes (SUBWORKFLOW, MAP): each target is one
of the owner's workflows, and no chain of calls leads back to the workflow being saved
(docs/concepts/composition.md).

The call graph is read across the owner's workflows' current versions, from the saved
workflow outwards, one query per level. A cycle that only a pinned older version closes,
or one made by two saves racing, is stopped at run time by the depth limit
(max_call_depth)."""

from __future__ import annotations

import uuid
from typing import Any

from workflows_app.models import Workflow
from workflows_app.problems import DefinitionInvalid, Problems

CALL_TYPES = ("SUBWORKFLOW", "MAP")


def calls_in(definition: Any) -> list[tuple[int, str, str]]:
    """(position, node id, target workflow id) of every call node of a definition whose
    target is a well-formed id; the definition's own validation reports the others."""
    nodes = definition.get("nodes") if isinstance(definition, dict) else None
    found: list[tuple[int, str, str]] = []
    for position, raw in enumerate(nodes if isinstance(nodes, list) else []):
        if not isinstance(raw, dict) or raw.get("type") not in CALL_TYPES:
            continue
        config = raw.get("config")
        target = config.get("workflow_id") if isinstance(config, dict) else None
        try:
            found.append((position, str(raw.get("id")), str(uuid.UUID(str(target)))))
        except ValueError:
            continue
    return found


def _current_calls(workflow_ids: set[str], names: dict[str, str]) -> dict[str, set[str]]:
    """The workflows each of these (not archived) calls in its current version; their
    names are added to `names`."""
    rows = Workflow.objects.filter(id__in=workflow_ids, archived_at__isnull=True).values_list(
        "id", "name", "current_version__definition"
    )
    calls: dict[str, set[str]] = {}
    for workflow_id, name, definition in rows:
        names[str(workflow_id)] = name
        calls[str(workflow_id)] = {target for *_, target in calls_in(definition)}
    return calls


def _chain_back(target: str, home: str, names: dict[str, str]) -> list[str] | None:
    """The chain of calls [target, ..., home] by which `target` ends up calling `home`,
    found breadth first (the shortest); None when it never does."""
    came_from: dict[str, str | None] = {target: None}
    frontier = {target}
    while frontier:
        if home in frontier:
            chain: list[str] = []
            step: str | None = home
            while step is not None:
                chain.append(step)
                step = came_from[step]
            return chain[::-1]
        calls = _current_calls(frontier, names)
        following: set[str] = set()
        for caller in frontier:
            for callee in calls.get(caller, set()):
                if callee not in came_from:
                    came_from[callee] = caller
                    following.add(callee)
        frontier = following
    return None


def check_calls(*, owner: Any, definition: Any, workflow_id: Any = None) -> None:
    """Raises DefinitionInvalid (at `nodes[i].config.workflow_id`) for a call to a
    workflow that is not the owner's (or archived), and for a call that leads back to
    `workflow_id`, the workflow being saved (a call of itself included)."""
    calls = calls_in(definition)
    if not calls:
        return
    home = str(workflow_id) if workflow_id is not None else None
    targets = {target for *_, target in calls}
    rows = Workflow.objects.filter(id__in=targets, owner=owner, archived_at__isnull=True).values_list("id", "name")
    names = {str(found_id): name for found_id, name in rows}
    problems = Problems()
    for position, node_id, target in calls:
        at = ("nodes", position, "config", "workflow_id")
        if target not in names:
            problems.add(node_id, at, "unknown_workflow", f"{target} is not one of your workflows")
        elif home is not None:  # a workflow being created has no id yet: nothing calls it
            chain = [home] if target == home else _chain_back(target, home, names)
            if chain is not None:
                steps = " -> ".join(["this workflow", *(repr(names.get(s, s)) for s in chain[:-1]), "this workflow"])
                problems.add(node_id, at, "call_cycle", f"the call leads back to this workflow: {steps}")
    if problems:
        raise DefinitionInvalid(list(problems))
