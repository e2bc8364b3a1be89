"""The diff predicts what the engine would do with a config change: replacements it adds
down the graph, creates that collide with what Azure still holds, protected resources it
refuses to replace, and properties fixed when a resource is created."""

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from federation import cli, exits
from federation.review import diff
from tests.support import base, run_ok
from tests.test_receiving import receiving

DS = "azure-native:datashare"


def compare(before: dict[str, Any], after: dict[str, Any]) -> diff.Diff:
    return diff.compare(run_ok(before), run_ok(after))


def edited(config: dict[str, Any], **keys: Any) -> dict[str, Any]:
    found = copy.deepcopy(config)
    found.update(keys)
    return found


def test_a_location_change_replaces_everything_built_on_what_moves() -> None:
    change = compare(base(), edited(base(), **{"azure-native:location": "northeurope"}))
    head = run_ok(edited(base(), **{"azure-native:location": "northeurope"}))
    assert {c.urn for c in change.replace} == {r.urn for r in head.resources if r.custom}
    assert change.create == change.update == change.delete == []
    by_name = {(c.type, c.name): c for c in change.replace}
    direct = {k for k, c in by_name.items() if c.because is None}
    assert direct == {("azure-native:resources:ResourceGroup", "resource-group"), (f"{DS}:Account", "account")}
    # The storage account would go new one first (its data), but it is built from the
    # resource group, which goes old one first: the engine replaces it with the group.
    assert by_name[("azure-native:storage:StorageAccount", "models")].because.name == "resource-group"  # type: ignore[union-attr]
    # Each replaced with the nearest replaced resource it is built from.
    assert by_name[(f"{DS}:BlobDataSet", "global_model.labels")].because.name == "global_model"  # type: ignore[union-attr]
    assert by_name[(f"{DS}:Invitation", "global_model.hospital-a")].because.type == f"{DS}:Share"  # type: ignore[union-attr]
    assert by_name[("time:index/sleep:Sleep", "models.blob-reader")].because.name == "models.blob-reader"  # type: ignore[union-attr]


def test_a_new_account_name_replaces_its_shares_but_not_storage() -> None:
    change = compare(base(), edited(base(), **{"federation:accountName": "dsa-other"}))
    replaced = {c.type for c in change.replace}
    assert f"{DS}:Share" in replaced
    assert f"{DS}:Invitation" in replaced
    assert f"{DS}:BlobDataSet" in replaced
    assert "azure-native:storage:StorageAccount" not in replaced
    assert "azure-native:storage:BlobContainer" not in replaced


def test_a_replacement_new_one_first_cascades_nothing() -> None:
    # A new schedule time: the setting is replaced, nothing is built from it.
    after = base()
    after["federation:shares"]["global_model"]["schedule"]["start"] = "2026-12-01T03:00:00Z"
    change = compare(base(), after)
    assert [c.name for c in change.replace] == ["global_model.schedule"]


def test_renaming_a_storage_key_under_the_same_azure_name_would_fail() -> None:
    after = base()
    after["federation:storage"]["store"] = after["federation:storage"].pop("models")
    for location in after["federation:shares"]["global_model"]["datasets"].values():
        location["storage"] = "store"
    change = compare(base(), after)
    failing = {(f.step, f.type, f.name) for f in change.fail}
    assert ("create", "azure-native:storage:StorageAccount", "store") in failing
    assert ("create", "azure-native:storage:BlobContainer", "store.eval") in failing
    assert ("create", "azure-native:authorization:RoleAssignment", "store.blob-reader") in failing
    account = next(f for f in change.fail if f.name == "store")
    assert "storageaccounts/stmodels" in account.reason.lower()
    assert "azure-native:storage:StorageAccount models still holds" in account.reason


def test_renaming_a_storage_key_with_a_new_azure_name_is_safe() -> None:
    after = base()
    after["federation:storage"]["store"] = after["federation:storage"].pop("models") | {"name": "stnew"}
    for location in after["federation:shares"]["global_model"]["datasets"].values():
        location["storage"] = "store"
    assert compare(base(), after).fail == []


def test_azure_ids_collide_whatever_their_case() -> None:
    before = base()
    before["federation:shares"]["global_model"]["datasets"]["lake"] = {"storage": "lake", "container": "inbox"}
    after = copy.deepcopy(before)
    lake = after["federation:storage"].pop("lake")
    after["federation:storage"]["lake2"] = lake | {"id": lake["id"].replace("resourceGroups", "RESOURCEGROUPS")}
    after["federation:shares"]["global_model"]["datasets"]["lake"]["storage"] = "lake2"
    # lake's grant goes last; lake2's, the same assignment to Azure, is created before.
    change = compare(before, after)
    assert [(f.step, f.name) for f in change.fail] == [("create", "lake2.blob-reader")]


def test_hns_of_created_storage_is_refused_not_replaced_silently() -> None:
    after = base()
    after["federation:storage"]["models"]["hns"] = True
    change = compare(base(), after)
    account = [f for f in change.fail if f.type == "azure-native:storage:StorageAccount"]
    assert [f.step for f in account] == ["replace"]
    assert account[0].reason.startswith("isHnsEnabled is fixed when the account is created")
    assert "azure-native refuses to create a resource that exists" in account[0].reason


