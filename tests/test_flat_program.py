"""benchmarks/flat_program.py, the plain program the speed goal is measured against,
registers exactly what the program registers: same URNs, inputs, parents, dependencies,
options and outputs. A program change that the baseline lacks fails here, not in a benchmark."""

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from federation.config import stackfile
from federation.review import offline
from tests.support import PROJECT

FLAT = PROJECT / "benchmarks" / "flat_program.py"


def _benchmark() -> Any:
    spec = importlib.util.spec_from_file_location("benchmark_run", PROJECT / "benchmarks" / "run.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _state(run: offline.Run) -> dict[str, tuple[Any, ...]]:
    return {
        r.urn: (r.type, r.inputs, r.parent, r.depends_on, r.protect, r.replace_on_changes, r.delete_before_replace)
        for r in run.resources
    }


def _configs() -> list[tuple[str, dict[str, str], str]]:
    found = []
    for path in sorted(PROJECT.glob("Pulumi.*.yaml")):
        stack_file = stackfile.read_stack_file(path)
        if stack_file.stack:
            found.append((path.name, stack_file.config, stack_file.stack))
    big = _benchmark().big_stack(20)
    found.append(("20 invitations", stackfile.config_values(big), "bench"))
    return found


@pytest.mark.parametrize(("label", "config", "stack"), _configs(), ids=lambda v: v if isinstance(v, str) else "")
def test_the_flat_program_registers_what_the_program_registers(label: str, config: dict[str, str], stack: str) -> None:
    real = offline.run(config, stack)
    flat = offline.run(config, stack, program=Path(FLAT))
    assert real.error is None, real.error
    assert flat.error is None, flat.error
    ours, theirs = _state(real), _state(flat)
    assert sorted(ours) == sorted(theirs)
    for urn in ours:
        assert ours[urn] == theirs[urn], urn
    assert real.outputs == flat.outputs
