"""Owner-written templates (a hook's input mapping and response, a schedule's inputs) are
compiled when saved, so a mistake is a 400 naming where it is, not a failed delivery."""

from __future__ import annotations

from typing import Any

from core.api import ValidationFailed
from core.json_text import format_path
from workflows_app.expressions import compile_value

# The names each kind of trigger template reads.
HOOK_MAPPING_ROOTS = ("body", "query", "headers", "trigger")
HOOK_RESPONSE_ROOTS = ("outputs", "execution", "body", "query", "headers", "trigger")
SCHEDULE_ROOTS = ("trigger",)


def check_templates(field: str, value: Any, roots: tuple[str, ...]) -> None:
    _, problems = compile_value(value, roots=roots)
    if problems:
        raise ValidationFailed(
            details={field: [f"{format_path(loc) or '(root)'}: {error}" for loc, error in problems]},
        )