def test_a_share_subscription_is_replaced_old_one_first_not_updated() -> None:
    change = compare(receiving(), receiving(sourceLocation="westeurope"))
    replaced = {c.name: c for c in change.replace}
    assert replaced["global_model"].type == f"{DS}:ShareSubscription"
    assert replaced["global_model"].inputs == {"sourceShareLocation": ("northeurope", "westeurope")}
    # Its mappings and trigger are built from its name: the engine replaces them with it.
    assert {c.because.name for c in change.replace if c.because} == {"global_model"}  # type: ignore[union-attr]
    assert len(change.replace) == 4
    assert change.update == []


def test_protect_blocks_replacing_a_subscription_in_prod() -> None:
    prod = {"federation:environment": "prod"}
    change = compare(receiving() | prod, receiving(sourceLocation="westeurope") | prod)
    assert [(f.step, f.name, f.reason) for f in change.fail] == [
        ("replace", "global_model", "is protected: the engine refuses to replace it")
    ]


def test_protect_blocks_a_cascade_and_a_delete() -> None:
    prod = {"federation:environment": "prod"}
    after = base() | prod | {"azure-native:location": "northeurope"}
    del after["federation:shares"]["global_model"]["datasets"]["labels"]
    change = compare(base() | prod, after)
    reasons = {(f.step, f.name): f.reason for f in change.fail}
    assert reasons[("replace", "models.global-model")] == (
        "is protected: the engine refuses to replace it as part of replacing azure-native:storage:StorageAccount models"
    )
    assert reasons[("replace", "resource-group")] == "is protected: the engine refuses to replace it"
    assert ("delete", "global_model.labels") not in reasons  # datasets are not protected
    assert ("replace", "global_model.checkpoints") not in reasons


def write(path: Path, config: dict[str, Any]) -> str:
    path.write_text(yaml.safe_dump({"config": config}))
    return str(path)


def test_cli_reports_failures_in_every_format_with_their_own_exit_code(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    after = base()
    after["federation:storage"]["models"]["hns"] = True
    files = write(tmp_path / "Pulumi.t.yaml", base()), write(tmp_path / "h.yaml", after)
    assert cli.main(["diff", *files]) == exits.PROBLEMS
    text = capsys.readouterr().out
    assert "The deployment would fail at:\n !  replace azure-native:storage:StorageAccount models\n" in text
    assert "; ! 1 would fail" in text
    assert cli.main(["diff", *files, "--format", "markdown", "--fail-on-delete"]) == exits.PROBLEMS
    markdown = capsys.readouterr().out
    assert "**The deployment would fail.**" in markdown.splitlines()[0]
    assert "#### ! would fail (1)" in markdown
    assert cli.main(["diff", *files, "--format", "json"]) == exits.PROBLEMS
    document = json.loads(capsys.readouterr().out)
    assert [(f["step"], f["name"]) for f in document["fail"]] == [("replace", "models")]
    assert all(not r["cascade"] and "because" not in r for r in document["replace"])


def test_cli_fail_on_delete_counts_the_cascade(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    after = base() | {"azure-native:location": "northeurope"}
    files = write(tmp_path / "Pulumi.t.yaml", base()), write(tmp_path / "h.yaml", after)
    assert cli.main(["diff", *files]) == 0
    out = capsys.readouterr().out
    assert (
        " +- azure-native:datashare:BlobDataSet global_model.labels\n"
        "        (replaced with azure-native:datashare:Share global_model, old one first)\n"
    ) in out
    assert "+- 15 to replace" in out
    assert cli.main(["diff", *files, "--fail-on-delete"]) == exits.DESTRUCTIVE
    capsys.readouterr()
    cli.main(["diff", *files, "--format", "json"])
    replaced = {r["name"]: r for r in json.loads(capsys.readouterr().out)["replace"]}
    assert replaced["global_model.labels"]["cascade"]
    assert replaced["global_model.labels"]["because"].endswith("datashare:Share::global_model")
    cli.main(["diff", *files, "--format", "markdown"])
    assert "(replaced with azure-native:datashare:Share global_model, old one first)" in capsys.readouterr().out


def test_a_dataset_whose_kind_changes_is_one_resource_replaced_through_aliases() -> None:
    after = base()
    del after["federation:shares"]["global_model"]["datasets"]["labels"]["file"]
    change = compare(base(), after)
    assert [(c.type, c.name) for c in change.replace] == [(f"{DS}:BlobContainerDataSet", "global_model.labels")]
    assert change.replace[0].inputs["(type)"] == (f"{DS}:BlobDataSet", f"{DS}:BlobContainerDataSet")
    assert change.create == change.delete == []


def test_a_storage_account_is_never_replaced_old_one_first_by_its_own_change() -> None:
    # Whatever azure-native would ask: the program says new one first, so Azure refuses the
    # create (the name is taken) before any data is deleted.
    registered = run_ok(base()).named("azure-native:storage:StorageAccount", "models")
    assert registered.delete_before_replace is False
    assert run_ok(base()).named("azure-native:resources:ResourceGroup", "resource-group").delete_before_replace is None
    after = base()
    after["federation:storage"]["models"]["hns"] = True
    change = compare(base(), after)
    assert [(f.step, f.name) for f in change.fail] == [("replace", "models")]
