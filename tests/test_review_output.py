"""What `plan` and `diff` show a reviewer, through the command line: a stack named wrongly
answered with what was meant."""

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from federation import cli, exits
from tests.support import PROJECT, base


def main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write(path: Path, config: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump({"config": config}))
    return path


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project directory of two stacks, the working directory."""
    shutil.copy(PROJECT / "Pulumi.yaml", tmp_path)
    for name in ("alpha", "beta"):
        write(tmp_path / f"Pulumi.{name}.yaml", base())
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("words", [["Pulumi.alpha.yaml"], ["-s", "Pulumi.alpha.yaml"]])
def test_a_file_name_where_a_stack_name_goes_hints_at_config(
    capsys: pytest.CaptureFixture[str], project: Path, words: list[str]
) -> None:
    code, out, err = main(capsys, "plan", *words)
    assert (code, out) == (exits.UNREADABLE, "")
    assert err == (
        "error: Pulumi.alpha.yaml is a file name where a stack name goes: give the file with "
        "--config Pulumi.alpha.yaml, or the stack's name (alpha)\n"
    )
    code, _, err = main(capsys, "plan", "stacks/other.yml")
    assert err == (
        "error: stacks/other.yml is a file name where a stack name goes: give the file with --config stacks/other.yml\n"
    )
    code, _, _ = main(capsys, "plan", "--config", "Pulumi.alpha.yaml")
    assert code == exits.OK


def test_a_stack_with_no_file_lists_the_stacks_there(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    code, out, err = main(capsys, "plan", "prod")
    assert (code, out) == (exits.UNREADABLE, "")
    assert err == (
        f"error: no stack file {project / 'Pulumi.prod.yaml'} for stack prod; the stacks there are alpha, beta "
        "(a stack file elsewhere: --config FILE)\n"
    )
    for stack in project.glob("Pulumi.*.yaml"):
        stack.unlink()
    code, _, err = main(capsys, "plan")
    assert err == (
        f"error: no stack file {project / 'Pulumi.dev.yaml'} for stack dev; there are no stack files there "
        "(a stack file elsewhere: --config FILE)\n"
    )
