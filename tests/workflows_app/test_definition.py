from __future__ import annotations

import pytest

from tests.support.definitions import assert_problem, echo_definition, node, node_in, problems_of, support_triage
from workflows_app.definition import EdgeSpec, RetryPolicy, parse_definition


def test_the_design_example_parses_into_the_graph():
    graph = parse_definition(support_triage())
    assert list(graph.nodes) == ["ticket", "mood", "angry", "apology", "log", "result"]
    assert graph.input_node_id == "ticket"
    assert graph.output_node_ids == ("result",)
    assert graph.roots() == ("ticket",)
    assert graph.parents("result") == (EdgeSpec("apology", "result"), EdgeSpec("log", "result"))
    assert graph.children("angry") == (EdgeSpec("angry", "apology", "true"), EdgeSpec("angry", "log", "false"))
    assert graph.nodes["mood"].node.queue == "ai"
    assert graph.nodes["angry"].node.queue == "nodes"
    # AI nodes retry by default (every provider down is worth another try); others run once.
    assert graph.nodes["mood"].retry == RetryPolicy(max_attempts=3, backoff_s=1.0, max_backoff_s=60.0)
    assert graph.nodes["angry"].retry == RetryPolicy(max_attempts=1, backoff_s=1.0, max_backoff_s=60.0)
    assert graph.nodes["mood"].on_error == "fail"
    assert graph.nodes["mood"].timeout_s is None


def test_node_options_are_parsed():
    definition = echo_definition()
    definition["nodes"][1].update(retry={"max_attempts": 3, "backoff_s": 2}, timeout_s=5, on_error="continue")
    spec = parse_definition(definition).nodes["result"]
    assert spec.retry == RetryPolicy(max_attempts=3, backoff_s=2.0, max_backoff_s=60.0)
    assert (spec.timeout_s, spec.on_error) == (5, "continue")


def test_every_problem_is_reported_at_once():
    definition = support_triage()
    node_in(definition, "mood")["config"]["temperature"] = 5
    node_in(definition, "angry")["config"]["expression"] = "nodes.mood.output.label =="
    definition["edges"].append({"source": "result", "target": "ghost"})
    codes = {(p["node_id"], p["code"]) for p in problems_of(definition)}
    assert codes == {("mood", "invalid_config"), ("angry", "invalid_expression"), ("ghost", "unknown_node")}


@pytest.mark.parametrize("bad_id", ["Ticket", "1st", "with-dash", "a" * 65, "", 7, "result\n"])
def test_id_must_match_the_pattern(bad_id):
    definition = echo_definition()
    definition["nodes"][1]["id"] = bad_id
    problem = assert_problem(
        definition, node_id=bad_id if isinstance(bad_id, str) else None, path="nodes[1].id", code="invalid_id"
    )
    assert "^[a-z][a-z0-9_]{0,63}$" in problem["message"]


def test_ids_must_not_repeat():
    definition = echo_definition()
    definition["nodes"].append(node("result", "OUTPUT", {"value": 1}))
    assert_problem(definition, node_id="result", path="nodes[2].id", code="duplicate_id")


def test_edge_must_name_existing_nodes():
    definition = echo_definition()
    definition["edges"].append({"source": "start", "target": "nowhere"})
    assert_problem(definition, node_id="nowhere", path="edges[1].target", code="unknown_node")
    definition["edges"][1] = {"source": "ghost", "target": "result"}
    assert_problem(definition, node_id="ghost", path="edges[1].source", code="unknown_node")


def test_cycle_is_refused():
    definition = echo_definition()
    definition["nodes"].insert(1, {"id": "a", "type": "TRANSFORM", "config": {"value": 1}})
    definition["nodes"].insert(2, {"id": "b", "type": "TRANSFORM", "config": {"value": 2}})
    definition["edges"] += [
        {"source": "start", "target": "a"},
        {"source": "a", "target": "b"},
        {"source": "b", "target": "a"},
    ]
    problem = assert_problem(definition, node_id="a", path="edges[2]", code="cycle")
    assert "a -> b -> a" in problem["message"]


def test_self_loop_is_a_cycle():
    definition = echo_definition()
    definition["edges"].append({"source": "result", "target": "result"})
    assert_problem(definition, node_id="result", path="edges[1]", code="cycle")


def test_unknown_type():
    definition = echo_definition()
    definition["nodes"][1]["type"] = "EMAIL"
    problem = assert_problem(definition, node_id="result", path="nodes[1].type", code="unknown_type")
    assert "TRANSFORM" in problem["message"]


