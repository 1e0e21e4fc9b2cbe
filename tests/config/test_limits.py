"""settings.SWITCHBOARD is made from the environment by a pure function (core/limits.py):
each case passes its own variables, no process is started."""

from __future__ import annotations

import dataclasses

import pytest

from core.limits import Limits, limits_from_env


def test_unset_and_empty_variables_give_the_defaults() -> None:
    assert limits_from_env({}) == Limits()
    assert limits_from_env({"SWITCHBOARD_MAX_NODES": "", "SWITCHBOARD_HTTP_ALLOWED_HOSTS": ""}) == Limits()


def test_variables_are_read_by_their_documented_names_and_types() -> None:
    limits = limits_from_env(
        {
            "SWITCHBOARD_MAX_NODES": "10",
            "SWITCHBOARD_NODE_TIMEOUT_S": "12.5",  # default_node_timeout_s, by its older name
            "SWITCHBOARD_DB_PREPARED_STATEMENTS": "off",
            "SWITCHBOARD_CREDENTIALS_KEY": "new-key, old-key",
            "SWITCHBOARD_HTTP_ALLOWED_HOSTS": "127.0.0.1:8080,,localhost:9000",
            "SWITCHBOARD_MAX_QUERY_STRING_BYTES": "1024",
        }
    )
    assert limits.max_query_string_bytes == 1024
    assert limits.max_nodes == 10
    assert limits.default_node_timeout_s == 12.5
    assert limits.engine_prepared_statements is False
    assert limits.credentials_keys == ("new-key", "old-key")
    assert limits.http_allowed_hosts == ("127.0.0.1:8080", "localhost:9000")


def test_fixed_limits_are_not_read_from_the_environment() -> None:
    assert limits_from_env({"SWITCHBOARD_MAX_WAIT_S": "600"}).max_wait_s == Limits().max_wait_s


def test_a_value_of_the_wrong_type_names_its_variable() -> None:
    with pytest.raises(ValueError, match="SWITCHBOARD_SWEEP_BATCH='many' is not a valid int"):
        limits_from_env({"SWITCHBOARD_SWEEP_BATCH": "many"})


def test_the_limits_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Limits().max_nodes = 1  # type: ignore[misc]
