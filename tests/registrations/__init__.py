"""Every registration of the committed stacks and of a fixed sample of generated configs,
as the program made them under the offline mocks, and what the offline review prints for
them: test_registrations.py holds the program to these files byte for byte.

They record what is deployed. Re-record only when a change to what is registered is
meant (and the URN snapshots agree):

    venv/bin/python -m tests.registrations
"""

import contextlib
import io
import json
from dataclasses import fields
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, seed, settings

from federation import cli
from federation.config import expiry, stackfile
from federation.review import check, diff, offline, plan
from tests import strategies
from tests.clock import CLOCK

HERE = Path(__file__).resolve().parent
SAMPLES = 24
SEED = 20250125


def stack_files() -> list[Path]:
    return sorted(stackfile.PROJECT_DIR.glob("Pulumi.*.yaml"))


def path_for(name: str) -> Path:
    return HERE / f"{name}.json"


def encode(value: Any) -> Any:
    """A value as JSON, a secret marked as {"$secret": value}."""
    if isinstance(value, offline.Secret):
        return {"$secret": encode(value.value)}
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    return value


def registrations(run: offline.Run) -> dict[str, Any]:
    """A run as data: every registration with every field, by URN (the mocks answer on
    threads, so the order of registration varies from run to run; the engine follows
    parents and dependencies, not it), then outputs, warnings and the error."""
    resources = sorted(run.resources, key=lambda r: r.urn)
    return {
        "resources": [{f.name: encode(getattr(r, f.name)) for f in fields(r)} for r in resources],
        "outputs": encode(dict(run.outputs)),
        "warnings": list(run.warnings),
        "error": None if run.error is None else f"{type(run.error).__name__}: {run.error}",
    }


def _cli(*argv: str) -> dict[str, Any]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(argv))
    return {"code": code, "stdout": out.getvalue(), "stderr": err.getvalue()}


def take_stack_file(path: Path) -> dict[str, Any]:
    """A committed stack file's registrations, and its offline review from the command line."""
    stack = path.name.split(".")[1]
    review: dict[str, Any] = {}
    for output in ("text", "markdown", "json", "mermaid"):
        review[f"plan -o {output}"] = _cli("plan", stack, "-o", output)
    for output in ("text", "markdown", "json"):
        review[f"check -o {output}"] = _cli("check", stack, "-o", output)
    for participant in sorted(_participants(path)):
        for output in ("text", "markdown", "json"):
            review[f"handoff {participant} -o {output}"] = _cli("handoff", participant, stack, "-o", output)
    for other in stack_files():
        for output in ("text", "markdown", "json"):
            review[f"diff {other.name} -o {output}"] = _cli("diff", str(other), str(path), "-s", stack, "-o", output)
    return {"stack": stack, "run": registrations(offline.run_stack_file(path)), "review": review}


def _participants(path: Path) -> list[str]:
    document = yaml.safe_load(path.read_text())
    return list(document.get("config", {}).get("federation:participants", {}))


def samples() -> list[dict[str, Any]]:
    """A fixed sample of generated configs (drawn once, then kept in the recordings)."""
    drawn: list[dict[str, Any]] = []

    @seed(SEED)
    @settings(max_examples=SAMPLES, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(strategies.configs())
    def draw(config: dict[str, Any]) -> None:
        if len(drawn) < SAMPLES and config not in drawn:
            drawn.append(config)

    draw()
    return drawn


def take_sample(config: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]:
    """A generated config's registrations, its plan and check, and the diff from the one before."""
    stacks = strategies.sender_outputs(config)
    run = offline.run(stackfile.config_values(config), "test", stacks=stacks)
    review: dict[str, Any] = {
        "plan text": plan.render_text(run, "test"),
        "plan json": plan.render_json(run),
        "plan markdown": [_parts(p) for p in plan.markdown_parts(run, "test")],
        "check": [repr(v) for v in check.evaluate(run, check.read_config(check.default_config()))],
    }
    if previous is not None:
        before = offline.run(stackfile.config_values(previous), "test", stacks=strategies.sender_outputs(previous))
        change = diff.compare(before, run)
        review["diff text"] = diff.render_text(change, "test")
        review["diff json"] = diff.render_json(change)
    return {"config": config, "stacks": stacks, "run": registrations(run), "review": review}


def _parts(parts: Any) -> list[str]:
    return [repr(p) for p in parts]


def dumps(record: dict[str, Any]) -> str:
    return json.dumps(record, indent=1, ensure_ascii=False) + "\n"


def sample_configs() -> list[dict[str, Any]]:
    """The committed sample, once drawn."""
    committed = path_for("samples")
    configs: list[dict[str, Any]] = json.loads(committed.read_text())["configs"] if committed.is_file() else samples()
    return configs


def sample_name(index: int) -> str:
    return f"sample-{index:02d}.json"


def current_sample(index: int) -> str:
    configs = sample_configs()
    return dumps(take_sample(configs[index], configs[index - 1] if index else None))


def update() -> None:
    """Record every file anew: what the program now registers and the review now prints,
    at the tests' clock (tests/clock.py), as conftest.py sets it for the test."""
    expiry.now = lambda: CLOCK
    check.rules().now = lambda: CLOCK
    configs = sample_configs()
    path_for("samples").write_text(dumps({"configs": configs}))
    for path in stack_files():
        path_for(path.name).write_text(dumps(take_stack_file(path)))
    for index in range(len(configs)):
        (HERE / sample_name(index)).write_text(current_sample(index))
