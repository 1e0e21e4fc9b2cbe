"""A workflow's `layout`: where the studio draws each node, `{node_id: {"x": .., "y": ..}}`.

It lives beside the definition, not in it: saving it makes no version, the engine never
reads it, and version diffs do not show it; export and import carry it. Entries for
node ids the definition does not (yet) have are kept, so an editor may save positions
before the definition that adds the node."""

from __future__ import annotations

import math
import re
from typing import Any

from django.conf import settings

NODE_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")  # the definition's rule (definition.py)
# Far beyond any canvas, small enough that a client's arithmetic stays exact.
MAX_COORDINATE = 10_000_000


def layout_problems(value: Any) -> list[str]:
    """What is wrong with a layout, empty when it may be saved."""
    if not isinstance(value, dict):
        return ['The layout is an object: {"<node id>": {"x": <number>, "y": <number>}}.']
    limit = settings.SWITCHBOARD.max_nodes
    if len(value) > limit:
        return [f"The layout places at most {limit} nodes (a workflow's limit); it has {len(value)}."]
    problems = []
    for node_id, place in value.items():
        if not NODE_ID.fullmatch(node_id):
            problems.append(f"{node_id[:80]!r} is not a node id (ids match {NODE_ID.pattern}).")
        elif not isinstance(place, dict) or set(place) != {"x", "y"}:
            problems.append(f'{node_id}: a place is {{"x": <number>, "y": <number>}}, nothing else.')
        elif not all(_coordinate(place[axis]) for axis in ("x", "y")):
            problems.append(f"{node_id}: x and y are finite numbers within ±{MAX_COORDINATE:,}.")
        if len(problems) >= 20:
            break
    return problems


def _coordinate(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and abs(value) <= MAX_COORDINATE
    )
