"""The filters users asked for: split, wordcount, from_json, dates and the list helpers
(the regex ones: test_expression_regex_filters.py); each one's happy path, a bad input,
and its cap where it has one."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from tests.support.expressions import evaluate
from workflows_app.expressions import ExpressionError, compile_expression, expression_context
from workflows_app.nodes.base import NodeContext, get_node_class

# Five references to one 300-byte text: allowed as a list, too large once copied out.
FIVE = "[inputs.text, inputs.text, inputs.text, inputs.text, inputs.text]"


@pytest.fixture
def data():
    return expression_context(
        inputs={
            "text": "the quick  brown\tfox",
            "csv": "a,b,,c",
            "body": '{"order": {"id": 42, "tags": ["x", "y"]}}',
            "when": "2026-03-29T00:30:00Z",
            "orders": [
                {"id": 1, "status": "paid", "total": 30, "customer": {"name": "Bo"}},
                {"id": 2, "status": "open", "total": 5, "customer": {"name": "al"}},
                {"id": 3, "status": "paid", "total": 12.5, "customer": {"name": "Cy"}},
            ],
        }
    )


# --- split and wordcount -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("inputs.text | split", ["the", "quick", "brown", "fox"]),
        ("inputs.text | split(none, 2)", ["the", "quick", "brown\tfox"]),
        ("' a b  c ' | split(none, 1)", ["a", "b  c "]),
        ("inputs.csv | split(',')", ["a", "b", "", "c"]),
        ("inputs.csv | split(',', 1)", ["a", "b,,c"]),
        ("'' | split", []),
        ("'' | split(',')", [""]),
        ("inputs.text | wordcount", 4),
        ("'it\\'s 2 o\\'clock' | wordcount", 5),
        ("inputs.nope | wordcount", 0),
    ],
)
def test_split_and_wordcount(data, source, expected):
    assert evaluate(source, data) == expected


def test_split_refuses_bad_arguments(data):
    with pytest.raises(ExpressionError, match="separator must not be empty"):
        evaluate("inputs.csv | split('')", data)
    with pytest.raises(ExpressionError, match="maxsplit must be an integer"):
        evaluate("inputs.csv | split(',', 'x')", data)


def test_a_huge_split_is_refused_at_the_cap(settings):
    settings.SWITCHBOARD = replace(settings.SWITCHBOARD, max_result_bytes=1000)
    # 600 bytes of text, but 300 one-letter items are 1,201 bytes of JSON.
    many = expression_context(inputs={"text": "a," * 300, "words": "a " * 300})
    with pytest.raises(ExpressionError, match="the split list would be larger than the limit"):
        evaluate("inputs.text | split(',')", many)
    with pytest.raises(ExpressionError, match="the split list would be larger"):
        evaluate("inputs.words | split", many)
    assert len(evaluate("inputs.text | split(',', 10)", many)) == 11


# --- from_json -----------------------------------------------------------------------------


def test_from_json_reads_json_text(data):
    assert evaluate("(inputs.body | from_json).order.tags[1]", data) == "y"
    assert evaluate("'[1, 2.5, null, true]' | from_json", data) == [1, 2.5, None, True]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("'{nope' | from_json", "not valid JSON"),
        ("'NaN' | from_json", "not valid JSON"),
        ("'1e999' | from_json", "not valid JSON"),
        ("42 | from_json", "needs JSON text"),
        ("('[' * 40 ~ ']' * 40) | from_json", "nests deeper than the limit of 32"),
        ("('1' * 5000) | from_json", "not valid JSON"),
    ],
)
def test_from_json_refuses_what_is_not_json(source, message):
    with pytest.raises(ExpressionError, match=message):
        evaluate(source, {})


def test_from_json_text_is_within_the_cap(settings):
    settings.SWITCHBOARD = replace(settings.SWITCHBOARD, max_result_bytes=100)
    big = expression_context(inputs={"body": '"' + "a" * 200 + '"'})
    with pytest.raises(ExpressionError, match="the JSON text would be larger than the limit"):
        evaluate("inputs.body | from_json", big)


# --- dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("inputs.when | to_datetime", "2026-03-29T00:30:00+00:00"),
        ("'2026-03-29 10:00' | to_datetime", "2026-03-29T10:00:00+00:00"),
        ("'29/03/2026 10:00 +0200' | to_datetime('%d/%m/%Y %H:%M %z')", "2026-03-29T10:00:00+02:00"),
        ("1774744200 | to_datetime", "2026-03-29T00:30:00+00:00"),
        ("inputs.when | to_timestamp", 1774744200),
        ("inputs.when | format_datetime('%d %b %Y, %H:%M %Z')", "29 Mar 2026, 00:30 UTC"),
        ("inputs.when | add_duration(days=1, hours=-1, minutes=30, seconds=15)", "2026-03-30T00:00:15+00:00"),
        # Paris moves to summer time at 01:00 UTC that night: the offset follows.
        ("inputs.when | in_timezone('Europe/Paris')", "2026-03-29T01:30:00+01:00"),
        ("inputs.when | add_duration(hours=1) | in_timezone('Europe/Paris')", "2026-03-29T03:30:00+02:00"),
        ("(inputs.when | add_duration(hours=2) | to_timestamp) - (inputs.when | to_timestamp)", 7200),
    ],
)
def test_date_filters(data, source, expected):
    assert evaluate(source, data) == expected


def test_now_is_a_filter_on_a_timezone_name(data):
    before = datetime.now().astimezone()
    now = datetime.fromisoformat(evaluate("'UTC' | now", data))
    tokyo = datetime.fromisoformat(evaluate("'Asia/Tokyo' | now", data))
    assert now.utcoffset().total_seconds() == 0
    assert tokyo.utcoffset().total_seconds() == 9 * 3600
    assert before <= now <= tokyo.astimezone()  # ordered, not timed


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("'Mars/Olympus' | now", "unknown timezone"),
        ("'../../etc/passwd' | now", "not an IANA timezone name"),
        ("inputs.when | in_timezone('Nowhere/City')", "unknown timezone"),
        ("inputs.when | in_timezone(5)", "not an IANA timezone name"),
        ("'yesterday' | to_datetime", "is not a date in ISO 8601"),
        ("'29/03/2026' | to_datetime('%Y-%m-%d')", "is not a date in the format"),
        ("inputs.when | format_datetime('%c')", "%c is not supported"),
        ("inputs.when | format_datetime('%-d')", "%- is not supported"),
        ("inputs.when | add_duration(days='1')", "days must be a number"),
        ("inputs.when | add_duration(days=10**7)", "out of range"),
        ("1e300 | to_datetime", "out of range"),
        ("[1] | to_datetime", "needs a date"),
    ],
)
def test_date_filters_refuse_bad_input(data, source, message):
    with pytest.raises(ExpressionError, match=message):
        evaluate(source, data)


def test_date_text_and_formats_are_capped(data):
    with pytest.raises(ExpressionError, match="at most 100 characters"):
        evaluate("('2026-01-01' * 20) | to_datetime", data)
    with pytest.raises(ExpressionError, match="1 to 200 characters"):
        evaluate("inputs.when | format_datetime('%Y' * 101)", data)


# --- list helpers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("inputs.orders | map(attribute='id')", [1, 2, 3]),
        ("inputs.orders | map(attribute='customer.name')", ["Bo", "al", "Cy"]),
        ("inputs.orders | map(attribute='coupon', default='none')", ["none"] * 3),
        ("inputs.orders | map(attribute='customer.name') | map('upper')", ["BO", "AL", "CY"]),
        ("['1', '2'] | map('int')", [1, 2]),
        ("[[1, 2], [3]] | map(attribute=0)", [1, 3]),
        ("[1, 2, 3, 4] | select('odd')", [1, 3]),
        ("[0, 1, none, 'a', ''] | select", [1, "a"]),
        ("[1, 2, 3, 4] | reject('gt', 2)", [1, 2]),
        ("inputs.orders | selectattr('status', 'equalto', 'paid') | map(attribute='id')", [1, 3]),
        ("inputs.orders | rejectattr('total', 'lt', 10) | map(attribute='id')", [1, 3]),
        ("inputs.orders | sort(attribute='total') | map(attribute='id')", [2, 3, 1]),
        ("inputs.orders | sort(attribute='customer.name', reverse=true) | map(attribute='id')", [3, 1, 2]),
        ("['b', 'A', 'c'] | sort", ["A", "b", "c"]),
        ("['b', 'B', 'a'] | sort", ["a", "b", "B"]),
        ("['b', 'B', 'a'] | sort(case_sensitive=true)", ["B", "a", "b"]),
        ("[3, 1, 3, 'a', 'A', {'k': 1}, {'k': 1}, 1, true] | unique", [3, 1, "a", {"k": 1}, True]),
        ("inputs.orders | unique(attribute='status') | length", 2),
        ("inputs.orders | sum(attribute='total')", 47.5),
        ("[1, 2, 3] | sum(start=10)", 16),
        ("[3, 1, 2] | min", 1),
        ("['b', 'A'] | max", "b"),
        ("(inputs.orders | max(attribute='total')).id", 1),
        ("[] | min", None),
        ("[1, 2, 3] | first", 1),
        ("[1, 2, 3] | last", 3),
        ("'abc' | last", "c"),
        ("[] | first", None),
        ("[1, 2, 3, 4, 5] | slice(2)", [[1, 2, 3], [4, 5]]),
        ("[1, 2, 3, 4, 5] | slice(2, 0)", [[1, 2, 3], [4, 5, 0]]),
        ("[1, 2] | slice(3)", [[1], [2], []]),
    ],
)
def test_list_helpers(data, source, expected):
    assert evaluate(source, data) == expected


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("'text' | map(attribute='a')", "map needs a list"),
        ("[1] | map", "needs a filter name"),
        ("[1] | map('eval')", "unknown filter 'eval'"),
        ("[1] | map('lower', attribute='a')", "not both"),
        ("[1] | select('__class__')", "unknown test"),
        ("[1] | selectattr", "attribute must be a key"),
        ("[1, 'a'] | sort", "cannot compare"),
        ("[1, 'a'] | max", "cannot compare"),
        ("[1, 'a'] | sum", "sum adds numbers, not text"),
        ("[[1]] | sum", "sum adds numbers, not a list"),
        ("[1] | sum(start='x')", "start must be a number|cannot|failed"),
        ("[1] | slice(0)", "at least 1"),
        ("inputs.orders | map(attribute='a.b.c.d.e.f.g.h.i')", "more than 8 parts"),
    ],
)
def test_list_helpers_refuse_bad_input(data, source, message):
    with pytest.raises(ExpressionError, match=message):
        evaluate(source, data)


@pytest.mark.parametrize(
    "source",
    [
        FIVE + " | map('upper')",
        FIVE + " | map(attribute=0, default=inputs.text)",
        FIVE + " | select",
        FIVE + " | reject('none')",
        FIVE + " | sort",
        "[inputs.text, inputs.text ~ 'x', inputs.text ~ 'y', inputs.text ~ 'z'] | unique",
        FIVE + " | slice(5)",
        "[1] | slice(10 ** 9)",
    ],
)
def test_each_list_built_is_within_the_cap(settings, source):
    """The list of many references is allowed; each list a helper builds from it is charged."""
    settings.SWITCHBOARD = replace(settings.SWITCHBOARD, max_result_bytes=1000)
    big = expression_context(inputs={"text": "a" * 300})
    with pytest.raises(ExpressionError, match="larger than the limit"):
        evaluate(source, big)


def test_every_new_filter_is_known_to_the_checker():
    for name in ("split", "wordcount", "from_json", "regex_match", "regex_search", "regex_findall", "regex_replace"):
        compile_expression(f"inputs.x | {name}")
    for name in ("now", "to_datetime", "to_timestamp", "format_datetime", "add_duration", "in_timezone"):
        compile_expression(f"inputs.x | {name}")
    for name in ("map", "select", "reject", "selectattr", "rejectattr", "sort", "unique", "sum", "min", "max"):
        compile_expression(f"inputs.x | {name}")
    for name in ("attr", "format", "tojson", "pprint", "xmlattr", "groupby", "items"):
        with pytest.raises(ExpressionError, match="unknown filter"):
            compile_expression(f"inputs.x | {name}")


@pytest.mark.parametrize(
    "value",
    [
        "{{ inputs.when | in_timezone('Mars/Olympus') }}",
        "{{ inputs.text | regex_match('(') }}",
        "{{ inputs.text | from_json }}",
        "{{ inputs.orders | sort(attribute='missing') | map(attribute='id') | sum(start='x') }}",
    ],
)
def test_a_bad_input_fails_the_node_with_an_expression_error(value):
    """What the engine records as the node's failure (code expression_error), not a crash."""
    node = get_node_class("TRANSFORM").from_config("shape", {"value": {"out": value}})
    inputs = {"when": "2026-03-29T00:30:00Z", "text": "not json", "orders": [{"id": 1}]}
    with pytest.raises(ExpressionError) as caught:
        node.run(NodeContext(inputs=inputs, nodes={}, execution_id="exec-1", workflow={}))
    assert caught.value.code == "expression_error"
    assert caught.value.status_code == 400
