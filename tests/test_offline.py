"""The offline runner itself: stack files read as the Pulumi CLI reads them, and what it
leaves out of a run."""

import gc
import textwrap
import warnings
from pathlib import Path

from federation.config import stackfile
from federation.review import offline
from tests.support import base, run, run_ok


def test_stack_file_values_are_what_the_cli_passes() -> None:
    text = """
config:
  azure-native:location: westeurope
  environment: dev
  federation:protect: false
  federation:shares: {a: {start: 2026-12-01T02:00:00Z}}
"""
    stack_file = stackfile.read_stack_file(Path("Pulumi.dev.yaml"), text)
    assert stack_file.stack == "dev"
    assert stack_file.config == {
        "azure-native:location": "westeurope",
        "federation:environment": "dev",  # no namespace: the project's
        "federation:protect": "false",
        # an unquoted time stays text, as the CLI keeps it
        "federation:shares": '{"a": {"start": "2026-12-01T02:00:00Z"}}',
    }


def test_only_aliases_to_older_versions_of_the_same_type_are_dropped() -> None:
    labels = run(base()).named("azure-native:datashare:BlobDataSet", "global_model.labels")
    chain = "urn:pulumi:test::federation::federation:sharing:Share$azure-native:datashare"
    # azure-native's aliases between dataset kinds, in this version and older ones, stay.
    assert f"{chain}:ADLSGen2FileDataSet::global_model.labels" in labels.aliases
    assert f"{chain}/v20210801:BlobFolderDataSet::global_model.labels" in labels.aliases
    # Its own type in older API versions goes.
    assert not any(a.startswith(f"{chain}/") and ":BlobDataSet::" in a for a in labels.aliases)
    group = run(base()).named("azure-native:resources:ResourceGroup", "resource-group")
    assert group.aliases == ()


def test_property_dependencies_say_which_input_came_from_which_resource() -> None:
    result = run(base())
    share = result.named("azure-native:datashare:Share", "global_model")
    account = result.named("azure-native:datashare:Account", "account")
    group = result.named("azure-native:resources:ResourceGroup", "resource-group")
    assert share.property_dependencies == {"accountName": (account.urn,), "resourceGroupName": (group.urn,)}


def test_a_run_failing_mid_deployment_does_not_disturb_the_next(tmp_path: Path) -> None:
    # Fails while outputs resolve (the sender exports nothing), leaving outputs pending.
    program = tmp_path / "__main__.py"
    program.write_text(
        textwrap.dedent(
            """
            import pulumi
            from pulumi_azure_native import resources

            name = "acme/federation/nowhere"
            sender = pulumi.StackReference(name, name)
            group_name = sender.outputs.apply(lambda outputs: outputs["shares"] if "shares" in outputs else _missing())


            def _missing():
                raise pulumi.RunError(f"{name} has no output shares")


            resources.ResourceGroup("rg", resource_group_name=group_name, location="westeurope")
            """
        )
    )
    failed = offline.run({}, "test", program=program)
    assert failed.error is not None
    assert "acme/federation/nowhere has no output shares" in str(failed.error)
    assert run(base()).error is None


def test_a_run_leaves_no_event_loop_open() -> None:
    # Unclosed loops are closed by the garbage collector whenever it runs, and at exit that
    # printed "Exception ignored in BaseEventLoop.__del__" after a successful plan.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        run_ok(base())
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
