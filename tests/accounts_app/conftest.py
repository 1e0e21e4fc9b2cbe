from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts_app.models import ApiKey, User
from accounts_app.tokens import refresh_token_for
from development import embedded_redis
from tests.accounts_app.factories import ApiKeyFactory, UserFactory

ME = "/api/auth/me"


def error_code(response) -> str:
    return response.json()["error"]["code"]


def json_client() -> APIClient:
    client = APIClient()
    client.default_format = "json"  # the API parses JSON only
    return client


def bearer_client(access: str) -> APIClient:
    client = json_client()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def api_key_client(raw_key: str) -> APIClient:
    client = json_client()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")
    return client


@pytest.fixture
def api_client() -> APIClient:
    return json_client()


@pytest.fixture
def user(db) -> User:
    return UserFactory()


@pytest.fixture
def refresh_token(user) -> RefreshToken:
    return refresh_token_for(user)


@pytest.fixture
def jwt_client(refresh_token) -> APIClient:
    return bearer_client(str(refresh_token.access_token))


@pytest.fixture
def user_api_key(user) -> tuple[ApiKey, str]:
    return ApiKeyFactory.create_with_key(user=user)


@pytest.fixture
def key_client(user_api_key) -> APIClient:
    return api_key_client(user_api_key[1])


class OwnRedis:
    """A redis-server of the test's own, to stop and start at will."""

    def __init__(self, data_dir: Path, *, persist: bool) -> None:
        self.port = embedded_redis.free_port()
        self.data_dir = data_dir
        self.persist = persist
        self.process = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = embedded_redis.start(self.port, self.data_dir, persist=self.persist)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        # SIGTERM: a clean shutdown that flushes the append-only file first.
        self.process.terminate()
        self.process.wait()


@pytest.fixture
def own_redis(tmp_path) -> Iterator[OwnRedis]:
    redis = OwnRedis(tmp_path / "redis", persist=True)
    yield redis
    if redis.process.poll() is None:
        redis.kill()


@pytest.fixture
def cache_on_own_redis(own_redis, settings) -> OwnRedis:
    """Points the default cache at the test's own Redis (settings restores it after)."""
    caches = {"default": {**settings.CACHES["default"], "LOCATION": own_redis.url}}
    settings.CACHES = caches  # setting_changed rebuilds django.core.cache.caches
    return own_redis
