"""What a node's output must be before it is recorded: JSON, within the size cap, and
nothing the database refuses (a NUL, half of a surrogate pair, NaN or Infinity)."""

from __future__ import annotations

import json
import re
from typing import Any

from django.conf import settings

from core.json_text import LONE_SURROGATE_ESCAPE
from executions_app.engine.errors import NodeFailure

LIMITS = settings.SWITCHBOARD
# An escaped NUL in encoded JSON: \u0000 after an even number of backslashes.
_JSON_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


def check_output_size(output: Any) -> None:
    try:
        encoded = json.dumps(output, separators=(",", ":"), allow_nan=False)
    except ValueError as exc:
        if "Out of range float" in str(exc):  # Python reads NaN and 1e400 from JSON; databases refuse them
            message = "The node's output holds NaN or Infinity, which JSON cannot represent."
            raise NodeFailure("output_invalid", message) from None
        raise NodeFailure("output_not_json", f"The node's output is not JSON: {exc}") from None
    except TypeError as exc:
        raise NodeFailure("output_not_json", f"The node's output is not JSON: {exc}") from None
    if _JSON_NUL.search(encoded):  # PostgreSQL's jsonb cannot store NUL characters
        raise NodeFailure("output_invalid", "The node's output contains a NUL character (\\u0000).")
    # nor half of a surrogate pair (whole pairs, every emoji, are fine)
    if "\\ud" in encoded and LONE_SURROGATE_ESCAPE.search(encoded) and _holds_lone_surrogate(output):
        raise NodeFailure("output_invalid", "The node's output contains a lone surrogate (\\ud800 to \\udfff).")
    size = len(encoded)
    if size > LIMITS.max_node_output_bytes:
        raise NodeFailure(
            "output_too_large", f"The node's output is {size} bytes; the limit is {LIMITS.max_node_output_bytes}."
        )


def _holds_lone_surrogate(output: Any) -> bool:
    """Only asked when the escaped JSON names a surrogate at all, which is rare."""
    try:
        json.dumps(output, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return True
    return False
