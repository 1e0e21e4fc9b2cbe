"""The engine's storage: one interface (PortableStorage's methods), with a PostgreSQL
implementation that fuses steps into single prepared statements and a portable one
(SQLite) that runs them one by one. Chosen once per process, by the database in use."""

from __future__ import annotations

import functools

from django.db import connection

from executions_app.engine.storage.portable import PortableStorage
from executions_app.engine.storage.postgres import PostgresStorage
from executions_app.engine.storage.statements import ClaimedRun, Recorded

__all__ = ["ClaimedRun", "PortableStorage", "PostgresStorage", "Recorded", "storage"]


@functools.cache
def storage() -> PortableStorage:
    """The storage of the default database."""
    return PostgresStorage() if connection.vendor == "postgresql" else PortableStorage()
