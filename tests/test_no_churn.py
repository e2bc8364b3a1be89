"""Nothing lost: logical names come from config keys, so an edit adds, removes or changes
only the resources it names, and reordering config changes nothing."""

from typing import Any

from federation.review import offline
from tests.support import OBJECT, PROJECT, base, run_ok, state


def diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[set[str], set[str], set[str]]:
    """(added, removed, changed) URNs between two configs."""
    old, new = state(run_ok(before)), state(run_ok(after))
    changed = {urn for urn in old.keys() & new.keys() if old[urn] != new[urn]}
    return set(new) - set(old), set(old) - set(new), changed


def names(urns: set[str]) -> set[str]:
    return {urn.rsplit("::", 1)[1] for urn in urns}


def test_adding_a_participant_adds_exactly_its_invitations() -> None:
    after = base()
    after["federation:participants"]["lab-c"] = {"tenantId": OBJECT, "objectId": OBJECT}
    added, removed, changed = diff(base(), after)
    assert names(added) == {"global_model.lab-c"}
    assert all("datashare:Invitation" in urn for urn in added)
    assert removed == changed == set()


def test_adding_a_share_adds_only_its_resources() -> None:
    after = base()
    after["federation:shares"]["eval_sets"] = {"datasets": {"raw": {"storage": "lake", "container": "raw"}}}
    added, removed, changed = diff(base(), after)
    # the share, its dataset and invitations, and the first grant on lake (with its group)
    assert names(added) == {
        "eval_sets",
        "eval_sets.raw",
        "eval_sets.hospital-a",
        "eval_sets.hospital-b",
        "lake",
        "lake.blob-reader",
    }
    assert removed == changed == set()


def test_adding_a_dataset_or_storage_entry_only_adds() -> None:
    after = base()
    after["federation:storage"]["archive"] = {"name": "starchive", "containers": ["old"]}
    after["federation:shares"]["global_model"]["datasets"]["old"] = {"storage": "archive", "container": "old"}
    added, removed, changed = diff(base(), after)
    assert names(added) == {"archive", "archive.old", "archive.blob-reader", "global_model.old"}
    assert removed == changed == set()


def test_removing_a_share_removes_only_its_own_resources() -> None:
    before = base()
    before["federation:shares"]["eval_sets"] = {"datasets": {"raw": {"storage": "models", "container": "eval"}}}
    added, removed, changed = diff(before, base())
    assert names(removed) == {"eval_sets", "eval_sets.raw", "eval_sets.hospital-a", "eval_sets.hospital-b"}
    assert added == changed == set()


def test_removing_a_participant_removes_only_its_invitations() -> None:
    after = base()
    del after["federation:participants"]["hospital-a"]
    added, removed, changed = diff(base(), after)
    assert names(removed) == {"global_model.hospital-a"}
    assert added == changed == set()


def test_reordering_every_map_and_list_changes_nothing() -> None:
    def reverse(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: reverse(v) for k, v in reversed(value.items())}
        if isinstance(value, list):
            return [reverse(v) for v in reversed(value)]
        return value

    config = base()
    config["federation:shares"]["global_model"]["participants"] = ["hospital-a", "hospital-b"]
    assert diff(config, reverse(config)) == (set(), set(), set())


def test_committed_dev_stack_runs_under_mocks() -> None:
    result = offline.run_stack_file(PROJECT / "Pulumi.dev.yaml")
    assert result.error is None, str(result.error)
    kinds = {r.type.rsplit(":", 1)[1] for r in result.resources if r.type.endswith("DataSet")}
    assert kinds == {
        "BlobContainerDataSet",
        "BlobFolderDataSet",
        "BlobDataSet",
        "ADLSGen2FileSystemDataSet",
        "ADLSGen2FolderDataSet",
        "ADLSGen2FileDataSet",
    }
    invitations = result.of_type("azure-native:datashare:Invitation")
    assert any("targetEmail" in i.inputs for i in invitations)
    assert any("targetObjectId" in i.inputs for i in invitations)
    assert len(result.outputs["shares"]) >= 2
