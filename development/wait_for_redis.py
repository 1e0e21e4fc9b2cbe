"""`python -m development.wait_for_redis [command ...]`: waits until every Redis the settings
name (REDIS_URL, CELERY_BROKER_URL, CACHE_REDIS_URL) answers PING, then exits 0, or
becomes `command` (exec, same process) when one is given.

honcho starts all Procfile entries at the same moment, the embedded redis-server among
them; the launcher puts this in front of the other entries so none of them races it.
Becoming the command keeps each entry one process from start to end, so the launcher's
stop signal reaches the program itself (development/launcher_stop.py).
Exits 1 with a message naming the (password-redacted) URL when one does not answer in
time, or refuses the password: honcho then stops everything instead of leaving workers
retrying forever.
"""

from __future__ import annotations

import os
import sys
import time

import redis

from development.launcher_banner import redact_url

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_urls(env: dict[str, str]) -> list[str]:
    main = env.get("REDIS_URL") or DEFAULT_REDIS_URL
    urls = [main, env.get("CELERY_BROKER_URL") or main, env.get("CACHE_REDIS_URL") or main]
    return list(dict.fromkeys(urls))


def wait_for(url: str, timeout_s: float) -> None:
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            client.ping()
            return
        except redis.AuthenticationError as exc:
            raise SystemExit(f"Redis at {redact_url(url)} refused the credentials: {exc}") from None
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            # BusyLoadingError (replaying the AOF after a restart) is a ConnectionError too.
            if time.monotonic() > deadline:
                raise SystemExit(f"Redis at {redact_url(url)} did not answer within {timeout_s:.0f}s: {exc}") from None
        time.sleep(0.1)


def main(command: list[str]) -> int:
    timeout_s = float(os.environ.get("SWITCHBOARD_REDIS_WAIT_S") or 30)
    for url in redis_urls(dict(os.environ)):
        wait_for(url, timeout_s)
    if command:
        sys.stdout.flush()
        os.execvp(command[0], command)  # noqa: S606 - the launcher's own entry, as the Procfile has it
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
