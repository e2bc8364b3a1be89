"""Stacks that import Pulumi ESC environments: offline review says which it did not read,
and takes their values from `pulumi config --json --show-secrets`, which opens them."""

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from federation import exits
from federation.cli import main
from tests.support import PROJECT

ENVIRONMENT = "cardio-fl/participants@v3"
UNREAD = (
    "imports the Pulumi ESC environment cardio-fl/participants@v3, not read offline: the values it gives are "
    "missing here; to review with them, pass `--config-json -` from `pulumi config --json --show-secrets`, "
    "which opens them"
)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def dev() -> dict[str, Any]:
    return yaml.safe_load((PROJECT / "Pulumi.dev.yaml").read_text())  # type: ignore[no-any-return]


def importing(tmp_path: Path, document: dict[str, Any], name: str = "Pulumi.dev.yaml") -> Path:
    """The stack file with the participant list moved out into an environment it imports:
    the consortium pattern, one list in one environment."""
    document = dict(document, environment=[ENVIRONMENT])
    document["config"] = {k: v for k, v in document["config"].items() if k != "federation:participants"}
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document))
    return path


def opened(document: dict[str, Any]) -> str:
    """What `pulumi config --json --show-secrets` prints for the stack: its own keys and
    what the environment gives, each as {value, secret} (objects also as objectValue)."""
    config: dict[str, Any] = {}
    for key, value in document["config"].items():
        if isinstance(value, str):
            config[key] = {"value": value, "secret": False}
        else:
            config[key] = {"value": json.dumps(value), "objectValue": value, "secret": False}
    return json.dumps(config)


def test_a_stack_whose_values_come_from_an_environment_says_so_before_its_problems(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = importing(tmp_path, dev())
    code, out, err = run(capsys, "plan", "--config", str(path))
    assert (code, out) == (exits.INVALID_CONFIG, "")
    first, *rest = err.splitlines()
    assert first == f"warning: {path} {UNREAD}"
    assert any("federation:participants" in line for line in rest)


def test_an_environment_not_read_is_a_warning_in_plan_and_check(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Here the stack file holds every value itself: the review runs, and still says what
    it did not read, in the log and in the comment."""
    document = dev()
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(yaml.safe_dump(dict(document, environment=[ENVIRONMENT])))
    code, _, err = run(capsys, "plan", "--config", str(path))
    assert code == exits.OK
    assert f"warning: {path} {UNREAD}" in err.splitlines()
    code, markdown, _ = run(capsys, "plan", "--config", str(path), "-o", "markdown")
    assert code == exits.OK
    assert f"- {path} {UNREAD}" in markdown
    code, markdown, err = run(capsys, "check", "--config", str(path), "-o", "markdown")
    assert code == exits.OK
    assert f"warning: {path} {UNREAD}" in err.splitlines()
    assert f"- {path} {UNREAD}" in markdown
    code, _, err = run(capsys, "plan", "--config", str(PROJECT / "Pulumi.dev.yaml"))
    assert code == exits.OK
    assert "ESC" not in err


def test_config_json_reviews_with_the_environments_values(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = importing(tmp_path, dev())
    values = tmp_path / "config.json"
    values.write_text(opened(dev()))
    code, out, err = run(capsys, "plan", "--config", str(path), "--config-json", str(values), "-o", "json")
    assert (code, err) == (exits.OK, "")
    invitations = [r for r in json.loads(out)["resources"] if r["type"] == "azure-native:datashare:Invitation"]
    assert {r["inputs"]["invitationName"] for r in invitations} >= {"hospital-a", "hospital-b"}
    code, out, err = run(capsys, "check", "--config", str(path), "--config-json", str(values))
    assert (code, err) == (exits.OK, "")


def test_diff_takes_the_environments_values_under_both_sides(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A change to the stack file's own keys, reviewed with the participant list the
    environment gives both sides: exactly the change, nothing from the environment."""
    base = importing(tmp_path, dev(), "Pulumi.base.yaml")
    changed = dev()
    changed["config"]["federation:shares"]["global_model"]["schedule"]["recurrence"] = "Hour"
    head = importing(tmp_path, changed, "Pulumi.head.yaml")
    values = tmp_path / "config.json"
    values.write_text(opened(changed))
    code, _, err = run(capsys, "diff", str(base), str(head))
    assert code == exits.INVALID_CONFIG
    assert UNREAD in err
    code, out, err = run(capsys, "diff", str(base), str(head), "--config-json", str(values), "-o", "json")
    assert (code, err) == (exits.OK, "")
    change = json.loads(out)
    assert [step["name"] for step in change["replace"]] == ["global_model.schedule"], change
    assert change["create"] == change["delete"] == change["update"] == change["fail"] == []


def test_diff_of_a_moved_environment_tag_shows_the_members_it_adds(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Onboarding by moving the pinned tag: BASE opens @v3, HEAD @v4 with lab-c added. Each
    side gets its own environment's values, so the diff is lab-c's invitations, nothing else."""
    before = dev()
    after = dev()
    after["config"]["federation:participants"]["lab-c"] = {"email": "data@lab-c.example"}
    base = importing(tmp_path, before, "Pulumi.base.yaml")
    head_document = yaml.safe_load(importing(tmp_path, after, "Pulumi.head.yaml").read_text())
    head_document["environment"] = ["cardio-fl/participants@v4"]
    head = tmp_path / "Pulumi.head.yaml"
    head.write_text(yaml.safe_dump(head_document))
    (tmp_path / "base.json").write_text(opened(before))
    (tmp_path / "head.json").write_text(opened(after))
    argv = ["diff", str(base), str(head), "-o", "json", "--config-json", str(tmp_path / "head.json")]
    code, out, err = run(capsys, *argv, "--base-config-json", str(tmp_path / "base.json"))
    assert (code, err) == (exits.OK, "")
    change = json.loads(out)
    assert [step["name"] for step in change["create"]] == ["global_model.lab-c"]
    assert change["delete"] == change["update"] == change["replace"] == change["fail"] == []
    # Without BASE's own values, both sides get HEAD's: the new member does not show.
    code, out, _ = run(capsys, *argv)
    assert (code, json.loads(out)["create"]) == (exits.OK, [])
    code, _, err = run(capsys, *argv[:-2], "--config-json", "-", "--base-config-json", "-")
    assert code == exits.UNREADABLE
    assert err == "error: --config-json and --base-config-json cannot both read stdin: give one as a file\n"
