"""Production settings, as a deployment gets them: settings are computed once at import,
so each case imports them in a fresh process with nothing in its environment but what
the case sets (none of this test session's variables)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Run in the child: real requests through the real middleware, no database or Redis
# touched (an unknown /api/ path, a CORS preflight, the admin's login form). Header names
# are lower-cased: django-cors-headers writes them so, and a miss must not pass silently.
PROBE = """
import json
import django
django.setup()
from django.conf import settings
from django.test import Client

client = Client(headers={"host": "localhost"})
api = client.get("/api/nothing-here", secure=True, headers={"origin": "https://evil.example"})
preflight = client.options(
    "/api/auth/login",
    secure=True,
    headers={"origin": "https://app.example", "access-control-request-method": "POST"},
)
login_form = client.get("/admin/login/", secure=True)
csrf_cookie = login_form.cookies.get(settings.CSRF_COOKIE_NAME)


def headers(response):
    return {name.lower(): value for name, value in response.headers.items()}

print(json.dumps({
    "debug": settings.DEBUG,
    "secret_key": settings.SECRET_KEY,
    "session_cookie_secure": settings.SESSION_COOKIE_SECURE,
    "api_status": api.status_code,
    "api_headers": headers(api),
    "preflight_headers": headers(preflight),
    "login_form_status": login_form.status_code,
    "csrf_cookie_secure": bool(csrf_cookie and csrf_cookie["secure"]),
}))
"""


def settings_process(tmp_path: Path, script: str = PROBE, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SWITCHBOARD_VAR_DIR": str(tmp_path / "var"),  # no DATABASE_URL: a SQLite file nobody queries
        **env,
    }
    return subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60, check=False
    )


def probe(tmp_path: Path, **env: str) -> dict:
    done = settings_process(tmp_path, **env)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("debug", [None, "0"])
def test_without_secret_key_it_refuses_to_start_outside_development(tmp_path, debug) -> None:
    env = {} if debug is None else {"DEBUG": debug}
    done = settings_process(tmp_path, "import django; django.setup()", **env)
    assert done.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY must be set" in done.stderr


@pytest.mark.slow
def test_with_debug_on_it_starts_without_secret_key_on_a_development_only_key(tmp_path) -> None:
    report = probe(tmp_path, DEBUG="1")
    assert report["debug"] is True
    assert report["secret_key"].startswith("development-only")


@pytest.mark.slow
def test_with_debug_off_responses_carry_the_security_headers_and_cookies_are_secure(tmp_path) -> None:
    report = probe(tmp_path, SECRET_KEY="a-production-secret-key-of-enough-length-0123456789")
    assert report["debug"] is False
    assert report["api_status"] == 404
    assert report["api_headers"]["content-type"] == "application/json"
    headers = report["api_headers"]
    assert headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert report["login_form_status"] == 200
    assert report["csrf_cookie_secure"] is True
    assert report["session_cookie_secure"] is True


@pytest.mark.slow
def test_with_debug_on_there_is_no_hsts_and_cookies_work_over_http(tmp_path) -> None:
    # The contrast: development serves plain http, where HSTS and Secure cookies would
    # lock a browser out of the site.
    report = probe(tmp_path, DEBUG="1")
    assert "strict-transport-security" not in report["api_headers"]
    assert report["csrf_cookie_secure"] is False
    assert report["api_headers"]["x-frame-options"] == "DENY"


@pytest.mark.slow
def test_cors_is_closed_by_default(tmp_path) -> None:
    report = probe(tmp_path, SECRET_KEY="a-production-secret-key-of-enough-length-0123456789")
    assert "access-control-allow-origin" not in report["api_headers"]
    assert "access-control-allow-origin" not in report["preflight_headers"]
    assert "access-control-allow-methods" not in report["preflight_headers"]


@pytest.mark.slow
def test_cors_opens_to_the_configured_origins_only(tmp_path) -> None:
    report = probe(
        tmp_path,
        SECRET_KEY="a-production-secret-key-of-enough-length-0123456789",
        CORS_ALLOWED_ORIGINS="https://app.example",
    )
    assert report["preflight_headers"]["access-control-allow-origin"] == "https://app.example"
    assert "access-control-allow-origin" not in report["api_headers"]  # asked from https://evil.example
