"""Keeps tests/fake_arm.py honest against a recording: every recorded request, sent to the
fake, must be answered as the recording was answered: the same status, the long-running
operation's headers (Location, Azure-AsyncOperation) where the recording has them, and the
same JSON keys.

The fake starts with the account the recording shows (its shares, invitations,
subscriptions, snapshots, how each snapshot and revocation ended), read from the recorded
answers alone: so the same check holds for a recording made against Azure. What the fake
makes anew (an operation's URL, a snapshot's id) is followed: each later request naming the
recorded one is sent with the fake's.

Resource Manager only. A training round's recordings (publish, sync --verify, verify) hold
storage's traffic too, but blob requests are answered by Azurite, the Azure Storage
emulator, not by a fake of this project: the contract skips them, and holds the storage
accounts Resource Manager describes (`StorageArm`) and the Data Share requests as ever."""

import json
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from tests.fake_arm import FakeArm, Received
from tests.fake_storage import Azurite, FakeStorage, StorageArm
from tests.recording import BLOB_HOST, ENDPOINT_HOST

LRO_HEADERS = ("location", "azure-asyncoperation")
# How often an operation's status is asked again until the fake says what the recording
# said: Azure may take more looks than the fake to end an operation.
POLLS = 5


@dataclass(frozen=True)
class Exchange:
    """One recorded request and its answer."""

    method: str
    uri: str
    body: Any  # parsed JSON, or None
    status: int
    headers: dict[str, str]  # lowercase names
    answer: Any  # parsed JSON, or None

    @property
    def path(self) -> str:
        return urlsplit(self.uri).path

    @property
    def query(self) -> str:
        return urlsplit(self.uri).query


def _json(raw: Any) -> Any:
    if raw in (None, "", b""):
        return None
    try:
        return json.loads(raw)
    except (TypeError, ValueError):
        return None


def exchanges(interactions: list[dict[str, Any]]) -> list[Exchange]:
    found = []
    for interaction in interactions:
        request, response = interaction["request"], interaction["response"]
        headers = {k.lower(): v[0] if isinstance(v, list) else v for k, v in (response.get("headers") or {}).items()}
        found.append(
            Exchange(
                request["method"],
                request["uri"],
                _json(request.get("body")),
                response["status"]["code"],
                headers,
                _json((response.get("body") or {}).get("string")),
            )
        )
    return found


def shape(value: Any, prefix: str = "") -> set[str]:
    """The key paths of a JSON value: `properties.status`, `value[].id`."""
    keys: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            keys.add(prefix + key)
            keys |= shape(inner, f"{prefix}{key}.")
    elif isinstance(value, list):
        for item in value:
            keys |= shape(item, prefix.removesuffix(".") + "[].")
    return keys


class ContractArm(StorageArm):
    """The fake Resource Manager under contract: Data Share as FakeArm answers it, storage
    accounts as StorageArm does. Its snapshots copy nothing (the copying is between Azurite's
    containers, outside the contract) and end as the recording says they did."""

    def _synchronize(self, name: str, body: Any) -> tuple[int, dict[str, str], Any]:
        return FakeArm._synchronize(self, name, body)

    def _progress(self, received: Received) -> None:
        FakeArm._progress(self, received)


def contract_arm(context: ssl.SSLContext, subscription: str, resource_group: str, account: str) -> ContractArm:
    """A fake for `seed` and `Contract`: its storage accounts' blob endpoint is a name no
    request goes to (only their JSON keys are compared)."""
    nowhere = Azurite([], Path(), Path(), Path(), Path())
    nowhere.url = f"https://{BLOB_HOST}"
    return ContractArm(context, subscription, resource_group, account, FakeStorage(nowhere))


def _parts(arm: FakeArm, path: str) -> list[str] | None:
    if not path.startswith(arm.prefix):
        return None
    return [p for p in path[len(arm.prefix) :].split("/") if p]


