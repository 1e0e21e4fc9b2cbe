"""The config field types of node types: strings that hold {{ }} templates or bare
expressions, compiled when a config is validated (workflows_app/nodes/base.py re-exports
them for node modules)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ValidationInfo
from pydantic.functional_validators import PlainValidator
from pydantic_core import PydanticCustomError

from workflows_app.expressions import (
    Expression,
    ExpressionError,
    Template,
    compile_expression,
    compile_template,
    compile_value,
)


def expression_problem(exc: ExpressionError, at: tuple[Any, ...] = ()) -> PydanticCustomError:
    # "at" lets a problem deep inside a value point at its own path (definition.py reads it).
    return PydanticCustomError("invalid_expression", "{message}", {"message": exc.message, "at": at})


def _to_template(value: Any) -> Template:
    if isinstance(value, Template):
        return value
    if not isinstance(value, str):
        raise PydanticCustomError("string_type", "Input should be a valid string")
    try:
        return compile_template(value)
    except ExpressionError as exc:
        raise expression_problem(exc) from None


def _to_expression(value: Any) -> Expression:
    if isinstance(value, Expression):
        return value
    if not isinstance(value, str):
        raise PydanticCustomError("string_type", "Input should be a valid string")
    try:
        return compile_expression(value)
    except ExpressionError as exc:
        raise expression_problem(exc) from None


def _to_template_value(value: Any) -> Any:
    compiled, problems = compile_value(value)
    if problems:
        # pydantic keeps one error per field: the others are listed in "more".
        (first_at, first), *rest = problems
        raise PydanticCustomError(
            "invalid_expression",
            "{message}",
            {"message": first.message, "at": first_at, "more": [(at, exc.message) for at, exc in rest]},
        )
    return compiled


def _to_template_object(value: Any) -> Any:
    if value is None:
        return None  # an explicit null is the same as leaving the field out
    if not isinstance(value, dict):
        raise PydanticCustomError("dict_type", "Input should be a valid object")
    return _to_template_value(value)


def saved_only(info: ValidationInfo) -> bool:
    """True when a config is validated to be saved (or validated), not to run a stored
    version: for checks that the run time repeats, added after versions were saved."""
    return not (info.context or {}).get("stored")


def _to_template_object_or_whole(value: Any) -> Any:
    if isinstance(value, str):
        template = _to_template(value)
        if not template.keeps_type:
            message = "Input should be an object, or one {{ expression }} that gives an object"
            raise PydanticCustomError("dict_type", message)
        return template
    return _to_template_object(value)


# A string that may hold {{ }} templates, compiled when the config is validated.
# json_schema_input_type: what a client sends, for the config schema of GET /api/workflows/node-types.
TemplateText = Annotated[Template, PlainValidator(_to_template, json_schema_input_type=str)]
# A bare expression (CONDITION), compiled when the config is validated.
ExpressionText = Annotated[Expression, PlainValidator(_to_expression, json_schema_input_type=str)]
# Any JSON value whose strings are templates.
TemplateValue = Annotated[Any, PlainValidator(_to_template_value)]
# A JSON object whose strings are templates.
TemplateObject = Annotated[Any, PlainValidator(_to_template_object, json_schema_input_type=dict | None)]
# The same, or one whole `{{ expression }}` that must give an object when it is rendered.
TemplateObjectOrWhole = Annotated[
    Any, PlainValidator(_to_template_object_or_whole, json_schema_input_type=dict | str | None)
]
