"""The expression tests' one-liners: an expression's value, a template rendered."""

from __future__ import annotations

from workflows_app.expressions import compile_expression, compile_template


def evaluate(source: str, context: dict):
    return compile_expression(source).evaluate(context)


def render(source: str, context: dict):
    return compile_template(source).render(context)
