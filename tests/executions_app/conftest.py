from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.support.executions import SSE


@pytest.fixture
def browser(user: Any) -> Client:
    """`user` in a browser, as EventSource asks: the session cookie, Accept: text/event-stream."""
    client = Client(HTTP_ACCEPT=SSE)
    client.force_login(user)
    return client