def _listings(arm: FakeArm, recorded: list[Exchange]) -> Iterator[tuple[tuple[str, ...], list[Any]]]:
    """Each list's first complete reading (its pages followed), by its path."""
    items: dict[tuple[str, ...], list[Any]] = {}
    done: set[tuple[str, ...]] = set()
    for exchange in recorded:
        parts = _parts(arm, exchange.path)
        answer = exchange.answer
        if parts is None or not isinstance(answer, dict) or not isinstance(answer.get("value"), list):
            continue
        key = tuple(parts)
        if key in done:
            continue
        items.setdefault(key, []).extend(answer["value"])
        if not answer.get("nextLink"):
            done.add(key)
    yield from items.items()


def seed(arm: FakeArm, recorded: list[Exchange]) -> None:
    """The fake's account as the recording shows it before the command changed anything."""
    started = {
        e.answer["synchronizationId"]: e
        for e in recorded
        if e.path.endswith("/synchronize") and isinstance(e.answer, dict) and "synchronizationId" in e.answer
    }
    for exchange in recorded:
        if isinstance(arm, StorageArm) and exchange.status == 200 and "/storageaccounts/" in exchange.path.lower():
            arm.storage.accounts[exchange.path.rstrip("/").lower()] = exchange.path.rstrip("/").rsplit("/", 1)[1]
        parts = _parts(arm, exchange.path)
        if parts is None:
            continue
        if parts == [] and exchange.method == "GET" and exchange.status == 404:
            arm.account_exists = False
        if len(parts) >= 2 and parts[0] == "shares" and exchange.status != 404:
            arm.share(parts[1])
        if len(parts) >= 2 and parts[0] == "shareSubscriptions" and exchange.status != 404:
            received = arm.received.setdefault(parts[1], Received())
            if len(parts) == 2 and exchange.method == "GET" and isinstance(exchange.answer, dict):
                props = exchange.answer.get("properties") or {}
                received.status = props.get("shareSubscriptionStatus", received.status)
                received.expires = props.get("expirationDate")
    for key, items in _listings(arm, recorded):
        match key:
            case ("shares", share, "invitations"):
                arm.share(share).invitations = items
            case ("shares", share, "providerShareSubscriptions"):
                arm.share(share).subscriptions = items
            case ("shares", share, "listSynchronizations"):
                arm.share(share).synchronizations = items
            case ("shareSubscriptions", name, "listSynchronizations"):
                arm.received[name].synchronizations = [i for i in items if i.get("synchronizationId") not in started]
            case ("shareSubscriptions", name, "listSynchronizationDetails"):
                arm.received[name].details = items
    for sync_id, exchange in started.items():
        name = exchange.path.split("/")[-2]
        _snapshot(arm.received[name], sync_id, arm, recorded)
    _revocations(arm, recorded)
    sizes = [len(e.answer["value"]) for e in recorded if isinstance(e.answer, dict) and e.answer.get("nextLink")]
    arm.page_size = min(sizes) if sizes else 1000


def _snapshot(received: Received, sync_id: str, arm: FakeArm, recorded: list[Exchange]) -> None:
    """How a snapshot the command started went: after how many looks it ended, and how."""
    looks = [
        item
        for e in recorded
        if e.path.endswith("/listSynchronizations") and "skipToken" not in e.query and isinstance(e.answer, dict)
        for item in e.answer.get("value") or []
        if item.get("synchronizationId") == sync_id
    ]
    ended = [item for item in looks if item.get("endTime")]
    received.polls = len(looks) - len(ended)
    received.outcome = ended[-1].get("status") if ended else None
    received.message = ended[-1].get("message") if ended else None


def _revocations(arm: FakeArm, recorded: list[Exchange]) -> None:
    """How the recorded revocations ended: the operation's last status, and the status the
    subscription was read back with."""
    for index, exchange in enumerate(recorded):
        if not exchange.path.endswith("/revoke") or "azure-asyncoperation" not in exchange.headers:
            continue
        operation = urlsplit(exchange.headers["azure-asyncoperation"]).path
        polls = [e.answer for e in recorded[index:] if e.path == operation and isinstance(e.answer, dict)]
        subscription = exchange.path.removesuffix("/revoke")
        reads = [e.answer for e in recorded[index:] if e.path == subscription and isinstance(e.answer, dict)]
        final = polls[-1].get("status", arm.revoke_ends[0]) if polls else arm.revoke_ends[0]
        status = (reads[-1].get("properties") or {}).get("shareSubscriptionStatus") if reads else None
        arm.revoke_ends = (final, status or arm.revoke_ends[1])


@dataclass
class Contract:
    """Sends a recording's requests to a running fake and says where its answers differ."""

    arm: FakeArm
    ca_file: str
    urls: dict[str, str] = field(default_factory=dict)  # recorded path?query -> the fake's
    ids: dict[str, str] = field(default_factory=dict)  # recorded snapshot id -> the fake's
    session: requests.Session = field(default_factory=requests.Session)

    def _key(self, uri: str) -> str:
        split = urlsplit(uri)
        return f"{split.path}?{split.query}"

    def _translate(self, text: str) -> str:
        for recorded, made in self.ids.items():
            text = text.replace(recorded, made)
        return text

    def _send(self, exchange: Exchange) -> requests.Response:
        target = self.urls.get(self._key(exchange.uri), self._key(exchange.uri))
        body = None if exchange.body is None else self._translate(json.dumps(exchange.body)).encode()
        return self.session.request(
            exchange.method,
            self.arm.url + self._translate(target),
            data=body,
            headers={"Authorization": "Bearer recorded", "Content-Type": "application/json"},
            verify=self.ca_file,
            timeout=10,
        )

    def check(self, recorded: list[Exchange]) -> list[str]:
        problems: list[str] = []
        previous: Exchange | None = None
        for index, exchange in enumerate(recorded):
            if urlsplit(exchange.uri).netloc != ENDPOINT_HOST:
                continue  # storage's blob requests: Azurite answered them, not a fake of ours
            status = exchange.answer.get("status") if isinstance(exchange.answer, dict) else None
            polling = "operationResults/" in exchange.path and status is not None
            if polling and previous is not None and (previous.uri, previous.answer) == (exchange.uri, exchange.answer):
                continue  # Azure looked once more than the fake needs to: the same answer again
            previous = exchange
            answer = self._send(exchange)
            for _ in range(POLLS if polling else 0):
                if _json(answer.content) is None or _json(answer.content).get("status") == status:
                    break
                answer = self._send(exchange)
            problems += self._compare(index, exchange, answer)
        return problems

    def _compare(self, index: int, exchange: Exchange, answer: requests.Response) -> list[str]:
        where = f"#{index} {exchange.method} {urlsplit(exchange.uri).path}"
        problems = []
        if answer.status_code != exchange.status:
            problems.append(f"{where}: status {answer.status_code}, recorded {exchange.status}")
        made = _json(answer.content)
        headers = {k.lower(): v for k, v in answer.headers.items()}
        for name in LRO_HEADERS:
            if name in exchange.headers and name not in headers:
                problems.append(f"{where}: no {name} header, as recorded")
            if name in exchange.headers and name in headers:
                self.urls[self._key(exchange.headers[name])] = self._key(headers[name])
        if isinstance(exchange.answer, dict) and isinstance(made, dict):
            if exchange.answer.get("nextLink") and made.get("nextLink"):
                self.urls[self._key(exchange.answer["nextLink"])] = self._key(made["nextLink"])
            if exchange.path.endswith("/synchronize") and "synchronizationId" in made:
                self.ids[exchange.answer.get("synchronizationId", "")] = made["synchronizationId"]
        missing, extra = shape(exchange.answer) - shape(made), shape(made) - shape(exchange.answer)
        if missing or extra:
            problems.append(f"{where}: JSON keys differ: recorded only {sorted(missing)}, fake only {sorted(extra)}")
        return problems
