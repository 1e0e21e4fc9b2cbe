"""The guarded client's bodies: compressed answers decoded within the size cap, and
secrets in a body or query never carried to another origin by a redirect."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator

import pytest

from outbound import GuardedHttpClient, HttpCallError
from tests.support.guarded_http import Recorder, client_for, response_json
from tests.support.http_server import (
    LocalHttpServer,
    compressed_zeros,
    running_test_server,
)

pytestmark = pytest.mark.server


@pytest.fixture
def server() -> Iterator[LocalHttpServer]:
    with running_test_server() as running:
        yield running


@pytest.mark.parametrize("path", ["/gzip/1000", "/deflate/1000", "/deflate/1000?raw=1"])
def test_a_compressed_answer_is_decoded(server, path) -> None:
    client = client_for(Recorder(), f"127.0.0.1:{server.port}")
    response = client.request("GET", server.url(path), headers={"Accept-Encoding": "gzip, deflate"}, max_bytes=1000)
    assert response.content == bytes(1000)
    assert server.requests[-1]["headers"]["accept-encoding"] == "gzip, deflate"


def test_a_gzip_bomb_stops_at_the_size_cap_without_inflating_it(server) -> None:
    bomb = compressed_zeros("gzip", 10 * 1024 * 1024)  # made before memory is measured
    assert len(bomb) < 20_000
    client = client_for(Recorder(), f"127.0.0.1:{server.port}")
    tracemalloc.start()
    try:
        with pytest.raises(HttpCallError) as caught:
            client.request("GET", server.url("/gzip/10485760"), max_bytes=64 * 1024)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.code == "response_too_large"
    assert "65536 bytes" in caught.value.message
    # Inflating a whole read of the bomb at once would hold megabytes; bounded, a few caps.
    assert peak < 1024 * 1024


def test_a_broken_gzip_answer_is_a_clear_error(server) -> None:
    client = client_for(Recorder(), f"127.0.0.1:{server.port}")
    with pytest.raises(HttpCallError) as caught:
        client.request("GET", server.url("/deflate/1000?raw=1&label=gzip"))
    assert caught.value.code == "http_connection_failed"
    assert "gzip" in caught.value.message


def two_origins(server: LocalHttpServer) -> tuple[GuardedHttpClient, str, str]:
    recorder = Recorder({"a.example": [["127.0.0.1"]], "b.example": [["127.0.0.1"]]})
    client = client_for(recorder, f"a.example:{server.port}", f"b.example:{server.port}")
    return client, f"http://a.example:{server.port}", f"http://b.example:{server.port}"


@pytest.mark.parametrize(("method", "code"), [("POST", "307"), ("POST", "308"), ("PUT", "302"), ("PATCH", "301")])
def test_a_body_holding_a_secret_is_not_carried_to_another_origin(server, method, code) -> None:
    client, a, b = two_origins(server)
    with pytest.raises(HttpCallError) as caught:
        client.request(
            method,
            f"{a}/redirect",
            params={"to": f"{b}/echo", "code": code},
            json={"token": "s3cret-value"},
            origin_bound_body=True,
        )
    assert caught.value.code == "url_not_allowed"
    assert "body holds a secret" in caught.value.message
    assert server.hits["/echo"] == 0
    # The same body without a secret follows, and a redirect within the origin keeps it.
    moved = client.request(method, f"{a}/redirect", params={"to": f"{b}/echo", "code": code}, json={"n": 1})
    assert response_json(moved)["body"] == '{"n":1}'
    kept = client.request(
        method, f"{a}/redirect", params={"to": "/echo", "code": code}, json={"t": "s"}, origin_bound_body=True
    )
    assert (response_json(kept)["method"], response_json(kept)["body"]) == (method, '{"t":"s"}')


def test_a_secret_body_may_follow_a_redirect_that_drops_it(server) -> None:
    client, a, b = two_origins(server)
    moved = client.request(
        "POST", f"{a}/redirect", params={"to": f"{b}/echo", "code": "303"}, content="s3cret", origin_bound_body=True
    )
    echo = response_json(moved)
    assert (echo["method"], echo["body"], echo["headers"]["host"]) == ("GET", "", f"b.example:{server.port}")


def test_a_query_secret_copied_into_a_redirect_to_another_origin_is_refused(server) -> None:
    client, a, b = two_origins(server)
    # /redirect sends the client where `to` says: here, a URL that carries the key onwards,
    # as a server that keeps the query when it redirects would.
    for carried in (f"{b}/echo?key=s3cret%2Fvalue", f"{b}/echo/s3cret/value"):
        with pytest.raises(HttpCallError) as caught:
            client.request(
                "GET", f"{a}/redirect", params={"key": "s3cret/value", "to": carried}, origin_bound_params=["key"]
            )
        assert caught.value.code == "url_not_allowed"
        assert "s3cret" not in caught.value.message
    assert server.hits["/echo"] == 0
    moved = client.request(
        "GET", f"{a}/redirect", params={"key": "s3cret/value", "to": f"{b}/echo"}, origin_bound_params=["key"]
    )
    assert response_json(moved)["query"] == {}


def test_a_header_the_protocol_refuses_is_reported_without_its_value(server) -> None:
    client = client_for(Recorder(), f"127.0.0.1:{server.port}")
    with pytest.raises(HttpCallError) as caught:
        client.request("GET", server.url(), headers={"Authorization": "Bearer sk-live\nX-Injected: 1"})
    assert caught.value.code == "invalid_request"
    assert "header" in caught.value.message
    assert "sk-live" not in caught.value.message
    assert server.total_hits == 0
