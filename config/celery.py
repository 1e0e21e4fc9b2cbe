"""The Celery app: JSON only, late acks, one message per worker slot, no result backend
(node state lives in the database), tasks routed by explicit name."""

from __future__ import annotations

import os

from celery import Celery
from kombu import Queue
from kombu.transport import TRANSPORT_ALIASES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# kombu picks the transport by the broker URL's scheme, from this table: a Redis broker
# gets kombu's Redis transport with a client kept per channel (core/broker.py).
TRANSPORT_ALIASES["redis"] = TRANSPORT_ALIASES["rediss"] = "core.broker:Transport"

app = Celery("switchboard", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("default"), Queue("nodes"), Queue("ai"))
# Node tasks are published with their queue: `nodes`, or `ai` for AI nodes.
app.conf.task_routes = {"workers.node_run": {"queue": "nodes"}}
# Celery's Django fix-up closes every database connection before and after each task
# unless DB_REUSE_MAX is set: a new PostgreSQL connection per node costs ~7 ms. Connections
# are kept instead, and workers.signals checks them around each task the way Django does
# around each request (CONN_MAX_AGE, health checks, broken ones dropped).
app.conf["CELERY_DB_REUSE_MAX"] = 1_000_000_000
app.autodiscover_tasks(["workers"])
