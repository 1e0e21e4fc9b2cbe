"""`make run`'s one-shot steps, run before anything long-lived starts (honcho stops every
entry when one exits, so they can never be Procfile entries): migrate, and create the
first administrator, whose generated password is kept in var/admin_credentials."""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from development import embedded_redis
from development.launch import Launch, LaunchError
from development.launcher_banner import redact_url


@contextmanager
def redis_for_one_shot_steps(launch: Launch) -> Iterator[None]:
    """The embedded Redis, up for the one-shot steps only (on the same port and data, so
    whatever they queue waits there for the workers), stopped before honcho starts it."""
    if launch.redis_port is None:
        yield
        return
    command = embedded_redis.server_command(launch.redis_port, launch.var_dir / "redis")
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    try:
        embedded_redis.wait_until_up(launch.redis_port)
        yield
    finally:
        process.terminate()  # redis-server flushes the AOF on SIGTERM
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


RESET_COMMAND = ".venv/bin/python manage.py changepassword {username}"


def ensure_admin(var_dir: Path) -> str:
    """Creates the first superuser if there is none; says what happened for the banner. A
    generated password is shown, and kept in var/admin_credentials (mode 0600), since the
    start-up logs soon push the banner off the screen; later starts say how to reset it."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    user_model = get_user_model()
    kept = var_dir / "admin_credentials"
    admin = user_model.objects.filter(is_superuser=True).order_by("pk").first()
    if admin is not None:
        reset = RESET_COMMAND.format(username=admin.get_username())
        if kept.exists():
            return f"user {admin.get_username()!r} exists; password: see {kept}, or reset it with {reset}"
        return f"user {admin.get_username()!r} exists; reset its password with {reset}"
    username = os.environ.get("SWITCHBOARD_ADMIN_USERNAME") or "admin"
    if user_model.objects.filter(username=username).exists():
        return f"user {username!r} exists but is not a superuser; none created (set SWITCHBOARD_ADMIN_USERNAME)"
    password = os.environ.get("SWITCHBOARD_ADMIN_PASSWORD") or ""
    if password:
        try:
            validate_password(password, user=user_model(username=username))
        except ValidationError as exc:
            raise LaunchError("SWITCHBOARD_ADMIN_PASSWORD is refused: " + " ".join(exc.messages)) from None
    generated = secrets.token_urlsafe(15)
    email = f"{username}@localhost"  # unique per user; the admin can change it
    user_model.objects.create_superuser(username=username, email=email, password=password or generated)
    if password:
        kept.unlink(missing_ok=True)  # a password of an admin that is gone (a new database)
        return f"user {username!r} created with the password from SWITCHBOARD_ADMIN_PASSWORD"
    keep_credentials(kept, username, generated)
    return f"user {username!r} created, password {generated}  (kept in {kept}, mode 0600)"


def keep_credentials(path: Path, username: str, password: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # O_CREAT's mode applies to a new file only
    with os.fdopen(descriptor, "w") as file:
        file.write(
            "# The administrator make run created; change its password with\n"
            f"#   {RESET_COMMAND.format(username=username)}\n"
            f"username: {username}\npassword: {password}\n"
        )


def run_one_shot_steps(launch: Launch) -> dict[str, str]:
    """Migrate and create the admin; returns banner lines about the database and admin."""
    with redis_for_one_shot_steps(launch):
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.db import OperationalError, connections

        try:
            call_command("migrate", interactive=False, verbosity=1)
        except OperationalError as exc:
            where = redact_url(os.environ.get("DATABASE_URL") or str(settings.DATABASES["default"]["NAME"]))
            raise LaunchError(f"cannot use the database {where}: {exc}") from None
        admin = ensure_admin(launch.var_dir)
        # The demo workflows and their first run come after start-up (run_demo_when_ready).
        connections.close_all()  # honcho forks this process; no connection may be shared
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        described = f"SQLite file {database['NAME']} (set DATABASE_URL for PostgreSQL)"
    else:
        described = redact_url(os.environ["DATABASE_URL"])
    return {"admin": admin, "database": described}
