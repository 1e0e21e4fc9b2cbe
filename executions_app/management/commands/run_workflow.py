"""`manage.py run_workflow <id or file.json> --input key=value ...`: one execution through
the workers, printing each node's progress and the result. A superuser who names another
user's workflow by id runs it as its owner (executions belong to their workflow's owner)."""

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
from workflows_app.selectors import workflow_owner
from workflows_app.services import workflow_import


def split_pair(option: str, pair: str) -> tuple[str, str]:
    key, sep, raw = pair.partition("=")
    if not sep or not key:
        raise CommandError(f"{option} takes key=value, got {pair!r}")
    return key, raw


def parse_input(pair: str) -> tuple[str, Any]:
    """--input key=value: the value read as JSON when it parses (numbers, booleans,
    objects), as text otherwise."""
    key, raw = split_pair("--input", pair)
    try:
        return key, json.loads(raw)
    except (json.JSONDecodeError, RecursionError):
        return key, raw


def parse_input_json(pair: str) -> tuple[str, Any]:
    """--input-json key=<json>: the value must be JSON."""
    key, raw = split_pair("--input-json", pair)
    try:
        return key, json.loads(raw)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise CommandError(f"--input-json {key}=...: the value is not JSON ({exc})") from None


def gather_inputs(pairs: list[str], json_pairs: list[str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The inputs, and the raw text of those given with --input (for the hint on a type
    mismatch); a key given twice is refused rather than one value silently winning."""
    inputs: dict[str, Any] = {}
    texts: dict[str, str] = {}
    given = [(*parse_input(pair), pair) for pair in pairs] + [(*parse_input_json(pair), None) for pair in json_pairs]
    for key, value, pair in given:
        if key in inputs:
            raise CommandError(f"input {key!r} is given twice")
        inputs[key] = value
        if pair is not None:
            texts[key] = split_pair("--input", pair)[1]
    return inputs, texts


def type_hints(details: Any, inputs: dict[str, Any], texts: dict[str, str]) -> str:
    """For each --input value of the wrong type: how to pass it as meant."""
    hints = []
    for problem in details if isinstance(details, list) else []:
        field = problem.get("field") if isinstance(problem, dict) else None
        if field not in texts or not str(problem.get("message", "")).startswith("must be of type"):
            continue
        raw = texts[field]
        if isinstance(inputs[field], str):
            hints.append(
                f"--input {field}={raw} is not JSON, so it was read as text; "
                f"--input-json {field}=<json> takes a JSON value and says why one does not parse"
            )
        else:
            hints.append(
                f"--input {field}={raw} was read as JSON; for the text, quote it as JSON: "
                f"--input '{field}=\"{raw}\"', or --input-json '{field}=\"{raw}\"'"
            )
    return "".join(f" (hint: {hint})" for hint in hints)


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
        parser.add_argument(
            "--input", action="append", default=[], metavar="KEY=VALUE", help="read as JSON if it parses, else text"
        )
        parser.add_argument(
            "--input-json", action="append", default=[], metavar="KEY=JSON", help="a JSON value (an error if not JSON)"
        )
        parser.add_argument(
            "--user",
            help="the user to run as (default: the first superuser); a superuser naming a workflow id runs it "
            "as the workflow's owner",
        )
        parser.add_argument("--timeout", type=seconds, default=120.0, help="seconds to follow it (default 120)")

    def handle(self, *args: Any, **options: Any) -> None:
        inputs, texts = gather_inputs(options["input"], options["input_json"])
        user = self.owner(options["user"])
        workflow_id = self.workflow_id(options["workflow"], user)
        if user.is_superuser:  # a workflow imported from a file is the user's own: unchanged
            user = self.as_its_owner(user, workflow_id)
        try:
            execution, _ = execution_create(user=user, workflow_id=workflow_id, inputs=inputs, trigger="cli")
        except AppError as exc:
            details = f" {json.dumps(exc.details, default=str)}" if exc.details else ""
            if exc.code == "not_found":  # whose workflows were searched is the likely mistake
                details += f" (among the workflows of {user.get_username()!r}; --user names another owner)"
            elif exc.code == "validation_error":
                details += type_hints(exc.details, inputs, texts)
            raise CommandError(f"{exc.code}: {exc.message}{details}") from None
        self.stdout.write(f"execution {execution.id} queued")
        self.follow(execution.id, options["timeout"])

    def owner(self, username: str | None) -> Any:
        users = get_user_model().objects
        user = users.filter(username=username).first() if username else users.filter(is_superuser=True).first()
        if user is None:
            raise CommandError("No such user (pass --user, or create an admin first).")
        return user

    def as_its_owner(self, user: Any, workflow_id: Any) -> Any:
        """A superuser runs another user's workflow as its owner: an execution belongs to
        its workflow's owner, and the workflow is only found among the owner's."""
        owner = workflow_owner(workflow_id)
        if owner is None or owner.pk == user.pk:
            return user
        self.stdout.write(f"running as {owner.get_username()}, the workflow's owner")
        return owner

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