@pytest.mark.parametrize(
    ("node_id", "change", "path", "code"),
    [
        ("mood", {"task_type": "poetry"}, "nodes[1].config.task_type", "invalid_config"),
        ("mood", {"temperature": 2.5}, "nodes[1].config.temperature", "invalid_config"),
        ("mood", {"response_format": "xml"}, "nodes[1].config.response_format", "invalid_config"),
        ("mood", {"providers": ["gemini"]}, "nodes[1].config.providers[0]", "invalid_config"),  # no default model
        ("mood", {"max_tokens": 0}, "nodes[1].config.max_tokens", "invalid_config"),
        ("mood", {"shiny": True}, "nodes[1].config.shiny", "unknown_field"),
        ("log", {"collection": "Bad Name"}, "nodes[4].config.collection", "invalid_config"),
        ("log", {"operation": "drop"}, "nodes[4].config.operation", "invalid_config"),
        ("log", {"document": ["not", "an", "object"]}, "nodes[4].config.document", "invalid_config"),
        ("log", {"limit": 5}, "nodes[4].config.limit", "invalid_config"),
        ("log", {"operation": "update"}, "nodes[4].config.filter", "invalid_config"),
        ("log", {"operation": "delete", "document": None}, "nodes[4].config.filter", "invalid_config"),
    ],
)
def test_config_fails_its_schema(node_id, change, path, code):
    definition = support_triage()
    node_in(definition, node_id)["config"].update(change)
    assert_problem(definition, node_id=node_id, path=path, code=code)


def test_input_field_names_with_a_trailing_newline_are_refused():
    definition = echo_definition()
    definition["nodes"][0]["config"]["fields"]["text\n"] = {"type": "string"}
    assert_problem(definition, node_id="start", path="nodes[0].config.fields", code="invalid_config")


def test_missing_required_config_field():
    definition = support_triage()
    del node_in(definition, "mood")["config"]["prompt"]
    assert_problem(definition, node_id="mood", path="nodes[1].config.prompt", code="missing_field")


def http_definition(config: dict) -> dict:
    definition = echo_definition()
    definition["nodes"].insert(1, {"id": "call", "type": "HTTP_REQUEST", "config": config})
    definition["edges"] = [{"source": "start", "target": "call"}, {"source": "call", "target": "result"}]
    return definition


def test_http_request_schema():
    assert parse_definition(http_definition({"method": "post", "url": "https://api.example.com", "json": {"a": 1}}))
    assert_problem(
        http_definition({"url": "https://x.example", "json": {"a": 1}, "body": "text"}),
        node_id="call",
        path="nodes[1].config.body",
        code="invalid_config",
    )
    assert_problem(
        http_definition({"url": "file:///etc/passwd"}),
        node_id="call",
        path="nodes[1].config.url",
        code="invalid_config",
    )
    # A name with a trailing newline would let a client smuggle a header line.
    assert_problem(
        http_definition({"url": "https://x.example", "headers": {"X-Trace\n": "1"}}),
        node_id="call",
        path="nodes[1].config.headers",
        code="invalid_config",
    )
    assert_problem(
        http_definition({"url": "https://x.example", "expect_status": [200, 700]}),
        node_id="call",
        path="nodes[1].config.expect_status",
        code="invalid_config",
    )


def test_expression_that_does_not_parse():
    definition = support_triage()
    node_in(definition, "angry")["config"]["expression"] = "nodes.mood.output.label = 'negative'"
    problem = assert_problem(definition, node_id="angry", path="nodes[2].config.expression", code="invalid_expression")
    assert "line 1, column" in problem["message"]


def test_template_that_does_not_parse_names_its_own_path():
    definition = support_triage()
    node_in(definition, "result")["config"]["value"]["reply"] = "{{ nodes.apology.output.text"
    assert_problem(definition, node_id="result", path="nodes[5].config.value.reply", code="invalid_expression")


def test_every_template_problem_inside_one_value_is_listed():
    definition = support_triage()
    node_in(definition, "result")["config"]["value"] = {"a": "{{ 1 +", "b": ["ok", "{% if %}"]}
    paths = {p["path"] for p in problems_of(definition)}
    assert {"nodes[5].config.value.a", "nodes[5].config.value.b[1]"} <= paths


def test_template_must_reference_an_upstream_node():
    definition = support_triage()
    # `log` runs on the other branch: it is not upstream of `apology`.
    node_in(definition, "apology")["config"]["prompt"] = "Apologise, see {{ nodes.log.output.id }}"
    problem = assert_problem(definition, node_id="apology", path="nodes[3].config.prompt", code="not_upstream")
    assert "nodes.log" in problem["message"]


