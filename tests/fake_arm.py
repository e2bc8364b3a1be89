"""A local HTTPS Azure Resource Manager for Microsoft.DataShare 2021-08-01, answering as
the service does: paged lists with nextLink, revoke, synchronize and cancel as long-running
operations, snapshots that succeed, fail or never end, injected 429 and 500 answers, and
(when `throttle` is set) Resource Manager's token-bucket throttling.

Every request is recorded; a request whose api-version, method or body the 2021-08-01 API
does not accept is answered 400 and kept in `violations`."""

import json
import math
import re
import socket
import ssl
import struct
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.clock import CLOCK

API_VERSION = "2021-08-01"
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")
SYNC_MODES = {"Incremental", "FullSync"}


def now() -> str:
    """Times the fake writes (sent, shared, started) come from the tests' one clock."""
    return CLOCK.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    authorization: str | None
    at: float = field(default_factory=time.monotonic)


@dataclass
class Fault:
    """Answer `status` to the next `times` requests whose method and path match; with
    `body`, that body instead of an error (bytes: exactly those, such as b"" or b"null");
    after `hang` seconds (or never, until the fake stops, with `hang=None`); or `reset` the
    connection without an answer. With `trickle`, the answer the fake would give otherwise
    instead, sent one byte every `trickle` seconds (for TRICKLE_FOR seconds, then nothing)."""

    method: str
    path: str  # a regex searched in the path
    status: int = 200
    times: int = 1
    headers: dict[str, str] = field(default_factory=dict)
    code: str = "Fault"
    message: str = "injected"
    body: Any = None
    hang: float | None = 0.0
    reset: bool = False
    trickle: float = 0.0


@dataclass
class Share:
    invitations: list[dict[str, Any]] = field(default_factory=list)
    subscriptions: list[dict[str, Any]] = field(default_factory=list)  # provider share subscriptions
    synchronizations: list[dict[str, Any]] = field(default_factory=list)


class Bucket:
    """One token bucket: `size` tokens, refilled at `rate` a second, full at first."""

    def __init__(self, size: float, rate: float) -> None:
        self.size, self.rate = size, rate
        self.tokens = float(size)
        self.at: float | None = None

    def take(self, at: float) -> float:
        """0 when a token was taken, else the seconds until one is there (none is taken)."""
        if self.at is not None:
            self.tokens = min(self.size, self.tokens + (at - self.at) * self.rate)
        self.at = at
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


@dataclass
class Throttle:
    """Resource Manager's throttling since 2024: token buckets per subscription and
    principal (here: per bearer token), reads (GET) `reads` = (size, refill a second),
    writes (PUT, PATCH, and POST actions such as listSynchronizations) `writes`, deletes
    `deletes`. A request finding its bucket empty is answered 429 with Retry-After in whole
    seconds, as Resource Manager gives it, and takes no token. With `exact`, Retry-After is
    the time until a token to the millisecond: a client must not count on the rounding."""

    reads: tuple[float, float] = (250, 25)
    writes: tuple[float, float] = (200, 10)
    deletes: tuple[float, float] = (200, 10)
    exact: bool = False
    buckets: dict[tuple[str, str], Bucket] = field(default_factory=dict)

    def wait(self, principal: str, method: str, at: float) -> float:
        """0 to serve the request, else the Retry-After to answer with."""
        kind = {"GET": "reads", "HEAD": "reads", "DELETE": "deletes"}.get(method, "writes")
        bucket = self.buckets.get((principal, kind))
        if bucket is None:
            bucket = self.buckets[(principal, kind)] = Bucket(*getattr(self, kind))
        short = bucket.take(at)
        if short == 0:
            return 0
        return max(0.001, round(short, 3)) if self.exact else max(1, math.ceil(short))


