"""Secrets stay secret: a key set with `pulumi config set --secret` reaches Pulumi as
secret inputs (encrypted in state), and offline a `secure:` value plans and diffs as
[secret] in every output format."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from federation import cli, config, exits
from federation.config import expiry, stackfile
from federation.review import diff, offline
from federation.review.offline import Secret
from tests.support import base

INVITATION = "azure-native:datashare:Invitation"


def run_secret(cfg: dict[str, Any], *keys: str) -> offline.Run:
    return offline.run(stackfile.config_values(cfg), "test", secret_keys=frozenset(keys))


def test_a_secret_key_reaches_the_engine_as_secret_inputs() -> None:
    # As `pulumi up` runs it: plain values, and the key named secret.
    result = run_secret(base(), "federation:participants")
    assert result.error is None, str(result.error)
    by_email = result.named(INVITATION, "global_model.hospital-a")
    assert by_email.inputs["targetEmail"] == Secret("mlops@hospital-a.example")
    by_id = result.named(INVITATION, "global_model.hospital-b")
    assert isinstance(by_id.inputs["targetObjectId"], Secret)
    assert isinstance(by_id.inputs["targetActiveDirectoryId"], Secret)
    assert isinstance(by_id.inputs["expirationDate"], Secret)
    # What is not derived from the secret key stays plain.
    assert by_id.inputs["invitationName"] == "hospital-b"
    share = result.named("azure-native:datashare:Share", "global_model")
    assert not any(isinstance(v, Secret) for v in share.inputs.values())


def test_without_secret_keys_nothing_is_secret() -> None:
    result = run_secret(base())
    assert result.named(INVITATION, "global_model.hospital-a").inputs["targetEmail"] == "mlops@hospital-a.example"


def test_every_input_carrying_a_secret_text_is_registered_secret() -> None:
    keys = frozenset({"federation:participants", "federation:storage"})
    texts = config.parse(stackfile.config_values(base()), "test", keys).secret_texts()
    assert texts
    result = run_secret(base(), *keys)
    leaks = [(r.urn, leaf) for r in result.resources for leaf in _plain_leaves(r.inputs) if leaf in texts]
    assert leaks == []
    marked = {r.urn for r in result.resources if any(True for _ in _secrets(r.inputs))}
    assert {r.name for r in result.resources if r.urn in marked} >= {
        "global_model.hospital-a",
        "global_model.hospital-b",
    }
    # Storage names and ids stay plain: they are in resource ids (see below).
    assert not isinstance(result.outputs["storage"], Secret)


def _plain_leaves(value: Any) -> Any:
    """Every text not inside a Secret."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _plain_leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from _plain_leaves(v)


def _secrets(value: Any) -> Any:
    if isinstance(value, Secret):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _secrets(v)
    elif isinstance(value, list):
        for v in value:
            yield from _secrets(v)


def test_load_reads_secret_keys_from_the_engines_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(stackfile.config_values(base())))
    monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", json.dumps(["federation:participants"]))
    values = stackfile.config_values(base())
    loaded = offline.run(values, "test", secret_keys=frozenset())  # runtime set: none
    assert loaded.named(INVITATION, "global_model.hospital-a").inputs["targetEmail"] == Secret(
        "mlops@hospital-a.example"
    )


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("federation:tags", {"costCenter": "fl"}),
        ("federation:environment", "dev"),
        ("federation:resourceGroup", "rg-x"),
        ("azure-native:location", "westeurope"),
    ],
)
def test_keys_that_cannot_be_secret_are_refused(key: str, value: Any) -> None:
    cfg = base() | {key: value}
    with pytest.raises(config.ConfigError) as refused:
        config.parse(stackfile.config_values(cfg), "test", frozenset({key}))
    assert refused.value.problems[0].startswith(f"{key}: cannot be a secret: ")


