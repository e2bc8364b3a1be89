"""Pulumi's Automation API as the live suite drives it: the project's own program in a
temporary workspace, state in a local file backend there, a passphrase secrets provider,
the consortium's policy pack on every preview and update, and the steps the engine takes
collected from its events."""

import json
import shutil
import sys
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pulumi import automation as auto
from semver import VersionInfo

from tests_live import preflight

ROOT = Path(__file__).resolve().parent.parent
POLICY_PACK = ROOT / "policy"
# What a preview or update may do to a resource, as `federation diff` names it.
CHANGES = ("create", "update", "replace", "delete")


def op_name(op: Any) -> str:
    """An engine op as text, whether the SDK gives the enum or its value."""
    return str(getattr(op, "value", op))


@dataclass
class Steps:
    """The engine's steps, as its resource pre-events report them: (op, urn), changes only
    (a replacement's own create and delete halves are not steps of their own)."""

    seen: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, event: auto.EngineEvent) -> None:
        pre = event.resource_pre_event
        if pre is None or pre.metadata is None:
            return
        op = op_name(pre.metadata.op)
        if op in CHANGES:
            with self.lock:
                self.seen.append((op, pre.metadata.urn))

    @property
    def steps(self) -> set[tuple[str, str]]:
        return set(self.seen)


def summary(changes: Any) -> dict[str, int]:
    """A change summary (preview's or an update's) with only the changes in it."""
    return {op_name(op): int(n) for op, n in dict(changes or {}).items() if op_name(op) in CHANGES and n}


def predicted(diff_json: str) -> tuple[set[tuple[str, str]], dict[str, int]]:
    """What `federation diff -o json` says a change does: its steps, and their counts."""
    change = json.loads(diff_json)
    steps = {(op, entry["urn"]) for op in CHANGES for entry in change.get(op, [])}
    return steps, dict(Counter(op for op, _ in steps))


def workspace(work: Path, state: Path, passphrase: str, env: dict[str, str]) -> auto.LocalWorkspace:
    """A workspace holding the project's program, its state in `state` (file backend)."""
    work.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "__main__.py", work / "__main__.py")
    venv = ROOT / "venv" if (ROOT / "venv").is_dir() else Path(sys.prefix)
    project = auto.ProjectSettings(
        name="federation",
        runtime=auto.ProjectRuntimeInfo("python", {"toolchain": "pip", "virtualenv": str(venv)}),
        description="The federation live suite's copy of the project",
        backend=auto.ProjectBackend(url=state.as_uri()),
    )
    return auto.LocalWorkspace(
        work_dir=str(work),
        env_vars={"PULUMI_CONFIG_PASSPHRASE": passphrase, "PULUMI_SKIP_UPDATE_CHECK": "true", **env},
        secrets_provider="passphrase",
        project_settings=project,
        pulumi_command=auto.PulumiCommand(version=VersionInfo(*preflight.MINIMUM_PULUMI)),
    )


def stack_file(space: auto.LocalWorkspace, name: str) -> Path:
    return Path(space.work_dir) / f"Pulumi.{name}.yaml"


def write_config(space: auto.LocalWorkspace, name: str, stack: dict[str, Any]) -> Path:
    """The stack file's config set to `stack`'s, keeping what `stack init` wrote there (the
    passphrase provider's salt). Written as a file, since structured config is what the
    program reads and StackSettings would drop it."""
    path = stack_file(space, name)
    kept = (yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None) or {}
    kept["config"] = stack["config"]
    path.write_text(yaml.safe_dump(kept, sort_keys=False), encoding="utf-8")
    return path


def new_stack(space: auto.LocalWorkspace, name: str, stack: dict[str, Any]) -> auto.Stack:
    made = auto.Stack.create(name, space)
    write_config(space, name, stack)
    return made


def policy(work: Path, tenants: list[str]) -> Path:
    """The consortium's policy config, with the run's tenant among the allowed ones: the
    participant is invited by tenant and object id."""
    config = json.loads((ROOT / "policy.json").read_text(encoding="utf-8"))
    allowed = config.setdefault("invitation-allowed-targets", {}).setdefault("allowedTenants", [])
    allowed.extend(t for t in tenants if t not in allowed)
    path = work / "policy.json"
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    return path


def policy_venv() -> None:
    """The pack's own virtualenv, as docs/policy.md installs it, made once when missing."""
    import subprocess

    venv = POLICY_PACK / "venv"
    if (venv / "bin" / "python").exists():
        return
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "-r", str(POLICY_PACK / "requirements.txt")], check=True)
