"""Deployed resources keep their URNs and resource ids: see tests/snapshots/__init__.py."""

import json
from pathlib import Path

import pytest

from tests import snapshots


@pytest.mark.parametrize("stack_file", snapshots.stack_files(), ids=lambda p: p.name)
def test_urns_and_ids_match_the_snapshot(stack_file: Path) -> None:
    expected = json.loads(snapshots.path_for(stack_file).read_text())
    actual = snapshots.take(stack_file)
    assert sorted(expected.keys() - actual.keys()) == [], "resources would be deleted or replaced (URN changed)"
    assert sorted(actual.keys() - expected.keys()) == [], "new resources: update the snapshot on purpose"
    changed = {urn: (expected[urn], actual[urn]) for urn in expected if expected[urn] != actual[urn]}
    assert changed == {}, "resource ids would change: Pulumi would replace these"
