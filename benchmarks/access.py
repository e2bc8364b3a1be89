"""`access` on an account of 200 shares, against the local fake Resource Manager answering
each request after 50 ms: concurrent (as the command runs) and one request at a time; then
concurrent against the fake throttling as Resource Manager does (token buckets per
principal: reads 250 refilled at 25 a second, writes 200 at 10; Retry-After in whole
seconds, then to the millisecond), with the production retry settings, as a ratio to the
floor those buckets set for the requests it sent.

    venv/bin/python benchmarks/access.py [--shares 200] [--delay 0.05] [--runs 3]
"""

import argparse
import ssl
import statistics
import sys
import tempfile
import time
from pathlib import Path

import trustme
from azure.mgmt.datashare import DataShareManagementClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from federation import config
from federation.config import stackfile
from federation.operate import access, azure
from tests.fake_arm import FakeArm, Throttle
from tests.operate_support import ACCOUNT, RG, SUB, Token, options


def stack(shares: int) -> config.Config:
    raw = {
        "azure-native:location": "westeurope",
        "federation:environment": "test",
        "federation:storage": {"models": {"name": "stmodels", "containers": ["eval"]}},
        "federation:participants": {
            "hospital-a": {"email": "a@hospital-a.example"},
            "hospital-b": {"email": "b@hospital-b.example"},
        },
        "federation:shares": {
            f"share_{i:03}": {"datasets": {"data": {"storage": "models", "container": "eval"}}} for i in range(shares)
        },
    }
    return config.parse(stackfile.config_values(raw), "test")


def floor(arm: FakeArm, since: int, buckets: Throttle) -> tuple[float, int, int, int]:
    """The least time the buckets allow for the requests served since request `since`: a
    bucket of `size` refilled at `rate` serves n requests in no less than (n - size) / rate.
    Also the reads and writes served, and the answers throttled."""
    sent = arm.requests[since:]
    throttled = {id(r) for r, _ in arm.throttled}
    served = [r for r in sent if id(r) not in throttled]
    reads = sum(r.method == "GET" for r in served)
    writes = len(served) - reads
    least = max(
        (reads - buckets.reads[0]) / buckets.reads[1],
        (writes - buckets.writes[0]) / buckets.writes[1],
        0.0,
    )
    return least, reads, writes, len(sent) - len(served)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shares", type=int, default=200)
    parser.add_argument("--delay", type=float, default=0.05)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    ca = trustme.CA()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with tempfile.TemporaryDirectory() as tmp, FakeArm(context, SUB, RG, ACCOUNT) as arm:
        ca_file = Path(tmp) / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        cfg = stack(args.shares)
        for name in cfg.shares:
            for key, participant in cfg.participants.items():
                sent = arm.invite(name, key, email=participant.email)
                arm.subscribe(name, email=str(participant.email), shared_at=sent)
        arm.page_size = 50
        arm.delay = args.delay
        client = azure.Connection(Token(), SUB, arm.url, f"{arm.url}/.default", options(ca_file)).client()
        # As the command runs: the production retry settings, only the fake's certificate added.
        production = azure.Connection(Token(), SUB, arm.url, f"{arm.url}/.default", {"connection_verify": str(ca_file)})

        def timed(workers: int, against: DataShareManagementClient = client) -> tuple[float, int]:
            before = len(arm.requests)
            started = time.perf_counter()
            review = access.review(against, cfg, workers=workers)
            elapsed = time.perf_counter() - started
            assert review.problems == [], review.problems[:3]
            return elapsed, len(arm.requests) - before

        concurrent = [timed(azure.WORKERS) for _ in range(args.runs)]
        sequential = timed(1)

        # Resource Manager's Retry-After in whole seconds, then to the millisecond: the
        # client must not count on the rounding to keep its workers from retrying together.
        throttled: dict[bool, list[tuple[float, float, int, int, int]]] = {False: [], True: []}
        failed: dict[bool, list[str]] = {False: [], True: []}
        for exact in (False, True):
            for _ in range(args.runs):
                arm.throttle = Throttle(exact=exact)  # full buckets for each run, as after a quiet minute
                before = len(arm.requests)
                try:
                    elapsed, _ = timed(azure.WORKERS, production.client())
                except azure.FAILED_CALL as error:
                    failed[exact].append(azure.explain(error, ACCOUNT))
                    continue
                throttled[exact].append((elapsed, *floor(arm, before, arm.throttle)))
        arm.throttle = None
    requests = sequential[1]
    best = statistics.median(t for t, _ in concurrent)
    python = sys.version.split()[0]
    print(f"{args.shares} shares, {requests} requests, {args.delay * 1000:.0f} ms a request, Python {python}")
    print(f"one at a time:            {sequential[0]:6.2f} s")
    print(f"concurrent ({azure.WORKERS} workers): {best:6.2f} s (median of {args.runs})")
    print(f"ratio:                    {best / sequential[0]:6.3f} (goal <= 0.25)")
    for exact, label in ((False, "whole seconds"), (True, "to the millisecond")):
        print(f"throttled (reads 250 + 25/s, writes 200 + 10/s), Retry-After {label}, production retries:")
        for elapsed, least, reads, writes, refused in throttled[exact]:
            print(
                f"  {elapsed:6.2f} s; floor {least:5.2f} s for {reads} reads and {writes} writes; "
                f"ratio {elapsed / least:5.3f}; {refused} answered 429"
            )
        for reason in failed[exact]:
            print(f"  FAILED: {reason}")
        if throttled[exact]:
            ratio = statistics.median(elapsed / least for elapsed, least, *_ in throttled[exact])
            print(f"  ratio to the floor: {ratio:6.3f} (median of {len(throttled[exact])}; goal <= 1.25)")
        print(f"  runs failed: {len(failed[exact])} of {args.runs} (goal 0)")


if __name__ == "__main__":
    main()
