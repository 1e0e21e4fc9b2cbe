"""The provider emulator as a user of it sees it: a real server, the control API, the
management command, and answers that always say they are emulated."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import openai
import pytest

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_management_command_serves_every_provider_on_one_port(tmp_path):
    port = free_port()
    env = {**os.environ, "DEBUG": "1"}
    log = (tmp_path / "emulator.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "provider_emulator", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60  # a loaded machine starts Django slowly
        while True:
            try:
                assert httpx.get(f"{base}/_emulator/health", trust_env=False).json()["emulator"] is True
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError((tmp_path / "emulator.log").read_text()) from None
                time.sleep(0.1)
        client = openai.OpenAI(api_key="k", base_url=f"{base}/openrouter/v1", max_retries=0)
        reply = client.chat.completions.create(
            model="z-ai/glm-4.5-air", messages=[{"role": "user", "content": "2 + 3"}]
        )
        assert reply.choices[0].message.content == "[emulated z-ai/glm-4.5-air] The answer is 5."
        assert reply.usage.prompt_tokens == 3
        assert httpx.get(f"{base}/_emulator/calls", trust_env=False).json()["providers"] == {"openrouter": 1}
        # SIGTERM, as `make run` stops it: a clean exit, not a death by signal.
        process.terminate()
        assert process.wait(timeout=30) == 0
        assert "Traceback" not in (tmp_path / "emulator.log").read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_faults_are_validated(emulator):
    for fault, message in [
        ({"provider": "acme"}, "provider must be one of"),
        ({"provider": "groq", "status": 299}, "status must be one of"),
        ({"provider": "groq", "times": 0}, "times must be"),
        ({"provider": "groq", "colour": "red"}, "Unknown fault fields: colour"),
    ]:
        response = emulator.http.post("/_emulator/faults", json=fault)
        assert response.status_code == 400
        assert message in response.json()["error"]["message"]
    assert emulator.http.post("/_emulator/faults", content=b"{nope").status_code == 400


def test_a_fault_with_times_is_served_that_often_then_clears(emulator):
    emulator.reset()
    emulator.fault(provider="groq", status=503, times=2)
    client = openai.OpenAI(api_key="k", base_url=f"{emulator.url}/groq/openai/v1", max_retries=0)
    statuses = []
    for _ in range(3):
        try:
            client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
            statuses.append(200)
        except openai.APIStatusError as exc:
            statuses.append(exc.status_code)
    assert statuses == [503, 503, 200]
    assert emulator.http.get("/_emulator/faults").json() == {"faults": []}
    emulator.reset()


def test_faults_can_be_cleared_per_provider(emulator):
    emulator.reset()
    emulator.fault(provider="groq", status=500)
    emulator.fault(provider="gemini", status=500)
    emulator.http.delete("/_emulator/faults", params={"provider": "groq"})
    assert [f["provider"] for f in emulator.http.get("/_emulator/faults").json()["faults"]] == ["gemini"]
    emulator.http.delete("/_emulator/faults")
    assert emulator.http.get("/_emulator/faults").json()["faults"] == []


def test_a_model_fault_wins_over_the_providers(emulator):
    emulator.reset()
    emulator.fault(provider="openrouter", status=500)
    emulator.fault(provider="openrouter", model="qwen/qwen-2.5-72b-instruct", status=429, retry_after=7)
    client = openai.OpenAI(api_key="k", base_url=f"{emulator.url}/openrouter/v1", max_retries=0)
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="qwen/qwen-2.5-72b-instruct", messages=[{"role": "user", "content": "x"}])
    assert caught.value.response.headers["retry-after"] == "7"
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="z-ai/glm-4.5-air", messages=[{"role": "user", "content": "x"}])
    emulator.reset()


def test_a_request_without_credentials_is_refused(emulator):
    response = emulator.http.post(
        "/openrouter/v1/chat/completions", json={"model": "m", "messages": [{"role": "user", "content": "x"}]}
    )
    assert response.status_code == 401


def test_unknown_paths_and_bad_bodies_are_clear_errors(emulator):
    assert emulator.http.get("/v2/anything").status_code == 404
    response = emulator.http.post(
        "/groq/openai/v1/chat/completions", json={"model": "m"}, headers={"Authorization": "Bearer k"}
    )
    assert response.status_code == 400
    assert "messages" in response.json()["detail"]


def test_answers_are_deterministic(emulator):
    client = openai.OpenAI(api_key="k", base_url=f"{emulator.url}/v1", max_retries=0)
    messages = [{"role": "user", "content": "Describe the weather"}]
    first = client.chat.completions.create(model="llama3.2", messages=messages)
    second = client.chat.completions.create(model="llama3.2", messages=messages)
    assert first.choices[0].message.content == second.choices[0].message.content
    assert first.choices[0].message.content.startswith("[emulated llama3.2]")


def test_the_emulator_sends_each_answer_in_one_piece(emulator):
    """Headers and body leave in one write. Split into two small writes on a kept-alive
    connection, the body waits for the client's delayed ACK: ~40 ms added to every SDK call."""
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}]}).encode()
    request = (
        b"POST /openrouter/v1/chat/completions HTTP/1.1\r\nHost: emulator\r\nAuthorization: Bearer k\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    with socket.create_connection(emulator.server.server_address[:2], timeout=5) as sock:
        for _ in range(5):  # the stall shows on the later requests of a connection
            sock.sendall(request)
            head, _, payload = sock.recv(65536).partition(b"\r\n\r\n")  # one read: what arrived together
            assert head.startswith(b"HTTP/1.1 200 ")
            length = int(re.search(rb"(?im)^content-length: *(\d+)", head).group(1))
            assert len(payload) == length
            assert json.loads(payload)["choices"][0]["message"]["content"].startswith("[emulated m]")
