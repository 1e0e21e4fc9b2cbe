"""A hook's URL is its credential: neither the web server's access line nor our own log
lines may carry the token."""

from __future__ import annotations

import io
import json
import logging
from datetime import timedelta
from types import SimpleNamespace

import httpx
import pytest
from django.conf import settings
from django.utils.module_loading import import_string
from gunicorn.config import Config

from core.access_log import RedactingLogger
from core.log_filters import RedactHookTokens, redact_hook_tokens
from tests.support.hooks import make_hook, sign
from tests.support.web_server import running_web
from tests.support.workers import ROOT, wait_for

TOKEN = "whk_" + "x1Y2" * 10 + "abc"


def access_line(environ: dict) -> str:
    logger = RedactingLogger(Config())
    resp = SimpleNamespace(status="202 Accepted", headers=[("Content-Type", "application/json")], sent=42)
    req = SimpleNamespace(headers=[("HOST", "example.com"), ("REFERER", f"https://example.com/hooks/{TOKEN}")])
    atoms = logger.atoms(resp, req, environ, timedelta(milliseconds=3))
    line = logger.cfg.access_log_format % logger.atoms_wrapper_class(atoms)
    # Every atom, not only those of the default format: an operator may log any of them.
    return line + " " + " ".join(str(value) for value in atoms.values())


def test_the_access_line_shows_the_hook_path_without_its_token():
    environ = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": f"/hooks/{TOKEN}/deliveries/123?x=1",
        "PATH_INFO": f"/hooks/{TOKEN}/deliveries/123",
        "QUERY_STRING": "x=1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_REFERER": f"https://example.com/hooks/{TOKEN}",
    }

    line = access_line(environ)

    assert TOKEN not in line
    assert '"POST /hooks/<redacted>/deliveries/123?x=1 HTTP/1.1" 202' in line


def test_other_paths_are_logged_as_they_are():
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": "/api/executions?page=2", "SERVER_PROTOCOL": "HTTP/1.1"}

    assert '"GET /api/executions?page=2 HTTP/1.1"' in access_line(environ)


def test_redaction_stops_at_the_tokens_end():
    assert redact_hook_tokens(f"/hooks/{TOKEN}") == "/hooks/<redacted>"
    assert redact_hook_tokens(f"x /hooks/{TOKEN}?a=b y") == "x /hooks/<redacted>?a=b y"
    assert redact_hook_tokens("/api/hooks") == "/api/hooks"


def test_djangos_lines_about_a_hook_request_leave_the_console_without_the_token():
    """As Django logs a 4xx ("Not Found: /hooks/<token>"), through a console handler made
    as the settings make it (a worker in another test may have replaced the live one)."""
    console = settings.LOGGING["handlers"]["console"]
    filters = [import_string(settings.LOGGING["filters"][name]["()"])() for name in console["filters"]]
    assert any(isinstance(f, RedactHookTokens) for f in filters)
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter(settings.LOGGING["formatters"][console["formatter"]]["format"]))
    for found in filters:
        handler.addFilter(found)
    record = logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, "Not Found: %s", (f"/hooks/{TOKEN}",), None
    )

    handler.handle(record)

    assert TOKEN not in out.getvalue()
    assert out.getvalue().rstrip().endswith("Not Found: /hooks/<redacted>")


@pytest.mark.server
@pytest.mark.django_db(transaction=True)
def test_the_web_servers_log_never_holds_a_hook_token(user):
    """The Procfile's gunicorn, its access line and Django's line for a 4xx, in the log
    file the server writes."""
    hook = make_hook(user)
    before = set((ROOT / "var").glob("test-web-*.log"))
    data = json.dumps({"text": "hi"}).encode()
    with running_web() as base:
        (log,) = set((ROOT / "var").glob("test-web-*.log")) - before
        headers = {"Content-Type": "application/json", "X-Switchboard-Signature": sign(hook.secret, data)}
        accepted = httpx.post(f"{base}/hooks/{hook.token}?source=test", content=data, headers=headers)
        refused = httpx.post(f"{base}/hooks/{hook.token}", content=data, headers={"Content-Type": "application/json"})
        assert (accepted.status_code, refused.status_code) == (202, 401), accepted.text
        wait_for(lambda: log.read_text().count("/hooks/<redacted>") >= 3)
        text = log.read_text()
    assert hook.token not in text
    assert '"POST /hooks/<redacted>?source=test HTTP/1.1" 202' in text
    assert "Unauthorized: /hooks/<redacted>" in text
