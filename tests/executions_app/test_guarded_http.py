"""The guarded client alone: what it refuses (before any connection), how it pins, follows
redirects, verifies TLS, caps sizes and keeps its deadline."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from outbound import GuardedHttpClient, HttpCallError, guarded_client
from tests.support.guarded_http import Recorder, client_for, response_json
from tests.support.http_server import (
    LocalHttpServer,
    limit,
    running_test_server,
    tls_contexts,
)


@pytest.fixture
def server() -> Iterator[LocalHttpServer]:
    with running_test_server() as running:
        yield running


@pytest.mark.server
def test_an_allowed_host_is_reached_with_its_own_host_header(server) -> None:
    recorder = Recorder()
    client = client_for(recorder, f"127.0.0.1:{server.port}")
    response = client.request("GET", server.url("/echo?a=1"), params={"b": "2"}, headers={"X-Thing": "yes"})
    assert response.status == 200
    echo = response_json(response)
    assert echo["query"] == {"a": "1", "b": "2"}
    assert echo["headers"]["host"] == f"127.0.0.1:{server.port}"
    assert echo["headers"]["x-thing"] == "yes"
    assert recorder.connected == [("127.0.0.1", server.port)]


REFUSED_LITERALS = [
    "http://127.0.0.1:{port}/echo",
    "http://0.0.0.0:{port}/echo",
    "http://[::1]:{port}/echo",
    "http://[::ffff:127.0.0.1]:{port}/echo",
    "http://[::ffff:7f00:1]:{port}/echo",
    "http://[64:ff9b::7f00:1]:{port}/echo",
    "http://[2002:7f00:1::]:{port}/echo",
    "http://2130706433:{port}/echo",
    "http://0x7f.1:{port}/echo",
    "http://0x7f000001:{port}/echo",
    "http://017700000001:{port}/echo",
    "http://127.1:{port}/echo",
    "http://0:{port}/echo",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/",
    "http://10.255.255.254/",
    "http://172.16.0.1/",
    "http://172.31.255.1/",
    "http://192.168.0.1/",
    "http://100.64.0.1/",
    "http://100.127.255.254/",
    "http://[fc00::1]/",
    "http://[fd12:3456::1]/",
    "http://[fe80::1]/",
    "http://[fec0::1]/",  # site-local: deprecated, but still internal where it is routed
    "http://[feff:ffff::1]/",
    "http://224.0.0.1/",
    "http://255.255.255.255/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:70/_stats",
    "ftp://example.com/",
    "http://1.2.3.4.5/",
    "http://256.1/",
]


@pytest.mark.server
@pytest.mark.parametrize("url", REFUSED_LITERALS)
def test_non_public_addresses_and_other_schemes_are_refused_before_any_connection(server, url) -> None:
    recorder = Recorder()
    with pytest.raises(HttpCallError) as caught:
        client_for(recorder).request("GET", url.format(port=server.port))
    assert caught.value.code in ("url_not_allowed", "invalid_url")
    assert caught.value.retryable is False
    assert recorder.resolved == []  # a literal address is never handed to a resolver
    assert recorder.connected == []
    assert server.total_hits == 0


@pytest.mark.server
@pytest.mark.parametrize(
    ("host", "addresses"),
    [
        ("localhost", None),  # the system resolver's own answer
        ("metadata.example.com", [["169.254.169.254"]]),
        ("intranet.example.com", [["10.1.2.3"]]),
        ("mixed.example.com", [["93.184.216.34", "192.168.1.10"]]),  # every address must be public
        ("six.example.com", [["::ffff:10.0.0.1"]]),
        ("site.example.com", [["fec0::10"]]),
    ],
)
def test_a_name_that_resolves_to_a_non_public_address_is_refused(server, host, addresses) -> None:
    recorder = Recorder({host: addresses} if addresses else None)
    with pytest.raises(HttpCallError) as caught:
        client_for(recorder).request("GET", f"http://{host}:{server.port}/echo")
    assert caught.value.code == "url_not_allowed"
    assert "not public" in caught.value.message
    assert recorder.resolved == [host]
    assert recorder.connected == []
    assert server.total_hits == 0


@pytest.mark.server
def test_the_checked_address_is_the_one_connected_even_if_the_name_rebinds(server) -> None:
    # The first answer is checked and pinned; a second lookup (as a naive client would make
    # when connecting) would get loopback. Only the first answer is ever connected.
    recorder = Recorder({"rebind.example.com": [["93.184.216.34"], ["127.0.0.1"]]})
    with pytest.raises(HttpCallError) as caught:
        client_for(recorder).request("GET", f"http://rebind.example.com:{server.port}/echo")
    assert caught.value.code == "http_connection_failed"
    assert recorder.resolved == ["rebind.example.com"]
    assert recorder.connected == [("93.184.216.34", server.port)]
    assert server.total_hits == 0


@pytest.mark.server
def test_an_allowed_name_is_resolved_once_per_call_and_that_answer_connected(server) -> None:
    recorder = Recorder({"svc.internal": [["127.0.0.1"], ["127.0.0.2"]]})
    client = client_for(recorder, f"svc.internal:{server.port}")
    response = client.request("GET", f"http://svc.internal:{server.port}/echo")
    assert response_json(response)["headers"]["host"] == f"svc.internal:{server.port}"
    assert recorder.resolved == ["svc.internal"]
    assert recorder.connected == [("127.0.0.1", server.port)]


@pytest.mark.server
def test_the_allow_list_opens_exactly_its_host_and_port(server) -> None:
    recorder = Recorder()
    client = client_for(recorder, f"127.0.0.1:{server.port + 1}", f"localhost:{server.port}")
    with pytest.raises(HttpCallError):
        client.request("GET", server.url())  # another port of the same host
    assert client.request("GET", server.url(host="localhost")).status == 200
    assert client.request("GET", server.url(host="LOCALHOST.")).status == 200
    assert server.hits["/echo"] == 2


@pytest.mark.server
def test_a_redirect_to_a_non_public_address_is_refused(server) -> None:
    recorder = Recorder({"public.example.com": [["127.0.0.1"]]})
    client = client_for(recorder, f"public.example.com:{server.port}")
    for target in ("http://127.0.0.1:{port}/echo", "http://localhost:{port}/echo", "http://169.254.169.254/"):
        location = target.format(port=server.port)
        with pytest.raises(HttpCallError) as caught:
            client.request("GET", f"http://public.example.com:{server.port}/redirect", params={"to": location})
        assert caught.value.code == "url_not_allowed"
    assert server.hits == {"/redirect": 3}
    assert server.hits["/echo"] == 0


@pytest.mark.server
def test_redirects_are_followed_rechecked_and_limited(server, settings) -> None:
    recorder = Recorder({"a.example": [["127.0.0.1"]], "b.example": [["127.0.0.1"]]})
    client = client_for(recorder, f"a.example:{server.port}", f"b.example:{server.port}")
    same_origin = client.request(
        "POST", f"http://a.example:{server.port}/redirect?to=/echo&code=307", content="kept", headers={"A": "1"}
    )
    echo = response_json(same_origin)
    assert (echo["method"], echo["body"], echo["headers"]["a"]) == ("POST", "kept", "1")
    assert same_origin.url == f"http://a.example:{server.port}/echo"

    other = f"http://b.example:{server.port}/echo"
    moved = client.request(
        "POST",
        f"http://a.example:{server.port}/redirect",
        params={"to": other, "code": "303"},
        content="dropped",
        headers={"Authorization": "Bearer t", "X-Api-Key": "k", "X-Plain": "p"},
        origin_bound_headers=["X-Api-Key"],
    )
    echo = response_json(moved)
    assert (echo["method"], echo["body"]) == ("GET", "")
    assert "authorization" not in echo["headers"] and "x-api-key" not in echo["headers"]
    assert echo["headers"]["x-plain"] == "p"
    assert echo["headers"]["host"] == f"b.example:{server.port}"

    limit(settings, HTTP_MAX_REDIRECTS=3)
    with pytest.raises(HttpCallError) as caught:
        client.request("GET", f"http://a.example:{server.port}/loop")
    assert caught.value.code == "too_many_redirects"
    assert server.hits["/loop"] == 4


@pytest.mark.server
def test_response_size_is_capped_with_or_without_a_length(server) -> None:
    client = client_for(Recorder(), f"127.0.0.1:{server.port}")
    assert len(client.request("GET", server.url("/big/1000"), max_bytes=1000).content) == 1000
    for path in ("/big/1001", "/unsized/5000"):
        with pytest.raises(HttpCallError) as caught:
            client.request("GET", server.url(path), max_bytes=1000)
        assert caught.value.code == "response_too_large"
        assert "1000 bytes" in caught.value.message


@pytest.mark.server
def test_one_deadline_covers_a_server_that_trickles_bytes(server) -> None:
    client = client_for(Recorder(), f"127.0.0.1:{server.port}")
    started = time.monotonic()
    with pytest.raises(HttpCallError) as caught:
        client.request("GET", server.url("/trickle"), timeout_s=0.8)  # the whole body takes 20 s
    elapsed = time.monotonic() - started
    assert caught.value.code == "http_timeout"
    assert caught.value.retryable is True
    assert elapsed < 3
    started = time.monotonic()
    with pytest.raises(HttpCallError):
        client.request("GET", server.url("/trickle"), timeout_s=30, deadline=time.monotonic() + 0.5)
    assert time.monotonic() - started < 3


@pytest.mark.server
def test_tls_uses_the_host_name_for_sni_and_verification_while_connecting_to_the_pinned_address(tmp_path) -> None:
    server_tls, client_trust = tls_contexts(tmp_path, "tls.example")
    with running_test_server(tls=server_tls) as server:
        recorder = Recorder({"tls.example": [["127.0.0.1"]], "other.example": [["127.0.0.1"]]})
        allowed = (f"tls.example:{server.port}", f"other.example:{server.port}")
        client = client_for(recorder, *allowed, trusted_cas=client_trust)
        response = client.request("GET", f"https://tls.example:{server.port}/echo")
        assert response_json(response)["headers"]["host"] == f"tls.example:{server.port}"
        assert server.server_names[-1] == "tls.example"
        assert recorder.connected == [("127.0.0.1", server.port)]
        # The same address under a name the certificate does not cover: refused by TLS.
        with pytest.raises(HttpCallError) as caught:
            client.request("GET", f"https://other.example:{server.port}/echo")
        assert caught.value.code == "http_connection_failed"
        assert "certificate" in caught.value.message.lower()
        # And the default trust store does not know the test CA: verification is on.
        strict = client_for(recorder, *allowed)
        with pytest.raises(HttpCallError) as caught:
            strict.request("GET", f"https://tls.example:{server.port}/echo")
        assert "certificate" in caught.value.message.lower()
        assert server.hits["/echo"] == 1


def test_a_context_that_does_not_verify_is_refused() -> None:
    import ssl

    lax = ssl.create_default_context()
    lax.check_hostname = False
    with pytest.raises(ValueError, match="verifies"):
        GuardedHttpClient(trusted_cas=lax)


def test_the_process_has_one_client() -> None:
    assert guarded_client() is guarded_client()


@pytest.mark.server
def test_a_name_that_does_not_resolve_by_the_deadline_fails_at_the_deadline(server) -> None:
    def stuck(host: str, port: int) -> list[str]:
        time.sleep(5)  # a resolver that hangs, as getaddrinfo can for its own timeouts
        return ["127.0.0.1"]

    client = GuardedHttpClient(resolver=stuck, allowed_hosts=[f"slow.example:{server.port}"])
    started = time.monotonic()
    with pytest.raises(HttpCallError) as caught:
        client.request("GET", f"http://slow.example:{server.port}/echo", timeout_s=0.5)
    assert time.monotonic() - started < 2
    assert (caught.value.code, caught.value.retryable) == ("http_timeout", True)
    assert "slow.example" in caught.value.message
    started = time.monotonic()
    with pytest.raises(HttpCallError):
        client.request("GET", f"http://slow.example:{server.port}/echo", deadline=time.monotonic() + 0.3)
    assert time.monotonic() - started < 2
    assert server.total_hits == 0


@pytest.mark.server
def test_a_resolver_error_still_reaches_the_caller(server) -> None:
    def missing(host: str, port: int) -> list[str]:
        raise HttpCallError("host_not_found", f"The host {host} could not be resolved.")

    client = GuardedHttpClient(resolver=missing)
    with pytest.raises(HttpCallError) as caught:
        client.request("GET", "http://nowhere.example/", timeout_s=5)
    assert caught.value.code == "host_not_found"