@dataclass
class Received:
    """A consumer share subscription, and how its next snapshot goes: `outcome` Succeeded,
    Failed or None (never ends), after `polls` reads of its synchronizations."""

    status: str = "Active"
    expires: str | None = None
    outcome: str | None = "Succeeded"
    polls: int = 1
    message: str | None = None
    details: list[dict[str, Any]] = field(default_factory=list)
    synchronizations: list[dict[str, Any]] = field(default_factory=list)
    reads: dict[str, int] = field(default_factory=dict)
    # The sender's datasets in the share, as consumerSourceDataSets lists them (`FakeArm.offer`).
    sources: list[dict[str, Any]] = field(default_factory=list)


class FakeArm:
    def __init__(self, context: ssl.SSLContext, subscription: str, resource_group: str, account: str) -> None:
        self.prefix = (
            f"/subscriptions/{subscription}/resourceGroups/{resource_group}"
            f"/providers/Microsoft.DataShare/accounts/{account}"
        )
        self.shares: dict[str, Share] = {}
        self.received: dict[str, Received] = {}
        self.operations: dict[str, dict[str, Any]] = {}
        self.requests: list[Request] = []
        self.violations: list[str] = []
        self.faults: list[Fault] = []
        self.page_size = 2
        self.link_token = "$skipToken"  # the query parameter nextLinks carry
        self.delay = 0.0
        # Resource Manager's throttling, off unless a test sets it; each answer it throttled, with its Retry-After.
        self.throttle: Throttle | None = None
        self.throttled: list[tuple[Request, float]] = []
        # How a revoke ends: the operation's final status, and the subscription's after it.
        self.revoke_ends = ("Succeeded", "Revoked")
        self.account_exists = True
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        fake = self

        class Handler(_Handler):
            arm = fake

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.server.errors = self.violations
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> "FakeArm":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    # State helpers for tests.

    def share(self, name: str) -> Share:
        return self.shares.setdefault(name, Share())

    def invite(self, share: str, name: str, *, email: str | None = None, status: str = "Accepted", **props: Any) -> str:
        """An invitation as the program creates it (named by participant key); returns its sentAt."""
        sent = props.pop("sentAt", now())
        target = (
            {"targetEmail": email}
            if email
            else {"targetActiveDirectoryId": str(uuid.uuid4()), "targetObjectId": str(uuid.uuid4())}
        )
        self.share(share).invitations.append(
            {
                "id": f"{self.prefix}/shares/{share}/invitations/{name}",
                "name": name,
                "type": "Microsoft.DataShare/accounts/shares/invitations",
                "properties": {"invitationId": str(uuid.uuid4()), "invitationStatus": status, "sentAt": sent}
                | target
                | props,
            }
        )
        return sent

    def subscribe(self, share: str, *, email: str = "", shared_at: str | None = None, **props: Any) -> str:
        """A provider share subscription; returns its shareSubscriptionObjectId."""
        object_id = str(uuid.uuid4())
        self.share(share).subscriptions.append(
            {
                # As the live service answers: `shareSubscriptions` in the id, the consumer's name as `name`.
                "id": f"{self.prefix}/shares/{share}/shareSubscriptions/{object_id}",
                "name": f"consumer_{share}",
                "type": "Microsoft.DataShare/accounts/shares/providerShareSubscriptions",
                "properties": {
                    "shareSubscriptionObjectId": object_id,
                    "consumerEmail": email,
                    "consumerName": props.pop("consumerName", "Consumer"),
                    "consumerTenantName": props.pop("consumerTenantName", "Consumer Org"),
                    "createdAt": now(),
                    "sharedAt": shared_at or now(),
                    "shareSubscriptionStatus": props.pop("status", "Active"),
                }
                | props,
            }
        )
        return object_id

    def subscription(self, share: str, object_id: str) -> dict[str, Any]:
        return next(
            s for s in self.share(share).subscriptions if s["properties"]["shareSubscriptionObjectId"] == object_id
        )

    def offer(self, subscription: str, name: str, kind: str, path: str, data_set_id: str | None = None) -> str:
        """A dataset the sender's share holds, as the receiver's consumerSourceDataSets lists
        it (kind: a dataSetType such as BlobFolder); returns its dataSetId."""
        data_set_id = data_set_id or str(uuid.uuid4())
        self.received[subscription].sources.append(
            {
                "id": f"{self.prefix}/shareSubscriptions/{subscription}/consumerSourceDataSets/{uuid.uuid4()}",
                "name": name,
                "type": "Microsoft.DataShare/accounts/sharesubscriptions/consumerSourceDataSets",
                "properties": {
                    "dataSetId": data_set_id,
                    "dataSetName": name,
                    "dataSetPath": path,
                    "dataSetType": kind,
                    "dataSetLocation": "westeurope",
                },
            }
        )
        return data_set_id

    def fault(self, method: str, path: str, trickle: bool = False) -> Fault | None:
        """The next fault injected for this request, used up by one: one that trickles the
        answer (`trickle`), or one that changes it."""
        with self.lock:
            for fault in self.faults:
                if (
                    fault.times > 0
                    and fault.method == method
                    and re.search(fault.path, path)
                    and bool(fault.trickle) == trickle
                ):
                    fault.times -= 1
                    return fault
        return None

    def sent(self, method: str, pattern: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and re.search(pattern, r.path)]

    # Serving.

    def answer(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, dict[str, str], Any]:
        if query.get("api-version") != API_VERSION:
            return self._bad(f"{method} {path}: api-version {query.get('api-version')!r}, not {API_VERSION}")
        fault = self.fault(method, path)
        if fault is not None:
            return (
                fault.status,
                fault.headers,
                fault.body if fault.body is not None else _error(fault.code, fault.message),
            )
        if not path.startswith(self.prefix):
            return 404, {}, _error("ResourceNotFound", f"{path} not found")
        if path.rstrip("/") == self.prefix and method == "GET":
            if not self.account_exists:
                return 404, {}, _error("ResourceNotFound", "The Resource 'Microsoft.DataShare/accounts' was not found.")
            name = self.prefix.rsplit("/", 1)[1]
            return (
                200,
                {},
                {"id": self.prefix, "name": name, "location": "westeurope", "identity": {"type": "SystemAssigned"}},
            )
        parts = path[len(self.prefix) :].strip("/").split("/")
        with self.lock:
            return self._route(method, parts, query, body)

    def _route(
        self, method: str, parts: list[str], query: dict[str, str], body: Any
    ) -> tuple[int, dict[str, str], Any]:
        match parts:
            case ["shares", share, *_] if share not in self.shares:
                return 404, {}, _error("ResourceNotFound", f"share {share} not found")
            case ["shares", share, "invitations"] if method == "GET":
                return self._page(self.share(share).invitations, parts, query, body)
            case ["shares", share, "providerShareSubscriptions"] if method == "GET":
                return self._page(self.share(share).subscriptions, parts, query, body)
            case ["shares", share, "listSynchronizations" | "listSynchronizationDetails"] if not self._listable(
                method, query
            ):
                return 405, {}, _error("MethodNotAllowed", f"{parts[-1]} is a POST; GET only follows a nextLink")
            case ["shareSubscriptions", name, "listSynchronizations" | "listSynchronizationDetails"] if (
                not self._listable(method, query)
            ):
                return 405, {}, _error("MethodNotAllowed", f"{parts[-1]} is a POST; GET only follows a nextLink")
            case ["shares", share, "listSynchronizations"]:
                if method == "POST" and body not in (None, {}):
                    return self._bad(f"shares listSynchronizations takes no body; got {body!r}")
                return self._page(self.share(share).synchronizations, parts, query, body)
            case ["shares", share, "providerShareSubscriptions", object_id, *action]:
                return self._provider(method, share, object_id, action, body)
            case ["shares", share, "operationResults", op] | ["shareSubscriptions", share, "operationResults", op]:
                return self._operation(op)
            case ["shareSubscriptions", name, *_] if name not in self.received:
                return 404, {}, _error("ResourceNotFound", f"share subscription {name} not found")
            case ["shareSubscriptions", name] if method == "GET":
                sub = self.received[name]
                props = {"invitationId": str(uuid.uuid4()), "sourceShareLocation": "westeurope"}
                props |= {"shareSubscriptionStatus": sub.status, "provisioningState": "Succeeded"}
                props |= {"expirationDate": sub.expires} if sub.expires else {}
                return 200, {}, {"id": f"{self.prefix}/shareSubscriptions/{name}", "name": name, "properties": props}
            case ["shareSubscriptions", name, "consumerSourceDataSets"] if method == "GET":
                return self._page(self.received[name].sources, parts, query, body)
            case ["shareSubscriptions", name, "synchronize"] if method == "POST":
                return self._synchronize(name, body)
            case ["shareSubscriptions", name, "synchronizationOperationResults", sync_id] if method == "GET":
                # The Azure-AsyncOperation URL of a synchronize: the operation's status.
                sync = self._synchronization(name, sync_id)
                if sync is None:
                    return 404, {}, _error("ResourceNotFound", f"synchronization {sync_id} not found")
                self._progress(self.received[name])
                status = "InProgress" if sync["endTime"] is None else sync["status"]
                return 200, {"Retry-After": "0"}, {"status": status, "startTime": sync["startTime"]}
            case ["shareSubscriptions", name, "shareSubscriptionSynchronizations", sync_id] if method == "GET":
                # Its Location URL: the synchronization itself.
                sync = self._synchronization(name, sync_id)
                if sync is None:
                    return 404, {}, _error("ResourceNotFound", f"synchronization {sync_id} not found")
                return 200, {}, sync
            case ["shareSubscriptions", name, "listSynchronizations"]:
                if method == "POST" and body not in (None, {}):
                    return self._bad(f"shareSubscriptions listSynchronizations takes no body; got {body!r}")
                if "$skipToken" not in query:
                    self._progress(self.received[name])
                return self._page(self.received[name].synchronizations, parts, query, body)
            case ["shareSubscriptions", name, "listSynchronizationDetails"] if method == "POST":
                if not _only_sync_id(body):
                    return self._bad(f"listSynchronizationDetails takes {{synchronizationId}}; got {body!r}")
                return self._page(self.received[name].details, parts, query, body)
            case ["shareSubscriptions", name, "cancelSynchronization"] if method == "POST":
                if not _only_sync_id(body):
                    return self._bad(f"cancelSynchronization takes {{synchronizationId}}; got {body!r}")
                for sync in self.received[name].synchronizations:
                    if sync["synchronizationId"] == body["synchronizationId"] and sync["endTime"] is None:
                        sync.update(status="Canceled", endTime=now(), message="Canceled by user")
                return self._accepted(f"shareSubscriptions/{name}", {"status": "Canceling"}, "Succeeded")
        return 404, {}, _error("NotFound", f"{method} {'/'.join(parts)} is not part of this fake")

    def _provider(
        self, method: str, share: str, object_id: str, action: list[str], body: Any
    ) -> tuple[int, dict[str, str], Any]:
        found = [
            s for s in self.share(share).subscriptions if s["properties"]["shareSubscriptionObjectId"] == object_id
        ]
        if not found:
            return 404, {}, _error("ResourceNotFound", f"provider share subscription {object_id} not found")
        subscription = found[0]
        match method, action:
            case "GET", []:
                return 200, {}, subscription
            case "POST", ["revoke"]:
                if body not in (None, {}):
                    return self._bad(f"revoke takes no body; got {body!r}")
                subscription["properties"]["shareSubscriptionStatus"] = "Revoking"

                operation, status = self.revoke_ends

                def revoked() -> None:
                    subscription["properties"]["shareSubscriptionStatus"] = status

                return self._accepted(f"shares/{share}", subscription, operation, revoked)
            case "POST", ["adjust" | "reinstate"]:
                props = body.get("properties") if isinstance(body, dict) else None
                if (
                    set(body or {}) != {"properties"}
                    or not isinstance(props, dict)
                    or set(props) != {"expirationDate"}
                    or not TIME.fullmatch(str(props["expirationDate"]))
                ):
                    return self._bad(f"{action[0]} takes {{properties: {{expirationDate}}}}; got {body!r}")
                subscription["properties"]["expirationDate"] = props["expirationDate"]
                if action == ["reinstate"]:
                    subscription["properties"]["shareSubscriptionStatus"] = "Active"
                return 200, {}, subscription
        return 404, {}, _error("NotFound", f"{method} {action} is not part of this fake")

    def _synchronize(self, name: str, body: Any) -> tuple[int, dict[str, str], Any]:
        if not isinstance(body, dict) or not set(body) <= {"synchronizationMode"}:
            return self._bad(f"synchronize takes {{synchronizationMode?}}; got {body!r}")
        mode = body.get("synchronizationMode", "Incremental")
        if mode not in SYNC_MODES:
            return self._bad(f"synchronizationMode {mode!r} is not one of {sorted(SYNC_MODES)}")
        sync_id = str(uuid.uuid4())
        received = self.received[name]
        received.synchronizations.append(
            {
                "synchronizationId": sync_id,
                "status": "Queued",
                "startTime": now(),
                "endTime": None,
                "synchronizationMode": mode,
            }
        )
        received.reads[sync_id] = 0
        first = {"status": "Queued", "synchronizationId": sync_id, "synchronizationMode": mode}
        base = f"{self.url}{self.prefix}/shareSubscriptions/{name}"
        return (
            202,
            {
                "Azure-AsyncOperation": f"{base}/synchronizationOperationResults/{sync_id}?api-version={API_VERSION}",
                "Location": f"{base}/shareSubscriptionSynchronizations/{sync_id}?api-version={API_VERSION}",
                "Retry-After": "0",
            },
            first,
        )

    def _listable(self, method: str, query: dict[str, str]) -> bool:
        """POST lists a first page; the SDK follows a nextLink with GET."""
        return method == "POST" or (method == "GET" and (self.link_token in query or "$skipToken" in query))

    def _synchronization(self, name: str, sync_id: str) -> dict[str, Any] | None:
        found = [s for s in self.received[name].synchronizations if s["synchronizationId"] == sync_id]
        return found[0] if found else None

    def _progress(self, received: Received) -> None:
        """Each first-page read of the synchronizations moves running snapshots on."""
        for sync in received.synchronizations:
            sync_id = sync["synchronizationId"]
            if sync["endTime"] is not None or sync_id not in received.reads:
                continue
            received.reads[sync_id] += 1
            sync["status"] = "InProgress"
            if received.outcome is not None and received.reads[sync_id] > received.polls:
                sync.update(status=received.outcome, endTime=now(), message=received.message, durationMs=1200)

    def _accepted(self, scope: str, body: Any, final: str, on_done: Any = None) -> tuple[int, dict[str, str], Any]:
        """202 and an operation that reports InProgress once, then `final`."""
        op = str(uuid.uuid4())
        self.operations[op] = {"polls": 0, "final": final, "on_done": on_done}
        url = f"{self.url}{self.prefix}/{scope}/operationResults/{op}?api-version={API_VERSION}"
        return 202, {"Azure-AsyncOperation": url, "Location": url, "Retry-After": "0"}, body

    def _operation(self, op: str) -> tuple[int, dict[str, str], Any]:
        state = self.operations[op]
        state["polls"] += 1
        if state["polls"] < 2:
            return 200, {"Retry-After": "0"}, {"status": "InProgress", "startTime": now()}
        if state["on_done"] is not None:
            state.pop("on_done")()
            state["on_done"] = None
        return 200, {}, {"status": state["final"], "startTime": now(), "endTime": now()}

    def _page(
        self, items: list[dict[str, Any]], parts: list[str], query: dict[str, str], body: Any
    ) -> tuple[int, dict[str, str], Any]:
        token = query.get("$skipToken") or query.get(self.link_token) or "0"
        if not token.isdigit():
            return self._bad(f"{'/'.join(parts)}: $skipToken {token!r} is not one this fake gave")
        start = int(token)
        page = items[start : start + self.page_size]
        answer: dict[str, Any] = {"value": page}
        if start + self.page_size < len(items):
            path = f"{self.prefix}/{'/'.join(parts)}"
            answer["nextLink"] = (
                f"{self.url}{path}?api-version={API_VERSION}&{self.link_token}={start + self.page_size}"
            )
        return 200, {}, answer

    def _bad(self, violation: str) -> tuple[int, dict[str, str], Any]:
        self.violations.append(violation)
        return 400, {}, _error("InvalidRequest", violation)


