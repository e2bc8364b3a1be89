"""Scale: `python -m federation plan` as a whole process on generated stacks of many
invitations, from a large consortium to Azure Data Share's maxima, with the plain Pulumi
script of benchmarks/flat_program.py on the same stacks as the floor the SDK sets.

    venv/bin/python benchmarks/scale.py [--runs 1] [--sizes 5x200 20x200 200x200] [--floor 5x200 20x200]

A size SxP is S shares each inviting all of P participants (S x P invitations); every share
has two datasets (blob and ADLS Gen2 storage) and a schedule. Prints a markdown table of
wall and CPU seconds (medians of --runs), peak max RSS and resources registered.
"""

import argparse
import os
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import run  # benchmarks/run.py: the child-process measurement
import yaml

SUBSCRIPTION = "6f1c2a4e-8d3b-4c9a-9e71-0a5b3c2d1e4f"


def consortium(shares: int, participants: int) -> dict[str, Any]:
    """A coordinator stack: `shares` shares, each sent to every one of `participants`."""
    invited: dict[str, Any] = {}
    for i in range(participants):
        if i % 2:
            invited[f"site-{i:03d}"] = {"email": f"mlops@site-{i:03d}.example"}
        else:
            guid = uuid.uuid5(uuid.NAMESPACE_URL, f"site-{i}")
            invited[f"site-{i:03d}"] = {
                "tenantId": str(uuid.uuid5(guid, "tenant")),
                "objectId": str(uuid.uuid5(guid, "object")),
            }
    lake = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-lake/providers/Microsoft.Storage/storageAccounts/stlake"
    return {
        "azure-native:location": "westeurope",
        "federation:environment": "scale",
        "federation:storage": {
            "models": {"name": "stflmodelsscale", "containers": ["global-model"]},
            "lake": {"id": lake, "hns": True},
        },
        "federation:participants": invited,
        "federation:shares": {
            f"round_{s:03d}": {
                "datasets": {
                    "checkpoints": {"storage": "models", "container": "global-model", "folder": f"round-{s:03d}"},
                    "statistics": {"storage": "lake", "container": "aggregates", "folder": f"round-{s:03d}"},
                },
                "schedule": {"recurrence": "Day", "start": "2026-12-01T02:00:00Z"},
            }
            for s in range(shares)
        },
    }


def size(text: str) -> tuple[int, int]:
    shares, _, participants = text.partition("x")
    return int(shares), int(participants)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1, help="timed runs per size (default 1)")
    parser.add_argument("--sizes", nargs="+", type=size, default=[(5, 200), (20, 200), (200, 200)])
    floor = [(5, 200), (20, 200)]
    parser.add_argument("--floor", nargs="*", type=size, default=floor, help="sizes to run the flat script on")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for shares, participants in args.sizes:
            stack_file = Path(tmp) / f"Pulumi.scale{shares}x{participants}.yaml"
            stack_file.write_text(yaml.safe_dump({"config": consortium(shares, participants)}, sort_keys=False))
            label = f"{shares} shares x {participants} participants = {shares * participants:,} invitations"
            plan = [run.PYTHON, "-m", "federation", "plan", "--config", str(stack_file)]
            # One untimed run first (bytecode and page caches), as run.py does, for small sizes only.
            measure = run.whole_process(plan, args.runs) if shares * participants <= 1000 else timed(plan, args.runs)
            rows.append((f"`plan`, {label}", measure))
            if (shares, participants) in args.floor:
                flat = [run.PYTHON, run.__file__, "--runs", "0", "--worker", str(stack_file), str(run.FLAT)]
                plain = run.whole_process(flat, args.runs, run.evaluated)
                rows.append((f"flat program (plain script), {label}", plain))
    print(f"Medians of {args.runs} process(es); Python {sys.version.split()[0]}, {os.cpu_count()} CPUs.\n")
    print("| Scenario | Median s | CPU s | Peak MB | Resources |\n| --- | ---: | ---: | ---: | ---: |")
    for label, m in rows:
        print(f"| {label} | {m.seconds:.1f} | {m.cpu:.1f} | {m.peak_mb:.0f} | {m.resources} |")
    return 0


def timed(argv: list[str], runs: int) -> "run.Measure":
    """Like run.whole_process without the warm-up run, which would double minutes-long sizes."""
    found = [run.child(argv) for _ in range(runs)]
    wall = sorted(f[0] for f in found)[len(found) // 2]
    cpu = sorted(f[1] for f in found)[len(found) // 2]
    return run.Measure(wall, cpu, max(f[2] for f in found), run.planned(found[0][3]))


if __name__ == "__main__":
    sys.exit(main())
