"""The offline runner itself: stack files read as the Pulumi CLI reads them, and what it
leaves out of a run."""

from pathlib import Path

import pulumi

from federation import offline
from tests.support import base, received_from, run


def test_stack_file_values_are_what_the_cli_passes() -> None:
    text = """
config:
  azure-native:location: westeurope
  environment: dev
  federation:protect: false
  federation:shares: {a: {start: 2026-12-01T02:00:00Z}}
"""
    stack_file = offline.read_stack_file(Path("Pulumi.dev.yaml"), text)
    assert stack_file.stack == "dev"
    assert stack_file.config == {
        "azure-native:location": "westeurope",
        "federation:environment": "dev",  # no namespace: the project's
        "federation:protect": "false",
        # an unquoted time stays text, as the CLI keeps it
        "federation:shares": '{"a": {"start": "2026-12-01T02:00:00Z"}}',
    }


def test_only_azure_natives_version_aliases_are_dropped() -> None:
    assert offline._type_only(pulumi.Alias(type_="azure-native:datashare/v20210801:Share"))
    assert not offline._type_only(pulumi.Alias(name="old-name"))
    assert not offline._type_only(pulumi.Alias(type_="federation:index:Share", parent=None))
    assert not offline._type_only("urn:pulumi:dev::federation::azure-native:datashare:Share::old")


def test_a_run_failing_mid_deployment_does_not_disturb_the_next() -> None:
    # Fails while outputs resolve (the sender exports nothing), leaving outputs pending.
    broken = base()
    broken["federation:subscriptions"] = {
        "global_model": received_from("acme/federation/nowhere", "global_model", "hospital-a", {"checkpoints": "eval"})
    }
    failed = run(broken)
    assert failed.error is not None
    assert "acme/federation/nowhere has no output shares" in str(failed.error)
    assert run(base()).error is None
