"""How definition problems are reported: every one at once, each as {node_id, path,
code, message} with a JSON path such as `nodes[2].config.prompt`."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from core.api import AppError
from core.json_text import format_path

_PYDANTIC_CODES = {
    "extra_forbidden": "unknown_field",
    "missing": "missing_field",
    "invalid_expression": "invalid_expression",
}


class DefinitionInvalid(AppError):
    status_code = 400
    code = "invalid_definition"
    message = "The workflow definition is not valid."

    def __init__(self, problems: list[dict]):
        count = len(problems)
        super().__init__(f"The workflow definition has {count} problem{'s' if count != 1 else ''}.", details=problems)
        self.problems = problems


class Problems(list):
    def add(self, node_id: Any, loc: tuple, code: str, message: str) -> None:
        node_id = node_id if isinstance(node_id, str) else None
        self.append({"node_id": node_id, "path": format_path(loc), "code": code, "message": message})

    def add_pydantic(self, node_id: str | None, loc: tuple, error: ValidationError) -> None:
        for item in error.errors(include_url=False):
            context = item.get("ctx") or {}
            message = item["msg"].removeprefix("Value error, ")
            at = (*loc, *item["loc"], *context.get("at", ()))
            self.add(node_id, at, _PYDANTIC_CODES.get(item["type"], "invalid_config"), message)
            for more_at, more_message in context.get("more", ()):
                self.add(node_id, (*loc, *item["loc"], *more_at), "invalid_expression", more_message)


def single_problem(path: str, code: str, message: str) -> dict:
    return {"node_id": None, "path": path, "code": code, "message": message}
