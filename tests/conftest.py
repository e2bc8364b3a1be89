"""Hypothesis profiles: `ci` (the default) runs each property over 200 generated
examples; `deep` over 2,000 (HYPOTHESIS_PROFILE=deep). And one clock for every test."""

import os
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, settings

from federation.config import expiry

_COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}
settings.register_profile("ci", max_examples=200, **_COMMON)
settings.register_profile("deep", max_examples=2000, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# The committed stacks' invitations expire on fixed dates. Tests read the time at one
# instant, so the calendar moving on never turns those into expiry warnings; tests of
# expiry set their own.
CLOCK = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(expiry, "now", lambda: CLOCK)
