"""The access review: who holds access to the stack's shares, matched to the participants
config names where that can be proven, the state of received subscriptions, and what is
wrong."""

import contextlib
import dataclasses
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

import yaml
from azure.core.exceptions import DeserializationError, ResourceNotFoundError
from azure.mgmt.datashare import DataShareManagementClient
from azure.mgmt.datashare import models as m

from federation.config import NAMESPACE, PLACEHOLDER, Config, Location, expiry, naming
from federation.operate.azure import WORKERS, AzureError, Limits, every
from federation.operate.workers import each

RECENT = 5  # synchronizations shown per share or subscription
T = TypeVar("T")
SUCCEEDED = {"succeeded", "completed"}
FAILED = {"failed", "canceled", "cancelled"}
# Data Share records a subscription's sharedAt as its invitation's sentAt. Times this close
# but not equal may be one time rounded two ways, or two times: only a person can tell.
CLOSE = timedelta(seconds=1)
# The statuses the API defines besides Active: a subscription that gives no access.
ENDED = frozenset({"revoked", "revoking", "sourcedeleted"})


@dataclass(frozen=True)
class Invitation:
    participant: str  # the invitation's name: the participant key the program gave it
    status: str
    target: str
    expires: str | None
    sent_at: datetime | None


@dataclass(frozen=True)
class Doubt:
    """A participant an unmatched subscription may belong to, and why it cannot be ruled out."""

    participant: str
    why: str


@dataclass(frozen=True)
class Subscription:
    id: str  # shareSubscriptionObjectId: what revoke and adjust take
    participant: str | None  # whose it is proven to be; None: nobody's that config names
    consumer: str  # the consumer's email, as Azure gives it
    consumer_name: str
    tenant: str
    status: str
    expires: str | None
    expected: str | None  # the expiry config gives its participant, if invited
    shared_at: datetime | None
    matched_by: str | None  # "invitation" or "email"
    invited: bool = False  # its participant is one this share invites
    # Not proven anyone's, but possibly these invited participants'.
    maybe: tuple[Doubt, ...] = ()
    expected_secret: bool = False  # the expected expiry is a secret's: shown as such

    @property
    def active(self) -> bool:
        return self.status.lower() == "active"

    @property
    def unclear(self) -> bool:
        """Neither active nor ended (Revoked, Revoking, SourceDeleted): a status the API does
        not define, or none. It may still give access; only a person can tell."""
        return not self.active and self.status.lower() not in ENDED

    @property
    def who(self) -> str:
        """Participant, then what the consumer says of itself: for a person to recognise."""
        parts = (self.participant, self.consumer_name, self.tenant, self.consumer)
        return ", ".join(p for p in parts if p) or "unknown consumer"


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
    skipped: tuple[str, ...] = ()  # what Azure listed but could not be read


@dataclass(frozen=True)
class SourceDataSet:
    """One of the sender's datasets in a received share, and the config key that maps it
    here: a dataset nothing maps is never copied, and Azure says nothing of it."""

    id: str
    name: str
    kind: str  # its dataSetType: Blob, BlobFolder, Container, AdlsGen2File...
    path: str
    mapping: str | None  # the key under the subscription's datasets; None: not mapped


@dataclass(frozen=True)
class Received:
    name: str
    found: bool
    status: str | None = None
    expires: str | None = None
    synchronizations: tuple[Synchronization, ...] = ()
    datasets: tuple[SourceDataSet, ...] = ()


@dataclass(frozen=True)
class Review:
    account: str
    resource_group: str
    shares: dict[str, Sent]
    subscriptions: dict[str, Received]
    problems: list[str]

    @property
    def complete(self) -> bool:
        """Whether everything config names was found and read: reconcile acts on certainty."""
        return all(s.found and not s.skipped for s in self.shares.values()) and all(
            s.found for s in self.subscriptions.values()
        )


