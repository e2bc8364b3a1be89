"""The handoff: what a participant pastes into its stack file to receive a sender's shares.
With its placeholders filled, it is a valid receiver config carrying the sender's ids."""

import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from federation import cli, config, exits
from federation.review import offline
from tests.support import PROJECT, base, received_from, run, run_ok

DEV = PROJECT / "Pulumi.dev.yaml"


@pytest.fixture(scope="module")
def sender() -> offline.Run:
    return offline.run_stack_file(DEV)


def handoff(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(["handoff", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def receiver(pasted: dict[str, Any]) -> dict[str, Any]:
    """A participant's stack that receives into its storage `silo`, with the pasted entries,
    each placeholder filled with a container or path of the same form."""
    subscriptions = pasted["federation:subscriptions"]
    for entry in subscriptions.values():
        for target in entry["datasets"].values():
            assert all(str(v).startswith(config.PLACEHOLDER) for v in target.values())
            target.update(storage="silo", container="incoming")
            target.update({form: f"from-dev/{form}" for form in ("folder", "file") if form in target})
    return {
        "azure-native:location": "northeurope",
        "federation:storage": {"silo": {"name": "stsilob", "containers": ["incoming"]}},
        "federation:subscriptions": subscriptions,
    }


def test_filled_handoff_is_a_receiver_config_with_the_senders_ids(
    capsys: pytest.CaptureFixture[str], sender: offline.Run
) -> None:
    code, out, _ = handoff(capsys, "hospital-b")
    assert code == 0
    received = run_ok(receiver(yaml.safe_load(out)), "silo-b")
    shares = sender.outputs["shares"]
    assert {s.name for s in received.of_type("azure-native:datashare:ShareSubscription")} == set(shares)
    for name in ("global_model", "training_plan"):
        subscription = received.named("azure-native:datashare:ShareSubscription", name)
        assert subscription.inputs["invitationId"] == shares[name]["invitations"]["hospital-b"]
        assert subscription.inputs["sourceShareLocation"] == "westeurope"
        # The earlier of the share's expiry and hospital-b's.
        assert subscription.inputs["expirationDate"] == "2027-03-31T00:00:00Z"
        mappings = [r for r in received.resources if r.parent == subscription.parent and "dataSetId" in r.inputs]
        assert {r.inputs["dataSetId"] for r in mappings} == set(shares[name]["datasets"].values())
    # Each mapping has the form of the sender's dataset: a file lands as a file.
    labels = shares["global_model"]["datasets"]["labels"]
    mapping = received.named("azure-native:datashare:BlobDataSetMapping", f"global_model.{labels}")
    assert mapping.inputs["filePath"] == "from-dev/file"


def test_comments_name_each_dataset_and_kind_and_mark_stand_ins(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = handoff(capsys, "hospital-a")
    assert "# The ids are STAND-INS from an offline run" in out
    assert "# labels: Blob (BlobDataSet), eval/holdout/labels.csv in the sender's storage models" in out
    assert "training_plan" not in out  # hospital-a is not invited to it
    invitation = next(line for line in out.splitlines() if "invitationId" in line)
    assert invitation.endswith("# stand-in")


def test_unfilled_placeholders_fail_validation_naming_each(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = handoff(capsys, "hospital-a")
    stack = receiver(yaml.safe_load(out))
    labels = next(k for k, v in stack["federation:subscriptions"]["global_model"]["datasets"].items() if "file" in v)
    stack["federation:subscriptions"]["global_model"]["datasets"][labels]["file"] = "FILL IN: a file path"
    stack["federation:subscriptions"]["global_model"]["datasets"][labels]["storage"] = "FILL IN: a storage key"
    result = run(stack, "silo-b")
    assert isinstance(result.error, config.ConfigError)
    where = f"federation:subscriptions.global_model.datasets.{labels}"
    says = "is a placeholder from the handoff: set it to where the data lands in this stack"
    assert result.error.problems == [
        f"{where}.storage: {says}; got 'FILL IN: a storage key'",
        f"{where}.file: {says}; got 'FILL IN: a file path'",
    ]
    assert result.resources == ()


def test_outputs_give_the_senders_real_ids(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sender: offline.Run
) -> None:
    outputs = json.loads(json.dumps(sender.outputs))
    outputs["shares"]["global_model"]["invitations"]["hospital-a"] = "11111111-2222-4333-8444-555555555555"
    outputs["shares"]["global_model"]["datasets"]["holdout"] = "66666666-7777-4888-9999-000000000000"
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    code, out, _ = handoff(capsys, "hospital-a", "--outputs", str(path))
    assert code == 0
    assert "stand-in" not in out.lower()
    entry = yaml.safe_load(out)["federation:subscriptions"]["global_model"]
    assert entry["invitationId"] == "11111111-2222-4333-8444-555555555555"
    assert "66666666-7777-4888-9999-000000000000" in entry["datasets"]
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(outputs)))
    assert handoff(capsys, "hospital-a", "dev", "--outputs", "-")[1] == out


def test_outputs_lacking_an_id_or_not_json_are_one_line_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"shares": {"global_model": {"invitations": {}}}}))
    code, out, err = handoff(capsys, "hospital-a", "--outputs", str(path))
    assert (code, out) == (exits.INVALID_CONFIG, "")
    assert err == "error: the sender's outputs have no shares.global_model.invitations.hospital-a\n"
    path.write_text("Current stack outputs (7):")
    code, _, err = handoff(capsys, "hospital-a", "--outputs", str(path))
    assert code == 1
    assert err.startswith(f"error: {path} is not JSON")


