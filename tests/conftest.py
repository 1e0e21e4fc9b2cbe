"""The fixtures every test directory shares live in tests/support/fixtures; the helpers
(builders, clients, servers, workers) in tests/support. Test modules import helpers from
tests.support, never from a conftest."""

pytest_plugins = [
    "tests.support.fixtures.isolation",
    "tests.support.fixtures.markers",
    "tests.support.fixtures.accounts",
    "tests.support.fixtures.workflows",
    "tests.support.fixtures.ai",
    "tests.support.fixtures.http_server",
    "tests.support.fixtures.redis",
    "tests.support.fixtures.workers",
]
