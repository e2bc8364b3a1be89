"""Changes to live access: what reconcile and revoke would do, and doing it."""

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from azure.core.exceptions import AzureError
from azure.mgmt.datashare import DataShareManagementClient
from azure.mgmt.datashare.models import ProviderShareSubscription

from federation import access
from federation.azure import WORKERS, explain
from federation.config import Config


class UnknownTargetError(Exception):
    """A revoke target that is no participant, consumer email or subscription id; exit 2."""


@dataclass(frozen=True)
class Action:
    kind: Literal["revoke", "adjust"]
    share: str
    subscription: access.Subscription
    why: str
    expires: str | None = None  # the expiry an adjust sets

    def describe(self) -> str:
        s = self.subscription
        who = ", ".join(x for x in (s.participant, s.consumer) if x) or "unknown consumer"
        return f"{self.kind} share {self.share} subscription {s.id} ({who}): {self.why}"


@dataclass(frozen=True)
class Outcome:
    action: Action
    done: bool
    detail: str


def reconcile(review: access.Review) -> list[Action]:
    """Revoke every active subscription config does not account for; set every other
    active one's expiry to what config gives its participant. A subscription that may be
    a service principal's (see `access`) is left to a person: `revoke` it by id."""
    actions = []
    for name, share in review.shares.items():
        for s in share.subscriptions:
            if not s.active or s.maybe:
                continue
            if s.participant is None:
                actions.append(Action("revoke", name, s, "matches no participant this share invites in config"))
            elif s.expected is not None and s.expires != s.expected:
                why = f"expiry {s.expires or 'never'} -> {s.expected}"
                actions.append(Action("adjust", name, s, why, s.expected))
    return actions


def left_alone(review: access.Review) -> list[str]:
    """Why reconcile does not revoke the active subscriptions that may be a service
    principal's, one line each, with the command that would."""
    return [
        f"left alone: share {name} subscription {s.id} may be {' or '.join(s.maybe)}'s; "
        f"if it is not, `revoke {name} {s.id}`"
        for name, share in review.shares.items()
        for s in share.subscriptions
        if s.active and s.maybe
    ]


def revocations(config: Config, share: access.Sent, targets: Iterable[str]) -> list[Action]:
    """The active subscriptions of a share that each target names: a participant key of
    config, a consumer email, or a subscription id as `access` lists it."""
    actions: dict[str, Action] = {}
    for target in targets:
        # A participant's key also names the subscriptions that may be its own (see access).
        named = [s for s in share.subscriptions if _names(config, s, target) or target in s.maybe]
        if not named and target not in config.participants:
            participants = ", ".join(sorted(config.participants)) or "none"
            ids = ", ".join(f"{s.id} ({s.consumer})" for s in share.subscriptions) or "none"
            raise UnknownTargetError(
                f"{target}: not a participant of config (known: {participants}), nor a consumer email or "
                f"subscription id of share {share.name} (subscriptions: {ids})"
            )
        for s in named:
            if s.active:
                why = f"may be {target}'s" if target in s.maybe else f"named by {target}"
                actions.setdefault(s.id, Action("revoke", share.name, s, why))
    return list(actions.values())


def _names(config: Config, subscription: access.Subscription, target: str) -> bool:
    if target in config.participants:
        email = config.participants[target].email
        return subscription.participant == target or (
            email is not None and subscription.consumer.lower() == email.lower()
        )
    return target.lower() in (subscription.id.lower(), subscription.consumer.lower())


def apply(
    client: DataShareManagementClient, config: Config, actions: list[Action], workers: int = WORKERS
) -> list[Outcome]:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda a: _apply(client, config, a), actions))


def _apply(client: DataShareManagementClient, config: Config, action: Action) -> Outcome:
    where = (config.resource_group, config.account_name, action.share, action.subscription.id)
    subscriptions = client.provider_share_subscriptions
    try:
        if action.kind == "revoke":
            # The poller's result is the operation status, not the subscription: read it back.
            subscriptions.begin_revoke(*where).result()
            status = str(subscriptions.get_by_share(*where).share_subscription_status)
            return Outcome(action, status == "Revoked", f"status {status}")
        assert action.expires is not None
        wanted = ProviderShareSubscription(expiration_date=datetime.fromisoformat(action.expires))
        after = subscriptions.adjust(*where, wanted)
        expires = access.format_time(after.expiration_date)
        return Outcome(action, expires == action.expires, f"expires {expires or 'never'}")
    except AzureError as error:
        return Outcome(action, False, explain(error, config.account_name))
