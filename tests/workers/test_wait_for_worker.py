"""`manage.py wait_for_worker`, which the Procfile's Flower starts after: with no worker,
it gives up at its timeout and lets Flower start all the same."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command


@pytest.mark.slow  # waits out its timeout
def test_with_no_worker_it_gives_up_at_its_timeout_and_succeeds() -> None:
    err = io.StringIO()

    call_command("wait_for_worker", "--timeout", "0.5", stderr=err)  # no worker runs in this test

    assert "no worker answered within 0.5 s; going on without one" in err.getvalue()
