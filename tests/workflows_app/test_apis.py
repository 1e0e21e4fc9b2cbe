from __future__ import annotations

import json

import pytest

from tests.support.definitions import echo_definition, support_triage
from tests.support.factories import UserFactory, WorkflowFactory

pytestmark = pytest.mark.django_db

BASE = "/api/workflows"


def create(client, **body):
    body = {"name": "Triage", "definition": support_triage(), **body}
    response = client.post(BASE, body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_create_and_read(auth_client):
    created = create(auth_client, description="Angry first")
    assert set(created) == {
        "id",
        "name",
        "description",
        "is_active",
        "version",
        "definition",
        "layout",
        "created_at",
        "updated_at",
    }
    assert (created["version"], created["is_active"], created["description"]) == (1, True, "Angry first")
    response = auth_client.get(f"{BASE}/{created['id']}")
    assert response.status_code == 200
    assert response.json() == created


def test_requires_authentication(api_client):
    assert api_client.get(BASE).status_code == 401


def test_invalid_definition_lists_every_problem(auth_client):
    definition = support_triage()
    definition["nodes"][1]["config"]["temperature"] = 9
    definition["nodes"][2]["config"]["expression"] = "nodes.mood.output.label =="
    response = auth_client.post(BASE, {"name": "x", "definition": definition}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_definition"
    assert {(p["node_id"], p["path"]) for p in error["details"]} == {
        ("mood", "nodes[1].config.temperature"),
        ("angry", "nodes[2].config.expression"),
    }


def test_unknown_field_is_refused(auth_client):
    response = auth_client.post(BASE, {"name": "x", "definition": support_triage(), "colour": "red"}, format="json")
    assert response.status_code == 400
    assert "colour" in response.json()["error"]["details"]
    workflow = create(auth_client)
    response = auth_client.patch(f"{BASE}/{workflow['id']}", {"colour": "red"}, format="json")
    assert response.status_code == 400


def test_get_body_put_back_is_accepted(auth_client):
    workflow = create(auth_client)
    body = auth_client.get(f"{BASE}/{workflow['id']}").json()
    response = auth_client.put(f"{BASE}/{workflow['id']}", body, format="json")
    assert response.status_code == 200
    assert response.json()["version"] == 1  # the same definition makes no version


def test_put_with_a_changed_definition_makes_a_version(auth_client):
    workflow = create(auth_client)
    body = auth_client.get(f"{BASE}/{workflow['id']}").json()
    body["definition"] = echo_definition()
    response = auth_client.put(f"{BASE}/{workflow['id']}", body, format="json")
    assert response.status_code == 200
    assert response.json()["version"] == 2
    assert response.json()["definition"] == echo_definition()


def test_stale_version_is_409(auth_client):
    workflow = create(auth_client)
    auth_client.patch(f"{BASE}/{workflow['id']}", {"definition": echo_definition(), "version": 1}, format="json")
    response = auth_client.patch(f"{BASE}/{workflow['id']}", {"name": "late", "version": 1}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "version_conflict"
    assert auth_client.get(f"{BASE}/{workflow['id']}").json()["name"] == "Triage"


def test_patch_changes_only_what_is_sent(auth_client):
    workflow = create(auth_client)
    response = auth_client.patch(f"{BASE}/{workflow['id']}", {"is_active": False}, format="json")
    assert response.status_code == 200
    assert (response.json()["is_active"], response.json()["name"], response.json()["version"]) == (False, "Triage", 1)


def test_put_needs_name_and_definition(auth_client):
    workflow = create(auth_client)
    response = auth_client.put(f"{BASE}/{workflow['id']}", {"name": "only a name"}, format="json")
    assert response.status_code == 400
    assert "definition" in response.json()["error"]["details"]


def test_delete_archives(auth_client):
    workflow = create(auth_client)
    assert auth_client.delete(f"{BASE}/{workflow['id']}").status_code == 204
    assert auth_client.get(f"{BASE}/{workflow['id']}").status_code == 404
    assert auth_client.get(f"{BASE}/{workflow['id']}/versions").status_code == 404
    assert auth_client.get(BASE).json()["count"] == 0
    assert auth_client.delete(f"{BASE}/{workflow['id']}").status_code == 404


def test_versions_list_and_one_version(auth_client):
    workflow = create(auth_client)
    auth_client.patch(f"{BASE}/{workflow['id']}", {"definition": echo_definition("two")}, format="json")
    auth_client.patch(f"{BASE}/{workflow['id']}", {"definition": echo_definition("three")}, format="json")
    page = auth_client.get(f"{BASE}/{workflow['id']}/versions").json()
    assert page["count"] == 3
    assert [v["number"] for v in page["results"]] == [3, 2, 1]
    assert set(page["results"][0]) == {"number", "created_at"}
    paged = auth_client.get(f"{BASE}/{workflow['id']}/versions?page_size=2&page=2").json()
    assert [v["number"] for v in paged["results"]] == [1]
    first = auth_client.get(f"{BASE}/{workflow['id']}/versions/1").json()
    assert first["definition"] == support_triage()
    assert auth_client.get(f"{BASE}/{workflow['id']}/versions/9").status_code == 404


def test_list_is_paginated_filtered_searched_and_ordered(auth_client, user):
    WorkflowFactory(owner=user, name="Alpha mail", description="sorts email")
    WorkflowFactory(owner=user, name="Beta", description="reads tickets", is_active=False)
    WorkflowFactory(owner=user, name="Gamma mail", description="")
    names = lambda response: [w["name"] for w in response.json()["results"]]  # noqa: E731
    page = auth_client.get(BASE).json()
    assert set(page) == {"count", "next", "previous", "results"}
    assert page["count"] == 3
    assert names(auth_client.get(f"{BASE}?ordering=name")) == ["Alpha mail", "Beta", "Gamma mail"]
    assert names(auth_client.get(f"{BASE}?ordering=-name")) == ["Gamma mail", "Beta", "Alpha mail"]
    assert names(auth_client.get(f"{BASE}?name=mail&ordering=name")) == ["Alpha mail", "Gamma mail"]
    assert names(auth_client.get(f"{BASE}?is_active=false")) == ["Beta"]
    assert names(auth_client.get(f"{BASE}?search=tickets")) == ["Beta"]
    assert auth_client.get(f"{BASE}?page_size=2").json()["next"]
    assert auth_client.get(f"{BASE}?is_active=maybe").status_code == 400


def test_validate(auth_client):
    response = auth_client.post(f"{BASE}/validate", {"definition": support_triage()}, format="json")
    assert response.status_code == 200
    assert response.json() == {"valid": True}
    broken = support_triage()
    broken["edges"].append({"source": "result", "target": "ticket"})
    response = auth_client.post(f"{BASE}/validate", {"definition": broken}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_definition"
    assert auth_client.post(f"{BASE}/validate", {"definition": "nodes"}, format="json").status_code == 400
    assert auth_client.post(f"{BASE}/validate", {}, format="json").status_code == 400


def test_validate_takes_the_body_create_would_take(auth_client):
    body = {"name": "Triage", "description": "Angry first", "definition": support_triage()}
    assert auth_client.post(f"{BASE}/validate", body, format="json").json() == {"valid": True}
    too_long = auth_client.post(f"{BASE}/validate", {**body, "name": "x" * 500}, format="json")
    assert too_long.status_code == 400
    assert "name" in too_long.json()["error"]["details"]
    unknown = auth_client.post(f"{BASE}/validate", {**body, "colour": "red"}, format="json")
    assert "colour" in unknown.json()["error"]["details"]


def test_export_then_import(auth_client):
    workflow = create(auth_client, description="Angry first")
    response = auth_client.get(f"{BASE}/{workflow['id']}/export")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    document = response.json()
    imported = auth_client.post(f"{BASE}/import", document, format="json")
    assert imported.status_code == 201
    copy = imported.json()
    assert copy["id"] != workflow["id"]
    assert (copy["name"], copy["description"], copy["version"]) == ("Triage", "Angry first", 1)
    assert copy["definition"] == workflow["definition"]
    assert auth_client.get(BASE).json()["count"] == 2


def test_an_export_is_also_a_create_body(auth_client):
    workflow = create(auth_client)
    document = auth_client.get(f"{BASE}/{workflow['id']}/export").json()
    assert auth_client.post(BASE, document, format="json").status_code == 201


def test_import_refuses_a_bad_document(auth_client):
    response = auth_client.post(f"{BASE}/import", {"name": "x"}, format="json")
    assert response.status_code == 400
    assert "definition" in response.json()["error"]["details"]
    assert auth_client.post(f"{BASE}/import", [1, 2], format="json").status_code == 400


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("description", "d" * 10_001, "Ensure this field has no more than 10000 characters."),
        ("name", "Tri\udfffage", "Surrogate characters are not allowed: U+DFFF."),
        ("description", "\ud800", "Surrogate characters are not allowed: U+D800."),
    ],
    ids=["an overlong description", "a lone surrogate in the name", "a lone surrogate in the description"],
)
def test_import_refuses_the_texts_create_refuses(auth_client, field, value, message):
    document = {"name": "x", "description": "", "definition": echo_definition(), field: value}
    for path in (BASE, f"{BASE}/import"):
        # A lone surrogate cannot be encoded as UTF-8 JSON: sent as its escape, like a client would.
        body = json.dumps(document)
        response = auth_client.post(path, body, content_type="application/json")
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "validation_error"
        assert error["details"] == {field: [message]}


def test_malformed_json_is_a_400(auth_client):
    response = auth_client.post(BASE, "{not json", content_type="application/json")
    assert response.status_code == 400


def test_not_a_uuid_is_404(auth_client):
    assert auth_client.get(f"{BASE}/not-a-uuid").status_code == 404


def test_another_users_workflow_is_404_on_every_route(api_client, user):
    workflow = WorkflowFactory(owner=user)
    intruder = UserFactory()
    api_client.force_authenticate(intruder)
    url = f"{BASE}/{workflow.pk}"
    body = {"name": "mine now", "definition": echo_definition()}
    responses = {
        "get": api_client.get(url),
        "put": api_client.put(url, body, format="json"),
        "patch": api_client.patch(url, {"name": "mine now"}, format="json"),
        "patch_bad_body": api_client.patch(url, {"unknown": 1}, format="json"),
        "delete": api_client.delete(url),
        "versions": api_client.get(f"{url}/versions"),
        "version": api_client.get(f"{url}/versions/1"),
        "export": api_client.get(f"{url}/export"),
    }
    assert {name: response.status_code for name, response in responses.items()} == dict.fromkeys(responses, 404)
    assert all(response.json()["error"]["code"] == "not_found" for response in responses.values())
    assert api_client.get(BASE).json()["count"] == 0
    api_client.force_authenticate(user)
    assert api_client.get(url).json()["name"] == workflow.name


def test_the_schema_documents_the_is_active_filter_as_the_strings_it_takes(auth_client):
    schema = auth_client.get("/api/schema", {"format": "json"}).json()
    (parameter,) = [p for p in schema["paths"][BASE]["get"]["parameters"] if p["name"] == "is_active"]
    assert parameter["schema"] == {"type": "string", "enum": ["0", "1", "false", "true"]}
    assert auth_client.get(BASE, {"is_active": "false"}).status_code == 200
