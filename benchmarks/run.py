"""Benchmarks: `python -m federation plan` and the plain program in benchmarks/flat_program.py,
each as a whole process, and the evaluation of each program alone (`offline.run`, imports
warm, from a collected heap with no collections during a run).

    venv/bin/python benchmarks/run.py [--runs 9] [--eval-runs 40] [--invitations 200]

Times (wall clock, and CPU: user + system) are medians of --runs runs (whole processes)
or --eval-runs rounds (program evaluation, where one run is short and noise is larger). Peak MB is the
largest max RSS among a scenario's child processes; for program evaluation, of a worker
that imports and runs that program alone. Before timing, both programs must register the
same resources (URN, inputs, parent, dependencies, options) and export the same outputs.
Prints a markdown table and exits 0.
"""

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
FLAT = PROJECT / "benchmarks" / "flat_program.py"
PYTHON = sys.executable
# Children run as a default Python does, writing bytecode caches (their warm-up run writes the
# project's), even where the environment turns that off.
ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
sys.path.insert(0, str(PROJECT))


def big_stack(invitations: int) -> dict[str, Any]:
    """One share with a few datasets on created and existing (ADLS Gen2) storage, sent to
    `invitations` participants: email and service principals, some with their own expiry."""
    participants: dict[str, Any] = {}
    for i in range(invitations):
        if i % 2:
            who: dict[str, Any] = {"email": f"mlops@site-{i:03d}.example"}
        else:
            guid = uuid.uuid5(uuid.NAMESPACE_URL, f"site-{i}")
            who = {"tenantId": str(uuid.uuid5(guid, "tenant")), "objectId": str(uuid.uuid5(guid, "object"))}
        if i % 3 == 0:
            who["expires"] = f"2027-0{1 + i % 9}-01T00:00:00Z"
        participants[f"site-{i:03d}"] = who
    sub = "6f1c2a4e-8d3b-4c9a-9e71-0a5b3c2d1e4f"
    return {
        "azure-native:location": "westeurope",
        "federation:environment": "bench",
        "federation:tags": {"consortium": "cardio-fl"},
        "federation:storage": {
            "models": {"name": "stflmodelsbench", "containers": ["global-model", "eval"]},
            "lake": {
                "id": f"/subscriptions/{sub}/resourceGroups/rg-lake/providers/Microsoft.Storage/storageAccounts/stlake",
                "hns": True,
            },
        },
        "federation:participants": participants,
        "federation:shares": {
            "global_model": {
                "description": "Global model checkpoints",
                "datasets": {
                    "checkpoints": {"storage": "models", "container": "global-model"},
                    "holdout": {"storage": "models", "container": "eval", "folder": "holdout/v3"},
                    "labels": {"storage": "models", "container": "eval", "file": "holdout/labels.csv"},
                    "statistics": {"storage": "lake", "container": "aggregates", "folder": "statistics"},
                    "reference": {"storage": "lake", "container": "reference"},
                    "cohort": {"storage": "lake", "container": "aggregates", "file": "cohort/summary.parquet"},
                },
                "schedule": {"recurrence": "Day", "start": "2026-12-01T02:00:00Z"},
                "expires": "2027-06-30T00:00:00Z",
            }
        },
    }


@dataclass
class Measure:
    """Medians of wall and CPU seconds, the peak max RSS, and how many resources."""

    seconds: float
    cpu: float
    peak_mb: float
    resources: int


