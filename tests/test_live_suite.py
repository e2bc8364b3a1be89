"""The live suite (tests_live/) as far as it can be checked here: without credentials or a
Pulumi CLI it fails in one line instead of passing; the default test command leaves it out;
its stack templates are stacks the program, the policy pack and `diff` accept; the janitor
deletes only expired groups of a run; engine events become the steps the diff predicts."""

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from pulumi import automation as auto

from federation import cli, exits
from tests import recording
from tests.clock import CLOCK
from tests_live import automation, janitor, preflight, stacks

ROOT = Path(__file__).resolve().parent.parent
TENANT = "3b7d9c1e-5a2f-4e8b-b6d4-2c9f0e1a7b53"
OBJECT = "8e4a6f20-1c3d-4b5e-9f7a-6d2c0b8e1f94"
RUN = stacks.Run("0a1b2c3d4e", CLOCK, "westeurope", "81.2.69.160", TENANT, OBJECT, "ops@federation-live.example")


@pytest.mark.parametrize("flag", [None, "1"], ids=["flag-unset", "flag-set"])
def test_the_live_suite_fails_in_one_line_without_credentials_or_pulumi(flag: str | None, tmp_path: Path) -> None:
    # Nothing to sign in with and no pulumi: an empty PATH (no az either) and an empty HOME.
    env = {"PATH": str(tmp_path), "HOME": str(tmp_path)} | ({"FEDERATION_LIVE": flag} if flag else {})
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "tests_live", "-p", "no:cacheprovider"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith("ERROR: the live suite cannot run: missing ")
    for named in ("Pulumi CLI 3.200.0 or later", "Azure credentials", "ARM_SUBSCRIPTION_ID"):
        assert named in lines[0]
    assert ("FEDERATION_LIVE=1" in lines[0]) == (flag is None)
    assert "passed" not in lines[0]
    assert "skipped" not in lines[0]


def test_the_default_test_command_leaves_the_live_suite_out(request: pytest.FixtureRequest) -> None:
    assert request.config.getini("testpaths") == ["tests"]
    assert not any("tests_live" in str(item.path) for item in request.session.items)
    assert "tests_live.conftest" not in sys.modules


def test_preflight_names_an_old_pulumi_and_takes_az_login() -> None:
    environ = {"FEDERATION_LIVE": "1", "ARM_SUBSCRIPTION_ID": "x"}
    found = preflight.missing(environ, which=lambda name: f"/bin/{name}", version=lambda _: (3, 150, 2))
    assert found[0] == "a Pulumi CLI 3.200.0 or later on PATH (found 3.150.2)"
    assert not any("credentials" in line for line in found)  # `az` is on PATH
    without_az = preflight.missing(
        environ | {"ARM_CLIENT_ID": "a", "ARM_TENANT_ID": "b"},
        which=lambda name: None if name == "az" else f"/bin/{name}",
        version=lambda _: (3, 272, 0),
    )
    assert any(line.startswith("Azure credentials") for line in without_az)


def write(path: Path, stack: dict[str, object]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(stack))
    return path


def federation(*argv: str) -> recording.Outcome:
    return recording.run_cli(lambda: cli.main(list(argv)))


def test_the_live_stacks_are_stacks_the_program_and_the_policy_pack_accept(tmp_path: Path) -> None:
    coordinator = write(tmp_path / f"Pulumi.{RUN.coordinator}.yaml", stacks.coordinator(RUN))
    planned = federation("plan", "--config", str(coordinator), "-o", "json")
    assert planned.code == 0, planned.stderr
    plan = json.loads(planned.stdout)
    group = next(r for r in plan["resources"] if r["type"] == "azure-native:resources:ResourceGroup")
    # Every resource group carries the run's id and its expiry: what the janitor reads.
    assert group["inputs"]["tags"][stacks.RUN_TAG] == RUN.id
    assert group["inputs"]["tags"][stacks.EXPIRES_TAG] == stacks.utc(CLOCK + stacks.LIFETIME)
    invitation = next(r for r in plan["resources"] if r["type"] == "azure-native:datashare:Invitation")
    assert (invitation["inputs"]["targetActiveDirectoryId"], invitation["inputs"]["targetObjectId"]) == (
        TENANT,
        OBJECT,
    )
    policy = automation.policy(tmp_path, [TENANT])
    checked = federation("check", "--config", str(coordinator), "--policy-config", str(policy))
    assert checked.code == 0, checked.stdout + checked.stderr
    # The participant reads the coordinator's outputs through its stack reference.
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(plan["outputs"]))
    participant = write(tmp_path / f"Pulumi.{RUN.participant}.yaml", stacks.participant(RUN))
    sender = f"--outputs=organization/federation/{RUN.coordinator}={outputs}"
    planned = federation("plan", "--config", str(participant), "-o", "json", sender)
    assert planned.code == 0, planned.stderr
    types = {r["type"] for r in json.loads(planned.stdout)["resources"]}
    assert "azure-native:datashare:ShareSubscription" in types
    checked = federation("check", "--config", str(participant), "--policy-config", str(policy), sender)
    assert checked.code == 0, checked.stdout + checked.stderr


