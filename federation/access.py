"""The access review: who holds access to the stack's shares, matched to the participants
config names, the state of received subscriptions, and what is wrong."""

import dataclasses
import json
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from azure.core.exceptions import ResourceNotFoundError
from azure.mgmt.datashare import DataShareManagementClient
from azure.mgmt.datashare import models as m

from federation import expiry, sharing
from federation.azure import WORKERS, every
from federation.config import Config

RECENT = 5  # synchronizations shown per share or subscription
SUCCEEDED = {"succeeded", "completed"}
FAILED = {"failed", "canceled", "cancelled"}


@dataclass(frozen=True)
class Invitation:
    participant: str  # the invitation's name: the participant key the program gave it
    status: str
    target: str
    expires: str | None
    sent_at: datetime | None


@dataclass(frozen=True)
class Subscription:
    id: str  # shareSubscriptionObjectId: what revoke and adjust take
    participant: str | None  # None: unaccounted
    consumer: str
    consumer_name: str
    tenant: str
    status: str
    expires: str | None
    expected: str | None  # the expiry config gives its participant
    shared_at: datetime | None
    matched_by: str | None  # "invitation" or "email"
    # Unaccounted, but possibly one of these service principals': see `_service_principals`.
    maybe: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return self.status.lower() == "active"


@dataclass(frozen=True)
class Synchronization:
    id: str
    status: str
    start: str | None
    end: str | None
    message: str | None
    consumer: str | None = None


@dataclass(frozen=True)
class Sent:
    name: str
    found: bool
    invitations: tuple[Invitation, ...] = ()
    subscriptions: tuple[Subscription, ...] = ()
    synchronizations: tuple[Synchronization, ...] = ()  # the latest few, shown
    # Each consumer's latest: one consumer's later success must not hide another's failure.
    latest_each: tuple[Synchronization, ...] = ()


@dataclass(frozen=True)
class Received:
    name: str
    found: bool
    status: str | None = None
    expires: str | None = None
    synchronizations: tuple[Synchronization, ...] = ()


@dataclass(frozen=True)
class Review:
    account: str
    resource_group: str
    shares: dict[str, Sent]
    subscriptions: dict[str, Received]
    problems: list[str]


def review(
    client: DataShareManagementClient,
    config: Config,
    shares: Iterable[str] | None = None,
    now: datetime | None = None,
    workers: int = WORKERS,
) -> Review:
    """Read every share and received subscription of config (or the named shares only)
    concurrently, match subscriptions to participants, and list the problems."""
    rg, account = config.resource_group, config.account_name
    names = sorted(config.shares if shares is None else shares)
    received = sorted(config.subscriptions) if shares is None else []
    sent_lists = (
        client.invitations.list_by_share,
        client.provider_share_subscriptions.list_by_share,
        lambda *where: every(partial(client.shares.list_synchronizations, *where)),
    )
    received_lists = (
        lambda *where: [client.share_subscriptions.get(*where)],
        lambda *where: every(partial(client.share_subscriptions.list_synchronizations, *where)),
    )
    with ThreadPoolExecutor(max_workers=workers) as pool:
        sent_calls = {n: [pool.submit(_found, call, rg, account, n) for call in sent_lists] for n in names}
        received_calls = {n: [pool.submit(_found, call, rg, account, n) for call in received_lists] for n in received}
        sent = {name: _sent(config, name, *(f.result() for f in calls)) for name, calls in sent_calls.items()}
        got = {name: _received(name, *(f.result() for f in calls)) for name, calls in received_calls.items()}
    return Review(account, rg, sent, got, problems(config, sent, got, now or datetime.now(UTC)))


def _found(call: Callable[..., Iterable[Any]], *where: str) -> list[Any] | None:
    """The items, or None when Azure has no such share or subscription."""
    try:
        return list(call(*where))
    except ResourceNotFoundError:
        return None


