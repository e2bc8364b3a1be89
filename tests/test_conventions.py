"""One command-line convention, as `pulumi` and `az` users expect: `-s/--stack`,
`-o/--output`, `-y/--yes`, `--version`, and usage naming `federation`; the earlier
spellings still work."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from federation import exits
from federation.cli import main
from tests.fake_arm import FakeArm, Received
from tests.operate_support import UPDATES, Cli, arm, ca, ca_file, federation, outside, stack
from tests.support import PROJECT

__all__ = ["arm", "ca", "ca_file", "federation", "outside", "stack"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("spelling", [["-s", "silo-a"], ["--stack", "silo-a"], ["silo-a"], ["silo-a", "-s", "silo-a"]])
def test_the_stack_is_named_by_s_or_by_its_word(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, spelling: list[str]
) -> None:
    monkeypatch.chdir(PROJECT)
    code, out, _ = run(capsys, "plan", *spelling, "-o", "json")
    assert code == 0
    assert any(r["urn"].startswith("urn:pulumi:silo-a::") for r in json.loads(out)["resources"])


def test_a_stack_named_two_ways_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(PROJECT)
    with pytest.raises(SystemExit) as exited:
        main(["plan", "dev", "-s", "silo-a"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: python -m federation plan ")
    assert "the stack is named twice: dev and --stack silo-a" in err


def test_sync_without_a_received_share_answers_with_its_own_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["sync", "-s", "dev"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: python -m federation sync ")
    assert err.rstrip().endswith("name the received share: sync SHARE_SUBSCRIPTION, or --share-subscription NAME")


@pytest.mark.parametrize("flag", ["-o", "--output", "--format"])
def test_output_is_chosen_with_o_and_still_with_format(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, flag: str
) -> None:
    monkeypatch.chdir(PROJECT)
    code, out, _ = run(capsys, "plan", "-s", "dev", flag, "markdown")
    assert code == 0
    assert out.startswith("**Plan for `dev`**")
    code, out, _ = run(capsys, "diff", "Pulumi.dev.yaml", "Pulumi.dev.yaml", flag, "json")
    assert json.loads(out)["create"] == []


def test_schema_takes_the_stack_and_output_words_of_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, plain, _ = run(capsys, "schema")
    assert code == 0
    code, out, _ = run(capsys, "schema", "-s", "dev", "-o", "json")
    assert (code, out) == (0, plain)
    assert json.loads(out)["title"] == "Pulumi stack file of the federation project"


def test_version_and_the_programs_name(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("python -m federation ")
    monkeypatch.setattr(sys, "argv", ["/usr/local/bin/federation"])
    with pytest.raises(SystemExit):
        main(["plan", "--output", "yaml"])
    assert capsys.readouterr().err.startswith("usage: federation plan ")


def test_the_installed_command_is_federation() -> None:
    found = subprocess.run(
        [str(Path(sys.executable).parent / "federation"), "--version"], capture_output=True, text=True, check=False
    )
    assert found.returncode == 0, found.stderr
    assert found.stdout.startswith("federation 0.")


def test_sync_names_the_received_share_apart_from_the_azure_subscription(arm: FakeArm, federation: Cli) -> None:
    arm.share("global_model")
    arm.share("training_plan")
    arm.received[UPDATES] = Received()
    code, out, _ = federation("sync", "--share-subscription", UPDATES, "-o", "json")
    assert code == 0
    assert json.loads(out)["subscription"] == UPDATES
    code, out, _ = federation("access", "-o", "json")
    assert code == 0
    assert json.loads(out)["subscriptions"][UPDATES]["status"] == "Active"
    code, out, _ = federation("sync", "--share-subscription", UPDATES, "-o", "markdown")
    assert code == 0
    assert out.startswith(f"Snapshot {arm.received[UPDATES].synchronizations[-1]['synchronizationId']} of subscription")


def test_reconcile_takes_y(arm: FakeArm, federation: Cli) -> None:
    arm.share("global_model")
    arm.share("training_plan")
    arm.received[UPDATES] = Received()
    code, out, _ = federation("reconcile", "-y")
    assert (code, out) == (exits.OK, "Live access matches config: nothing to do.\n")


def test_diff_names_its_stack_with_s(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(PROJECT)
    code, out, _ = run(capsys, "diff", "Pulumi.dev.yaml", "Pulumi.dev.yaml", "-s", "prod", "-o", "markdown")
    assert code == 0
    assert out.startswith("**Config change for `prod`**")


def test_each_command_says_the_default_output_it_gives(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["schema", "--help"])
    schema_help = " ".join(capsys.readouterr().out.split())
    assert "{json}" in schema_help
    assert "(default: json)" in schema_help
    with pytest.raises(SystemExit):
        main(["plan", "--help"])
    assert "(default: text)" in " ".join(capsys.readouterr().out.split())


def test_each_exit_code_has_one_name() -> None:
    codes = {name: value for name, value in vars(exits).items() if name.isupper()}
    assert sorted(codes.values()) == sorted(set(codes.values())), codes
    assert codes["PROBLEMS"] == 4


def test_the_package_carries_its_licence() -> None:
    """Apache-2.0, as Pulumi's SDK and the Azure SDK for Python are licensed."""
    from importlib.metadata import metadata

    assert metadata("federation")["License-Expression"] == "Apache-2.0"
    assert (PROJECT / "LICENSE").read_text().split()[:3] == ["Apache", "License", "Version"]
