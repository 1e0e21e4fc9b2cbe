"""Expressions stay within their size caps: growth, nesting, result bytes, repetition, and
one total for a rendered value."""

from __future__ import annotations

import time
import tracemalloc
from dataclasses import replace

import pytest

from tests.support.expressions import evaluate, render
from workflows_app.expressions import (
    ExpressionError,
    compile_expression,
    compile_template,
    compile_value,
    expression_context,
    render_value,
)


@pytest.mark.parametrize(
    "source",
    [
        "9**9**9",
        "9**(9**9)",
        "'a' * 10**9",
        "[1] * 10**9",
        "10**9 * 'a'",
        "'%0999999999d' % 1",
        "2.0 ** 100000",
        "'ab' | replace('', inputs.message * 40000)",
    ],
)
def test_growth_is_bounded(context, source):
    started = time.monotonic()
    try:
        result = evaluate(source, context)
    except ExpressionError:
        result = None
    assert time.monotonic() - started < 2
    # Jinja's ** is left-associative: 9**9**9 is (9**9)**9, a 77-digit number, not 9**(9**9).
    assert result is None or len(str(result)) < 100


@pytest.mark.parametrize("test", ["divisibleby 3", "even", "odd"])
def test_tests_that_compute_a_remainder_format_no_text(context, test):
    # Jinja's own versions compute `value % n` in plain Python: a gigabyte of text here.
    with pytest.raises(ExpressionError, match="does not format text"):
        evaluate(f"'%0999999999d' is {test}", context)


def test_deeply_nested_brackets_are_refused(context):
    with pytest.raises(ExpressionError, match="nest"):
        compile_expression("(" * 2000 + "1" + ")" * 2000)
    with pytest.raises(ExpressionError, match="nest"):
        compile_expression("not " * 2000 + "true")
    with pytest.raises(ExpressionError, match="nest"):
        compile_expression("1" + "+1" * 200)


def test_a_one_megabyte_expression_is_refused_quickly(context):
    started = time.monotonic()
    with pytest.raises(ExpressionError, match="limit"):
        compile_expression("1+" * 500_000 + "1")
    with pytest.raises(ExpressionError, match="limit"):
        compile_template("{{ " + "1+" * 500_000 + "1 }}")
    assert time.monotonic() - started < 2


def test_result_size_is_capped(context, settings):
    settings.SWITCHBOARD = replace(settings.SWITCHBOARD, max_result_bytes=100)
    with pytest.raises(ExpressionError, match="larger than the limit"):
        evaluate("inputs.message * 20", context)
    with pytest.raises(ExpressionError, match="larger than the limit"):
        evaluate("inputs.message ~ inputs.message ~ inputs.message ~ inputs.message ~ inputs.message * 9", context)


def test_repeating_a_list_of_large_text_is_refused_before_it_is_built(context):
    # One item, 100 kB: counting items (1 x 100,000) let this build 10 GB.
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(ExpressionError, match="the repeated value would be larger than the limit"):
            evaluate("['a' * 100000] * 100000", context)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 2
    assert peak < 10 * 1024 * 1024


def test_repetition_within_the_cap_still_works(context):
    assert evaluate("[1, 2] * 3", context) == [1, 2, 1, 2, 1, 2]
    assert evaluate("[] * 10**9", context) == []
    assert evaluate("'ab' * 3", context) == "ababab"
    assert evaluate("[inputs.tags] * 2", context) == [["a", "b"], ["a", "b"]]


def test_sizes_are_counted_in_bytes(context, settings):
    settings.SWITCHBOARD = replace(settings.SWITCHBOARD, max_result_bytes=100)
    assert evaluate("'a' * 100", context) == "a" * 100
    with pytest.raises(ExpressionError, match="larger than the limit of 100 bytes"):
        evaluate("'\u00df' * 60", context)  # 60 characters, 120 bytes in UTF-8


def test_many_references_to_one_large_value_are_refused(settings):
    settings.SWITCHBOARD = replace(settings.SWITCHBOARD, max_result_bytes=1000)
    big = expression_context(nodes={"x": {"text": "b" * 600}})
    many = "[" + ", ".join(["nodes.x.output"] * 50) + "]"
    for source in (many, many + " | join", many + " | json", many + " + [1]", "nodes.x.output ~ nodes.x.output"):
        with pytest.raises(ExpressionError, match="larger than the limit"):
            evaluate(source, big)
    assert evaluate(many + " | length", big) == 50  # a list of references is not refused by itself


def test_text_template_parts_share_the_cap(settings):
    settings.SWITCHBOARD = replace(settings.SWITCHBOARD, max_result_bytes=1000)
    big = expression_context(inputs={"text": "c" * 600})
    assert render("{{ inputs.text }}-", big) == "c" * 600 + "-"
    with pytest.raises(ExpressionError, match="the text would be larger than the limit"):
        render("{{ inputs.text }}-{{ inputs.text }}", big)


def test_a_rendered_value_has_one_total_cap(settings):
    settings.SWITCHBOARD = replace(settings.SWITCHBOARD, max_result_bytes=1000)
    big = expression_context(inputs={"text": "d" * 300})
    compiled, problems = compile_value({f"k{i}": "{{ inputs.text }}" for i in range(50)})
    assert not problems
    # Each string is within the cap; together they are 15 kB.
    with pytest.raises(ExpressionError, match="the rendered value would be larger than the limit of 1000 bytes"):
        render_value(compiled, big)
    with pytest.raises(ExpressionError, match="the rendered value would be larger"):
        render_value(compile_value(["{{ inputs.text }}", "{{ inputs.text }}", "d" * 300, "{{ inputs.text }}"])[0], big)
    two, _ = compile_value({"a": "{{ inputs.text }}", "b": ["{{ inputs.text }}", 1, None]})
    assert render_value(two, big) == {"a": "d" * 300, "b": ["d" * 300, 1, None]}