def secure_stack(tmp_path: Path, name: str, ciphertext: str) -> Path:
    text = yaml.safe_dump({"config": base()})
    document = yaml.safe_load(text)
    document["config"]["federation:participants"]["hospital-a"]["email"] = {"secure": ciphertext}
    document["config"]["federation:participants"]["hospital-b"]["objectId"] = {"secure": "v1:b"}
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document))
    return path


def main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_secure_values_plan_as_secret_in_every_format(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    stack = secure_stack(tmp_path, "Pulumi.test.yaml", "v1:AAAA")
    code, out, err = main(capsys, "plan", "--config", str(stack))
    assert (code, err) == (0, "")
    assert 'invitationName: "hospital-a"\n             targetEmail   : [secret]\n' in out
    assert "targetObjectId         : [secret]" in out
    assert "secret.example" not in out
    code, out, _ = main(capsys, "plan", "--config", str(stack), "--format", "markdown")
    assert code == 0
    assert "targetEmail   : [secret]" in out
    code, out, _ = main(capsys, "plan", "--config", str(stack), "--format", "json")
    invitation = next(r for r in json.loads(out)["resources"] if r["name"] == "global_model.hospital-a")
    assert invitation["inputs"]["targetEmail"] == "[secret]"
    assert "secret.example" not in out


def test_a_changed_secret_diffs_as_secret(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    before = secure_stack(tmp_path, "Pulumi.test.yaml", "v1:AAAA")
    after = secure_stack(tmp_path, "head.yaml", "v1:BBBB")
    code, out, _ = main(capsys, "diff", str(before), str(after))
    assert code == 0
    assert " +- azure-native:datashare:Invitation global_model.hospital-a" in out
    assert "targetEmail: [secret] => [secret]" in out
    code, out, _ = main(capsys, "diff", str(before), str(after), "--format", "json")
    replaced = json.loads(out)["replace"]
    assert replaced[0]["inputs"]["targetEmail"] == {"old": "[secret]", "new": "[secret]"}
    code, out, _ = main(capsys, "diff", str(before), str(before), "--format", "markdown")
    assert "+ 0 to create, ~ 0 to update, +- 0 to replace, - 0 to delete" in out


def test_a_secure_tag_is_a_config_problem(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    document = {"config": base() | {"federation:tags": {"owner": {"secure": "v1:xyz"}}}}
    stack = tmp_path / "Pulumi.test.yaml"
    stack.write_text(yaml.safe_dump(document))
    code, out, err = main(capsys, "plan", "--config", str(stack))
    assert (code, out) == (exits.INVALID_CONFIG, "")
    assert "federation:tags: cannot be a secret: tags are readable by anyone" in err


def _received(cfg: dict[str, Any]) -> dict[str, Any]:
    """`base()` receiving updates into a `hospital-a` folder, from a sender in the
    coordinator's own region: texts that plain config holds too."""
    cfg["federation:storage"]["models"]["containers"].append("updates")
    cfg["federation:subscriptions"] = {
        "updates": {
            "invitationId": "0d9e4c3b-7a61-4f2e-9b58-3c1a2e7f6d40",
            "sourceLocation": "westeurope",
            "datasets": {
                "5a1f7e92-3c4d-4b6a-8e0f-9d2c1b7a6e35": {
                    "storage": "models",
                    "container": "updates",
                    "folder": "hospital-a",
                }
            },
            "schedule": {"recurrence": "Day", "start": "2026-12-01T23:00:00Z"},
        }
    }
    return cfg


def test_a_secret_key_leaves_plain_what_plain_config_also_holds() -> None:
    result = run_secret(_received(base()), "federation:subscriptions")
    subscription = result.named("azure-native:datashare:ShareSubscription", "updates")
    assert subscription.inputs["invitationId"] == Secret("0d9e4c3b-7a61-4f2e-9b58-3c1a2e7f6d40")
    # The region, a schedule's Day, a container and a participant key used as a folder are
    # in plain config too: nothing built from plain config becomes secret.
    assert subscription.inputs["sourceShareLocation"] == "westeurope"
    assert result.named("azure-native:resources:ResourceGroup", "resource-group").inputs["location"] == "westeurope"
    assert result.named("azure-native:storage:BlobContainer", "models.updates").inputs["containerName"] == "updates"
    invitation = result.named(INVITATION, "global_model.hospital-a")
    assert invitation.inputs["invitationName"] == "hospital-a"
    schedule = result.named("azure-native:datashare:ScheduledSynchronizationSetting", "global_model.schedule")
    assert schedule.inputs["recurrenceInterval"] == "Day"


def test_making_a_key_secret_replaces_nothing() -> None:
    cfg = _received(base())
    plain = offline.run(stackfile.config_values(cfg), "test")
    secret = run_secret(cfg, "federation:subscriptions", "federation:participants")
    change = diff.compare(plain, secret)
    assert (change.create, change.update, change.replace, change.delete) == ([], [], [], [])


def test_storage_names_and_ids_are_never_half_secret() -> None:
    # They are parts of every resource id on the storage, which Pulumi keeps in plain text:
    # an input that carries one is plain everywhere, not secret in some places only.
    result = run_secret(base(), "federation:storage")
    assert result.named("azure-native:storage:StorageAccount", "models").inputs["accountName"] == "stmodels"
    dataset = result.named("azure-native:datashare:BlobFolderDataSet", "global_model.holdout")
    assert dataset.inputs["storageAccountName"] == "stmodels"


def test_a_secure_storage_name_or_id_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = yaml.safe_dump({"config": base()}).replace("name: stmodels", "name:\n        secure: v1:AAAA")
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text(text)
    code = cli.main(["plan", "--config", str(path)])
    err = capsys.readouterr().err
    assert code == exits.INVALID_CONFIG
    assert "federation:storage.models.name: cannot be a secret: it is part of resource ids" in err


def test_a_problem_under_a_secret_key_never_shows_its_value() -> None:
    cfg = base()
    cfg["federation:participants"]["hospital-a"]["email"] = "mlops<at>hospital-a.example"
    cfg["federation:participants"]["hospital-b"]["tenantId"] = "contoso-tenant"
    values = stackfile.config_values(cfg)
    with pytest.raises(config.ConfigError) as raised:
        config.parse(values, "test", frozenset({"federation:participants"}))
    text = str(raised.value)
    assert "federation:participants.hospital-a.email: value is not a valid email address; got [secret]" in text
    assert "federation:participants.hospital-b.tenantId: must be a GUID" in text
    assert "hospital-a.example" not in text
    assert "contoso" not in text
    # The same config, not secret: the values help.
    with pytest.raises(config.ConfigError) as plain:
        config.parse(values, "test")
    assert "got 'contoso-tenant'" in str(plain.value)
    # As `pulumi up` runs it.
    result = offline.run(values, "test", secret_keys=frozenset({"federation:participants"}))
    assert result.error is not None
    assert "contoso" not in str(result.error)


def test_a_secret_key_that_is_not_structured_config_is_not_shown() -> None:
    values = {"azure-native:location": "westeurope", "federation:participants": "{lab: hunter2"}
    with pytest.raises(config.ConfigError) as raised:
        config.parse(values, "test", frozenset({"federation:participants"}))
    assert raised.value.problems == [
        "federation:participants: is not valid structured config (Expecting property name enclosed in double quotes); "
        "got [secret]"
    ]


def test_an_expiry_set_by_a_secret_is_named_by_its_key_only() -> None:
    values = stackfile.config_values(base())
    model = config.parse(values, "test", frozenset({"federation:participants"}))
    soon = datetime(2027, 3, 31, tzinfo=UTC) - timedelta(days=3)
    assert expiry.warnings(model, soon) == [
        "invitation global_model.hospital-b expires within 14 days (set by federation:participants.hospital-b.expires, "
        "a secret)"
    ]
    assert expiry.warnings(model, datetime(2027, 4, 1, tzinfo=UTC)) == [
        "invitation global_model.hospital-b has expired (set by federation:participants.hospital-b.expires, a secret)"
    ]
