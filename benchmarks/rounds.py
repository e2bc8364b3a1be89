"""`publish` and `verify` against Azurite, with the fake Resource Manager the tests use, on
two payloads: one large file (1 GiB) and many small files (1,000 of 10 KiB). Each command
runs in a process of its own, which reports the time the command took (its imports
aside) and its peak RSS; a plain azure-storage-blob upload or download of the same files,
with the same concurrency (8 requests at a time), runs beside it in the same way, in the same
run. Throughput is given as a ratio to the plain client's (goal >= 0.9); the large file's
peak RSS has a goal of < 250 MB. The large file is written to a temporary directory and
deleted at the end.

    venv/bin/python benchmarks/rounds.py [--runs 3] [--large-mib 1024] [--small 1000] [--small-kib 10]
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import trustme

from federation.operate import blobs
from tests.exchange import COORDINATOR_STORAGE, Exchange, azurite_for, opened

CHUNK = 64 * 1024 * 1024  # the large file is written in pieces of this size


def child(spec: dict[str, Any]) -> dict[str, Any]:
    """In a process of its own: one command, or the plain client's same work; its time
    and this process's peak RSS."""
    from azure.storage.blob import BlobServiceClient

    from federation import cli
    from federation.cli import dispatch, operating  # noqa: F401  # imported before the clock starts
    from federation.operate import azure
    from tests.fake_storage import Credential
    from tests.operate_support import options

    credential = Credential()
    if spec["kind"] == "federation":
        started = time.perf_counter()
        settings = options(Path(spec["ca"])) | {"polling_interval": 1}  # a snapshot is looked at each second
        code = cli.main(spec["argv"], credential, settings, azure.Limits())
        seconds = time.perf_counter() - started
    else:
        service = BlobServiceClient(spec["endpoint"], credential=credential, connection_verify=spec["ca"])
        container = service.get_container_client(spec["container"])
        files: list[list[Any]] = spec["files"]
        started = time.perf_counter()
        if len(files) == 1:
            name, path, _ = files[0]
            blob = container.get_blob_client(name)
            if spec["kind"] == "upload":
                with open(path, "rb") as source:
                    blob.upload_blob(source, max_concurrency=blobs.WORKERS, overwrite=True)
            else:
                with open(os.devnull, "wb") as sink:
                    blob.download_blob(max_concurrency=blobs.WORKERS).readinto(sink)
        else:

            def one(entry: list[Any]) -> None:
                blob = container.get_blob_client(entry[0])
                if spec["kind"] == "upload":
                    blob.upload_blob(Path(entry[1]).read_bytes(), overwrite=True)
                else:
                    blob.download_blob().readall()

            with ThreadPoolExecutor(blobs.WORKERS) as pool:
                list(pool.map(one, files))
        seconds = time.perf_counter() - started
        code = 0
    return {"code": code, "seconds": seconds, "rss_mb": peak_rss_mb()}


