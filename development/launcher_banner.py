"""What `make run` prints when it starts: where each part answers, and URLs with their passwords redacted."""

from __future__ import annotations

from collections.abc import MutableMapping
from urllib.parse import urlsplit, urlunsplit

from development.launch import Launch

PROVIDER_KEYS = ("GEMINI_API_KEY", "GROQ_API_KEY", "HF_TOKEN", "OPENROUTER_API_KEY", "OPENAI_COMPATIBLE_BASE_URL")


def redact_url(url: str) -> str:
    """The URL with its password replaced by ***, for banners and error messages."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def describe_providers(env: MutableMapping[str, str]) -> str:
    configured = [name for name in PROVIDER_KEYS if env.get(name)]
    if configured:
        return "configured by " + ", ".join(configured)
    if env.get("SWITCHBOARD_EMULATOR_URL"):
        return f"emulated by the provider emulator at {env['SWITCHBOARD_EMULATOR_URL']} (no provider key set)"
    return "none configured (AI nodes fail until a key is set: " + ", ".join(PROVIDER_KEYS[:4]) + ")"


def url_host(bind: str) -> str:
    if bind in ("0.0.0.0", "::", ""):  # noqa: S104 - naming the wildcard, not binding it
        return "127.0.0.1"
    return f"[{bind}]" if ":" in bind else bind


def banner(launch: Launch, env: MutableMapping[str, str], steps: dict[str, str], entries: dict[str, str]) -> str:
    web = f"http://{url_host(launch.bind)}:{launch.web_port}"
    flower_user, flower_password = env["FLOWER_BASIC_AUTH"].split(":", 1)
    flower_login = (
        f"user {flower_user}, password {flower_password} (made for this run; FLOWER_BASIC_AUTH sets it)"
        if launch.flower_credentials_generated
        else "credentials from FLOWER_BASIC_AUTH"
    )
    redis = redact_url(env["REDIS_URL"])
    if launch.redis_port is not None:
        redis += f" (embedded redis-server, AOF in {launch.var_dir / 'redis'})"
    rows = [
        ("API docs", f"{web}/api/docs"),
        ("Admin", f"{web}/admin/  {steps['admin']}"),
        ("Dashboard", f"{web}/dashboard/"),
        ("Metrics", f"{web}/metrics (Prometheus)"),
        ("Flower", f"http://{url_host(launch.bind)}:{launch.flower_port}/  {flower_login}"),
        ("Database", steps["database"]),
        ("Redis", redis),
        ("AI providers", describe_providers(env)),
        ("Demo", steps["demo"]),
        ("Processes", ", ".join(entries)),
    ]
    lines = ["", "Switchboard (make run): Ctrl-C stops every process", *(f"  {k:<13}{v}" for k, v in rows), ""]
    return "\n".join(lines)
