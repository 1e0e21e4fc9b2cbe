"""var/run.env: what `make run` set up reaches commands beside it, and only while it runs."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

from config import run_env


def launcher_wrote(var_dir: Path, **values: str):
    lock = run_env.hold_lock(var_dir)
    assert lock is not None
    run_env.write(var_dir, {"KEPT": "same"}, {"KEPT": "same", **values})
    return lock


def test_a_running_launchers_values_fill_what_is_unset_or_empty(tmp_path) -> None:
    lock = launcher_wrote(tmp_path, REDIS_URL="redis://127.0.0.1:4242/0", SECRET_KEY="k\\n'multi'\nline")
    environ = {"SWITCHBOARD_VAR_DIR": str(tmp_path), "SECRET_KEY": "", "DATABASE_URL": "mine"}
    try:
        run_env.load(environ)
    finally:
        lock.close()

    assert environ["REDIS_URL"] == "redis://127.0.0.1:4242/0"
    assert environ["SECRET_KEY"] == "k\\n'multi'\nline"  # an empty variable counts as unset
    assert environ["DATABASE_URL"] == "mine"  # what is set wins
    assert "KEPT" not in environ  # only what the launcher changed
    assert stat.S_IMODE((tmp_path / "run.env").stat().st_mode) == 0o600


def test_a_file_whose_launcher_is_gone_is_never_read(tmp_path) -> None:
    launcher_wrote(tmp_path, SECRET_KEY="stale").close()  # the lock goes with the launcher, however it ends
    environ = {"SWITCHBOARD_VAR_DIR": str(tmp_path)}

    run_env.load(environ)

    assert environ == {"SWITCHBOARD_VAR_DIR": str(tmp_path)}


def test_a_second_launcher_does_not_take_over_and_a_damaged_file_is_ignored(tmp_path, caplog, monkeypatch) -> None:
    # An in-process Celery worker earlier in the session may have disabled existing loggers.
    monkeypatch.setattr(run_env.logger, "disabled", False)
    caplog.set_level(logging.WARNING, logger=run_env.logger.name)
    first = launcher_wrote(tmp_path, REDIS_URL="redis://first")
    try:
        assert run_env.hold_lock(tmp_path) is None
        (tmp_path / "run.env").write_text('{"environment": ')
        environ = {"SWITCHBOARD_VAR_DIR": str(tmp_path)}
        run_env.load(environ)
    finally:
        first.close()

    assert "REDIS_URL" not in environ
    assert "is not readable" in caplog.text
