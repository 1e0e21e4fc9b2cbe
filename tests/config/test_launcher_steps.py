"""development/launcher_steps.py: the administrator `make run` creates, and where its
password is kept."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest

from development.launcher_steps import ensure_admin


@pytest.mark.django_db
def test_a_generated_admin_password_is_kept_for_its_owner_only_and_later_starts_say_how_to_reset_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, django_user_model
) -> None:
    monkeypatch.delenv("SWITCHBOARD_ADMIN_USERNAME", raising=False)
    monkeypatch.delenv("SWITCHBOARD_ADMIN_PASSWORD", raising=False)
    kept = tmp_path / "admin_credentials"
    kept.write_text("left by an admin of an earlier database")
    kept.chmod(0o644)

    created = ensure_admin(tmp_path)
    password = re.fullmatch(rf"user 'admin' created, password (\S+)  \(kept in {kept}, mode 0600\)", created)[1]
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert kept.read_text().endswith(f"username: admin\npassword: {password}\n")
    assert django_user_model.objects.get(username="admin").check_password(password)

    reset = ".venv/bin/python manage.py changepassword admin"
    assert ensure_admin(tmp_path) == f"user 'admin' exists; password: see {kept}, or reset it with {reset}"
    kept.unlink()
    assert ensure_admin(tmp_path) == f"user 'admin' exists; reset its password with {reset}"


@pytest.mark.django_db
def test_an_admin_made_with_the_given_password_leaves_no_credentials_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SWITCHBOARD_ADMIN_USERNAME", raising=False)
    monkeypatch.setenv("SWITCHBOARD_ADMIN_PASSWORD", "a-long-pass-phrase-of-mine")
    (tmp_path / "admin_credentials").write_text("password: of an admin of an earlier database\n")
    assert ensure_admin(tmp_path) == "user 'admin' created with the password from SWITCHBOARD_ADMIN_PASSWORD"
    assert not (tmp_path / "admin_credentials").exists()