def review(
    client: DataShareManagementClient,
    config: Config,
    shares: Iterable[str] | None = None,
    now: datetime | None = None,
    workers: int = WORKERS,
    limits: Limits | None = None,
    stack_file: str = "the stack file",
) -> Review:
    """Read every share and received subscription of config (or the named shares only)
    concurrently, match subscriptions to participants, and list the problems. A missing
    account, or any list Azure does not answer, ends the review with an AzureError.
    `stack_file` is named where a problem says what to add to it."""
    rg, account, limits = config.resource_group, config.account_name, limits or Limits()
    try:
        client.accounts.get(rg, account)
    except ResourceNotFoundError:
        raise AzureError(
            f"Data Share account {account} not found in resource group {rg}: not deployed yet, or another "
            "subscription (--subscription)"
        ) from None
    names = sorted(config.shares if shares is None else shares)
    received = sorted(config.subscriptions) if shares is None else []
    pages = partial(every, limits=limits)
    lists: dict[tuple[str, str, str], Callable[..., Any]] = {}
    for name in names:
        where = (rg, account, name)
        lists[("share", name, "invitations")] = partial(pages, partial(client.invitations.list_by_share, *where))
        lists[("share", name, "provider share subscriptions")] = partial(
            pages, partial(client.provider_share_subscriptions.list_by_share, *where)
        )
        lists[("share", name, "synchronizations")] = partial(
            pages, partial(client.shares.list_synchronizations, *where)
        )
    for name in received:
        where = (rg, account, name)
        lists[("subscription", name, "share subscription")] = partial(_one, client.share_subscriptions.get, *where)
        lists[("subscription", name, "synchronizations")] = partial(
            pages, partial(client.share_subscriptions.list_synchronizations, *where)
        )
        lists[("subscription", name, "source datasets")] = partial(
            pages, partial(client.consumer_source_data_sets.list_by_share_subscription, *where)
        )
    found: dict[tuple[str, str, str], list[Any] | None] = {}
    with contextlib.closing(each(lambda key: _read(key, lists[key]), lists, workers)) as outcomes:
        for outcome in outcomes:
            if outcome.error is not None:
                raise outcome.error  # the first failure ends the review
            found[outcome.item] = outcome.result
    sent = {n: _sent(config, n, *(found[("share", n, what)] for what in _SENT_LISTS)) for n in names}
    got = {n: _received(config, n, *(found[("subscription", n, what)] for what in _RECEIVED_LISTS)) for n in received}
    return Review(account, rg, sent, got, problems(config, sent, got, now or expiry.now(), stack_file))


def _one(get: Callable[..., Any], *where: str) -> list[Any]:
    found = get(*where)
    if found is None:  # a 200 with an empty or null body
        raise AzureError(f"Azure's answer could not be read: {where[-1]}: the answer is empty or null")
    return [found]


_SENT_LISTS = ("invitations", "provider share subscriptions", "synchronizations")
_RECEIVED_LISTS = ("share subscription", "synchronizations", "source datasets")


def _read(key: tuple[str, str, str], call: Callable[[], Iterable[Any]]) -> list[Any] | None:
    """The items, or None when Azure has no such share or subscription."""
    kind, name, what = key
    try:
        return list(call())
    except ResourceNotFoundError:
        return None
    except DeserializationError as error:
        raise AzureError(f"{kind} {name}: Azure's {what} could not be read: {printable(error, 160)}") from None


