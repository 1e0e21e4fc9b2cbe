"""`manage.py seed_demo [--http-url URL] [--run]`: the demo user and workflows (idempotent)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from core.liveness import ping_workers
from development.demo import DEMO_USERNAME, demo_run, demo_seed, emulator_fault_for_unavailable_model


class Command(BaseCommand):
    help = (
        "Creates the demo user, its three workflows, a webhook and a schedule (idempotent); "
        "--run queues one triage execution."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--http-url",
            default=None,
            help="URL the content pipeline's HTTP_REQUEST calls (default: SWITCHBOARD_DEMO_HTTP_URL).",
        )
        parser.add_argument(
            "--base-url",
            default="http://127.0.0.1:8000",
            help="Where the web tier answers: the demo hook's URL starts with it.",
        )
        parser.add_argument("--run", action="store_true", help="Queue one execution of the support triage workflow.")
        parser.add_argument(
            "--wait-workers",
            type=float,
            default=0,
            metavar="SECONDS",
            help="Before --run, wait until workers answer a ping on the default, nodes and ai queues.",
        )

    def handle(
        self,
        *args,
        http_url: str | None = None,
        base_url: str = "http://127.0.0.1:8000",
        run: bool = False,
        wait_workers: float = 0,
        **options,
    ) -> None:
        seed = demo_seed(http_url=http_url, base_url=base_url)
        if seed.password:
            self.stdout.write(f"Demo user '{DEMO_USERNAME}' created, password: {seed.password}  (shown this once)")
        else:
            self.stdout.write(f"Demo user '{DEMO_USERNAME}' exists (password unchanged).")
        for name, change in seed.changes.items():
            if name in seed.workflows:
                self.stdout.write(f"  workflow {name!r}: {change} ({seed.workflows[name].id})")
            else:
                self.stdout.write(f"  trigger {name!r}: {change}")
        if seed.hook_url:
            # Shown this once, like any hook's: only hashes and ciphertext are kept.
            self.stdout.write(f"Demo webhook (shown this once): POST {seed.hook_url}")
            self.stdout.write(f"  signing secret: {seed.hook_secret}  (docs: Concepts → Triggers)")
        self.stdout.write(f"Fallback demo: {emulator_fault_for_unavailable_model()}")
        if run and wait_workers and not ping_workers(("default", "nodes", "ai"), timeout=wait_workers):
            raise CommandError(f"No worker answered within {wait_workers:g}s; the demo execution was not queued.")
        if run:
            execution = demo_run(seed)
            self.stdout.write(f"Queued execution {execution.id}")