def _sent(
    config: Config,
    name: str,
    invitations: list[m.Invitation] | None,
    subscriptions: list[m.ProviderShareSubscription] | None,
    synchronizations: list[m.ShareSynchronization] | None,
) -> Sent:
    if invitations is None or subscriptions is None or synchronizations is None:
        return Sent(name, found=False)
    found = tuple(
        sorted(
            (
                Invitation(
                    participant=str(i.name),
                    status=str(i.invitation_status or "unknown"),
                    target=i.target_email or f"{i.target_object_id} in tenant {i.target_active_directory_id}",
                    expires=format_time(i.expiration_date),
                    sent_at=i.sent_at,
                )
                for i in invitations
            ),
            key=lambda i: i.participant,
        )
    )
    share = config.shares[name]
    keys = sharing.invited(config, share)
    matched = []
    for s in subscriptions:
        participant, how = match(s, found, keys, config)
        expected = sharing.expiry(config.participants[participant], share) if participant else None
        matched.append(
            Subscription(
                id=str(s.share_subscription_object_id),
                participant=participant,
                consumer=s.consumer_email or "",
                consumer_name=s.consumer_name or "",
                tenant=s.consumer_tenant_name or "",
                status=str(s.share_subscription_status or "unknown"),
                expires=format_time(s.expiration_date),
                expected=expected,
                shared_at=s.shared_at,
                matched_by=how,
            )
        )
    matched = _service_principals(config, keys, found, matched)
    syncs = [_synchronization(s, s.consumer_email) for s in synchronizations]
    latest_each: dict[str | None, Synchronization] = {}
    for sync in sorted(syncs, key=lambda s: s.start or "", reverse=True):
        latest_each.setdefault((sync.consumer or "").lower() or None, sync)
    subscriptions_found = tuple(sorted(matched, key=lambda s: (s.participant or "", s.id)))
    return Sent(name, True, found, subscriptions_found, _latest(syncs), tuple(latest_each.values()))


def _service_principals(
    config: Config, keys: Iterable[str], invitations: Iterable[Invitation], subscriptions: list[Subscription]
) -> list[Subscription]:
    """Unaccounted subscriptions that may be a service principal's. Its subscription
    carries no consumer email to match by, and when the program sends its invitation anew
    (a new target or expiry) the new one is pending and the subscription's sharedAt is the
    old one's sentAt: then only a person can tell. Such a subscription, shared before that
    pending invitation was sent, is marked with the service principals it may be, and
    reconcile leaves it alone."""
    claimed = {s.participant for s in subscriptions if s.participant is not None and s.active}
    pending = {
        i.participant: i.sent_at
        for i in invitations
        if i.status.lower() == "pending"
        and i.participant in set(keys) - claimed
        and config.participants[i.participant].object_id is not None
    }

    def maybe(s: Subscription) -> tuple[str, ...]:
        return tuple(
            key
            for key, sent_at in sorted(pending.items())
            if s.shared_at is None or sent_at is None or s.shared_at < sent_at
        )

    # A consumer with an email is a person's subscription: it was matched by email or is not ours.
    return [
        dataclasses.replace(s, maybe=maybe(s)) if s.participant is None and "@" not in s.consumer else s
        for s in subscriptions
    ]


def match(
    subscription: m.ProviderShareSubscription, invitations: Iterable[Invitation], keys: Iterable[str], config: Config
) -> tuple[str | None, str | None]:
    """The participant a subscription belongs to, and how we know: its invitation (Data
    Share records the subscription's sharedAt as the invitation's sentAt), else its email."""
    keys = set(keys)
    shared_at = subscription.shared_at
    for invitation in invitations:
        if shared_at is not None and invitation.sent_at == shared_at and invitation.participant in keys:
            return invitation.participant, "invitation"
    email = (subscription.consumer_email or "").lower()
    for key in sorted(keys):
        wanted = config.participants[key].email
        if email and wanted is not None and wanted.lower() == email:
            return key, "email"
    return None, None