def test_template_must_reference_an_existing_node():
    definition = support_triage()
    node_in(definition, "result")["config"]["value"]["x"] = "{{ nodes.nobody.output }}"
    assert_problem(definition, node_id="result", path="nodes[5].config.value.x", code="unknown_reference")


def test_node_cannot_reference_itself():
    definition = support_triage()
    node_in(definition, "angry")["config"]["expression"] = "nodes.angry.output.result"
    assert_problem(definition, node_id="angry", path="nodes[2].config.expression", code="not_upstream")


def test_condition_edge_needs_a_branch():
    definition = support_triage()
    del definition["edges"][2]["branch"]
    assert_problem(definition, node_id="angry", path="edges[2]", code="missing_branch")


def test_other_edges_carry_no_branch():
    definition = support_triage()
    definition["edges"][0]["branch"] = "true"
    assert_problem(definition, node_id="ticket", path="edges[0].branch", code="unexpected_branch")


def test_branch_is_true_or_false():
    definition = support_triage()
    definition["edges"][2]["branch"] = "maybe"
    assert_problem(definition, node_id="angry", path="edges[2].branch", code="invalid_branch")


def test_exactly_one_input():
    definition = echo_definition()
    definition["nodes"][0]["type"] = "TRANSFORM"
    definition["nodes"][0]["config"] = {"value": 1}
    assert_problem(definition, node_id=None, path="nodes", code="missing_input")

    definition = echo_definition()
    definition["nodes"].append(node("second", "INPUT"))
    definition["edges"].append({"source": "second", "target": "result"})
    assert_problem(definition, node_id="second", path="nodes[2].type", code="multiple_inputs")


def test_at_least_one_output():
    definition = echo_definition()
    definition["nodes"][1] = {"id": "result", "type": "TRANSFORM", "config": {"value": 1}}
    assert_problem(definition, node_id=None, path="nodes", code="missing_output")


def test_every_node_but_the_input_needs_a_parent():
    definition = echo_definition()
    definition["nodes"].append(node("orphan", "OUTPUT", {"value": 1}))
    assert_problem(definition, node_id="orphan", path="nodes[2]", code="unreachable")


def test_no_edge_leads_to_the_input():
    definition = echo_definition()
    definition["edges"].append({"source": "result", "target": "start"})
    assert_problem(definition, node_id="start", path="edges[1].target", code="input_has_parent")


def test_duplicate_edges_are_refused():
    definition = echo_definition()
    definition["edges"].append({"source": "start", "target": "result"})
    assert_problem(definition, node_id="start", path="edges[1]", code="duplicate_edge")


def test_secrets_only_in_http_headers_query_and_body():
    definition = support_triage()
    node_in(definition, "apology")["config"]["prompt"] = "Key: {{ secrets.OPENAI }}"
    assert_problem(definition, node_id="apology", path="nodes[3].config.prompt", code="secret_not_allowed")

    allowed = http_definition(
        {
            "method": "POST",
            "url": "https://api.example.com/{{ inputs.text }}",
            "headers": {"Authorization": "Bearer {{ secrets.TOKEN }}"},
            "query": {"key": "{{ secrets.KEY }}"},
            "json": {"token": "{{ secrets.TOKEN }}"},
        }
    )
    assert parse_definition(allowed)
    in_url = http_definition({"url": "https://api.example.com/?k={{ secrets.KEY }}"})
    assert_problem(in_url, node_id="call", path="nodes[1].config.url", code="secret_not_allowed")


@pytest.mark.parametrize(
    ("options", "path"),
    [
        ({"retry": {"max_attempts": 0}}, "nodes[1].retry.max_attempts"),
        ({"retry": {"max_attempts": 11}}, "nodes[1].retry.max_attempts"),
        ({"retry": {"backoff_s": -1}}, "nodes[1].retry.backoff_s"),
        ({"retry": {"attempts": 2}}, "nodes[1].retry.attempts"),
        ({"retry": {"backoff_s": 10, "max_backoff_s": 5}}, "nodes[1].retry"),
        ({"timeout_s": 0}, "nodes[1].timeout_s"),
        ({"timeout_s": "soon"}, "nodes[1].timeout_s"),
        ({"on_error": "ignore"}, "nodes[1].on_error"),
        ({"label": "x"}, "nodes[1].label"),
    ],
)
def test_node_options_are_checked(options, path):
    definition = echo_definition()
    definition["nodes"][1].update(options)
    problems = problems_of(definition)
    assert [(p["node_id"], p["path"]) for p in problems] == [("result", path)], problems


# --- inputs -------------------------------------------------------------------------------
