"""The live suite's gate: without everything it needs it fails at once, in one line naming
what is missing, and runs nothing (never a skip, which would pass for green)."""

import pytest

from tests_live import preflight


def pytest_configure(config: pytest.Config) -> None:
    lacking = preflight.missing()
    if lacking:
        raise pytest.UsageError(preflight.sentence(lacking))
