"""Changes to live access: what reconcile and revoke would do, and doing it, each change
followed to its end or to a deadline."""

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from azure.mgmt.datashare import DataShareManagementClient
from azure.mgmt.datashare.models import ProviderShareSubscription

from federation.config import Config
from federation.operate import access
from federation.operate.azure import FAILED_CALL, WORKERS, Limits, explain
from federation.operate.workers import each


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
        consumer = ", ".join(
            f"{label} {value}"
            for label, value in (("consumer", s.consumer_name), ("tenant", s.tenant), ("email", s.consumer))
            if value
        )
        who = ", ".join(x for x in (s.participant, consumer) if x) or "unknown consumer"
        return f"{self.kind} share {self.share} subscription {s.id} ({who}): {self.why}"


@dataclass(frozen=True)
class Outcome:
    action: Action
    done: bool
    detail: str
    # False: Azure said the change was made, but reading it back failed.
    confirmed: bool = True

    @property
    def said(self) -> str:
        if not self.done:
            return "FAILED"
        return "done" if self.confirmed else "done, not confirmed"


@dataclass(frozen=True)
class Plan:
    """What a command would change, and what it leaves to a person, one line each."""

    actions: list[Action]
    left: list[str]


def reconcile(review: access.Review) -> Plan:
    """Revoke every active subscription proven to be no invited participant's; set every
    invited one's expiry to config's. Whatever cannot be proven is left to a person: a
    subscription that may be an invited participant's, a share or subscription config
    names that Azure lacks, what Azure listed but could not be read."""
    actions, left = [], []
    for name, share in review.shares.items():
        if not share.found:
            left.append(f"left alone: share {name} is not in the account: nothing of it could be checked")
        left.extend(f"left alone: {skipped}" for skipped in share.skipped)
        for s in share.subscriptions:
            if s.unclear:
                left.append(
                    f"left alone: share {name} subscription {s.id} ({s.who}): status {s.status}, neither active "
                    "nor ended"
                )
            if not s.active:
                continue
            if s.participant is None and s.maybe:
                left.append(
                    f"left alone: share {name} subscription {s.id} ({s.who}) may be {access.doubted(s)}; "
                    f"if it is not, `revoke {name} {s.id}`"
                )
            elif s.participant is None:
                actions.append(Action("revoke", name, s, "matches no participant this share invites in config"))
            elif not s.invited:
                actions.append(Action("revoke", name, s, f"config does not invite {s.participant} to this share"))
            elif s.expected is not None and s.expires != s.expected:
                why = f"expiry {s.expires or 'never'} -> {access.expected(s)}"
                actions.append(Action("adjust", name, s, why, s.expected))
    left.extend(
        f"left alone: subscription {name} is not in the account"
        for name, r in review.subscriptions.items()
        if not r.found
    )
    return Plan(actions, left)


def revocations(config: Config, share: access.Sent, targets: Iterable[str]) -> Plan:
    """The active subscriptions of a share that each target names: a participant key of
    config (only subscriptions proven to be that participant's), a consumer email or a
    subscription id as `access` lists it. Those that only may be a participant's are left
    to a person, who can name them by id."""
    actions: dict[str, Action] = {}
    left: list[str] = []
    for target in targets:
        if not target.strip():
            raise UnknownTargetError("a TARGET is empty: name a participant key, a consumer email or a subscription id")
        named = [s for s in share.subscriptions if _names(config, s, target)]
        doubtful = [s for s in share.subscriptions if target in {d.participant for d in s.maybe} and s.active]
        if not named and not doubtful and target not in config.participants:
            participants = ", ".join(sorted(config.participants)) or "none"
            ids = ", ".join(f"{s.id} ({s.consumer or s.consumer_name})" for s in share.subscriptions) or "none"
            raise UnknownTargetError(
                f"{target}: not a participant of config (known: {participants}), nor a consumer email or "
                f"subscription id of share {share.name} (subscriptions: {ids})"
            )
        for s in named:
            if s.active:
                actions.setdefault(s.id, Action("revoke", share.name, s, f"named by {target}"))
        left.extend(
            f"left alone: share {share.name} subscription {s.id} ({s.who}) may be {access.doubted(s)}; "
            f"if it is {target}'s, `revoke {share.name} {s.id}`"
            for s in doubtful
            if s.id not in actions
        )
    return Plan(list(actions.values()), left)


