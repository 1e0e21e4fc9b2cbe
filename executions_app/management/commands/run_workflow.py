"""`manage.py run_workflow <id or file.json> --input key=value ...`: one execution through
the workers, printing each node's progress and the result."""

from __future__ import annotations

import argparse
import json
import time
import uuid
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.api import AppError
from executions_app.models import FINISHED_EXECUTION_STATUSES, Execution, NodeRun
from executions_app.services import execution_create
from workflows_app.services import workflow_import


def parse_input(pair: str) -> tuple[str, Any]:
    key, sep, raw = pair.partition("=")
    if not sep or not key:
        raise CommandError(f"--input takes key=value, got {pair!r}")
    try:
        return key, json.loads(raw)  # numbers, booleans, objects
    except json.JSONDecodeError:
        return key, raw


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value < float("inf"):  # NaN too
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


class Command(BaseCommand):
    help = "Runs a workflow (by id, or a definition file) through the workers and shows the result."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("workflow", help="a workflow id, or a JSON file as exported by the API")
        parser.add_argument("--input", action="append", default=[], metavar="KEY=VALUE")
        parser.add_argument("--user", help="owner username (default: the first superuser)")
        parser.add_argument("--timeout", type=seconds, default=120.0, help="seconds to follow it (default 120)")

    def handle(self, *args: Any, **options: Any) -> None:
        user = self.owner(options["user"])
        workflow_id = self.workflow_id(options["workflow"], user)
        inputs = dict(parse_input(pair) for pair in options["input"])
        try:
            execution, _ = execution_create(user=user, workflow_id=workflow_id, inputs=inputs)
        except AppError as exc:
            details = f" {json.dumps(exc.details, default=str)}" if exc.details else ""
            if exc.code == "not_found":  # whose workflows were searched is the likely mistake
                details += f" (among the workflows of {user.get_username()!r}; --user names another owner)"
            raise CommandError(f"{exc.code}: {exc.message}{details}") from None
        self.stdout.write(f"execution {execution.id} queued")
        self.follow(execution.id, options["timeout"])

    def owner(self, username: str | None) -> Any:
        users = get_user_model().objects
        user = users.filter(username=username).first() if username else users.filter(is_superuser=True).first()
        if user is None:
            raise CommandError("No such user (pass --user, or create an admin first).")
        return user

    def workflow_id(self, ref: str, user: Any) -> Any:
        try:
            return uuid.UUID(ref)
        except ValueError:
            pass
        path = Path(ref)
        if not path.is_file():
            raise CommandError(f"{ref} is neither a workflow id nor a file")
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise CommandError(f"{path} is not a readable JSON file: {exc}") from None
        try:
            return workflow_import(owner=user, document=document).id
        except AppError as exc:
            raise CommandError(f"{path}: {exc.details or exc.message}") from None

    def follow(self, execution_id: Any, timeout: float) -> None:
        seen: dict[str, str] = {}
        deadline = time.monotonic() + timeout
        while True:
            for node_id, status, duration in self.node_states(execution_id):
                if seen.get(node_id) != status:
                    seen[node_id] = status
                    took = f" ({duration} ms)" if duration is not None else ""
                    self.stdout.write(f"  {node_id:<24} {status}{took}")
            execution = Execution.objects.get(id=execution_id)
            if execution.status in FINISHED_EXECUTION_STATUSES:
                break
            if time.monotonic() > deadline:
                raise CommandError(f"still {execution.status} after {timeout:.0f}s; follow it in the API")
            time.sleep(0.1)
        style = self.style.SUCCESS if execution.status == "completed" else self.style.ERROR
        self.stdout.write(style(f"{execution.status} in {execution.duration_ms} ms"))
        payload = execution.outputs if execution.status == "completed" else execution.error
        self.stdout.write(json.dumps(payload, indent=2, default=str))
        if execution.status != "completed":
            raise CommandError(f"execution {execution.status}")

    @staticmethod
    def node_states(execution_id: Any) -> list[tuple[str, str, int | None]]:
        return [(r.node_id, r.status, r.duration_ms) for r in NodeRun.objects.filter(execution_id=execution_id)]
