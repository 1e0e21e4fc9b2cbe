"""/metrics counts webhook deliveries by trigger and answered status."""

from __future__ import annotations

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from tests.support.hooks import make_hook

pytestmark = pytest.mark.django_db


def deliveries(trigger_id: str) -> dict[str, float]:
    response = Client().get("/metrics")
    assert response.status_code == 200, response.content
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for s in family.samples:
            if s.name == "switchboard_webhook_deliveries_total" and s.labels["trigger"] == trigger_id:
                found[s.labels["status"]] = s.value
    return found


def test_deliveries_are_counted_by_trigger_and_status(user):
    hook = make_hook(user)

    hook.post({"text": "hi"})
    hook.post({"text": "hi"}, signed=False)
    hook.post({"text": "hi"}, signed=False)

    assert deliveries(str(hook.trigger.id)) == {"202": 1, "401": 2}