def _only_sync_id(body: Any) -> bool:
    return isinstance(body, dict) and set(body) == {"synchronizationId"} and isinstance(body["synchronizationId"], str)


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


class _Server(ThreadingHTTPServer):
    errors: list[str]

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that went away (Ctrl-C, a timeout) mid-answer is no error of the fake's;
        # anything else is, and fails the test.
        error = sys.exc_info()[1]
        if not isinstance(error, ConnectionError | ssl.SSLError | TimeoutError):
            self.errors.append(repr(error))


# How long a trickled answer goes on before the fake falls silent: a client with no deadline
# for the whole answer then fails a test on its read timeout in seconds, not after minutes.
TRICKLE_FOR = 20.0


class _Trickle:
    """A handler's output, sent one byte every `seconds` (status line and headers too), then
    nothing after TRICKLE_FOR seconds until the fake stops."""

    def __init__(self, out: Any, seconds: float, stopping: threading.Event) -> None:
        self.out, self.seconds, self.stopping = out, seconds, stopping
        self.until = time.monotonic() + TRICKLE_FOR

    def write(self, data: bytes) -> int:
        for i in range(len(data)):
            if self.stopping.wait(self.seconds if time.monotonic() < self.until else None):
                raise ConnectionAbortedError("the fake stopped")
            self.out.write(data[i : i + 1])
        return len(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.out, name)


