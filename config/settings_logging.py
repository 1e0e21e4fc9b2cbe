"""Logging of every process (web, workers, beat, commands): one plain console format."""

from __future__ import annotations

from config.env import env_bool, env_str

# Requests refused for their size (a body over SWITCHBOARD_MAX_BODY_BYTES, too many form
# fields or files): Django logs each at ERROR with a traceback, so any anonymous client
# could fill the error log at will. Each is a WARNING without the traceback, one per
# minute per process at most, the next saying how many were held back (the 413 answer
# is unchanged).
REFUSED_REQUEST_LOGGERS = tuple(
    f"django.security.{name}" for name in ("RequestDataTooBig", "TooManyFieldsSent", "TooManyFilesSent")
)
REFUSED_REQUEST_LOG_INTERVAL_S = 60.0

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {
        "refused_requests": {
            "()": "core.log_filters.RateLimitedWarning",
            "interval_s": REFUSED_REQUEST_LOG_INTERVAL_S,
        },
        # A hook's URL is its credential: no line may carry one (Django logs the path of
        # every 4xx). On the handler, so every logger's lines pass it.
        "hook_tokens": {"()": "core.log_filters.RedactHookTokens"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["hook_tokens"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        **{name: {"filters": ["refused_requests"]} for name in REFUSED_REQUEST_LOGGERS},
        # HTTP clients log each request's URL at INFO (a query string may hold a secret, and
        # it costs the hot path); attempt logs and usage counters already record each call.
        **{name: {"level": "WARNING"} for name in ("httpx", "httpx2", "httpcore", "httpcore2")},
        # Celery's line per task received and per task succeeded, and beat's per task sent:
        # two lines per node and three per sweep (every 2 s) drown everything else, and
        # they cost the hot path. Failures are still logged; nodes have their own logs and
        # events, Flower shows tasks. SWITCHBOARD_LOG_TASKS=1 brings the lines back.
        **{
            name: {"level": "INFO" if env_bool("SWITCHBOARD_LOG_TASKS") else "WARNING"}
            for name in ("celery.worker.strategy", "celery.app.trace", "celery.beat")
        },
    },
}
