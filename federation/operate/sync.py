"""An on-demand snapshot on the receiving side: start it, follow it to its end or a
deadline (then cancel it), and read what each dataset wrote."""

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from azure.core.exceptions import ServiceResponseError
from azure.mgmt.datashare import DataShareManagementClient
from azure.mgmt.datashare.models import ShareSubscriptionSynchronization, Synchronize

from federation.operate.access import FAILED, SUCCEEDED, format_time, markdown, printable
from federation.operate.azure import FAILED_CALL, AzureError, Limits, every, explain

# What is left for canceling a snapshot once the deadline is reached: the command ends
# within this of --timeout, canceled or saying it could not cancel.
GRACE = 5.0
# A line at least this often while a snapshot runs, so a person or a CI log sees it is alive.
HEARTBEAT = 30.0


@dataclass(frozen=True)
class Dataset:
    name: str
    status: str
    files_written: int | None
    size_written: int | None


@dataclass(frozen=True)
class Snapshot:
    subscription: str
    id: str
    status: str
    start: str | None = None
    end: str | None = None
    message: str | None = None
    datasets: tuple[Dataset, ...] = ()
    timed_out: bool = False
    cancel: str | None = None  # at the deadline: "requested", or why it could not be

    @property
    def succeeded(self) -> bool:
        return self.status.lower() in SUCCEEDED

    @property
    def finished(self) -> bool:
        # Data Share's run statuses are free text: an end time also means it is over.
        return self.status.lower() in SUCCEEDED | FAILED or self.end is not None


@dataclass
class Follow:
    """How to follow a snapshot: the deadline (seconds from `began`), how often to look,
    where progress goes, and the clock."""

    timeout: float
    interval: float = 15.0
    progress: Callable[[str], None] = print
    clock: Callable[[], float] = field(default=time.monotonic)
    limits: Limits = field(default_factory=Limits)
    began: float | None = None

    def __post_init__(self) -> None:
        if self.began is None:
            self.began = self.clock()

    @property
    def elapsed(self) -> float:
        assert self.began is not None
        return self.clock() - self.began

    def left(self) -> float:
        return self.timeout - self.elapsed

    def bounded(self, seconds: float) -> dict[str, Any]:
        """Per-request settings that end a request, its whole answer read, within `seconds`:
        no retry (the next look is the retry), timeouts no longer than what is left, and
        the wall-clock instant by which the answer must be in."""
        seconds = max(0.5, seconds)
        return {
            "retry_total": 0,
            "connection_timeout": min(self.limits.connect, seconds),
            "read_timeout": min(self.limits.read, seconds),
            "answer_by": time.monotonic() + seconds,
        }


class UnansweredError(AzureError):
    """The snapshot was asked for and no answer came: one may have started, unnamed."""


def start(
    client: DataShareManagementClient, rg: str, account: str, name: str, mode: str | None, follow: Follow
) -> Snapshot:
    """Ask for a snapshot now, within the deadline. The first answer carries its id; the
    poller's final result would not, so it is not polled here."""
    try:
        poller = client.share_subscriptions.begin_synchronize(
            rg, account, name, Synchronize(synchronization_mode=mode), polling=False, **follow.bounded(follow.left())
        )
        first = poller.result()
    except ServiceResponseError as error:  # sent, and no whole answer came in time
        raise UnansweredError(
            f"asked for a snapshot of {name} and no answer came ({explain(error, account)}): one may have started; "
            "`federation access` lists the latest"
        ) from None
    if first is None or not first.synchronization_id:
        raise AzureError(
            f"Azure's answer to the snapshot request of {name} names no snapshot: `federation access` lists the latest"
        )
    return Snapshot(name, printable(first.synchronization_id), printable(first.status or "Queued"))


def wait(client: DataShareManagementClient, rg: str, account: str, snapshot: Snapshot, follow: Follow) -> Snapshot:
    """Look at the subscription's synchronizations until this one ends, saying what it
    does (at least every HEARTBEAT seconds). At the deadline, cancel it, within GRACE.
    Then read per-dataset results. A look that fails is retried at the next one."""
    current = snapshot
    with _Pulse(follow, snapshot.status) as pulse:
        while True:
            try:
                current = _read(client, rg, account, current, follow.bounded(min(follow.limits.read, follow.left())))
                pulse.status(current.status)
            except FAILED_CALL as error:
                pulse.say(f"could not look ({explain(error, account)}); trying again")
            if current.finished:
                break
            if follow.left() <= 0:
                pulse.say(f"still {current.status} at --timeout: canceling")
                return _cancel(client, rg, account, current, follow)
            time.sleep(max(0.0, min(follow.interval, follow.left())))
    try:
        return replace(current, datasets=_details(client, rg, account, current, follow.bounded(follow.left() + GRACE)))
    except FAILED_CALL as error:
        follow.progress(f"could not read what each dataset wrote: {explain(error, account)}")
        return current