def printable(value: object, limit: int | None = None) -> str:
    """Text Azure returned (a consumer's name, a message) as one line fit to print:
    control characters, which could move a terminal's cursor or forge a line, escaped."""
    text = "" if value is None else str(value)
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return shown if limit is None or len(shown) <= limit else f"{shown[: limit - 1]}…"


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
                    participant=printable(i.name),
                    status=printable(i.invitation_status or "unknown"),
                    target=printable(
                        i.target_email or f"{i.target_object_id} in tenant {i.target_active_directory_id}"
                    ),
                    expires=format_time(i.expiration_date),
                    sent_at=utc(i.sent_at),
                )
                for i in _once(invitations, lambda i: i.id)
            ),
            key=lambda i: i.participant,
        )
    )
    share = config.shares[name]
    invited = config.invited(share)
    matched, skipped = [], []
    for s in _once(subscriptions, lambda s: s.share_subscription_object_id):
        if not s.share_subscription_object_id:
            skipped.append(f"share {name}: a provider share subscription without an id ({printable(s.name, 80)})")
            continue
        participant, how = owner(s, found, config)
        is_invited = participant in invited
        expected = share.expiry_for(config.participants[participant]) if participant and is_invited else None
        setter = "shares" if expected is not None and expected == share.expires else "participants"
        subscription = Subscription(
            id=printable(s.share_subscription_object_id),
            participant=participant,
            consumer=printable(s.consumer_email),
            consumer_name=printable(s.consumer_name),
            tenant=printable(s.consumer_tenant_name),
            status=printable(s.share_subscription_status or "unknown"),
            expires=format_time(s.expiration_date),
            expected=expected,
            shared_at=utc(s.shared_at),
            matched_by=how,
            invited=is_invited,
            expected_secret=config.is_secret(f"{NAMESPACE}:{setter}"),
        )
        if participant is None:
            subscription = _with_doubts(subscription, found, invited, config)
        matched.append(subscription)
    syncs = [_synchronization(s, s.consumer_email) for s in synchronizations]
    latest_each: dict[str | None, Synchronization] = {}
    for sync in sorted(syncs, key=lambda s: s.start or "", reverse=True):
        latest_each.setdefault((sync.consumer or "").lower() or None, sync)
    subscriptions_found = tuple(sorted(matched, key=lambda s: (s.participant or "", s.id)))
    return Sent(name, True, found, subscriptions_found, _latest(syncs), tuple(latest_each.values()), tuple(skipped))


def _once(items: Iterable[T], key: Callable[[T], object]) -> list[T]:
    """Each item once: a list that changes while its pages are read can give one twice.
    Resource Manager's ids are case-insensitive; an item without an id is kept."""
    seen: set[str] = set()
    kept = []
    for item in items:
        found = key(item)
        if found:
            if printable(found).lower() in seen:
                continue
            seen.add(printable(found).lower())
        kept.append(item)
    return kept


def owner(
    subscription: m.ProviderShareSubscription, invitations: Iterable[Invitation], config: Config
) -> tuple[str | None, str | None]:
    """The participant config names that a subscription is proven to belong to, and how:
    its invitation (named after the participant, its sentAt exactly the subscription's
    sharedAt, as Data Share records it, and no other invitation sent within a second of
    it), else its consumer email (case aside)."""
    shared_at = utc(subscription.shared_at)
    if shared_at is not None:
        near = [i for i in invitations if i.sent_at is not None and abs(i.sent_at - shared_at) < CLOSE]
        if len(near) == 1 and near[0].sent_at == shared_at and near[0].participant in config.participants:
            return near[0].participant, "invitation"
    email = (subscription.consumer_email or "").lower()
    for key, participant in sorted(config.participants.items()):
        if email and participant.email is not None and participant.email.lower() == email:
            return key, "email"
    return None, None


def _with_doubts(
    subscription: Subscription, invitations: Iterable[Invitation], invited: Iterable[str], config: Config
) -> Subscription:
    """An unmatched subscription, with each invited participant it may still belong to.
    Ruled out are only those whose own invitation proves it: named as the program names
    it, sent at least a second apart from the subscription's sharedAt, and, where neither
    the subscription nor the participant has an email (a service principal), neither sent
    anew after it (then the subscription may come from the one before) nor accepted (then
    it may be the one made from it)."""
    by_name = {i.participant: i for i in invitations}
    by_lower = {i.participant.lower(): i for i in invitations}
    shared_at, has_email = subscription.shared_at, "@" in subscription.consumer
    doubts = []
    for key in invited:
        invitation = by_name.get(key)
        if invitation is None:
            other = by_lower.get(key.lower())
            why = f"its invitation is named {other.participant}" if other else "its invitation is missing"
        elif invitation.sent_at is None or shared_at is None:
            why = "sharedAt or its invitation's sentAt is not given"
        elif abs(invitation.sent_at - shared_at) < CLOSE:
            why = "shared within a second of its invitation's sending"
        elif shared_at < invitation.sent_at and not has_email and config.participants[key].email is None:
            # A service principal's subscription has no email to match by; its invitation
            # was sent anew (a new target or expiry) after this subscription was made.
            why = "made before its invitation was sent anew"
        elif not has_email and config.participants[key].email is None and invitation.status.lower() == "accepted":
            # Its invitation was accepted, so the service principal holds a subscription made
            # from it; sharedAt equal to sentAt is only observed, never documented, so one
            # without an email to match by may still be that one.
            why = "its invitation was accepted, and this subscription has no email to rule it out"
        else:
            continue
        doubts.append(Doubt(key, why))
    return dataclasses.replace(subscription, maybe=tuple(doubts))