class _Handler(BaseHTTPRequestHandler):
    arm: FakeArm
    protocol_version = "HTTP/1.1"
    timeout = 5

    def setup(self) -> None:
        super().setup()
        # Headers and body go out as two writes: without this, Nagle's algorithm and the
        # client's delayed ACK hold the body back about 40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        arm = self.arm
        with arm.lock:
            request = Request(method, url.path, query, body, self.headers.get("Authorization"))
            arm.requests.append(request)
            after = arm.throttle.wait(request.authorization or "", method, request.at) if arm.throttle else 0
            if after:
                arm.throttled.append((request, after))
        if arm.delay:
            time.sleep(arm.delay)
        if after:
            error = _error("TooManyRequests", "The request is throttled: retry after the time Retry-After gives.")
            self._reply(429, {"Retry-After": f"{after:g}"}, error)
            return
        peek = next((f for f in arm.faults if f.times > 0 and f.method == method and re.search(f.path, url.path)), None)
        if peek is not None and (peek.reset or peek.hang != 0):
            arm.fault(method, url.path)
            if peek.reset:
                # An abortive close: the client reads a connection reset, not an answer.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
                return
            arm.stopping.wait(peek.hang)
            if peek.hang is None:
                self.close_connection = True
                return
        slow = arm.fault(method, url.path, trickle=True)
        if slow is not None:
            self.wfile = _Trickle(self.wfile, slow.trickle, arm.stopping)
            self.close_connection = True  # nothing more goes out slowly on this connection
        self._reply(*arm.answer(method, url.path, query, body))

    def _reply(self, status: int, headers: dict[str, str], answer: Any) -> None:
        data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass
