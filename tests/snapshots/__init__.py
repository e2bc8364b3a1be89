"""URN snapshots of the committed stack files: what a deployment of each already holds.

A change to this program that would give a deployed resource another URN, or another
value for an input of its resource id, makes Pulumi replace it (a share's consumers lose
their subscription). test_snapshot.py fails on that until the change adds `aliases`, or
the snapshot is updated on purpose:

    venv/bin/python -m tests.snapshots
"""

import json
from pathlib import Path
from typing import Any

from federation import offline

HERE = Path(__file__).resolve().parent


def take(stack_file: Path) -> dict[str, Any]:
    """Per URN: the type, and the inputs that make up the resource's id."""
    run = offline.run_stack_file(stack_file)
    return {
        r.urn: {"type": r.type} | {k: r.inputs[k] for k in sorted(offline.id_inputs(r.type)) if k in r.inputs}
        for r in sorted(run.resources, key=lambda r: r.urn)
    }


def path_for(stack_file: Path) -> Path:
    return HERE / f"{stack_file.name}.json"


def stack_files() -> list[Path]:
    return sorted(offline.PROJECT_DIR.glob("Pulumi.*.yaml"))


def update() -> None:
    for stack_file in stack_files():
        path_for(stack_file).write_text(json.dumps(take(stack_file), indent=2, sort_keys=True) + "\n")
        print(f"wrote {path_for(stack_file).relative_to(offline.PROJECT_DIR)}")