def _received(
    name: str, got: list[m.ShareSubscription] | None, synchronizations: list[m.ShareSubscriptionSynchronization] | None
) -> Received:
    if not got or synchronizations is None:
        return Received(name, found=False)
    subscription = got[0]
    return Received(
        name,
        True,
        str(subscription.share_subscription_status or "unknown"),
        format_time(subscription.expiration_date),
        _latest([_synchronization(s) for s in synchronizations]),
    )


def _synchronization(
    s: m.ShareSynchronization | m.ShareSubscriptionSynchronization, consumer: str | None = None
) -> Synchronization:
    return Synchronization(
        str(s.synchronization_id),
        str(s.status or "unknown"),
        format_time(s.start_time),
        format_time(s.end_time),
        s.message,
        consumer,
    )


def _latest(syncs: list[Synchronization]) -> tuple[Synchronization, ...]:
    return tuple(sorted(syncs, key=lambda s: s.start or "", reverse=True)[:RECENT])


def format_time(value: datetime | None) -> str | None:
    """Times in the one spelling config uses, so they compare as text."""
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def problems(config: Config, sent: dict[str, Sent], received: dict[str, Received], now: datetime) -> list[str]:
    found: list[str] = []
    for name, share in sorted(sent.items()):
        where = f"share {name}"
        if not share.found:
            found.append(f"{where}: not in Data Share account {config.account_name}")
            continue
        for i in share.invitations:
            if i.status.lower() == "pending":
                found.extend(_expiring(f"{where}: pending invitation for {i.participant}", i.expires, now))
        for s in share.subscriptions:
            if not s.active:
                continue
            who = f"{where}: subscription {s.id} ({s.participant or s.consumer or 'unknown consumer'})"
            if s.participant is None and s.maybe:
                found.append(
                    f"{who}: active, matches no participant by invitation or email; it may be "
                    f"{' or '.join(s.maybe)}'s (a service principal whose invitation was sent anew): if it is not, "
                    f"revoke it by id"
                )
                continue
            if s.participant is None:
                found.append(f"{who}: active, but matches no participant this share invites in config")
                continue
            if s.expected is not None and s.expires != s.expected:
                found.append(f"{who}: expires {s.expires or 'never'}; config gives {s.expected}")
            found.extend(_expiring(who, s.expires, now))
        for latest in share.latest_each:
            found.extend(_failed(f"{where}" + (f" to {latest.consumer}" if latest.consumer else ""), (latest,)))
    for name, sub in sorted(received.items()):
        where = f"subscription {name}"
        if not sub.found:
            found.append(f"{where}: not in Data Share account {config.account_name}")
            continue
        found.extend(_expiring(where, sub.expires, now))
        found.extend(_failed(where, sub.synchronizations))
    return found


def _expiring(who: str, expires: str | None, now: datetime) -> list[str]:
    return [f"{who}: {expiry.describe(expires, now)}"] if expires is not None and expiry.soon(expires, now) else []


def _failed(where: str, syncs: tuple[Synchronization, ...]) -> list[str]:
    if not syncs or syncs[0].status.lower() not in FAILED:
        return []
    latest = syncs[0]
    said = f": {latest.message}" if latest.message else ""
    return [f"{where}: latest snapshot (started {latest.start or 'unknown'}) {latest.status}{said}"]


