"""A training round over the exchange. `publish` uploads a directory as round-N of a
share's dataset, then its manifest, last; `verify` checks a received round against its
manifest, and tells a round still arriving (worth trying again after the next snapshot)
from one that is wrong (never worth it), from the subscription's snapshots."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from azure.core.exceptions import HttpResponseError
from azure.mgmt.datashare import DataShareManagementClient

from federation import exits
from federation.config import Config, Location, Storage
from federation.operate import blobs, manifest
from federation.operate.access import FAILED, SUCCEEDED, markdown, printable
from federation.operate.azure import FAILED_CALL, Connection, every, explain


def now() -> datetime:
    """The time a manifest says it was published (tests set their own)."""
    return datetime.now(UTC)


class RoundError(Exception):
    """What a round command refuses, in one line; `code` is its exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Place:
    """Where a dataset's data sits: a whole container, or a folder in it."""

    dataset: str
    storage: Storage
    container: str
    folder: str  # "" for the whole container

    def account(self, config: Config, subscription: str) -> blobs.Account:
        """Storage created by the stack is in its resource group and the deploying subscription."""
        return blobs.Account(
            self.storage.subscription_id or subscription,
            self.storage.resource_group or config.resource_group,
            self.storage.account_name,
        )

    def prefix(self, round_name: str | None = None) -> str:
        """The blob name prefix of the dataset's data, or of one round in it."""
        parts = [p for p in (self.folder, round_name) if p]
        return "".join(f"{p}/" for p in parts)

    def shown(self, round_name: str | None = None) -> str:
        return f"{self.storage.account_name}/{self.container}/{self.prefix(round_name)}"


def sending_place(config: Config, share: str, dataset: str | None) -> Place:
    """Where `publish` writes: the share's container or folder dataset (`dataset` names it
    when the share has several)."""
    if share not in config.shares:
        known = ", ".join(sorted(config.shares)) or "none"
        raise RoundError(f"{share}: not a share of config (known: {known})", exits.INVALID_CONFIG)
    return _place(config, config.shares[share].datasets, f"share {share}", dataset)


def receiving_place(config: Config, subscription: str, dataset: str | None) -> Place:
    """Where `verify` reads: the location a received share's dataset is mapped to in this
    stack's storage (`dataset`, the mapping's key, names it when there are several)."""
    if subscription not in config.subscriptions:
        known = ", ".join(sorted(config.subscriptions)) or "none"
        raise RoundError(f"{subscription}: not a share subscription of config (known: {known})", exits.INVALID_CONFIG)
    return _place(config, config.subscriptions[subscription].datasets, f"subscription {subscription}", dataset)


def _place(config: Config, datasets: dict[str, Location], owner: str, dataset: str | None) -> Place:
    # A single file's dataset holds no rounds: only containers and folders can.
    folders = {name: where for name, where in datasets.items() if where.file is None}
    if dataset is not None:
        if dataset not in datasets:
            raise RoundError(
                f"--dataset {dataset}: not a dataset of {owner} (it has: {', '.join(sorted(datasets))})",
                exits.INVALID_CONFIG,
            )
        if dataset not in folders:
            raise RoundError(
                f"--dataset {dataset}: one file ({datasets[dataset].path}), which holds no rounds: name a container "
                "or folder dataset",
                exits.INVALID_CONFIG,
            )
        chosen = dataset
    elif len(folders) == 1:
        chosen = next(iter(folders))
    elif not folders:
        raise RoundError(f"{owner} has only single-file datasets, which hold no rounds", exits.INVALID_CONFIG)
    else:
        raise RoundError(
            f"{owner} has {len(folders)} container or folder datasets: name one with --dataset "
            f"({', '.join(sorted(folders))})",
            exits.INVALID_CONFIG,
        )
    where = datasets[chosen]
    return Place(chosen, config.storage[where.storage], where.container, where.folder or "")


def local_files(directory: Path) -> list[blobs.Local]:
    """DIR's files, each as it will be named under the round; every file that cannot be
    published, at once."""
    try:
        if not directory.is_dir():
            raise RoundError(f"--from {directory}: not a directory", exits.UNREADABLE)
        files, problems = blobs.walk(directory)
    except OSError as error:
        raise RoundError(f"--from {directory}: cannot be read ({error.strerror or error})", exits.UNREADABLE) from None
    if problems:
        n = len(problems)
        lines = "\n".join(f"  {p}" for p in problems)
        raise RoundError(
            f"--from {directory}: {n} file{'s' if n > 1 else ''} cannot be published:\n{lines}", exits.UNREADABLE
        )
    if not files:
        raise RoundError(f"--from {directory}: no files to publish", exits.UNREADABLE)
    return files


