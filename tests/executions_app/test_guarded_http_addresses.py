"""The guarded client's reading of hosts, without a connection: numeric hosts as
inet_aton reads them, and the allow list's host:port entries."""

from __future__ import annotations

import pytest

from outbound import HttpCallError
from outbound.addresses import AllowList, numeric_ipv4


@pytest.mark.parametrize(
    "host", ["2130706433", "0x7f.1", "0x7F000001", "017700000001", "127.1", "127.0.1", "0177.0.0.1", "127.0.0.1."]
)
def test_numeric_hosts_are_read_as_inet_aton_reads_them(host) -> None:
    assert str(numeric_ipv4(host)) == "127.0.0.1"


@pytest.mark.parametrize("host", ["example.com", "1e100.net", "a.0x7f", "localhost"])
def test_names_are_not_numeric_hosts(host) -> None:
    if host == "a.0x7f":
        with pytest.raises(HttpCallError):
            numeric_ipv4(host)  # ends in a number: an address or nothing, never a name to resolve
    else:
        assert numeric_ipv4(host) is None


def test_allow_list_entries_are_host_port() -> None:
    allowed = AllowList.parse(["Example.COM:8080", "[::1]:9000", "2130706433:80"])
    assert allowed.permits("example.com", 8080)
    assert allowed.permits("::1", 9000)
    assert allowed.permits("127.0.0.1", 80)
    assert not allowed.permits("example.com", 80)
    with pytest.raises(ValueError, match="host:port"):
        AllowList.parse(["example.com"])
