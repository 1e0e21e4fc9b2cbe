"""The ASGI application the Procfile's web entry serves (gunicorn's `asgi` worker): the
request is read by the event loop, Django's handler runs in SWITCHBOARD_WEB_THREADS
threads per process (core/wsgi_on_asgi.py says why)."""

import os
from typing import cast

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_wsgi_application()

from a2wsgi.wsgi_typing import WSGIApp  # noqa: E402
from django.conf import settings  # noqa: E402  (after Django is set up)

from config.env import env_int  # noqa: E402
from core.wsgi_on_asgi import WSGIOnASGI  # noqa: E402

application = WSGIOnASGI(
    # Django's handler is a WSGI app; the two libraries only spell the types differently.
    cast(WSGIApp, django_application),
    threads=env_int("SWITCHBOARD_WEB_THREADS", 8),
    body_limit=lambda: settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
)
