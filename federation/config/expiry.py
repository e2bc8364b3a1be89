"""Expiry warnings: invitations and subscriptions that have expired or expire soon.

Warnings, not errors: an invitation that expired stays valid config (it was sent; it can
no longer be accepted). The program logs them with `pulumi.log.warn`, so `pulumi preview`
and the offline runs show them.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pulumi

from federation.config import NAMESPACE, Config

# How far ahead an expiry is worth a warning: time to agree and deploy a new date.
NOTICE = timedelta(days=14)


def now() -> datetime:
    """The current time; tests replace it to be independent of the wall clock."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Expiry:
    """Something that expires: what it is (`invitation global_model.hospital-a`), the key
    that sets its expiry, when, and whether that key is a secret."""

    what: str
    key: str
    expires: str
    secret: bool = False

    def message(self, at: datetime) -> str:
        if self.secret:
            # Neither the time nor the days left: they would tell the secret.
            when = "has expired" if datetime.fromisoformat(self.expires) <= at else f"expires within {_days(NOTICE)}"
            return f"{self.what} {when} (set by {self.key}, a secret)"
        return f"{self.what} {describe(self.expires, at, f'; set by {self.key}')}"


def soon(expires: str, at: datetime) -> bool:
    """Past, or within `NOTICE` of `at`: worth a warning."""
    return datetime.fromisoformat(expires) - at <= NOTICE


def describe(expires: str, at: datetime, more: str = "") -> str:
    """`expired X (N days ago)` or `expires X (in N days)`, with `more` inside the brackets."""
    left = datetime.fromisoformat(expires) - at
    if left <= timedelta(0):
        return f"expired {expires} ({_days(-left)} ago{more})"
    return f"expires {expires} (in {_days(left)}{more})"


def expiries(config: Config) -> list[Expiry]:
    """Every invitation and subscription with an expiry, in config-key order."""
    found = []
    for name in sorted(config.shares):
        share = config.shares[name]
        for key in config.invited(share):
            expires = share.expiry_for(config.participants[key])
            if expires is not None:
                setter = "shares" if expires == share.expires else "participants"
                where = f"{NAMESPACE}:{setter}.{name if setter == 'shares' else key}.expires"
                found.append(Expiry(f"invitation {name}.{key}", where, expires, config.is_secret(where)))
    for name in sorted(config.subscriptions):
        expires = config.subscriptions[name].expires
        if expires is not None:
            where = f"{NAMESPACE}:subscriptions.{name}.expires"
            found.append(Expiry(f"subscription {name}", where, expires, config.is_secret(where)))
    return found


def warnings(config: Config, at: datetime | None = None) -> list[str]:
    """A message for each expiry that is past or within `NOTICE` of `at` (default: now)."""
    at = at or now()
    return [e.message(at) for e in expiries(config) if soon(e.expires, at)]


def warn(config: Config) -> None:
    """Log each warning through the engine, as `pulumi preview` shows warnings."""
    for message in warnings(config):
        pulumi.log.warn(message)


def _days(span: timedelta) -> str:
    days = span.days
    return "less than a day" if days == 0 else "1 day" if days == 1 else f"{days} days"
