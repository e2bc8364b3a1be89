"""URN snapshots of the committed stack files: what a deployment of each already holds.

A change to this program that would give a deployed resource another URN, or another
value for an input of its resource id, makes Pulumi replace it (a share's consumers lose
their subscription). test_snapshot.py fails on that until the change adds `aliases`, or
the snapshot is updated on purpose:

    venv/bin/python -m tests.snapshots                     # every stack file
    venv/bin/python -m tests.snapshots Pulumi.<stack>.yaml  # one, such as a new participant's

A stack file without a snapshot fails the test with that command: a snapshot that recorded
itself on its first run would assert nothing.
"""

import json
from pathlib import Path
from typing import Any

from federation.config import stackfile
from federation.review import offline

HERE = Path(__file__).resolve().parent


def take(stack_file: Path) -> dict[str, Any]:
    """Per URN: the type, and the inputs that make up the resource's id."""
    return identities(offline.run_stack_file(stack_file))


def identities(run: offline.Run) -> dict[str, Any]:
    return {r.urn: _identity(r) for r in sorted(run.resources, key=lambda r: r.urn)}


def _identity(resource: offline.Registration) -> dict[str, Any]:
    inputs = resource.inputs
    return {"type": resource.type} | {k: inputs[k] for k in sorted(offline.id_inputs(resource.type)) if k in inputs}


def differences(snapshot: dict[str, Any], run: offline.Run) -> list[str]:
    """What a deployment holding `snapshot` would lose or gain if this run were deployed.

    A resource missing under its URN is kept if a resource of the run has that URN as an
    alias; either way, its id inputs must not change."""
    now = {r.urn: r for r in run.resources}
    moved = {alias: r for r in run.resources for alias in r.aliases}
    found = []
    for urn, identity in snapshot.items():
        resource = now.get(urn) or moved.get(urn)
        if resource is None:
            found.append(f"deleted or replaced (no resource has this URN or an alias to it): {urn}")
        elif _identity(resource) != identity:
            found.append(f"replaced (resource id changes: {identity} -> {_identity(resource)}): {urn}")
    claimed = set(snapshot) | {r.urn for alias, r in moved.items() if alias in snapshot}
    found += [f"new, not in the snapshot (update it on purpose): {urn}" for urn in sorted(now.keys() - claimed)]
    return found


def path_for(stack_file: Path) -> Path:
    return HERE / f"{stack_file.name}.json"


def record_command(stack_file: Path) -> str:
    return f"venv/bin/python -m tests.snapshots {stack_file.name}"


class MissingSnapshotError(Exception):
    """A stack file has no snapshot yet: a person records it, on purpose, and commits it."""

    def __init__(self, stack_file: Path) -> None:
        super().__init__(
            f"{stack_file.name} has no URN snapshot: record it with `{record_command(stack_file)}` "
            f"and commit tests/snapshots/{path_for(stack_file).name}"
        )


def load(stack_file: Path) -> dict[str, Any]:
    path = path_for(stack_file)
    if not path.is_file():
        raise MissingSnapshotError(stack_file)
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def stack_files() -> list[Path]:
    return sorted(stackfile.PROJECT_DIR.glob("Pulumi.*.yaml"))


def update(names: list[str]) -> None:
    """Records the snapshots of the named stack files, or of every one when none is named."""
    chosen = [stackfile.PROJECT_DIR / Path(name).name for name in names] or stack_files()
    for stack_file in chosen:
        if not stack_file.is_file():
            raise SystemExit(f"no stack file {stack_file.name} in {stackfile.PROJECT_DIR}")
        path_for(stack_file).write_text(json.dumps(take(stack_file), indent=2, sort_keys=True) + "\n")
        print(f"wrote {path_for(stack_file).relative_to(stackfile.PROJECT_DIR)}")
