"""What the engine tells listeners above it, so it never imports them.

`execution_finished` is sent after an execution ends, with a Redis pipeline the engine
sends right after (the execution's last events are in it): a listener adds its commands
to `pipe` and must not send it. Keyword arguments: pipe, owner_id, workflow_id, status,
duration_ms (None when it never ran)."""

from django.dispatch import Signal

execution_finished = Signal()
