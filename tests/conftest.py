"""Hypothesis profiles: `ci` (the default) runs each property over 200 generated
examples; `deep` over 2,000 (HYPOTHESIS_PROFILE=deep). And one clock for every test."""

import os

import pytest
from hypothesis import HealthCheck, settings

from federation.config import expiry
from federation.review import check
from tests.clock import CLOCK

_COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}
settings.register_profile("ci", max_examples=200, **_COMMON)
settings.register_profile("deep", max_examples=2000, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The program's expiry warnings and the policy pack's expiry rule read tests/clock.py."""
    monkeypatch.setattr(expiry, "now", lambda: CLOCK)
    monkeypatch.setattr(check.rules(), "now", lambda: CLOCK)