def to_json(result: Review) -> dict[str, Any]:
    def sync(s: Synchronization) -> dict[str, Any]:
        return {"id": s.id, "status": s.status, "start": s.start, "end": s.end, "message": s.message} | (
            {"consumer": s.consumer} if s.consumer is not None else {}
        )

    return {
        "shares": {
            name: {
                "found": share.found,
                "invitations": [
                    {"participant": i.participant, "status": i.status, "target": i.target, "expires": i.expires}
                    for i in share.invitations
                ],
                "subscriptions": [
                    {
                        "id": s.id,
                        "participant": s.participant,
                        "matchedBy": s.matched_by,
                        "maybe": list(s.maybe),
                        "consumer": s.consumer,
                        "consumerName": s.consumer_name,
                        "tenant": s.tenant,
                        "status": s.status,
                        "expires": s.expires,
                        "expected": s.expected,
                    }
                    for s in share.subscriptions
                ],
                "synchronizations": [sync(s) for s in share.synchronizations],
            }
            for name, share in result.shares.items()
        },
        "subscriptions": {
            name: {
                "found": sub.found,
                "status": sub.status,
                "expires": sub.expires,
                "synchronizations": [sync(s) for s in sub.synchronizations],
            }
            for name, sub in result.subscriptions.items()
        },
        "problems": result.problems,
    }


def render_json(result: Review) -> str:
    return json.dumps(to_json(result), indent=2) + "\n"


# Each section as a title and a table, rendered as aligned text or as markdown.
Table = tuple[str, list[str], list[list[str]]]


def _tables(result: Review) -> list[Table]:
    tables: list[Table] = []
    for name, share in result.shares.items():
        if not share.found:
            tables.append((f"share {name}: not found", [], []))
            continue
        tables.append(
            (
                f"share {name}: invitations",
                ["participant", "status", "target", "expires"],
                [[i.participant, i.status, i.target, i.expires or "never"] for i in share.invitations],
            )
        )
        tables.append(
            (
                f"share {name}: subscriptions",
                ["id", "participant", "consumer", "status", "expires"],
                [
                    [
                        s.id,
                        _holder(s),
                        ", ".join(x for x in (s.consumer, s.consumer_name, s.tenant) if x),
                        s.status,
                        s.expires or "never",
                    ]
                    for s in share.subscriptions
                ],
            )
        )
        tables.append(_syncs(f"share {name}: synchronizations, latest first", share.synchronizations, consumer=True))
    for name, sub in result.subscriptions.items():
        title = f"subscription {name}: " + (
            f"{sub.status}, expires {sub.expires or 'never'}" if sub.found else "not found"
        )
        tables.append(_syncs(title, sub.synchronizations) if sub.found else (title, [], []))
    return tables


def _holder(s: Subscription) -> str:
    if s.participant:
        return f"{s.participant} (by {s.matched_by})"
    return f"UNACCOUNTED (maybe {' or '.join(s.maybe)})" if s.maybe else "UNACCOUNTED"


def _syncs(title: str, syncs: tuple[Synchronization, ...], consumer: bool = False) -> Table:
    head = ["start", "end", "status", "message"] + (["consumer"] if consumer else [])
    rows = [
        [s.start or "", s.end or "", s.status, s.message or ""] + ([s.consumer or ""] if consumer else [])
        for s in syncs
    ]
    return title, head, rows


def render_text(result: Review) -> str:
    out = [f"Access review of Data Share account {result.account} (resource group {result.resource_group})", ""]
    for title, head, rows in _tables(result):
        out.append(title)
        if head and not rows:
            out.append("  (none)")
        elif rows:
            widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
            for row in [head, *rows]:
                out.append("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        out.append("")
    out.extend(_problem_lines(result.problems, "  "))
    return "\n".join(out) + "\n"


def render_markdown(result: Review) -> str:
    out = [f"### Access review of `{result.account}` (resource group `{result.resource_group}`)", ""]
    for title, head, rows in _tables(result):
        out.append(f"#### {title}")
        out.append("")
        if head:
            out.append("| " + " | ".join(head) + " |")
            out.append("|" + " --- |" * len(head))
            out.extend("| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows)
            out.append("")
    out.extend(_problem_lines(result.problems, "- "))
    return "\n".join(out) + "\n"


def _problem_lines(found: list[str], bullet: str) -> list[str]:
    if not found:
        return ["No problems."]
    noun = "problem" if len(found) == 1 else "problems"
    return [f"{len(found)} {noun}:", *(f"{bullet}{p}" for p in found)]