def _received(
    config: Config,
    name: str,
    got: list[m.ShareSubscription] | None,
    synchronizations: list[m.ShareSubscriptionSynchronization] | None,
    sources: list[m.ConsumerSourceDataSet] | None,
) -> Received:
    if not got or synchronizations is None or sources is None:
        return Received(name, found=False)
    subscription = got[0]
    return Received(
        name,
        True,
        printable(subscription.share_subscription_status or "unknown"),
        format_time(subscription.expiration_date),
        _latest([_synchronization(s) for s in synchronizations]),
        _source_datasets(config, name, sources),
    )


def _source_datasets(config: Config, name: str, sources: list[m.ConsumerSourceDataSet]) -> tuple[SourceDataSet, ...]:
    """The sender's datasets, each with the config key that maps it. Config keys them by
    the sender's dataset name with `from`, else by dataSetId; Azure compares both case aside."""
    by_name = config.subscriptions[name].from_ is not None
    keys = {key.lower(): key for key in config.subscriptions[name].datasets}
    found = []
    for source in _once(sources, lambda s: s.data_set_id):
        dataset_name, dataset_id = printable(source.data_set_name), printable(source.data_set_id)
        found.append(
            SourceDataSet(
                id=dataset_id,
                name=dataset_name,
                kind=printable(source.data_set_type or "unknown"),
                path=printable(source.data_set_path),
                mapping=keys.get((dataset_name if by_name else dataset_id).lower()),
            )
        )
    return tuple(sorted(found, key=lambda d: (d.name, d.id)))


def _synchronization(
    s: m.ShareSynchronization | m.ShareSubscriptionSynchronization, consumer: str | None = None
) -> Synchronization:
    return Synchronization(
        printable(s.synchronization_id),
        printable(s.status or "unknown"),
        format_time(s.start_time),
        format_time(s.end_time),
        None if s.message is None else printable(s.message),
        None if consumer is None else printable(consumer),
    )


def _latest(syncs: list[Synchronization]) -> tuple[Synchronization, ...]:
    return tuple(sorted(syncs, key=lambda s: s.start or "", reverse=True)[:RECENT])


