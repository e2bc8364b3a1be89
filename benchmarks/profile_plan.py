"""Where `python -m federation plan <stack>` spends its time: the top cumulative cProfile
entries outside the standard library, then the costliest imports (`-X importtime`).

    venv/bin/python benchmarks/profile_plan.py [dev] [--top 10]
"""

import argparse
import pstats
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
STDLIB = sysconfig.get_paths()["stdlib"]
SITE = sysconfig.get_paths()["purelib"] + "/"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stack", nargs="?", default="dev")
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args()
    plan = ["-m", "federation", "plan", args.stack]

    with tempfile.TemporaryDirectory() as tmp:
        profile = Path(tmp) / "plan.prof"
        run = [sys.executable, "-m", "cProfile", "-o", str(profile), *plan]
        subprocess.run(run, cwd=PROJECT, check=True, stdout=subprocess.DEVNULL)
        stats = pstats.Stats(str(profile))
    entries = [
        (
            cumulative,
            calls,
            f"{Path(file).relative_to(PROJECT) if file.startswith(str(PROJECT)) else file}:{line}({name})",
        )
        for (file, line, name), (_, calls, _, cumulative, _) in stats.stats.items()  # type: ignore[attr-defined]
        if not file.startswith(STDLIB) and not file.startswith(("~", "<"))
    ]
    total = max(cumulative for (_, _, _, cumulative, _) in stats.stats.values())  # type: ignore[attr-defined]
    print(f"cProfile, plan {args.stack}: {total:.2f} s in all (profiler overhead included)\n")
    print("| cumulative s | calls | function |\n| ---: | ---: | --- |")
    for cumulative, calls, where in sorted(entries, reverse=True)[: args.top]:
        print(f"| {cumulative:.3f} | {calls} | `{where.removeprefix(SITE)}` |")

    imports = subprocess.run(
        [sys.executable, "-X", "importtime", *plan], cwd=PROJECT, check=True, capture_output=True, text=True
    ).stderr
    rows = []
    for line in imports.splitlines():
        if line.startswith("import time:") and "|" in line and "self" not in line:
            self_us, cumulative_us, name = line.removeprefix("import time:").split("|")
            rows.append((int(cumulative_us), int(self_us), name.strip()))
    print(f"\n-X importtime, top {args.top} by cumulative (nested imports included)\n")
    print("| cumulative ms | self ms | module |\n| ---: | ---: | --- |")
    for cumulative_us, self_us, name in sorted(rows, reverse=True)[: args.top]:
        print(f"| {cumulative_us / 1000:.0f} | {self_us / 1000:.0f} | `{name}` |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
