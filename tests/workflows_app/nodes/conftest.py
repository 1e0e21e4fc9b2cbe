"""Node types alone, given fakes of their ports (tests/support/node_ports.py): no database
(pytest-django refuses it: nothing here is marked django_db), no Redis, no network."""

from __future__ import annotations

import socket

import pytest


@pytest.fixture(autouse=True)
def _clear_cache_and_throttles() -> None:
    """The root's, which empties this session's cache and queues in Redis, is not needed:
    these tests touch no Redis."""


@pytest.fixture(autouse=True)
def _no_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    """A node that reaches past its fakes fails its test instead of connecting."""

    def refuse(sock: socket.socket, address: object) -> None:
        raise AssertionError(f"a node unit test tried to connect to {address!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
