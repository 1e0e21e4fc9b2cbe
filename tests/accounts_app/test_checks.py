from __future__ import annotations

import pytest

from accounts_app.checks import check_throttle_rates


@pytest.mark.parametrize("rate", ["ten/min", "10/fortnight", "10", "/min"])
def test_a_malformed_throttle_rate_is_reported_at_start_up(settings, rate):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "login": rate},
    }

    problems = check_throttle_rates()

    assert [p.id for p in problems] == ["accounts.E001"]
    assert "SWITCHBOARD_THROTTLE_LOGIN" in problems[0].hint


def test_the_default_rates_pass():
    assert check_throttle_rates() == []
