from __future__ import annotations

import copy
import time
import tracemalloc

import pytest

from workflows_app.expressions import (
    ExpressionError,
    compile_expression,
    compile_template,
    compile_value,
    expression_context,
    render_value,
)


@pytest.fixture
def context() -> dict:
    return expression_context(
        inputs={"message": "Hello World", "count": 3, "tags": ["a", "b"], "price": 2.345, "missing_value": None},
        nodes={
            "mood": {"label": "negative", "score": 0.91, "json": {"items": ["x", "y"], "keys": 1}},
            "skipped": None,
            "x": {"values": [1, 2, 3], "nested": {"deep": {"value": 1}}},
        },
        secrets={"TOKEN": "s3cret"},
        execution_id="exec-1",
        workflow={"id": "wf-1", "name": "Triage", "version": 4},
    )


def evaluate(source: str, context: dict):
    return compile_expression(source).evaluate(context)


def render(source: str, context: dict):
    return compile_template(source).render(context)


# --- names, types and text rendering -------------------------------------------------------


def test_expression_reads_every_name(context):
    assert evaluate("nodes.mood.output.label == 'negative'", context) is True
    assert evaluate("inputs.count + 1", context) == 4
    assert evaluate("execution.id", context) == "exec-1"
    assert evaluate("workflow.name ~ ' v' ~ workflow.version", context) == "Triage v4"
    assert evaluate("secrets.TOKEN", context) == "s3cret"


def test_dict_keys_win_over_attributes(context):
    assert evaluate("nodes.mood.output.json.items", context) == ["x", "y"]
    assert evaluate("nodes.mood.output.json.keys", context) == 1
    assert evaluate("nodes.mood.output.json['items'][1]", context) == "y"


def test_methods_of_data_are_not_reachable(context):
    # Attribute access reads keys only: a method name is just a missing key.
    assert evaluate("inputs.message.upper", context) is None
    assert evaluate("inputs.tags.append", context) is None


def test_lone_template_keeps_the_value_type(context):
    assert render("{{ nodes.x.output.values }}", context) == [1, 2, 3]
    assert render("{{ inputs.count }}", context) == 3
    assert render("  {{ nodes.mood.output.score > 0.5 }}  ".strip(), context) is True
    assert render("{{ inputs.missing_value }}", context) is None


def test_text_rendering_rules(context):
    text = render("n={{ inputs.missing_value }} b={{ true }} f={{ false }} o={{ nodes.x.output.nested }}", context)
    assert text == 'n= b=true f=false o={"deep":{"value":1}}'
    assert render("list: {{ inputs.tags }}", context) == 'list: ["a","b"]'


def test_plain_text_is_not_parsed(context):
    assert render("no templates here: 100% {not one}", context) == "no templates here: 100% {not one}"


def test_undefined_and_skipped_are_null(context):
    assert evaluate("inputs.nope", context) is None
    assert evaluate("nodes.skipped.output", context) is None
    assert evaluate("nodes.skipped.output.label", context) is None
    assert render("[{{ nodes.skipped.output.label }}]", context) == "[]"
    assert evaluate("nodes.skipped.output.label | default('none')", context) == "none"


def test_runtime_error_is_a_clear_expression_error(context):
    with pytest.raises(ExpressionError, match="division by zero"):
        evaluate("inputs.count / 0", context)
    with pytest.raises(ExpressionError, match="has no key 'nope'"):
        evaluate("inputs.nope > 1", context)


def test_curly_braces_around_a_bare_expression_are_accepted(context):
    assert evaluate("{{ inputs.count * 2 }}", context) == 6


# --- filters ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("inputs.nope | default('d')", "d"),
        ("inputs.missing_value | default('d')", "d"),
        ("'' | default('d', true)", "d"),
        ("inputs.message | default('d')", "Hello World"),
        ("inputs.tags | length", 2),
        ("inputs.message | length", 11),
        ("nodes.x.output | length", 2),
        ("inputs.message | lower", "hello world"),
        ("inputs.message | upper", "HELLO WORLD"),
        ("'  padded  ' | trim", "padded"),
        ("'xxpaddedxx' | trim('x')", "padded"),
        ("inputs.tags | join(', ')", "a, b"),
        ("[1, none, true] | join('-')", "1--true"),
        ("nodes.x.output.nested | json", '{"deep":{"value":1}}'),
        ("{'a': 1} | json(2)", '{\n  "a": 1\n}'),
        ("'42' | int", 42),
        ("'4.7' | int", 4),
        ("'nope' | int", 0),
        ("'nope' | int(-1)", -1),
        ("'2.5' | float", 2.5),
        ("'x' | float", 0.0),
        ("inputs.price | round", 2),
        ("inputs.price | round(2)", 2.35),
        ("2.5 | round", 3),
        ("inputs.price | round(1, 'floor')", 2.3),
        ("inputs.price | round(1, 'ceil')", 2.4),
        ("inputs.message | replace('World', 'there')", "Hello there"),
        ("'aaa' | replace('a', 'b', 2)", "bba"),
    ],
)
def test_each_filter(context, source, expected):
    assert evaluate(source, context) == expected