@dataclass(frozen=True)
class Published:
    share: str
    round: str
    place: Place
    sha256: str
    files: int
    bytes: int
    previous: str | None
    previous_round: str | None


def publish(
    connection: Connection,
    config: Config,
    share: str,
    round_name: str,
    place: Place,
    files: list[blobs.Local],
) -> Published:
    """Upload `files` under round_name/ at `place`, then the manifest, last. Refused (exit
    4) when that round, or a newer one, is there: rounds are immutable and only go forward,
    so that the chain each manifest starts from is the one receivers hold."""
    account = place.account(config, connection.subscription)
    url = blobs.endpoint(connection, account)
    store = blobs.container(connection, account.name, url, place.container, blobs.WRITER)
    number = manifest.round_number(round_name)
    assert number is not None  # the command line takes only round names
    present = store.rounds(place.prefix())
    for name, other in sorted(present.items(), key=lambda item: -item[1]):
        if other == number:
            raise RoundError(
                f"{name} is in {place.shown()} already: a round is published once; publish the next one",
                exits.PROBLEMS,
            )
        if other > number:
            raise RoundError(
                f"{name} is in {place.shown()}, newer than {round_name}: rounds only go forward; publish "
                f"round-{max(present.values()) + 1}",
                exits.PROBLEMS,
            )
    previous_round, previous = _previous(store, place, present, number)
    try:
        uploaded = store.upload(place.prefix(round_name), files)
        statement = manifest.Manifest(
            share, round_name, now().strftime("%Y-%m-%dT%H:%M:%SZ"), tuple(uploaded), previous
        )
        data = manifest.build(statement)
        store.put(place.prefix(round_name) + manifest.NAME, data, "application/json")
    except blobs.RoundExistsError:
        raise
    except blobs.StorageError as error:
        if not store.written:
            raise
        raise blobs.StorageError(
            f"{error}; {round_name} may be left without its manifest, which no receiver verifies: publish "
            f"round-{number + 1}",
            error.code,
        ) from None
    return Published(
        share, round_name, place, manifest.digest(data), len(uploaded), statement.size, previous, previous_round
    )


def _previous(
    store: blobs.Container, place: Place, present: dict[str, int], number: int
) -> tuple[str | None, str | None]:
    """The newest round below `number` that has a manifest, and that manifest's sha256."""
    for name, _ in sorted(((n, k) for n, k in present.items() if k < number), key=lambda item: -item[1]):
        blob = place.prefix(name) + manifest.NAME
        listed = store.blob(blob)
        if listed is not None:
            read = store.hashes("", {blob: listed})[blob]
            if read.sha256 is None:  # gone or rewritten since it was listed: it is not a round to follow
                continue
            return name, read.sha256
    return None, None


def render_published(published: Published, output: str) -> str:
    if output == "json":
        place = published.place
        return (
            json.dumps(
                {
                    "share": published.share,
                    "round": published.round,
                    "dataset": place.dataset,
                    "container": place.container,
                    "prefix": place.prefix(published.round),
                    "account": place.storage.account_name,
                    "manifest": {"path": place.prefix(published.round) + manifest.NAME, "sha256": published.sha256},
                    "previous": published.previous,
                    "files": published.files,
                    "bytes": published.bytes,
                },
                indent=2,
            )
            + "\n"
        )
    after = f", after {published.previous_round}" if published.previous_round else ", the first round here"
    return (
        f"Published {published.round} of share {published.share} to {published.place.shown(published.round)}: "
        f"{published.files:,} files, {published.bytes:,} bytes{after}\n"
        f"manifest sha256 {published.sha256}\n"
    )


# How a problem counts: `missing` is always worth another snapshot; `partial` (short, a
# wrong digest, a manifest that is not JSON) is while a snapshot runs or after one that did
# not succeed, since copies land in no set order and can show as 0 bytes, and never after a
# snapshot succeeded; `wrong` (an extra file, a broken chain, another round's manifest) never is.
MISSING, PARTIAL, WRONG = "missing", "partial", "wrong"


