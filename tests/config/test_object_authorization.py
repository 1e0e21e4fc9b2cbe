"""The object-level authorization matrix: every route of the URLconf that names an object
is visited with another user's JWT and API key, for every method it allows, and must
answer the JSON 404 (never 403, 200 or 500) and leave the object as it was; the owner
then reaches it.

The routes are read from the URLconf itself, so a route added later fails here until it
has an entry in OBJECT_ROUTES (or, when its argument names no stored object, in
NOT_OBJECT_ROUTES, with the reason)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from accounts_app.models import ApiKey, User
from accounts_app.tokens import refresh_token_for
from credentials_app.models import Credential
from executions_app.models import Execution
from tests.support.api import api_key_client, bearer_client
from tests.support.definitions import edge, input_node, node
from tests.support.executions import SSE
from tests.support.factories import ApiKeyFactory, UserFactory
from triggers_app.models import Delivery, Schedule, ScheduleTick, WebhookTrigger
from workflows_app.models import Workflow

pytestmark = pytest.mark.django_db

UNSAFE = ("post", "put", "patch", "delete")
METHODS = ("get", "head", *UNSAFE)  # OPTIONS answers the route's metadata, the same for any id


# --- the URLconf's routes ----------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str
    route: str
    arguments: tuple[str, ...]
    view: Any


def _walk(patterns: list, prefix: str = "", namespace: str | None = None) -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin" or entry.app_name == "admin":
                continue  # the admin: staff only, its own permission checks
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), entry.namespace or namespace)
        elif isinstance(entry, URLPattern):
            arguments = tuple(getattr(entry.pattern, "converters", {}) or entry.pattern.regex.groupindex)
            name = f"{namespace}:{entry.name}" if namespace else str(entry.name)
            yield Route(name, prefix + str(entry.pattern), arguments, entry.callback)


def routes_with_arguments() -> list[Route]:
    return [route for route in _walk(get_resolver().url_patterns) if route.arguments]


def allowed_methods(route: Route) -> list[str]:
    view_class = getattr(route.view, "view_class", None) or getattr(route.view, "cls", None)
    assert view_class is not None, f"{route.name}: not a class-based view; list its methods here"
    allowed = [m for m in METHODS if m != "head" and hasattr(view_class, m)]
    return [*allowed, "head"] if "get" in allowed else allowed  # Django answers HEAD with get


# Routes that take an argument which names no stored object of a user.
NOT_OBJECT_ROUTES = {
    "api-not-found": "the catch-all JSON 404 of unknown /api/ paths; its argument is the path",
    "dashboard-chart": "an HTML page's chart, named by a slug from a fixed list; it shows the viewer's own data",
    # Whoever holds a hook's token may call it, signed in or not: the token is the
    # credential, not an account (tests/triggers_app/test_hook_*.py: a wrong token is a 404).
    "hook-deliver": "a webhook's public URL, addressed by its token, not by an owner's object id",
    "hook-delivery": "a delivery's status, scoped by the hook's token; another token's delivery is a 404",
    # A signed approval link: the token is the credential (tests/executions_app/test_approvals.py).
    "approval-page": "a signed approval link's page, addressed by its token, not by an owner's object id",
}


# --- making one object per route, as its owner does through the API ----------------------


@dataclass(frozen=True)
class Made:
    kwargs: dict[str, Any]
    state: Callable[[], Any]  # what must not change when a stranger tries an unsafe method


@dataclass(frozen=True)
class ObjectRoute:
    make: Callable[[APIClient, User], Made]
    owner_method: str
    owner_statuses: tuple[int, ...]
    why: str = ""


def _row(model: Any, pk: Any) -> dict[str, Any]:
    """Every column of the row, as stored."""
    return model.objects.filter(pk=pk).values().get()


def _workflow(owner: APIClient) -> str:
    definition = {"nodes": [input_node(), node("result", "OUTPUT", {"value": 1})], "edges": [edge("start", "result")]}
    response = owner.post("/api/workflows", {"name": "mine", "definition": definition}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def _workflow_state(workflow_id: str) -> Any:
    workflow = Workflow.objects.get(pk=workflow_id)
    return _row(Workflow, workflow_id), workflow.versions.count(), workflow.executions.count()


def make_workflow(owner: APIClient, user: User) -> Made:
    workflow_id = _workflow(owner)
    return Made({"pk": workflow_id}, lambda: _workflow_state(workflow_id))


def make_version(owner: APIClient, user: User) -> Made:
    workflow_id = _workflow(owner)
    return Made({"pk": workflow_id, "number": 1}, lambda: _workflow_state(workflow_id))


def _execution_state(execution_id: str) -> Any:
    execution = Execution.objects.get(pk=execution_id)
    retries = Execution.objects.filter(retried_from_id=execution_id).count()
    return _row(Execution, execution_id), execution.logs.count(), execution.node_runs.count(), retries


def make_execution(owner: APIClient, user: User) -> Made:
    """Queued, and it stays queued: no worker runs here."""
    response = owner.post("/api/executions", {"workflow_id": _workflow(owner), "inputs": {}}, format="json")
    assert response.status_code == 202, response.content
    execution_id = response.json()["id"]
    return Made({"pk": execution_id}, lambda: _execution_state(execution_id))


def make_canceled_execution(owner: APIClient, user: User) -> Made:
    """Canceled by its owner, so that a retry of it is allowed."""
    made = make_execution(owner, user)
    response = owner.post(f"/api/executions/{made.kwargs['pk']}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "canceled", response.content
    return made


def make_approval_node(owner: APIClient, user: User) -> Made:
    """A queued execution with an APPROVAL node (no worker runs here, so it never waits:
    the owner's answers show the node was found). The waiting case, with a worker, is in
    tests/executions_app/test_approvals.py."""
    definition = {
        "nodes": [input_node(), node("review", "APPROVAL", {"message": "ok?"}), node("result", "OUTPUT", {"value": 1})],
        "edges": [edge("start", "review"), edge("review", "result")],
    }
    workflow = owner.post("/api/workflows", {"name": "mine", "definition": definition}, format="json")
    assert workflow.status_code == 201, workflow.content
    response = owner.post("/api/executions", {"workflow_id": workflow.json()["id"], "inputs": {}}, format="json")
    assert response.status_code == 202, response.content
    execution_id = response.json()["id"]
    return Made({"pk": execution_id, "node_id": "review"}, lambda: _execution_state(execution_id))


def make_credential(owner: APIClient, user: User) -> Made:
    response = owner.post("/api/credentials", {"name": "MINE", "value": "s3cret"}, format="json")
    assert response.status_code == 201, response.content
    credential_id = response.json()["id"]
    return Made({"pk": credential_id}, lambda: _row(Credential, credential_id))


def make_api_key(owner: APIClient, user: User) -> Made:
    response = owner.post("/api/auth/api-keys", {"name": "mine"}, format="json")
    assert response.status_code == 201, response.content
    key_id = response.json()["id"]
    return Made({"api_key_id": key_id}, lambda: _row(ApiKey, key_id))


def make_webhook(owner: APIClient, user: User) -> Made:
    body = {"workflow_id": _workflow(owner), "name": "mine"}
    response = owner.post("/api/triggers/webhooks", body, format="json")
    assert response.status_code == 201, response.content
    trigger_id = response.json()["id"]
    return Made({"pk": trigger_id}, lambda: (_row(WebhookTrigger, trigger_id), Delivery.objects.count()))


def make_delivery(owner: APIClient, user: User) -> Made:
    # A test delivery, as the owner sends one (the public hook's path is token-addressed).
    made = make_webhook(owner, user)
    response = owner.post(f"/api/triggers/webhooks/{made.kwargs['pk']}/test", {"body": {}}, format="json")
    assert response.status_code == 201, response.content
    return Made({**made.kwargs, "delivery_id": response.json()["id"]}, made.state)


def make_schedule(owner: APIClient, user: User) -> Made:
    body = {"workflow_id": _workflow(owner), "name": "mine", "cron": "@daily"}
    response = owner.post("/api/triggers/schedules", body, format="json")
    assert response.status_code == 201, response.content
    schedule_id = response.json()["id"]
    return Made(
        {"pk": schedule_id},
        lambda: (_row(Schedule, schedule_id), ScheduleTick.objects.count(), Execution.objects.count()),
    )


# Route name -> how its owner makes the object, and the method and answers that show the
# owner reaches it. The owner goes last, after the strangers: that also shows the
# strangers' attempts left the object in place and the kwargs name a real object.
OBJECT_ROUTES: dict[str, ObjectRoute] = {
    "auth-api-key": ObjectRoute(make_api_key, "delete", (204,), "DELETE only: the owner revokes the key"),
    "credential-detail": ObjectRoute(make_credential, "get", (200,)),
    "workflow-detail": ObjectRoute(make_workflow, "get", (200,)),
    "workflow-versions": ObjectRoute(make_workflow, "get", (200,)),
    "workflow-version": ObjectRoute(make_version, "get", (200,), "version 1, made with the workflow"),
    "workflow-export": ObjectRoute(make_workflow, "get", (200,)),
    "execution-detail": ObjectRoute(make_execution, "get", (200,)),
    "execution-logs": ObjectRoute(make_execution, "get", (200,)),
    "execution-cancel": ObjectRoute(make_execution, "post", (200,), "POST only: a queued execution is canceled"),
    "execution-retry": ObjectRoute(
        make_canceled_execution, "post", (201,), "POST only: a canceled execution is retried (the retry stays queued)"
    ),
    # An event stream: the owner's answer is read up to its first chunk, then closed.
    "execution-events": ObjectRoute(make_execution, "get", (200,), "a stream: its first bytes are read"),
    "approval-decision": ObjectRoute(
        make_approval_node, "post", (400,), "POST only: the owner's empty body is refused, after the node is found"
    ),
    "approval-links": ObjectRoute(
        make_approval_node, "post", (409,), "POST only: a node that allows no links (`links_disabled`)"
    ),
    "webhook-detail": ObjectRoute(make_webhook, "get", (200,)),
    "webhook-rotate-token": ObjectRoute(make_webhook, "post", (200,), "POST only"),
    "webhook-rotate-secret": ObjectRoute(make_webhook, "post", (200,), "POST only"),
    "webhook-revoke": ObjectRoute(make_webhook, "post", (200,), "POST only"),
    "webhook-deliveries": ObjectRoute(make_webhook, "get", (200,)),
    "webhook-delivery": ObjectRoute(make_delivery, "get", (200,)),
    "webhook-test": ObjectRoute(make_webhook, "post", (201,), "POST only: a test delivery"),
    "webhook-delivery-replay": ObjectRoute(make_delivery, "post", (201,), "POST only: the test delivery again"),
    "schedule-detail": ObjectRoute(make_schedule, "get", (200,)),
    "schedule-pause": ObjectRoute(make_schedule, "post", (200,), "POST only"),
    "schedule-resume": ObjectRoute(make_schedule, "post", (200,), "POST only"),
    "schedule-ticks": ObjectRoute(make_schedule, "get", (200,)),
    "schedule-run": ObjectRoute(make_schedule, "post", (201,), "POST only: a run now (it stays queued)"),
}


# --- the test ----------------------------------------------------------------------------


def _route_ids() -> list[str]:
    return sorted({route.name for route in routes_with_arguments()})


def _route(name: str) -> Route:
    (route,) = [r for r in routes_with_arguments() if r.name == name]
    return route


def _send(client: APIClient, method: str, url: str) -> Any:
    if method in ("get", "head"):
        return getattr(client, method)(url, HTTP_ACCEPT=f"application/json, {SSE}")
    return getattr(client, method)(url, {}, format="json")


def _close(response: Any) -> None:
    if getattr(response, "streaming", False):
        response.close()


@pytest.fixture
def strangers(db) -> dict[str, APIClient]:
    """Another user's clients: with a JWT, and with an API key."""
    other = UserFactory()
    _, raw_key = ApiKeyFactory.create_with_key(user=other)
    return {"jwt": bearer_client(str(refresh_token_for(other).access_token)), "api key": api_key_client(raw_key)}


@pytest.mark.parametrize("name", _route_ids())
def test_another_users_object_is_a_404_for_every_method(name, user, auth_client, strangers) -> None:
    if name in NOT_OBJECT_ROUTES:
        pytest.skip(NOT_OBJECT_ROUTES[name])
    assert name in OBJECT_ROUTES, (
        f"Route {name!r} ({_route(name).route}) takes an argument but has no entry in OBJECT_ROUTES: "
        "add how its owner makes the object, and make sure the view looks the object up among "
        "the caller's own (or list it in NOT_OBJECT_ROUTES, saying why it names no object)."
    )
    spec = OBJECT_ROUTES[name]
    made = spec.make(auth_client, user)
    url = reverse(name, kwargs=made.kwargs)
    before = made.state()
    methods = allowed_methods(_route(name))
    assert spec.owner_method in methods

    for who, client in strangers.items():
        for method in methods:
            response = _send(client, method, url)
            _close(response)
            assert response.status_code == 404, f"{who} {method.upper()} {url}: {response.status_code}"
            if method != "head":
                assert response["Content-Type"] == "application/json", f"{who} {method.upper()} {url}"
                assert response.json()["error"]["code"] == "not_found", f"{who} {method.upper()} {url}"
            assert made.state() == before, f"{who} {method.upper()} {url} changed the object"

    owner = _send(auth_client, spec.owner_method, url)
    if getattr(owner, "streaming", False):
        try:
            assert next(iter(owner.streaming_content)), "the owner's stream sent nothing"
        finally:
            owner.close()
    assert owner.status_code in spec.owner_statuses, f"owner {spec.owner_method.upper()} {url}: {owner.status_code}"


def test_every_registry_entry_is_a_route_of_the_urlconf() -> None:
    names = set(_route_ids())
    assert set(OBJECT_ROUTES) - names == set()
    assert set(NOT_OBJECT_ROUTES) - names == set()
    assert set(OBJECT_ROUTES) & set(NOT_OBJECT_ROUTES) == set()