def peak_rss_mb() -> float:
    """This process's peak resident memory. On Linux getrusage's ru_maxrss also carries the
    peak of the process it was forked from, across exec; the kernel's own high-water mark
    of this program's memory (VmHWM) does not."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(spec: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(spec)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0 or not done.stdout.strip():
        raise SystemExit(f"child failed ({done.returncode}): {done.stderr[-2000:]}")
    result = dict(json.loads(done.stdout.strip().splitlines()[-1]))
    if result["code"] != 0:
        raise SystemExit(f"{spec.get('argv') or spec['kind']}: exit {result['code']}: {done.stderr[-2000:]}")
    return result


def payload(root: Path, large_mib: int, small: int, small_kib: int) -> dict[str, Path]:
    large = root / "large"
    large.mkdir()
    block = os.urandom(CHUNK)
    with (large / "weights.bin").open("wb") as out:
        left = large_mib * 1024 * 1024
        while left > 0:
            out.write(block[: min(CHUNK, left)])
            left -= CHUNK
    many = root / "small"
    for i in range(small):
        path = many / f"shard-{i // 100:02}" / f"part-{i:04}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(small_kib * 1024))
    return {"one large file": large, "many small files": many}


def files_of(directory: Path, prefix: str) -> list[list[Any]]:
    found = sorted(p for p in directory.rglob("*") if p.is_file())
    return [[prefix + p.relative_to(directory).as_posix(), str(p), p.stat().st_size] for p in found]


def measure(exchange: Exchange, ca: Path, directory: Path, round_number: int) -> dict[str, dict[str, Any]]:
    """One run on one payload: publish and the plain upload, a snapshot, verify and the
    plain download; each side's time and peak RSS."""
    coordinator, participant = exchange.coordinator, exchange.participant
    name = f"round-{round_number}"
    figures: dict[str, dict[str, Any]] = {}
    argv = coordinator.words("publish", "global_model", name, "--from", str(directory))
    figures["publish"] = run_child({"kind": "federation", "argv": argv, "ca": str(ca)})
    plain = files_of(directory, f"plain-{round_number}/")
    endpoint = exchange.azurite.endpoint(COORDINATOR_STORAGE)
    # Beside the share's container, so the snapshot does not copy it too.
    base = {"endpoint": endpoint, "ca": str(ca), "container": "updates", "files": plain}
    figures["upload"] = run_child(base | {"kind": "upload"})
    # The snapshot (not timed) copies the round and the plain copy to the receiver.
    argv = participant.words("sync", "global_model", "--wait")
    run_child({"kind": "federation", "argv": argv, "ca": str(ca)})
    argv = participant.words("verify", "global_model", name)
    figures["verify"] = run_child({"kind": "federation", "argv": argv, "ca": str(ca)})
    figures["download"] = run_child(base | {"kind": "download"})
    return figures


def clear(exchange: Exchange) -> None:
    """Each run's blobs deleted before the next, so a run of 1 GiB rounds stays within the disk."""
    cleared = ((exchange.coordinator, "global-model"), (exchange.coordinator, "updates"))
    for party, container in (*cleared, (exchange.participant, "incoming-model")):
        client = party.container(container)
        for blob in client.list_blobs():
            client.delete_blob(blob.name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--large-mib", type=int, default=1024)
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--small-kib", type=int, default=10)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return
    ca = trustme.CA()
    with tempfile.TemporaryDirectory(prefix="rounds-bench-") as tmp:
        root = Path(tmp)
        ca_file = root / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        (root / "work").mkdir()
        payloads = payload(root, args.large_mib, args.small, args.small_kib)
        azurite = azurite_for(ca, ca_file, root)
        azurite.start()
        results: dict[str, list[dict[str, dict[str, Any]]]] = {name: [] for name in payloads}
        try:
            with opened(azurite, ca, ca_file, root / "work") as exchange:
                number = 0
                for _ in range(args.runs):
                    for label, directory in payloads.items():
                        number += 1
                        results[label].append(measure(exchange, ca_file, directory, number))
                        clear(exchange)
        finally:
            azurite.stop()
    report(results, args)


def report(results: dict[str, list[dict[str, dict[str, Any]]]], args: argparse.Namespace) -> None:
    print(
        f"Rounds against Azurite {args.runs} run(s); Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; "
        f"{blobs.WORKERS} requests at a time on both sides"
    )
    print()
    print("| Payload | Step | Throughput ratio (median, each run) | Peak RSS MB (ours, plain) |")
    print("| --- | --- | ---: | ---: |")
    for label, runs in results.items():
        for ours, plain in (("publish", "upload"), ("verify", "download")):
            ratios = [r[plain]["seconds"] / r[ours]["seconds"] for r in runs]
            rss = max(r[ours]["rss_mb"] for r in runs), max(r[plain]["rss_mb"] for r in runs)
            each = ", ".join(f"{x:.2f}" for x in ratios)
            print(
                f"| {label} | `{ours}` / plain {plain} | {statistics.median(ratios):.2f} ({each}) | "
                f"{rss[0]:.0f}, {rss[1]:.0f} |"
            )
    print()
    for label, runs in results.items():
        for step in ("publish", "upload", "verify", "download"):
            times = ", ".join(f"{r[step]['seconds']:.2f}" for r in runs)
            print(f"{label}, {step}: {times} s")


if __name__ == "__main__":
    main()