def format_time(value: datetime | None) -> str | None:
    """Times in the one spelling config uses, so they compare as text."""
    value = utc(value)
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc(value: datetime | None) -> datetime | None:
    """A time Azure gave without a zone is UTC, as Resource Manager means it (not the local
    time Python would take it for); then it compares with times that have one."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def doubted(subscription: Subscription) -> str:
    """Whose an unmatched subscription may be, and why: `hospital-b's (its invitation is missing)`."""
    return " or ".join(f"{d.participant}'s ({d.why})" for d in subscription.maybe)


def problems(
    config: Config,
    sent: dict[str, Sent],
    received: dict[str, Received],
    now: datetime,
    stack_file: str = "the stack file",
) -> list[str]:
    found: list[str] = []
    for name, share in sorted(sent.items()):
        where = f"share {name}"
        if not share.found:
            found.append(f"{where}: not in Data Share account {config.account_name}")
            continue
        found.extend(f"{skipped}: skipped" for skipped in share.skipped)
        for i in share.invitations:
            if i.status.lower() == "pending":
                found.extend(_expiring(f"{where}: pending invitation for {i.participant}", i.expires, now))
        for s in share.subscriptions:
            who = (
                f"{where}: subscription {s.id} ({s.participant or s.consumer or s.consumer_name or 'unknown consumer'})"
            )
            if s.unclear:
                found.append(f"{who}: status {s.status}, neither active nor ended: left to a person")
            if not s.active:
                continue
            if s.participant is None and s.maybe:
                found.append(
                    f"{who}: active, matches no participant by invitation or email, but may be {doubted(s)}: "
                    "left to a person; if it is not theirs, revoke it by id"
                )
            elif s.participant is None:
                found.append(f"{who}: active, but matches no participant this share invites in config")
            elif not s.invited:
                found.append(f"{who}: active, but config does not invite {s.participant} to this share")
            else:
                if s.expected is not None and s.expires != s.expected:
                    found.append(f"{who}: expires {s.expires or 'never'}; config gives {expected(s)}")
                found.extend(_expiring(who, s.expires, now))
        for latest in share.latest_each:
            found.extend(_failed(f"{where}" + (f" to {latest.consumer}" if latest.consumer else ""), (latest,)))
    for name, sub in sorted(received.items()):
        where = f"subscription {name}"
        if not sub.found:
            found.append(f"{where}: not in Data Share account {config.account_name}")
            continue
        if (sub.status or "").lower() != "active":
            found.append(f"{where}: {sub.status}: no snapshot reaches this stack (the sender revoked or deleted it)")
        found.extend(_expiring(where, sub.expires, now))
        found.extend(_failed(where, sub.synchronizations))
        if (sub.status or "").lower() not in ENDED:  # else no snapshot comes, mapped or not
            found.extend(unmapped(config, name, d, stack_file) for d in sub.datasets if d.mapping is None)
    return found


# The location form each blob or ADLS Gen2 dataSetType is mapped with: a mapping has the
# kind of its dataset, and the program picks the kind from the form.
_FORMS = {
    "blob": "file",
    "adlsgen2file": "file",
    "blobfolder": "folder",
    "adlsgen2folder": "folder",
    "container": "container",
    "adlsgen2filesystem": "container",
}


def unmapped(config: Config, name: str, dataset: SourceDataSet, stack_file: str) -> str:
    """A dataset of the sender's that nothing maps here, with the key to add to the stack
    file and a place for it to land, which the receiver can change."""
    subscription = config.subscriptions[name]
    what = f"{dataset.kind} {dataset.path}" if dataset.path else dataset.kind
    where = f"subscription {name}: the sender's dataset {dataset.name} ({what}) is not mapped, so it never arrives"
    form = _FORMS.get(dataset.kind.lower())
    if form is None:
        return f"{where}; federation maps only blob and ADLS Gen2 datasets: map it in the Azure portal"
    by_name = subscription.from_ is not None
    key = dataset.name if by_name else dataset.id
    if by_name and not naming.KEY.accepts(key):
        return (
            f"{where}; its name is no dataset key ({naming.KEY.says}), so with `from` it cannot be mapped: "
            f"receive the share by invitationId and map it by its dataSetId {dataset.id}"
        )
    entry = _yaml_flow(suggested(subscription.datasets, dataset, form))
    return (
        f"{where}: add `{NAMESPACE}:subscriptions.{name}.datasets.{_yaml_scalar(key)}: {entry}` to {stack_file} "
        "(a suggested place: change it to where it should land), then pulumi up"
    )


def suggested(mappings: Mapping[str, Location], dataset: SourceDataSet, form: str) -> dict[str, str]:
    """Where an unmapped dataset could land: the storage and container the subscription's
    first mapping writes to, and a folder or file named as the sender's; for a whole
    container, one named after the dataset where that makes a valid container name."""
    first = mappings[min(mappings)]
    target = {"storage": first.storage, "container": first.container}
    if form == "container":
        container = dataset.name.lower().replace("_", "-")
        target["container"] = container if naming.CONTAINER.accepts(container) else f"{PLACEHOLDER} a container"
    else:
        leaf = dataset.path.rstrip("/").rsplit("/", 1)[-1]
        names = (n for n in (leaf, dataset.name) if naming.PATH.accepts(n))
        target[form] = next(names, f"{PLACEHOLDER} a {form}")
    return target


def _yaml_scalar(text: str) -> str:
    """Text as YAML reads it back: plain where every YAML version reads it as that text (a
    GUID, or a name that starts with a letter and is no word such as `on` or `null`), else
    double-quoted, in JSON's form."""
    word = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_./-]*", text) and yaml.safe_load(text) == text
    plain = word or naming.GUID.accepts(text)
    return text if plain else json.dumps(text)


