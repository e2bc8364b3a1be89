"""An on-demand snapshot on the receiving side: start it, follow it to its end or a
deadline, and read what each dataset wrote."""

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from azure.mgmt.datashare import DataShareManagementClient
from azure.mgmt.datashare.models import ShareSubscriptionSynchronization, Synchronize

from federation.access import FAILED, SUCCEEDED, format_time
from federation.azure import every


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

    @property
    def succeeded(self) -> bool:
        return self.status.lower() in SUCCEEDED

    @property
    def finished(self) -> bool:
        # Data Share's run statuses are free text: an end time also means it is over.
        return self.status.lower() in SUCCEEDED | FAILED or self.end is not None


@dataclass
class Follow:
    """How to follow a snapshot: the deadline, how often to look, and where progress goes."""

    timeout: float
    interval: float = 15.0
    progress: Callable[[str], None] = print
    clock: Callable[[], float] = field(default=time.monotonic)


def start(client: DataShareManagementClient, rg: str, account: str, name: str, mode: str | None) -> Snapshot:
    """Ask for a snapshot now. The first answer carries its id; the poller's final result
    would not, so it is not polled here."""
    poller = client.share_subscriptions.begin_synchronize(
        rg, account, name, Synchronize(synchronization_mode=mode), polling=False
    )
    first = poller.result()
    return Snapshot(name, str(first.synchronization_id), str(first.status or "Queued"))


def wait(client: DataShareManagementClient, rg: str, account: str, snapshot: Snapshot, follow: Follow) -> Snapshot:
    """Poll the subscription's synchronizations until this one ends; at the deadline cancel
    it. Then read per-dataset results."""
    subs, name = client.share_subscriptions, snapshot.subscription
    began, last = follow.clock(), ""
    current = snapshot
    while True:
        current = _read(client, rg, account, current)
        elapsed = follow.clock() - began
        if current.status != last:
            follow.progress(f"{int(elapsed)}s: {current.status}")
            last = current.status
        if current.finished:
            break
        if elapsed >= follow.timeout:
            follow.progress(f"{int(elapsed)}s: timed out, canceling")
            subs.begin_cancel_synchronization(
                rg, account, name, ShareSubscriptionSynchronization(synchronization_id=snapshot.id)
            ).result()
            current = replace(_read(client, rg, account, current), timed_out=True)
            break
        time.sleep(max(0.0, min(follow.interval, follow.timeout - elapsed)))
    return replace(current, datasets=_details(client, rg, account, current))


def _read(client: DataShareManagementClient, rg: str, account: str, snapshot: Snapshot) -> Snapshot:
    listed = every(partial(client.share_subscriptions.list_synchronizations, rg, account, snapshot.subscription))
    for s in listed:
        if s.synchronization_id == snapshot.id:
            return Snapshot(
                snapshot.subscription,
                snapshot.id,
                str(s.status or snapshot.status),
                format_time(s.start_time),
                format_time(s.end_time),
                s.message,
            )
    return snapshot  # not listed yet: still queued


def _details(client: DataShareManagementClient, rg: str, account: str, snapshot: Snapshot) -> tuple[Dataset, ...]:
    which = ShareSubscriptionSynchronization(synchronization_id=snapshot.id)
    listed = every(
        partial(client.share_subscriptions.list_synchronization_details, rg, account, snapshot.subscription, which)
    )
    return tuple(
        sorted(
            (Dataset(str(d.name), str(d.status), d.files_written, d.size_written) for d in listed),
            key=lambda d: d.name,
        )
    )


def to_json(snapshot: Snapshot) -> dict[str, Any]:
    return {
        "subscription": snapshot.subscription,
        "synchronizationId": snapshot.id,
        "status": snapshot.status,
        "start": snapshot.start,
        "end": snapshot.end,
        "message": snapshot.message,
        "timedOut": snapshot.timed_out,
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
    late = ", canceled at --timeout" if snapshot.timed_out else ""
    out = [f"Snapshot {snapshot.id} of subscription {snapshot.subscription}: {snapshot.status}{late}{span}{said}"]
    if snapshot.datasets:
        rows = [["dataset", "status", "files written", "bytes written"]] + [
            [d.name, d.status, _count(d.files_written), _count(d.size_written)] for d in snapshot.datasets
        ]
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        out.extend("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows)
    return "\n".join(out) + "\n"


def _count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"
