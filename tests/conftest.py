"""Hypothesis profiles: `ci` (the default) runs each property over 200 generated
examples; `deep` over 2,000 (HYPOTHESIS_PROFILE=deep). And one clock for every test:
with WALL_CLOCK_DAYS_AHEAD=N the wall clock runs N days ahead for the whole run, which CI
uses to prove that no test reads it."""

import os
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings

from federation.config import expiry
from federation.review import check
from tests.clock import CLOCK

_COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}
settings.register_profile("ci", max_examples=200, **_COMMON)
settings.register_profile("deep", max_examples=2000, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

_AHEAD = int(os.environ.get("WALL_CLOCK_DAYS_AHEAD") or 0)


def pytest_configure(config: pytest.Config) -> None:
    if _AHEAD:
        # Python's clock only: the timed waits of threads keep running on the real one.
        import time_machine

        time_machine.travel(datetime.now(UTC) + timedelta(days=_AHEAD), tick=True).start()


def pytest_report_header(config: pytest.Config) -> str | None:
    return f"wall clock {_AHEAD} days ahead: {datetime.now(UTC):%Y-%m-%d}" if _AHEAD else None


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The program's expiry warnings and the policy pack's expiry rule read tests/clock.py."""
    monkeypatch.setattr(expiry, "now", lambda: CLOCK)
    monkeypatch.setattr(check.rules(), "now", lambda: CLOCK)