@dataclass(frozen=True)
class Problem:
    kind: str
    text: str


@dataclass(frozen=True)
class Snapshots:
    """What Data Share says of the subscription's snapshots when verify looked."""

    running: bool
    latest: str | None = None  # the latest snapshot's id
    status: str | None = None
    succeeded: bool = True  # the latest one, if any, ended well

    @property
    def settled(self) -> bool:
        """Nothing is copying, and the last copy ended well: what is here is what will be."""
        return not self.running and self.succeeded


@dataclass(frozen=True)
class Verdict:
    subscription: str
    place: Place
    round: str | None
    status: str  # verified, incomplete, mismatch, no-access
    problems: tuple[str, ...]
    manifest_sha256: str | None = None
    files: int | None = None
    bytes: int | None = None
    previous_round: str | None = None
    snapshots: Snapshots | None = None

    @property
    def code(self) -> int:
        return {
            "verified": exits.OK,
            "incomplete": exits.INCOMPLETE,
            "mismatch": exits.MISMATCH,
            "no-access": exits.NO_ACCESS,
        }[self.status]


def verify(
    connection: Connection,
    client: DataShareManagementClient,
    config: Config,
    subscription: str,
    place: Place,
    round_name: str | None,
) -> Verdict:
    """Check a received round (the newest with a manifest when `round_name` is None)
    against its manifest: every file there with its size and sha256, nothing else under the
    round, and the chain to the newest earlier round here. Data Share's snapshots are read
    before and after, so a copy under way makes what is missing or short "incomplete"."""
    before = _snapshots(client, config, subscription, connection)
    account = place.account(config, connection.subscription)
    url = blobs.endpoint(connection, account)
    store = blobs.container(connection, account.name, url, place.container, blobs.READER)
    verdict = _check(store, place, round_name)
    after = _snapshots(client, config, subscription, connection)
    # A snapshot that ran while files were read may have changed them.
    running = before.running or after.running or before.latest != after.latest
    snapshots = Snapshots(running, after.latest, after.status, after.succeeded)
    problems = verdict.pop("problems")
    if not problems:
        status = "verified"
    elif any(p.kind == WRONG or (p.kind == PARTIAL and snapshots.settled) for p in problems):
        status = "mismatch"
    else:
        status = "incomplete"
    return Verdict(
        subscription, place, status=status, problems=tuple(p.text for p in problems), snapshots=snapshots, **verdict
    )


def _check(store: blobs.Container, place: Place, round_name: str | None) -> dict[str, Any]:
    """What the round's files and chain show: the round verified and its problems."""
    try:
        present = store.rounds(place.prefix())
    except blobs.ContainerMissingError:
        return _only(round_name, MISSING, f"nothing has arrived: {place.shown()} is not there")
    if round_name is not None:
        wanted = manifest.round_number(round_name)
        same = sorted(name for name, number in present.items() if number == wanted)
        if not same:
            return _only(round_name, MISSING, f"{round_name} has not arrived in {place.shown()}")
        if len(same) > 1:
            return _only(round_name, WRONG, f"one round under two names: {', '.join(same)}")
        round_name = same[0]
        if store.blob(place.prefix(round_name) + manifest.NAME) is None:
            return _only(round_name, MISSING, f"{round_name} has no manifest yet")
    else:
        newest = _newest_with_manifest(store, place, present, None)
        if newest is None:
            return _only(None, MISSING, f"no round with a manifest in {place.shown()} yet")
        round_name = newest[0]
    number = manifest.round_number(round_name)
    assert number is not None
    data = _read_manifest(store, place.prefix(round_name) + manifest.NAME)
    if isinstance(data, Problem):
        return {"round": round_name, "problems": [data]}
    found: dict[str, Any] = {"round": round_name, "manifest_sha256": manifest.digest(data)}
    try:
        statement = manifest.parse(data)
    except manifest.ManifestError as error:
        kind = WRONG if error.readable else PARTIAL
        return found | {"problems": [Problem(kind, f"the manifest {p}") for p in error.problems]}
    problems: list[Problem] = []
    said = manifest.round_number(statement.round)
    if said != number:
        older = said is not None and said < number
        problems.append(
            Problem(
                WRONG,
                f"the manifest is {statement.round}'s{', an older round,' if older else ''} found under {round_name}",
            )
        )
    problems += _files(store, place.prefix(round_name), statement)
    earlier = _newest_with_manifest(store, place, present, number)
    problems += _chain(store, place, statement, earlier)
    return found | {
        "problems": problems,
        "files": len(statement.files),
        "bytes": statement.size,
        "previous_round": earlier[0] if earlier else None,
    }


