"""Two copies of one delivery arriving at once (a sender's retry racing its first try):
one execution, and both answers name it."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from tests.support.hooks import make_hook


@pytest.mark.django_db(transaction=True)
def test_racing_duplicates_start_one_execution(user):
    hook = make_hook(user)
    start = threading.Barrier(4)
    answers: list = []
    now = int(time.time())  # a timestamp each: four signatures, as a sender signs each retry anew

    def send(n: int) -> None:
        try:
            start.wait()
            answers.append(hook.post({"text": "hi"}, timestamp=now - n, **{"Idempotency-Key": "same"}))
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(a.status_code for a in answers) == [202] * 4, [a.content for a in answers]
    (execution,) = hook.executions()
    assert {a.json()["execution_id"] for a in answers} == {str(execution.id)}
    assert sum(1 for a in answers if a.json().get("duplicate")) == 3