def test_unknown_participant_exits_2_naming_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = handoff(capsys, "hospital-c", "--config", str(DEV))
    assert (code, out) == (exits.INVALID_CONFIG, "")
    assert err == "error: hospital-c is not a participant of stack dev (known: hospital-a, hospital-b)\n"


@pytest.mark.parametrize(
    ("path", "value", "shown"),
    [
        (("invitations", "hospital-a"), None, "null"),
        (("datasets", "holdout"), 5, "5"),
        (("datasets", "labels"), {"id": "x"}, '{"id": "x"}'),
        (("invitations", "hospital-a"), "not-a-guid", '"not-a-guid"'),
    ],
)
def test_outputs_holding_anything_but_a_guid_where_an_id_goes_are_refused(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    sender: offline.Run,
    path: tuple[str, str],
    value: Any,
    shown: str,
) -> None:
    outputs = json.loads(json.dumps(sender.outputs))
    outputs["shares"]["global_model"][path[0]][path[1]] = value
    file = tmp_path / "outputs.json"
    file.write_text(json.dumps(outputs))
    code, out, err = handoff(capsys, "hospital-a", "--outputs", str(file))
    assert (code, out) == (exits.INVALID_CONFIG, "")
    where = f"shares.global_model.{'.'.join(path)}"
    guid = "a GUID such as 00000000-0000-0000-0000-000000000000"
    assert err == f"error: the sender's outputs at {where}: must be {guid}; got {shown}\n"


def test_outputs_of_another_account_are_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, sender: offline.Run
) -> None:
    outputs = json.loads(json.dumps(sender.outputs))
    file = tmp_path / "outputs.json"
    outputs["accountName"] = "DSA-FL-DEV"  # Azure names are case-insensitive
    file.write_text(json.dumps(outputs))
    assert handoff(capsys, "hospital-a", "--outputs", str(file))[0] == 0
    outputs["accountName"] = "dsa-fl-prod"
    file.write_text(json.dumps(outputs))
    code, out, err = handoff(capsys, "hospital-a", "--outputs", str(file))
    assert (code, out) == (exits.INVALID_CONFIG, "")
    assert (
        err
        == 'error: the outputs are another stack\'s: their accountName is "dsa-fl-prod", stack dev\'s is "dsa-fl-dev"\n'
    )


def test_every_dataset_the_sender_deployed_is_handed_off_or_the_handoff_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, sender: offline.Run
) -> None:
    """A dataset the deployed share holds (its outputs) and the stack file lacks would be
    left out of the handoff, and the receiver would never map it."""
    outputs = json.loads(json.dumps(sender.outputs))
    outputs["shares"]["global_model"]["datasets"]["metrics"] = "66666666-7777-4888-9999-000000000000"
    file = tmp_path / "outputs.json"
    file.write_text(json.dumps(outputs))
    code, out, err = handoff(capsys, "hospital-a", "--config", str(DEV), "--outputs", str(file))
    assert (code, out) == (exits.INVALID_CONFIG, "")
    assert err == (
        "error: the sender's outputs have datasets of share global_model that stack dev's config lacks: metrics; "
        "they are of another version of the stack file: deploy this one (pulumi up), then hand off with its outputs\n"
    )
    # The stack file as deployed: every dataset of the share is handed off.
    deployed = yaml.safe_load(DEV.read_text())
    deployed["config"]["federation:shares"]["global_model"]["datasets"]["metrics"] = {
        "storage": "models",
        "container": "eval",
        "file": "metrics.json",
    }
    stack = tmp_path / "Pulumi.dev.yaml"
    stack.write_text(yaml.safe_dump(deployed))
    code, out, _ = handoff(capsys, "hospital-a", "--config", str(stack), "--outputs", str(file))
    assert code == 0
    handed = yaml.safe_load(out)["federation:subscriptions"]["global_model"]["datasets"]
    assert set(handed) == set(outputs["shares"]["global_model"]["datasets"].values())
    assert len(handed) == 4
    assert "# metrics: Blob (BlobDataSet), eval/metrics.json in the sender's storage models" in out


