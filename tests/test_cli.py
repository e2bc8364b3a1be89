"""`python -m federation plan|diff`: offline answers to "what will this config build" and
"what will this change do", with exit codes CI can act on."""

import argparse
import importlib.abc
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from federation import cli, exits
from federation.review import offline
from tests.support import OBJECT, PROJECT, base, received_from


def write(path: Path, config: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump({"config": config}))
    return path


def main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def stacks(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """A base stack file, and a config to edit into a head file."""
    return write(tmp_path / "Pulumi.test.yaml", base()), base()


def test_plan_dev_text_lists_every_resource_under_the_stack(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = main(capsys, "plan", "dev")
    run = offline.run_stack_file(PROJECT / "Pulumi.dev.yaml")
    assert code == 0
    assert " +  pulumi:pulumi:Stack federation-dev" in out
    for resource in run.resources:
        assert f"{resource.type} {resource.name}" in out
    assert f"Resources: + {len(run.resources)} to create" in out
    assert "   3  azure-native:datashare:Invitation" in out
    assert (
        " +        azure-native:datashare:Invitation global_model.hospital-a\n"
        '             expirationDate: "2027-06-30T00:00:00Z"\n'
        '             invitationName: "hospital-a"\n'
        '             targetEmail   : "mlops@hospital-a.example"\n'
    ) in out


def test_plan_json_is_the_recorded_registrations(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = main(capsys, "plan", "--format", "json")
    document = json.loads(out)
    run = offline.run_stack_file(PROJECT / "Pulumi.dev.yaml")
    assert code == 0
    assert set(document) == {"resources", "outputs"}
    assert document["outputs"] == json.loads(json.dumps(run.outputs))
    by_urn = run.by_urn()
    assert {r["urn"] for r in document["resources"]} == set(by_urn)
    for entry in document["resources"]:
        recorded = by_urn[entry["urn"]]
        assert set(entry) == {"urn", "type", "name", "parent", "dependsOn", "inputs", "protect"}
        assert (entry["type"], entry["name"], entry["parent"]) == (recorded.type, recorded.name, recorded.parent)
        assert entry["dependsOn"] == list(recorded.depends_on)
        assert entry["inputs"] == json.loads(json.dumps(recorded.inputs))
    # parents are listed before their children
    seen: set[str] = set()
    for entry in document["resources"]:
        assert entry["parent"] is None or entry["parent"] in seen
        seen.add(entry["urn"])


def test_plan_markdown_starts_with_a_summary(capsys: pytest.CaptureFixture[str], stacks: tuple[Path, Any]) -> None:
    code, out, _ = main(capsys, "plan", "--config", str(stacks[0]), "--format", "markdown")
    assert code == 0
    assert out.startswith("**Plan for `test`**: 17 resources to create")
    assert "<details><summary>+ federation:sharing:Share global_model, and 7 under it</summary>" in out
    assert " +        azure-native:datashare:Invitation global_model.hospital-a\n" in out


def test_diff_adding_a_participant_creates_exactly_its_invitations(
    capsys: pytest.CaptureFixture[str], stacks: tuple[Path, dict[str, Any]]
) -> None:
    base_file, head = stacks
    head["federation:participants"]["lab-c"] = {"tenantId": OBJECT, "objectId": OBJECT}
    code, out, _ = main(
        capsys, "diff", str(base_file), str(write(base_file.with_name("head.yaml"), head)), "--format", "json"
    )
    document = json.loads(out)
    assert code == 0
    assert [(c["type"], c["name"]) for c in document["create"]] == [
        ("azure-native:datashare:Invitation", "global_model.lab-c")
    ]
    assert document["update"] == document["replace"] == document["delete"] == []


def test_diff_removing_a_participant_deletes_and_fails_on_delete(
    capsys: pytest.CaptureFixture[str], stacks: tuple[Path, dict[str, Any]]
) -> None:
    base_file, head = stacks
    del head["federation:participants"]["hospital-a"]
    head_file = write(base_file.with_name("head.yaml"), head)
    code, out, _ = main(capsys, "diff", str(base_file), str(head_file))
    assert code == 0
    assert " -  azure-native:datashare:Invitation global_model.hospital-a" in out
    assert "Resources: + 0 to create, ~ 0 to update, +- 0 to replace, - 1 to delete, 16 unchanged" in out
    code, _, _ = main(capsys, "diff", str(base_file), str(head_file), "--fail-on-delete")
    assert code == exits.DESTRUCTIVE


def test_diff_renaming_a_share_deletes_it_and_its_children_and_creates_the_new_one(
    capsys: pytest.CaptureFixture[str], stacks: tuple[Path, dict[str, Any]]
) -> None:
    base_file, head = stacks
    head["federation:shares"]["global_model_v2"] = head["federation:shares"].pop("global_model")
    code, out, _ = main(
        capsys, "diff", str(base_file), str(write(base_file.with_name("h.yaml"), head)), "--format", "json"
    )
    document = json.loads(out)
    assert code == 0
    children = {"", ".checkpoints", ".holdout", ".labels", ".schedule", ".hospital-a", ".hospital-b"}
    assert {c["name"] for c in document["delete"]} == {f"global_model{s}" for s in children}
    assert {c["name"] for c in document["create"]} == {f"global_model_v2{s}" for s in children}
    assert document["update"] == document["replace"] == []


def test_diff_new_schedule_time_replaces_the_setting_and_names_the_property(
    capsys: pytest.CaptureFixture[str], stacks: tuple[Path, dict[str, Any]]
) -> None:
    base_file, head = stacks
    head["federation:shares"]["global_model"]["schedule"]["start"] = "2026-12-01T03:00:00Z"
    code, out, _ = main(
        capsys, "diff", str(base_file), str(write(base_file.with_name("h.yaml"), head)), "--format", "json"
    )
    document = json.loads(out)
    assert code == 0
    assert document["replace"] == [
        {
            "urn": "urn:pulumi:test::federation::federation:sharing:Share$"
            "azure-native:datashare:ScheduledSynchronizationSetting::global_model.schedule",
            "type": "azure-native:datashare:ScheduledSynchronizationSetting",
            "name": "global_model.schedule",
            "inputs": {"synchronizationTime": {"old": "2026-12-01T02:00:00Z", "new": "2026-12-01T03:00:00Z"}},
            "cascade": False,
            "oldFirst": True,
        }
    ]
    assert document["create"] == document["update"] == document["delete"] == document["fail"] == []


def test_diff_in_place_update_names_old_and_new(
    capsys: pytest.CaptureFixture[str], stacks: tuple[Path, dict[str, Any]]
) -> None:
    base_file, head = stacks
    head["federation:shares"]["global_model"]["description"] = "Round checkpoints"
    head["federation:tags"] = {"costCenter": "fl"}
    code, out, _ = main(capsys, "diff", str(base_file), str(write(base_file.with_name("h.yaml"), head)))
    assert code == 0
    assert ' ~  azure-native:datashare:Share global_model\n        description: (none) => "Round checkpoints"' in out
    assert 'tags.costCenter: (none) => "fl"' in out
    assert "+- 0 to replace" in out


def test_diff_reordering_changes_nothing(
    capsys: pytest.CaptureFixture[str], stacks: tuple[Path, dict[str, Any]]
) -> None:
    base_file, head = stacks
    head["federation:shares"]["global_model"]["datasets"] = dict(
        reversed(head["federation:shares"]["global_model"]["datasets"].items())
    )
    head["federation:participants"] = dict(reversed(head["federation:participants"].items()))
    code, out, _ = main(
        capsys, "diff", str(base_file), str(write(base_file.with_name("h.yaml"), head)), "--fail-on-delete"
    )
    assert code == 0
    assert " no changes" in out


def test_diff_markdown_fits_a_pull_request_comment(
    capsys: pytest.CaptureFixture[str], stacks: tuple[Path, dict[str, Any]]
) -> None:
    base_file, head = stacks
    del head["federation:shares"]["global_model"]["datasets"]["labels"]
    code, out, _ = main(
        capsys, "diff", str(base_file), str(write(base_file.with_name("h.yaml"), head)), "--format", "markdown"
    )
    assert code == 0
    first, *rest = out.splitlines()
    assert first == (
        "**Config change for `test`**: + 0 to create, ~ 0 to update, +- 0 to replace, - 1 to delete, 16 unchanged."
        " **Deletes or replaces resources.**"
    )
    assert "<details><summary>- delete (1)</summary>" in rest
    assert " -  azure-native:datashare:BlobDataSet global_model.labels" in rest


def test_invalid_config_exits_2_with_the_programs_messages(
    capsys: pytest.CaptureFixture[str], stacks: tuple[Path, dict[str, Any]]
) -> None:
    base_file, head = stacks
    head["federation:shares"]["global_model"]["schedule"]["recurrence"] = "Week"
    head_file = write(base_file.with_name("h.yaml"), head)
    code, out, err = main(capsys, "diff", str(base_file), str(head_file))
    assert code == exits.INVALID_CONFIG
    assert out == ""
    assert "federation:shares.global_model.schedule.recurrence: must be 'Hour' or 'Day'; got 'Week'" in err
    code, _, err = main(capsys, "plan", "--config", str(head_file))
    assert code == exits.INVALID_CONFIG
    assert "schedule.recurrence" in err


def test_module_entry_point_reports_without_traceback(tmp_path: Path) -> None:
    config = base()
    config["federation:participants"]["hospital-a"]["email"] = "not-an-email"
    stack = write(tmp_path / "Pulumi.bad.yaml", config)
    done = subprocess.run(
        [sys.executable, "-m", "federation", "plan", "--config", str(stack)],
        capture_output=True,
        text=True,
        cwd=PROJECT,
        check=False,
    )
    assert done.returncode == exits.INVALID_CONFIG
    assert "federation:participants.hospital-a.email" in done.stderr
    assert "Traceback" not in done.stderr


def test_diff_reads_rev_path_from_git(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    stack = write(tmp_path / "Pulumi.test.yaml", base())
    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=ci", "-c", "user.email=ci@example.org", "commit", "-qm", "base")
    config = base()
    config["federation:participants"]["lab-c"] = {"email": "ops@lab-c.example"}
    write(stack, config)
    monkeypatch.chdir(tmp_path)
    code, out, _ = main(capsys, "diff", "HEAD:Pulumi.test.yaml", "Pulumi.test.yaml")
    assert code == 0
    assert " +  azure-native:datashare:Invitation global_model.lab-c" in out
    assert "+ 1 to create" in out
    code, _, err = main(capsys, "diff", "nosuchrev:Pulumi.test.yaml", "Pulumi.test.yaml")
    assert code == 1
    assert err.startswith("error: cannot read nosuchrev:Pulumi.test.yaml from git")


def test_stack_references_are_read_not_created(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = base()
    config["federation:subscriptions"] = {
        "updates": received_from("silo-a", "model_updates", "coordinator", {"update": "eval"})
    }
    stack = write(tmp_path / "Pulumi.test.yaml", config)
    code, out, _ = main(capsys, "plan", "--config", str(stack))
    assert code == 0
    assert " >     pulumi:pulumi:StackReference silo-a" in out
    assert "to create, > 1 to read" in out
    del config["federation:subscriptions"]
    code, out, _ = main(capsys, "diff", str(stack), str(write(tmp_path / "h.yaml", config)), "--format", "json")
    assert "StackReference" not in out
    assert {c["name"] for c in json.loads(out)["delete"]} == {"updates", "updates.update", "models.blob-contributor"}


def test_unreadable_stack_file_is_one_line_not_a_traceback(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    broken = tmp_path / "Pulumi.broken.yaml"
    broken.write_text("config:\n  federation:shares: {oops\n")
    code, out, err = main(capsys, "plan", "--config", str(broken))
    assert code == 1
    assert out == ""
    assert err.startswith(f"error: {broken}:2:22: not valid YAML")
    code, _, err = main(capsys, "diff", str(tmp_path / "missing.yaml"), str(broken))
    assert (code, err) == (1, f"error: no stack file {tmp_path / 'missing.yaml'}\n")


def test_offline_commands_do_not_load_the_azure_sdk() -> None:
    # plan and diff run in every pull request: the Azure SDK (about 0.1 s to import) is
    # for the commands that call Azure.
    code = (
        "import contextlib, io, sys\n"
        "from federation import cli\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert cli.main(['plan', 'dev']) == 0\n"
        "print(sorted({m.split('.')[1] for m in sys.modules if m.startswith('azure.')}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_git_revision_without_git_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "")
    code = cli.main(["diff", "HEAD:Pulumi.dev.yaml", str(PROJECT / "Pulumi.dev.yaml")])
    out, err = capsys.readouterr()
    assert (code, out) == (exits.UNREADABLE, "")
    assert err.startswith("error: cannot read HEAD:Pulumi.dev.yaml from git: ")
    assert len(err.splitlines()) == 1


def test_ctrl_c_is_one_line_and_exit_130(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(offline, "run", interrupted)
    code = cli.main(["plan", "dev"])
    assert (code, capsys.readouterr().err) == (exits.INTERRUPTED, "interrupted\n")


def test_markdown_shows_a_value_as_written_whatever_it_holds(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = base()
    config["federation:shares"]["global_model"]["description"] = "checkpoints | round ```42``` </details>"
    stack = write(tmp_path / "Pulumi.test.yaml", config)
    code, out, _ = main(capsys, "plan", "--config", str(stack), "--format", "markdown")
    assert code == 0
    # The share's code block is fenced with more backticks than the value holds, so the
    # value cannot end it, nor the folded block around it.
    fold = out.split("<summary>+ federation:sharing:Share global_model", 1)[1]
    assert fold.split("\n")[2] == "````"
    assert 'description: "checkpoints | round ```42``` </details>"\n' in fold.split("\n````\n")[1]


def test_ctrl_c_while_the_command_line_loads_or_reads_its_words_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    class Interrupting(importlib.abc.MetaPathFinder):
        def find_spec(self, name: str, *_: object) -> None:
            if name == "federation.cli.dispatch":
                raise KeyboardInterrupt

    monkeypatch.delitem(sys.modules, "federation.cli.dispatch", raising=False)
    monkeypatch.delattr(cli, "dispatch", raising=False)
    monkeypatch.setattr(sys, "meta_path", [Interrupting(), *sys.meta_path])
    assert cli.main(["plan", "dev"]) == exits.INTERRUPTED
    assert capsys.readouterr().err == "interrupted\n"
    monkeypatch.undo()

    def interrupted(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", interrupted)
    assert cli.main(["plan", "dev"]) == exits.INTERRUPTED
    assert capsys.readouterr().err == "interrupted\n"
