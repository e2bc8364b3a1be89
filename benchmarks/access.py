"""`access` on an account of 200 shares, against the local fake Resource Manager answering
each request after 50 ms: concurrent (as the command runs) and one request at a time.

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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from federation import config
from federation.config import stackfile
from federation.operate import access, azure
from tests.fake_arm import FakeArm
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

        def timed(workers: int) -> tuple[float, int]:
            before = len(arm.requests)
            started = time.perf_counter()
            review = access.review(client, cfg, workers=workers)
            elapsed = time.perf_counter() - started
            assert review.problems == [], review.problems[:3]
            return elapsed, len(arm.requests) - before

        concurrent = [timed(azure.WORKERS) for _ in range(args.runs)]
        sequential = timed(1)
    requests = sequential[1]
    best = statistics.median(t for t, _ in concurrent)
    python = sys.version.split()[0]
    print(f"{args.shares} shares, {requests} requests, {args.delay * 1000:.0f} ms a request, Python {python}")
    print(f"one at a time:            {sequential[0]:6.2f} s")
    print(f"concurrent ({azure.WORKERS} workers): {best:6.2f} s (median of {args.runs})")
    print(f"ratio:                    {best / sequential[0]:6.3f} (goal <= 0.25)")


if __name__ == "__main__":
    main()