def test_outputs_giving_two_datasets_one_id_are_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, sender: offline.Run
) -> None:
    """The receiver would get one mapping for the two, in a config it refuses."""
    outputs = json.loads(json.dumps(sender.outputs))
    datasets = outputs["shares"]["global_model"]["datasets"]
    datasets["labels"] = datasets["holdout"].upper()  # ids are case-insensitive
    file = tmp_path / "outputs.json"
    file.write_text(json.dumps(outputs))
    code, out, err = handoff(capsys, "hospital-a", "--config", str(DEV), "--outputs", str(file))
    assert (code, out) == (exits.INVALID_CONFIG, "")
    assert err == (
        "error: the sender's outputs give shares.global_model.datasets.holdout and shares.global_model.datasets.labels "
        f"the same id, {datasets['labels']}: Data Share gives each dataset its own\n"
    )


@pytest.fixture
def relay(tmp_path: Path) -> Path:
    """A stack that sends shares and itself receives one, by `from`, from a stack of another
    project: it cannot be run offline here."""
    stack = base()
    stack["federation:subscriptions"] = {
        "updates": received_from("org/other-repo/coordinator", "model_updates", "relay", {"update": "eval"})
    }
    path = tmp_path / "Pulumi.test.yaml"
    path.write_text(yaml.safe_dump({"config": stack}))
    return path


def test_outputs_make_a_handoff_for_a_stack_that_cannot_run_offline(
    capsys: pytest.CaptureFixture[str], relay: Path, tmp_path: Path
) -> None:
    outputs = json.loads(json.dumps(run_ok(base()).outputs))
    outputs["shares"]["global_model"]["invitations"]["hospital-a"] = "11111111-2222-4333-8444-555555555555"
    file = tmp_path / "outputs.json"
    file.write_text(json.dumps(outputs))
    code, out, err = handoff(capsys, "hospital-a", "--config", str(relay), "--outputs", str(file))
    assert (code, err) == (0, "")
    entry = yaml.safe_load(out)["federation:subscriptions"]["global_model"]
    assert entry["invitationId"] == "11111111-2222-4333-8444-555555555555"
    assert set(entry["datasets"]) == set(outputs["shares"]["global_model"]["datasets"].values())


def test_without_outputs_a_stack_that_cannot_run_offline_is_asked_for_its_own(
    capsys: pytest.CaptureFixture[str], relay: Path
) -> None:
    code, out, err = handoff(capsys, "hospital-a", "--config", str(relay))
    assert (code, out) == (exits.NO_SENDER_OUTPUTS, "")
    assert err == (
        "federation:subscriptions.updates.from.stack: sender stack org/other-repo/coordinator has no stack file "
        "here; running stack test offline for stand-in ids needs it: give stack test's own outputs with --outputs FILE "
        "(what `pulumi stack output --json --stack test` prints)\n"
    )
    assert "STACK=FILE" not in err  # an option of plan and diff, not of handoff


def test_handoff_as_json_and_markdown_says_what_the_yaml_says(capsys: pytest.CaptureFixture[str]) -> None:
    _, text, _ = handoff(capsys, "hospital-a", "--config", str(DEV))
    code, out, _ = handoff(capsys, "hospital-a", "--config", str(DEV), "-o", "json")
    assert code == exits.OK
    document = json.loads(out)
    assert (document["stack"], document["participant"], document["standIns"]) == ("dev", "hospital-a", True)
    assert document["config"] == yaml.safe_load(text)
    assert set(document["datasets"]) == set(document["config"]["federation:subscriptions"]["global_model"]["datasets"])
    assert document["senderSnapshots"]["global_model"] == {"recurrence": "Day", "start": "2026-12-01T02:00:00Z"}
    code, out, _ = handoff(capsys, "hospital-a", "--config", str(DEV), "--output", "markdown")
    assert code == exits.OK
    assert out.startswith("**Handoff from `dev` to `hospital-a`**: paste the block under `config:`")
    assert "**The ids are stand-ins**" in out
    assert out.endswith(f"\n\n```yaml\n{text}```\n")