def _only(round_name: str | None, kind: str, text: str) -> dict[str, Any]:
    return {"round": round_name, "problems": [Problem(kind, text)]}


def _read_manifest(store: blobs.Container, name: str) -> bytes | Problem:
    try:
        data = store.read(name, manifest.MAX_BYTES)
    except blobs.TooLargeError:
        return Problem(WRONG, f"the manifest is more than {manifest.MAX_BYTES:,} bytes: refused unread")
    if data is None:
        return Problem(MISSING, "the manifest went away while it was read")
    return data


def _files(store: blobs.Container, prefix: str, statement: manifest.Manifest) -> list[Problem]:
    """Each subject there, of its size and sha256, and nothing else under the round."""
    listed = store.files(prefix)
    listed.pop(manifest.NAME, None)
    problems: list[Problem] = []
    to_read: dict[str, blobs.Listed] = {}
    for f in statement.files:
        got = listed.get(f.name)
        if got is None:
            problems.append(Problem(MISSING, f"missing: {manifest.shown(f.name)}"))
        elif got.size < f.size:
            problems.append(Problem(PARTIAL, f"short: {manifest.shown(f.name)} ({got.size:,} of {f.size:,} bytes)"))
        elif got.size > f.size:
            problems.append(
                Problem(PARTIAL, f"too long: {manifest.shown(f.name)} ({got.size:,} bytes, not {f.size:,})")
            )
        else:
            to_read[f.name] = got
    named = {f.name for f in statement.files}
    problems += [Problem(WRONG, f"not in the manifest: {manifest.shown(n)}") for n in sorted(set(listed) - named)]
    expected = {f.name: f for f in statement.files}
    for name, read in sorted(store.hashes(prefix, to_read).items()):
        if read.missing:
            problems.append(Problem(MISSING, f"missing: {manifest.shown(name)} (went away while it was read)"))
        elif read.changed or read.size != expected[name].size:
            problems.append(Problem(PARTIAL, f"changed while it was read: {manifest.shown(name)}"))
        elif read.sha256 != expected[name].sha256:
            problems.append(Problem(PARTIAL, f"sha256 differs from the manifest's: {manifest.shown(name)}"))
    return problems


def _newest_with_manifest(
    store: blobs.Container, place: Place, present: dict[str, int], below: int | None
) -> tuple[str, blobs.Listed] | None:
    """The newest round (below `below`, if given) whose manifest is here."""
    candidates = sorted(((k, n) for n, k in present.items() if below is None or k < below), reverse=True)
    for _, name in candidates:
        listed = store.blob(place.prefix(name) + manifest.NAME)
        if listed is not None:
            return name, listed
    return None


def _chain(
    store: blobs.Container, place: Place, statement: manifest.Manifest, earlier: tuple[str, blobs.Listed] | None
) -> list[Problem]:
    """`previous` must be the digest of the newest earlier manifest here. With none here
    (the rounds before were never received, or were cleared away) there is nothing to hold
    it to."""
    if earlier is None:
        return []
    name, listed = earlier
    blob = place.prefix(name) + manifest.NAME
    read = store.hashes("", {blob: listed})[blob]
    if read.sha256 is None:
        return [Problem(PARTIAL, f"{name}'s manifest changed while it was read")]
    if statement.previous is None:
        return [Problem(WRONG, f"broken chain: the manifest names no previous round, but {name}'s manifest is here")]
    if statement.previous != read.sha256:
        return [
            Problem(
                WRONG,
                f"broken chain: the manifest's previous is {statement.previous[:12]}…, {name}'s manifest here is "
                f"{read.sha256[:12]}…",
            )
        ]
    return []