def _yaml_flow(fields: Mapping[str, str]) -> str:
    return "{" + ", ".join(f"{k}: {_yaml_scalar(v)}" for k, v in fields.items()) + "}"


def expected(subscription: Subscription) -> str:
    """The expiry config gives a subscription, unless that is a secret's: then only so."""
    return "a secret expiry" if subscription.expected_secret else str(subscription.expected)


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
                        "invited": s.invited,
                        "maybe": [{"participant": d.participant, "why": d.why} for d in s.maybe],
                        "consumer": s.consumer,
                        "consumerName": s.consumer_name,
                        "tenant": s.tenant,
                        "status": s.status,
                        "expires": s.expires,
                        "expected": "[secret]" if s.expected_secret else s.expected,
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
                "datasets": [
                    {"id": d.id, "name": d.name, "type": d.kind, "path": d.path, "mapping": d.mapping}
                    for d in sub.datasets
                ],
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
        if sub.found:
            tables.append(
                (
                    f"subscription {name}: the sender's datasets",
                    ["name", "type", "path", "mapped by"],
                    [[d.name, d.kind, d.path, d.mapping or "NOT MAPPED"] for d in sub.datasets],
                )
            )
    return tables


def _holder(s: Subscription) -> str:
    if s.participant:
        return f"{s.participant} (by {s.matched_by})" + ("" if s.invited else ", NOT INVITED")
    return f"UNACCOUNTED (maybe {' or '.join(d.participant for d in s.maybe)})" if s.maybe else "UNACCOUNTED"


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


# Marks markdown would act on inside a line: links and images ([x](y), ![x](y)), emphasis,
# code, strikethrough, GitHub's math ($) and a table cell's end (|). An underscore inside a
# word (global_model) marks nothing and is left as it is.
_MARKS = frozenset("\\`*[]~$|")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_EMPHASIS = re.compile(r"(?<![^\W_])_|_(?![^\W_])")  # an underscore beside no letter or digit
# A zero-width joiner: invisible, but no @mention, #reference or bare link runs through it.
ZWJ = "\u200d"


def markdown(text: str) -> str:
    """Text for a markdown table cell or list item, shown as it was typed: a consumer's
    name or email could otherwise carry a link, an image, HTML, or an @mention that
    notifies someone, into the issue or job summary the review is posted to. GitHub finds
    mentions, references and bare links after rendering, where escapes no longer count, so
    those are broken with a zero-width joiner instead."""
    shown = "".join(_ENTITIES.get(c) or (f"\\{c}" if c in _MARKS else c) for c in text)
    shown = _EMPHASIS.sub(r"\\_", shown)
    shown = shown.replace("@", f"@{ZWJ}").replace("#", f"#{ZWJ}").replace("://", f":{ZWJ}//")
    return re.sub(r"(?i)\bwww\.", lambda found: f"{found[0][:3]}{ZWJ}.", shown)


def render_markdown(result: Review) -> str:
    out = [f"### Access review of `{result.account}` (resource group `{result.resource_group}`)", ""]
    for title, head, rows in _tables(result):
        out.append(f"#### {markdown(title)}")
        out.append("")
        if head:
            out.append("| " + " | ".join(head) + " |")
            out.append("|" + " --- |" * len(head))
            out.extend("| " + " | ".join(markdown(c) for c in row) + " |" for row in rows)
            out.append("")
    out.extend(_problem_lines([markdown(p) for p in result.problems], "- "))
    return "\n".join(out) + "\n"


def _problem_lines(found: list[str], bullet: str) -> list[str]:
    if not found:
        return ["No problems."]
    noun = "problem" if len(found) == 1 else "problems"
    return [f"{len(found)} {noun}:", *(f"{bullet}{p}" for p in found)]