class _Pulse:
    """Says how a snapshot is doing: each new status, and the last one again at least every
    HEARTBEAT seconds. The repeat comes from a thread of its own, because a look can wait
    on a slow answer for as long as the read timeout."""

    def __init__(self, follow: Follow, status: str) -> None:
        self.follow = follow
        self.current, self.said_status = status, ""
        self.said = follow.elapsed
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.beat = threading.Thread(target=self._repeat, name="heartbeat", daemon=True)

    def __enter__(self) -> "_Pulse":
        self.beat.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopped.set()
        self.beat.join(timeout=1.0)

    def status(self, status: str) -> None:
        with self.lock:
            self.current = status
            if status != self.said_status:
                self._say_status()

    def say(self, text: str) -> None:
        with self.lock:
            self._say(text)

    def _say_status(self) -> None:
        self.said_status = self.current
        self._say(self.current)

    def _say(self, text: str) -> None:
        self.said = self.follow.elapsed
        self.follow.progress(f"{int(self.said)}s: {text}")

    def _repeat(self) -> None:
        while True:
            with self.lock:
                if self.follow.elapsed - self.said >= HEARTBEAT:
                    self._say_status()
                due = self.said + HEARTBEAT - self.follow.elapsed
            if self.stopped.wait(max(due, 0.01)):
                return


def _cancel(client: DataShareManagementClient, rg: str, account: str, snapshot: Snapshot, follow: Follow) -> Snapshot:
    """Ask Azure to cancel the snapshot, not waiting for it to stop."""
    which = ShareSubscriptionSynchronization(synchronization_id=snapshot.id)
    try:
        client.share_subscriptions.begin_cancel_synchronization(
            rg, account, snapshot.subscription, which, polling=False, **follow.bounded(GRACE - 1)
        ).result()
        cancel = "requested"
    except FAILED_CALL as error:
        cancel = f"could not cancel it ({explain(error, account)})"
    return replace(snapshot, timed_out=True, cancel=cancel)


def _read(
    client: DataShareManagementClient, rg: str, account: str, snapshot: Snapshot, bounds: dict[str, Any]
) -> Snapshot:
    listed = every(
        partial(client.share_subscriptions.list_synchronizations, rg, account, snapshot.subscription, **bounds)
    )
    for s in listed:
        # Resource Manager's ids are case-insensitive: the list may spell it otherwise.
        if str(s.synchronization_id or "").lower() == snapshot.id.lower():
            return Snapshot(
                snapshot.subscription,
                snapshot.id,
                printable(s.status or snapshot.status),
                format_time(s.start_time),
                format_time(s.end_time),
                None if s.message is None else printable(s.message),
            )
    return snapshot  # not listed yet: still queued


def _details(
    client: DataShareManagementClient, rg: str, account: str, snapshot: Snapshot, bounds: dict[str, Any]
) -> tuple[Dataset, ...]:
    which = ShareSubscriptionSynchronization(synchronization_id=snapshot.id)
    listed = every(
        partial(
            client.share_subscriptions.list_synchronization_details, rg, account, snapshot.subscription, which, **bounds
        )
    )
    return tuple(
        sorted(
            (
                Dataset(printable(d.name), printable(d.status), _count(d.files_written), _count(d.size_written))
                for d in listed
            ),
            key=lambda d: d.name,
        )
    )


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def to_json(snapshot: Snapshot) -> dict[str, Any]:
    return {
        "subscription": snapshot.subscription,
        "synchronizationId": snapshot.id,
        "status": snapshot.status,
        "start": snapshot.start,
        "end": snapshot.end,
        "message": snapshot.message,
        "timedOut": snapshot.timed_out,
        "cancel": snapshot.cancel,
        "datasets": [
            {"name": d.name, "status": d.status, "filesWritten": d.files_written, "sizeWritten": d.size_written}
            for d in snapshot.datasets
        ],
    }


def render_json(snapshot: Snapshot) -> str:
    return json.dumps(to_json(snapshot), indent=2) + "\n"


def render_text(snapshot: Snapshot) -> str:
    span = f" ({snapshot.start} to {snapshot.end})" if snapshot.start and snapshot.end else ""
    said = f": {snapshot.message}" if snapshot.message else ""
    late = f", still running at --timeout: cancel {snapshot.cancel}" if snapshot.timed_out else ""
    out = [f"Snapshot {snapshot.id} of subscription {snapshot.subscription}: {snapshot.status}{late}{span}{said}"]
    if snapshot.datasets:
        rows = [["dataset", "status", "files written", "bytes written"]] + [
            [d.name, d.status, _shown(d.files_written), _shown(d.size_written)] for d in snapshot.datasets
        ]
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        out.extend("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows)
    return "\n".join(out) + "\n"


def render_markdown(snapshot: Snapshot) -> str:
    """The snapshot for a pull request or a job summary, Azure's text escaped."""
    late = f" (still running at --timeout: cancel {snapshot.cancel})" if snapshot.timed_out else ""
    said = f": {snapshot.message}" if snapshot.message else ""
    span = f", {snapshot.start} to {snapshot.end}" if snapshot.start and snapshot.end else ""
    out = [
        markdown(f"Snapshot {snapshot.id} of subscription {snapshot.subscription}: {snapshot.status}{late}{span}{said}")
    ]
    if snapshot.datasets:
        out += ["", "| Dataset | Status | Files written | Bytes written |", "| --- | --- | --- | --- |"]
        out += [
            f"| {markdown(d.name)} | {markdown(d.status)} | {_shown(d.files_written)} | {_shown(d.size_written)} |"
            for d in snapshot.datasets
        ]
    return "\n".join(out) + "\n"


def _shown(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"
