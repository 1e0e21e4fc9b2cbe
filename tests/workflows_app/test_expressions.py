from __future__ import annotations

import copy

import pytest

from tests.support.expressions import evaluate, render
from workflows_app.expressions import (
    ExpressionError,
    compile_expression,
    compile_template,
    compile_value,
    render_value,
)

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


def test_a_missing_value_is_none_as_it_is_null(context):
    """What a CONDITION on an optional input or a skipped branch asks."""
    for source in ("inputs.nope", "nodes.skipped.output.label", "nodes.skipped.output"):
        assert evaluate(f"{source} is none", context) is True
        assert evaluate(f"{source} == none", context) is True
        assert evaluate(f"{source} != none", context) is False
    assert evaluate("inputs.count is none", context) is False
    assert evaluate("inputs.nope == 0 or inputs.nope == ''", context) is False
    assert evaluate("4 is even and 3 is odd and 9 is divisibleby 3", context) is True


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
    for name in ("attr", "format", "tojson", "pprint", "xmlattr"):
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