def _names(config: Config, subscription: access.Subscription, target: str) -> bool:
    if target in config.participants:
        return subscription.participant == target
    return target.lower() in (subscription.id.lower(), subscription.consumer.lower())


Progress = Callable[[str], None]


def apply(
    client: DataShareManagementClient,
    config: Config,
    actions: list[Action],
    progress: Progress,
    workers: int = WORKERS,
    limits: Limits | None = None,
) -> list[Outcome]:
    """Carry out the actions side by side, saying as each starts and ends. Ctrl-C stops at
    once: the KeyboardInterrupt carries no outcomes, `Interrupted` says what was done."""
    limits = limits or Limits()
    outcomes: list[Outcome] = []

    def one(action: Action) -> Outcome:
        progress(f"  started: {action.kind} {action.share} {action.subscription.id}")
        return _apply(client, config, action, limits)

    try:
        with contextlib.closing(each(one, actions, workers)) as running:
            for finished in running:
                if isinstance(finished.error, Exception):
                    # Whatever one change failed with, the others' outcomes are still said.
                    outcome = Outcome(finished.item, False, explain(finished.error, config.account_name))
                elif finished.error is not None:
                    raise finished.error
                else:
                    assert finished.result is not None
                    outcome = finished.result
                outcomes.append(outcome)
                progress(
                    f"  {outcome.said}: {outcome.action.kind} {outcome.action.share} "
                    f"{outcome.action.subscription.id}: {outcome.detail}"
                )
    except KeyboardInterrupt:
        raise Interrupted(outcomes, [a for a in actions if a not in {o.action for o in outcomes}]) from None
    return outcomes


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during `apply`: what ended, and what had not (not started, or under way:
    a revocation already asked for may still take effect)."""

    def __init__(self, outcomes: list[Outcome], unfinished: list[Action]) -> None:
        super().__init__()
        self.outcomes = outcomes
        self.unfinished = unfinished

    def report(self) -> list[str]:
        lines = ["interrupted:"]
        lines += [f"  {o.said}: {o.action.kind} {o.action.share} {o.action.subscription.id}" for o in self.outcomes]
        lines += [
            f"  not done (or under way, check with `access`): {a.kind} {a.share} {a.subscription.id}"
            for a in self.unfinished
        ]
        return lines


def _apply(client: DataShareManagementClient, config: Config, action: Action, limits: Limits) -> Outcome:
    where = (config.resource_group, config.account_name, action.share, action.subscription.id)
    subscriptions = client.provider_share_subscriptions
    try:
        if action.kind == "revoke":
            poller = subscriptions.begin_revoke(*where)
            # The poller's thread is a daemon: one that never ends is left behind, not waited for.
            poller.wait(limits.settle)
            if not poller.done():
                return Outcome(action, False, f"still revoking after {limits.settle:.0f} s: check with `access`")
            poller.result()
            # The poller's result is the operation status, not the subscription: read it back.
            try:
                status = access.printable(subscriptions.get_by_share(*where).share_subscription_status)
            except FAILED_CALL as error:
                why = explain(error, config.account_name)
                return Outcome(action, True, f"revoked, but reading it back failed ({why}): check with `access`", False)
            return Outcome(action, status == "Revoked", f"status {status}")
        assert action.expires is not None
        wanted = ProviderShareSubscription(expiration_date=datetime.fromisoformat(action.expires))
        after = subscriptions.adjust(*where, wanted)
        expires = access.format_time(after.expiration_date)
        shown = "the secret expiry" if action.subscription.expected_secret and expires == action.expires else expires
        return Outcome(action, expires == action.expires, f"expires {shown or 'never'}")
    except FAILED_CALL as error:
        return Outcome(action, False, explain(error, config.account_name))