def test_only_the_named_filters_exist(context):
    for name in ("attr", "map", "format", "tojson", "pprint", "xmlattr"):
        with pytest.raises(ExpressionError, match="unknown filter"):
            compile_expression(f"inputs.message | {name}")


# --- safety ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "''.__class__.__mro__[1].__subclasses__()",
        "cycler.__init__.__globals__",
        "__import__('os')",
        "nodes.x.output.clear()",
        "inputs.tags.append(1)",
        "range(10)",
        "lipsum()",
        "self",
        "inputs['__class__']",
        "{% set x = 1 %}",
    ],
)
def test_escapes_are_refused_when_parsed(context, source):
    before = copy.deepcopy(context)
    with pytest.raises(ExpressionError):
        compile_expression(source)
    with pytest.raises(ExpressionError):
        compile_template("{{ " + source + " }}")
    assert context == before


def test_context_is_unchanged_after_evaluation(context):
    before = copy.deepcopy(context)
    result = evaluate("nodes.x.output", context)
    result["values"].append(99)  # the result is a copy: changing it changes nothing
    render("{{ nodes.x.output.values }} {{ inputs.tags | join(',') }} {{ inputs.tags + [1] }}", context)
    evaluate("nodes.x.output.values + [4]", context)
    assert context == before


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
    settings.SWITCHBOARD = {**settings.SWITCHBOARD, "MAX_RESULT_BYTES": 100}
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
    settings.SWITCHBOARD = {**settings.SWITCHBOARD, "MAX_RESULT_BYTES": 100}
    assert evaluate("'a' * 100", context) == "a" * 100
    with pytest.raises(ExpressionError, match="larger than the limit of 100 bytes"):
        evaluate("'\u00df' * 60", context)  # 60 characters, 120 bytes in UTF-8


def test_many_references_to_one_large_value_are_refused(settings):
    settings.SWITCHBOARD = {**settings.SWITCHBOARD, "MAX_RESULT_BYTES": 1000}
    big = expression_context(nodes={"x": {"text": "b" * 600}})
    many = "[" + ", ".join(["nodes.x.output"] * 50) + "]"
    for source in (many, many + " | join", many + " | json", many + " + [1]", "nodes.x.output ~ nodes.x.output"):
        with pytest.raises(ExpressionError, match="larger than the limit"):
            evaluate(source, big)
    assert evaluate(many + " | length", big) == 50  # a list of references is not refused by itself


def test_text_template_parts_share_the_cap(settings):
    settings.SWITCHBOARD = {**settings.SWITCHBOARD, "MAX_RESULT_BYTES": 1000}
    big = expression_context(inputs={"text": "c" * 600})
    assert render("{{ inputs.text }}-", big) == "c" * 600 + "-"
    with pytest.raises(ExpressionError, match="the text would be larger than the limit"):
        render("{{ inputs.text }}-{{ inputs.text }}", big)


def test_a_rendered_value_has_one_total_cap(settings):
    settings.SWITCHBOARD = {**settings.SWITCHBOARD, "MAX_RESULT_BYTES": 1000}
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


# --- parsing ------------------------------------------------------------------------------


def test_syntax_errors_carry_line_and_column():
    with pytest.raises(ExpressionError) as caught:
        compile_template("Hello\n{{ inputs.message }")
    assert caught.value.line == 2
    assert caught.value.column == 19
    assert "line 2, column 19" in caught.value.message


def test_blocks_are_refused():
    with pytest.raises(ExpressionError, match="blocks are not allowed"):
        compile_template("{% if inputs.x %}yes{% endif %}")
    with pytest.raises(ExpressionError, match="blocks are not allowed"):
        compile_template("{% raw %}{{ x }}{% endraw %}")


def test_unknown_names_are_refused():
    with pytest.raises(ExpressionError, match="unknown name 'payload'"):
        compile_expression("payload.x")


def test_references_list_nodes_and_secrets():
    template = compile_template("{{ nodes.a.output.x }} {{ nodes['b'].output }} {{ secrets.KEY }} {{ inputs.q }}")
    assert template.node_refs == {"a", "b"}
    assert template.secret_refs == {"KEY"}


def test_nodes_and_secrets_must_be_named():
    with pytest.raises(ExpressionError, match=r"nodes\.<id>\.output"):
        compile_expression("nodes | length")
    with pytest.raises(ExpressionError, match=r"secrets\.<name>"):
        compile_expression("secrets[inputs.name]")


def test_compiled_once_and_shared():
    assert compile_template("{{ inputs.a }}!") is compile_template("{{ inputs.a }}!")
    assert compile_expression("inputs.a") is compile_expression("inputs.a")


def test_compile_value_reports_every_problem_with_its_path(context):
    compiled, problems = compile_value({"ok": "{{ inputs.count }}", "bad": ["{{ x", "fine", "{% if %}"]})
    assert [at for at, _ in problems] == [("bad", 0), ("bad", 2)]
    compiled, problems = compile_value({"a": "{{ inputs.count }}", "b": ["{{ inputs.tags }}", 5, None]})
    assert problems == []
    assert render_value(compiled, context) == {"a": 3, "b": [["a", "b"], 5, None]}
