"""Deployed resources keep their URNs and resource ids: see tests/snapshots/__init__.py."""

import textwrap
from pathlib import Path

import pytest

from federation.config import stackfile
from federation.review import offline
from tests import snapshots
from tests.support import base


@pytest.mark.parametrize("stack_file", snapshots.stack_files(), ids=lambda p: p.name)
def test_urns_and_ids_match_the_snapshot(stack_file: Path) -> None:
    snapshot = snapshots.load(stack_file) if snapshots.path_for(stack_file).is_file() else None
    if snapshot is None:
        pytest.fail(str(snapshots.MissingSnapshotError(stack_file)), pytrace=False)
    assert snapshots.differences(snapshot, offline.run_stack_file(stack_file)) == []


def test_a_stack_file_without_a_snapshot_says_how_to_record_it() -> None:
    with pytest.raises(snapshots.MissingSnapshotError) as missing:
        snapshots.load(Path("Pulumi.silo-z.yaml"))
    assert str(missing.value) == (
        "Pulumi.silo-z.yaml has no URN snapshot: record it with "
        "`venv/bin/python -m tests.snapshots Pulumi.silo-z.yaml` and commit tests/snapshots/Pulumi.silo-z.yaml.json"
    )
    assert not snapshots.path_for(Path("Pulumi.silo-z.yaml")).exists()


def test_recording_one_stack_leaves_the_others_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    committed = snapshots.load(stackfile.PROJECT_DIR / "Pulumi.silo-a.yaml")
    (tmp_path / "Pulumi.silo-a.yaml").write_text((stackfile.PROJECT_DIR / "Pulumi.silo-a.yaml").read_text())
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    monkeypatch.setattr(stackfile, "PROJECT_DIR", tmp_path)
    monkeypatch.setattr(snapshots, "HERE", tmp_path)
    snapshots.update(["Pulumi.silo-a.yaml"])
    assert [p.name for p in tmp_path.glob("*.json")] == ["Pulumi.silo-a.yaml.json"]
    assert snapshots.load(tmp_path / "Pulumi.silo-a.yaml") == committed


def renamed_group_program(tmp_path: Path, alias: bool) -> Path:
    """A program that registers the resource group under a new logical name."""
    program = tmp_path / "__main__.py"
    aliases = '[pulumi.Alias(name="resource-group")]' if alias else "None"
    program.write_text(
        textwrap.dedent(f"""
        import pulumi
        from pulumi_azure_native import resources

        from federation import config

        settings = config.load()
        resources.ResourceGroup(
            "group",
            resource_group_name=settings.resource_group,
            location=settings.location,
            tags=settings.resource_tags,
            opts=pulumi.ResourceOptions(aliases={aliases}),
        )
        """)
    )
    return program


@pytest.mark.parametrize("alias", [True, False])
def test_a_renamed_resource_is_kept_only_with_an_alias(tmp_path: Path, alias: bool) -> None:
    config = stackfile.config_values(base())
    before = offline.run(config, "test")
    snapshot = {
        urn: identity for urn, identity in snapshots.identities(before).items() if urn.endswith("::resource-group")
    }
    after = offline.run(config, "test", program=renamed_group_program(tmp_path, alias))
    assert after.error is None, str(after.error)
    [group] = after.resources
    assert group.urn == "urn:pulumi:test::federation::azure-native:resources:ResourceGroup::group"
    if alias:
        assert group.aliases == tuple(snapshot)
        assert snapshots.differences(snapshot, after) == []
    else:
        assert snapshots.differences(snapshot, after) == [
            f"deleted or replaced (no resource has this URN or an alias to it): {next(iter(snapshot))}",
            f"new, not in the snapshot (update it on purpose): {group.urn}",
        ]