def child(argv: list[str]) -> tuple[float, float, float, str]:
    """Run a process to the end: (wall s, CPU s, max RSS MB, stdout). Fails on a non-zero exit."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(argv, cwd=PROJECT, env=ENV, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)  # this child's own rusage
        elapsed = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if process.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} exited {process.returncode}:\n{err.read().decode()}")
        return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out.read().decode()


def planned(text: str) -> int:
    return next(int(line.split()[2]) for line in text.splitlines() if line.startswith("Resources: +"))


def evaluated(text: str) -> int:
    return max(found["resources"] for found in json.loads(text).values())


def whole_process(argv: list[str], runs: int, count: Callable[[str], int] = planned) -> Measure:
    """A command as a whole process, after one untimed run (page and bytecode caches)."""
    _, _, peak, text = child(argv)
    wall, cpu = [], []
    for _ in range(runs):
        elapsed, used, rss, _ = child(argv)
        wall.append(elapsed)
        cpu.append(used)
        peak = max(peak, rss)
    return Measure(statistics.median(wall), statistics.median(cpu), peak, count(text))


def evaluation(stack_file: Path, runs: int) -> dict[Path, Measure]:  # runs: --eval-runs
    """`offline.run` alone, per program: timed in one worker, the two programs alternating so
    that load drift hits both alike; peak memory of a worker per program (imports, two runs)."""
    programs = [PROJECT / "__main__.py", FLAT]
    _, _, _, text = child([PYTHON, __file__, "--runs", str(runs), "--worker", str(stack_file), *map(str, programs)])
    timed = json.loads(text)
    found = {}
    for program in programs:
        _, _, peak, _ = child([PYTHON, __file__, "--runs", "1", "--worker", str(stack_file), str(program)])
        times = timed[str(program)]
        found[program] = Measure(
            statistics.median(times["wall"]), statistics.median(times["cpu"]), peak, times["resources"]
        )
    return found


def worker(stack_file: Path, programs: list[Path], runs: int) -> None:
    """Print each program's evaluation times: a warm-up run each (imports, caches), then
    `runs` rounds, the order of the programs alternating from one round to the next."""
    from federation.config import stackfile
    from federation.review import offline

    stack = stackfile.read_stack_file(stack_file)
    found: dict[str, dict[str, Any]] = {str(p): {"wall": [], "cpu": [], "resources": 0} for p in programs}
    for program in programs:
        found[str(program)]["resources"] = len(offline.run(stack.config, stack.stack, program=program).resources)
    for round_ in range(runs):
        for program in programs[:: -1 if round_ % 2 else 1]:
            # As timeit does: each run starts from a collected heap and is not interrupted by
            # collections, whose pauses would land on whichever program trips the threshold.
            gc.collect()
            gc.disable()
            start, start_cpu = time.perf_counter(), time.process_time()
            result = offline.run(stack.config, stack.stack, program=program)
            found[str(program)]["wall"].append(time.perf_counter() - start)
            found[str(program)]["cpu"].append(time.process_time() - start_cpu)
            gc.enable()
            assert result.error is None, result.error
    print(json.dumps(found))


def check_same(stack_file: Path) -> int:
    """The flat program registers what __main__.py does; returns how many resources."""
    from federation.config import stackfile
    from federation.review import offline

    stack = stackfile.read_stack_file(stack_file)
    real = offline.run(stack.config, stack.stack)
    flat = offline.run(stack.config, stack.stack, program=FLAT)
    if real.error is not None or flat.error is not None:
        raise SystemExit(f"{stack_file.name}: __main__.py: {real.error}; flat_program.py: {flat.error}")

    def state(run: offline.Run) -> dict[str, Any]:
        return {
            r.urn: (r.inputs, r.parent, r.depends_on, r.protect, r.replace_on_changes, r.delete_before_replace)
            for r in run.resources
        }

    ours, theirs = state(real), state(flat)
    problems = [f"only in __main__.py: {u}" for u in sorted(ours.keys() - theirs.keys())]
    problems += [f"only in flat_program.py: {u}" for u in sorted(theirs.keys() - ours.keys())]
    both = sorted(ours.keys() & theirs.keys())
    problems += [f"differs: {u}\n  {ours[u]}\n  {theirs[u]}" for u in both if ours[u] != theirs[u]]
    if real.outputs != flat.outputs:
        problems.append(f"stack outputs differ:\n  {real.outputs}\n  {flat.outputs}")
    if problems:
        raise SystemExit(f"{stack_file.name}: flat program is not equivalent:\n" + "\n".join(problems))
    return len(ours)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9, help="timed runs per scenario (default 9)")
    parser.add_argument("--eval-runs", type=int, default=40, help="timed rounds of program evaluation (default 40)")
    parser.add_argument("--invitations", type=int, default=200, help="participants of the big stack (default 200)")
    parser.add_argument("--worker", nargs="+", metavar="STACK_FILE PROGRAM", help=argparse.SUPPRESS)
    parser.add_argument("--check", metavar="STACK_FILE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(Path(args.worker[0]), [Path(p) for p in args.worker[1:]], args.runs)
        return 0
    if args.check:
        print(check_same(Path(args.check)))
        return 0

    import yaml

    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / f"Pulumi.invite{args.invitations}.yaml"
        big.write_text(yaml.safe_dump({"config": big_stack(args.invitations)}, sort_keys=False))
        # A snapshot of the dev stack, so the check and the timings see the same config.
        dev = Path(tmp) / "Pulumi.dev.yaml"
        dev.write_text((PROJECT / "Pulumi.dev.yaml").read_text())
        stacks = {"dev": dev, f"{args.invitations} invitations": big}
        # In a child, like everything that imports Pulumi: a child's max RSS starts from its
        # parent's size when forked, so this process stays small.
        registered = {label: int(child([PYTHON, __file__, "--check", str(f)])[3]) for label, f in stacks.items()}

        rows: list[tuple[str, Measure, str, str]] = []
        plan = [PYTHON, "-m", "federation", "plan"]
        rows.append(("`plan dev` (whole process)", whole_process([*plan, "dev"], args.runs), "", ""))
        big_plan = whole_process([*plan, "--config", str(big)], args.runs)
        rows.append((f"`plan` {args.invitations} invitations (whole process)", big_plan, "", ""))
        for label, stack_file in stacks.items():
            # A plain script as a whole process: whole packages imported, collector on; no CLI, no rendering.
            floor = [PYTHON, __file__, "--runs", "0", "--worker", str(stack_file), str(FLAT)]
            rows.append(
                (
                    f"flat program {label} (whole process, plain script)",
                    whole_process(floor, args.runs, evaluated),
                    "",
                    "",
                )
            )
        for label, stack_file in stacks.items():
            real, flat = evaluation(stack_file, args.eval_runs).values()
            ratio = f"{real.seconds / flat.seconds:.2f}x"
            rows.append((f"evaluation {label}: `__main__.py`", real, ratio, "<= 1.10x"))
            rows.append((f"evaluation {label}: flat program", flat, "1.00x", ""))

    # Every scenario of a stack must have registered what the check saw (nobody edited meanwhile).
    dev_n, big_n = registered.values()
    if [m.resources for _, m, _, _ in rows] != [dev_n, big_n, dev_n, big_n, dev_n, dev_n, big_n, big_n]:
        raise SystemExit(f"the config or program changed during the benchmark ({registered}, {rows}); rerun")
    print(
        f"Medians of {args.runs} processes or {args.eval_runs} evaluation rounds;"
        f" Python {sys.version.split()[0]}, {os.cpu_count()} CPUs.\n"
    )
    print("| Scenario | Median s | CPU s | Peak MB | Resources | Ratio (program/flat) | Target |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for label, m, ratio, target in rows:
        print(f"| {label} | {m.seconds:.3f} | {m.cpu:.3f} | {m.peak_mb:.0f} | {m.resources} | {ratio} | {target} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