def predicted_change(tmp_path: Path, head: dict[str, object]) -> tuple[set[tuple[str, str]], dict[str, int]]:
    base = write(tmp_path / "base" / f"Pulumi.{RUN.coordinator}.yaml", stacks.coordinator(RUN))
    changed = write(tmp_path / "head" / f"Pulumi.{RUN.coordinator}.yaml", head)
    done = federation("diff", str(base), str(changed), "-o", "json")
    assert done.code == exits.OK, done.stderr
    return automation.predicted(done.stdout)


def test_the_live_schedule_change_is_one_replacement_the_engine_can_be_held_to(tmp_path: Path) -> None:
    moved = stacks.rescheduled(stacks.coordinator(RUN), "global_model", "2026-12-06T03:00:00Z")
    steps, counts = predicted_change(tmp_path, moved)
    urn = f"urn:pulumi:{RUN.coordinator}::federation::federation:sharing:Share$azure-native:datashare:"
    assert steps == {("replace", f"{urn}ScheduledSynchronizationSetting::global_model.schedule")}
    assert counts == {"replace": 1}


def test_offboarding_in_the_live_suite_deletes_only_the_invitation(tmp_path: Path) -> None:
    steps, counts = predicted_change(tmp_path, stacks.without_participants(stacks.coordinator(RUN)))
    assert counts == {"delete": 1}
    assert [urn.rsplit("::", 1)[1] for _, urn in steps] == ["global_model.silo"]


def event(op: str, urn: str, logical: bool = True) -> auto.EngineEvent:
    metadata = {"op": op, "urn": urn, "type": "t", "provider": "", "logical": logical}
    return auto.EngineEvent.from_json({"sequence": 1, "timestamp": 0, "resourcePreEvent": {"metadata": metadata}})


def test_engine_events_become_steps_and_summaries_as_the_diff_names_them() -> None:
    steps = automation.Steps()
    for op in ("same", "delete-replaced", "replace", "create-replacement", "refresh"):
        steps(event(op, "urn:a"))
    steps(event("create", "urn:b"))
    steps(auto.EngineEvent.from_json({"sequence": 2, "timestamp": 0, "summaryEvent": {"resourceChanges": {}}}))
    assert steps.steps == {("replace", "urn:a"), ("create", "urn:b")}
    assert automation.summary({auto.OpType.SAME: 40, auto.OpType.REPLACE: 1, "create": 0}) == {"replace": 1}


def test_the_janitor_deletes_only_expired_groups_of_a_run() -> None:
    past, future = stacks.utc(CLOCK - timedelta(minutes=1)), stacks.utc(CLOCK + timedelta(hours=1))
    groups = [
        janitor.Group("expired", {stacks.RUN_TAG: "a", stacks.EXPIRES_TAG: past}),
        janitor.Group("running", {stacks.RUN_TAG: "b", stacks.EXPIRES_TAG: future}),
        janitor.Group("not-a-run", {stacks.EXPIRES_TAG: past}),
        janitor.Group("unreadable", {stacks.RUN_TAG: "c", stacks.EXPIRES_TAG: "soon"}),
        janitor.Group("no-expiry", {stacks.RUN_TAG: "d"}),
    ]
    assert [g.name for g in janitor.expired(groups, CLOCK)] == ["expired"]


def test_the_live_suite_is_marked_live() -> None:
    source = (ROOT / "tests_live" / "test_scenario.py").read_text()
    assert "pytestmark = pytest.mark.live" in source
    assert os.path.isfile(ROOT / "tests_live" / "requirements.txt")