def _snapshots(
    client: DataShareManagementClient, config: Config, subscription: str, connection: Connection
) -> Snapshots:
    """The subscription's snapshots as Data Share lists them: is one running (any not
    ended), and how did the latest end."""
    listing = partial(
        client.share_subscriptions.list_synchronizations, config.resource_group, config.account_name, subscription
    )
    try:
        found = list(every(listing, connection.limits))
    except FAILED_CALL as error:
        if isinstance(error, HttpResponseError) and error.status_code == 404:
            raise RoundError(
                f"subscription {subscription}: not in Data Share account {config.account_name}", exits.UNREADABLE
            ) from None
        code = exits.NO_ACCESS if isinstance(error, HttpResponseError) and error.status_code in (401, 403) else 1
        raise RoundError(explain(error, config.account_name), code) from None
    if not found:
        return Snapshots(False)
    running = any(not _ended(s) for s in found)
    # The latest started; of two started at once, the one listed last.
    latest = max(enumerate(found), key=lambda item: (_started(item[1]), item[0]))[1]
    status = printable(latest.status or "")
    return Snapshots(running, printable(latest.synchronization_id or ""), status, status.lower() in SUCCEEDED)


def _ended(snapshot: Any) -> bool:
    # Data Share's run statuses are free text: an end time also means it is over.
    return str(snapshot.status or "").lower() in SUCCEEDED | FAILED or snapshot.end_time is not None


def _started(snapshot: Any) -> datetime:
    started = snapshot.start_time
    if isinstance(started, datetime):
        return started if started.tzinfo else started.replace(tzinfo=UTC)
    return datetime.max.replace(tzinfo=UTC)  # not started yet: queued after every other


def no_access(subscription: str, place: Place, round_name: str | None, message: str) -> Verdict:
    return Verdict(subscription, place, round_name, "no-access", (message,))


def to_json(verdict: Verdict) -> dict[str, Any]:
    place = verdict.place
    snapshots = verdict.snapshots
    return {
        "subscription": verdict.subscription,
        "dataset": place.dataset,
        "round": verdict.round,
        "status": verdict.status,
        "manifestSha256": verdict.manifest_sha256,
        "location": {
            "account": place.storage.account_name,
            "container": place.container,
            "prefix": place.prefix(verdict.round),
        },
        "files": verdict.files,
        "bytes": verdict.bytes,
        "previousRound": verdict.previous_round,
        "snapshot": None
        if snapshots is None
        else {"id": snapshots.latest, "status": snapshots.status, "running": snapshots.running},
        "problems": list(verdict.problems),
    }


def render_json(verdict: Verdict) -> str:
    return json.dumps(to_json(verdict), indent=2) + "\n"


WHY = {
    "verified": "",
    "incomplete": "worth trying again after the next snapshot",
    "mismatch": "not worth trying again: a person must look",
    "no-access": "",
}


def _headline(verdict: Verdict) -> str:
    which = verdict.round or "the newest round"
    out = f"{which} of subscription {verdict.subscription} in {verdict.place.shown(verdict.round)}: {verdict.status}"
    if verdict.status == "verified":
        after = f", after {verdict.previous_round}" if verdict.previous_round else ""
        out += f" ({verdict.files:,} files, {verdict.bytes:,} bytes{after})"
    snapshots = verdict.snapshots
    if verdict.status in ("incomplete", "mismatch") and snapshots is not None:
        if snapshots.running:
            out += f" (a snapshot is running; {WHY[verdict.status]})"
        elif snapshots.latest:
            out += f" (the latest snapshot {snapshots.status or 'ended'}; {WHY[verdict.status]})"
        else:
            out += f" ({WHY[verdict.status]})"
    return out


def render_text(verdict: Verdict) -> str:
    lines = [_headline(verdict)]
    if verdict.manifest_sha256:
        lines.append(f"manifest sha256 {verdict.manifest_sha256}")
    lines += [f"  {p}" for p in verdict.problems]
    return "\n".join(lines) + "\n"


def render_markdown(verdict: Verdict) -> str:
    lines = [markdown(_headline(verdict))]
    if verdict.manifest_sha256:
        lines += ["", f"manifest sha256 `{verdict.manifest_sha256}`"]
    if verdict.problems:
        lines += [""] + [f"- {markdown(p)}" for p in verdict.problems]
    return "\n".join(lines) + "\n"


RENDER: dict[str, Callable[[Verdict], str]] = {"text": render_text, "markdown": render_markdown, "json": render_json}
