"""The one clock every test reads.

The committed stacks' invitations expire on fixed dates, and the program, the policy pack
and the fake Resource Manager all compare times with "now". Each reads this instant in
tests, so the suite gives the same answers on any date; tests of expiry set their own.
"""

from datetime import UTC, datetime, timedelta

CLOCK = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def days_from_now(days: float) -> str:
    """A time `days` from the clock, written as Azure writes times."""
    return (CLOCK + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
