"""What keeps the slow layers out of the fast one: the helpers that start a worker or a
server call require_marker(), which fails the test that runs them without its marker
(the test being run is noted by tests/support/fixtures/markers.py)."""

from __future__ import annotations

import pytest

# The test whose setup, call or teardown is running now (None between tests).
current_test: list[pytest.Item] = []


def require_marker(name: str, what: str) -> None:
    """Fails the running test unless it is marked `name` (`what`: what it is doing)."""
    if current_test and current_test[0].get_closest_marker(name) is None:
        pytest.fail(f"{current_test[0].nodeid} {what} but is not marked @pytest.mark.{name}", pytrace=False)
