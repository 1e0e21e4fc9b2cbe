"""A workflow's layout (where the studio draws its nodes): saved without a new version,
checked, carried by export and import, another user's a 404."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.support.definitions import echo_definition
from tests.support.factories import UserFactory

pytestmark = pytest.mark.django_db

BASE = "/api/workflows"
PLACES = {"start": {"x": 0, "y": 0}, "result": {"x": 240.5, "y": -80}}


def created(client: APIClient, **extra: Any) -> dict:
    response = client.post(BASE, {"name": "drawn", "definition": echo_definition(), **extra}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_a_layout_is_saved_without_a_new_version_and_read_back(auth_client) -> None:
    workflow = created(auth_client)
    assert workflow["layout"] == {}
    moved = auth_client.patch(f"{BASE}/{workflow['id']}", {"layout": PLACES}, format="json")
    assert moved.status_code == 200, moved.content
    assert moved.json()["layout"] == PLACES
    assert moved.json()["version"] == workflow["version"] == 1
    assert auth_client.get(f"{BASE}/{workflow['id']}").json()["layout"] == PLACES
    versions = auth_client.get(f"{BASE}/{workflow['id']}/versions").json()["results"]
    assert [v["number"] for v in versions] == [1]
    assert "layout" not in auth_client.get(f"{BASE}/{workflow['id']}/versions/1").json()["definition"]
    # A new definition makes a version and leaves the layout as it was.
    changed = echo_definition()
    changed["nodes"][0]["config"]["fields"]["text"]["description"] = "what to echo"
    saved = auth_client.patch(f"{BASE}/{workflow['id']}", {"definition": changed}, format="json").json()
    assert (saved["version"], saved["layout"]) == (2, PLACES)


@pytest.mark.parametrize(
    ("layout", "said"),
    [
        ([1, 2], "is an object"),
        ({"Start": {"x": 0, "y": 0}}, "not a node id"),
        ({"start": {"x": 0}}, "nothing else"),
        ({"start": {"x": 0, "y": 0, "z": 1}}, "nothing else"),
        ({"start": {"x": "0", "y": 0}}, "finite numbers"),
        ({"start": {"x": True, "y": 0}}, "finite numbers"),
        ({"start": {"x": 1e12, "y": 0}}, "finite numbers"),
    ],
)
def test_a_bad_layout_is_a_400_that_says_why(auth_client, layout: Any, said: str) -> None:
    workflow = created(auth_client, layout=PLACES)
    answer = auth_client.patch(f"{BASE}/{workflow['id']}", {"layout": layout}, format="json")
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "validation_error"
    assert any(said in message for message in error["details"]["layout"])
    assert auth_client.get(f"{BASE}/{workflow['id']}").json()["layout"] == PLACES  # nothing lost


def test_too_many_places_are_refused(auth_client, settings) -> None:
    from dataclasses import replace

    settings.SWITCHBOARD = replace(settings.SWITCHBOARD, max_nodes=2)
    places = {f"n{i}": {"x": i, "y": i} for i in range(3)}
    answer = auth_client.post(BASE, {"name": "w", "definition": echo_definition(), "layout": places}, format="json")
    assert answer.status_code == 400
    assert "at most 2 nodes" in answer.json()["error"]["details"]["layout"][0]


def test_export_and_import_carry_the_layout(auth_client) -> None:
    workflow = created(auth_client, layout=PLACES)
    document = auth_client.get(f"{BASE}/{workflow['id']}/export").json()
    assert document["layout"] == PLACES
    imported = auth_client.post(f"{BASE}/import", document, format="json")
    assert imported.status_code == 201, imported.content
    assert imported.json()["layout"] == PLACES
    document["layout"] = {"start": {"x": "left"}}
    refused = auth_client.post(f"{BASE}/import", document, format="json")
    assert refused.status_code == 400 and "layout" in refused.json()["error"]["details"]


def test_another_users_layout_is_a_404(auth_client) -> None:
    workflow = created(auth_client, layout=PLACES)
    stranger = APIClient()
    stranger.force_authenticate(UserFactory())
    assert stranger.patch(f"{BASE}/{workflow['id']}", {"layout": {}}, format="json").status_code == 404
    assert auth_client.get(f"{BASE}/{workflow['id']}").json()["layout"] == PLACES
