"""The resource model is exactly what the program registers, and everything it would send
to Microsoft.DataShare is what the 2021-08-01 API accepts."""

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from federation import config as config_module
from federation.config import stackfile
from federation.review import offline
from tests import api_contract, strategies
from tests.model import registered as run_of
from tests.support import PROJECT

STACK_FILES = sorted(PROJECT.glob("Pulumi.*.yaml"))


def stack_file_config(path: Path) -> dict[str, Any]:
    return stackfile.parse(path.read_bytes(), path.name)


# That what the program registers is exactly what it registered before it was written as
# typed components (URNs, types, parents, inputs, options, dependencies, outputs) is held
# by test_registrations.py against tests/registrations/, for the committed stacks and a
# fixed sample of generated configs.


@settings(max_examples=10)
@given(st.data())
def test_a_config_breaking_one_rule_registers_nothing(data: st.DataObject) -> None:
    edited, path = data.draw(strategies.invalid_edits(data.draw(strategies.configs())))
    result = offline.run(stackfile.config_values(edited), "test")
    assert isinstance(result.error, config_module.ConfigError)
    assert any(p.startswith(path) for p in result.error.problems), (path, result.error.problems)
    assert result.resources == ()


def model_violations(run: offline.Run) -> dict[str, list[str]]:
    found = {}
    for r in run.resources:
        if r.type.startswith("azure-native:datashare:"):
            problems = api_contract.violations(r.type, dict(offline.plain(dict(r.inputs))))
            if problems:
                found[r.urn] = problems
    return found


@settings(max_examples=100)
@given(strategies.configs())
def test_every_data_share_resource_fits_the_api(config: dict[str, Any]) -> None:
    assert model_violations(run_of(config)) == {}


@pytest.mark.parametrize("path", STACK_FILES, ids=[p.name for p in STACK_FILES])
def test_registered_data_share_resources_fit_the_api(path: Path) -> None:
    result = offline.run_stack_file(path)
    checked = [r for r in result.resources if r.type.startswith("azure-native:datashare:")]
    assert len(checked) >= 8
    assert {r.urn: api_contract.violations(r.type, dict(r.inputs)) for r in checked} == {r.urn: [] for r in checked}


@pytest.fixture(scope="module")
def registered() -> list[offline.Registration]:
    return [r for path in STACK_FILES for r in offline.run_stack_file(path).resources]


@pytest.mark.parametrize(
    ("type_", "inputs", "problem"),
    [
        ("Invitation", {"targetEmail": "a@b.org", "targetObjectId": "x"}, "not both or neither"),
        ("ScheduledSynchronizationSetting", {"recurrenceInterval": "Week"}, "'Week' not one of"),
        ("ScheduledTrigger", {"synchronizationTime": "tomorrow"}, "not an RFC 3339 date-time"),
        ("BlobFolderDataSet", {"prefix": None}, "missing"),
        ("Share", {"sharekind": "CopyBased"}, "not defined by the API"),
        ("Share", {"shareName": "global-model"}, "does not match"),
        ("BlobDataSet", {"kind": "Container"}, "kind 'Container', not 'Blob'"),
    ],
)
def test_contract_catches_what_azure_rejects(
    registered: list[offline.Registration], type_: str, inputs: dict[str, Any], problem: str
) -> None:
    # The contract itself must fail on bad requests, or the checks above prove nothing.
    sample = next(r for r in registered if r.type == f"azure-native:datashare:{type_}")
    assert api_contract.violations(sample.type, dict(sample.inputs)) == []
    broken = {k: v for k, v in (dict(sample.inputs) | inputs).items() if v is not None}
    assert any(problem in p for p in api_contract.violations(sample.type, broken))


MONITORED = tuple(api_contract.MONITOR)


@settings(max_examples=100)
@given(strategies.configs())
def test_every_monitoring_resource_fits_the_api(config: dict[str, Any]) -> None:
    found = {
        r.urn: api_contract.monitor_violations(r.type, offline.plain(dict(r.inputs)))
        for r in run_of(config).resources
        if r.type in MONITORED
    }
    assert found == {key: [] for key in found}


@pytest.fixture(scope="module")
def monitored() -> list[offline.Registration]:
    config = stack_file_config(PROJECT / "Pulumi.dev.yaml")
    config["federation:monitoring"] = {"workspace": {"name": "log-ops"}, "emails": ["a@b.org", "c@d.org"]}
    result = offline.run(stackfile.config_values(config), "dev")
    assert result.error is None, str(result.error)
    return [r for r in result.resources if r.type in MONITORED]


def test_registered_monitoring_resources_fit_the_api(monitored: list[offline.Registration]) -> None:
    assert {r.type for r in monitored} == set(MONITORED)
    assert {r.urn: api_contract.monitor_violations(r.type, dict(r.inputs)) for r in monitored} == {
        r.urn: [] for r in monitored
    }


@pytest.mark.parametrize(
    ("type_", "inputs", "problem"),
    [
        ("monitor:ActionGroup", {"groupShortName": "federation-snapshots"}, "longer than 12"),
        ("monitor:ActionGroup", {"emailReceivers": [{"name": "x"}]}, "emailReceivers[] missing ['emailAddress']"),
        ("monitor:ActionGroup", {"location": None}, "missing ['location']"),
        ("monitor:DiagnosticSetting", {"logAnalyticsDestinationType": "AzureDiagnostics"}, "not one of"),
        ("monitor:DiagnosticSetting", {"logs": [{"category": "Shares"}]}, "logs[] missing ['enabled']"),
        ("monitor:DiagnosticSetting", {"retention": 30}, "not defined by the API"),
        ("monitor:ScheduledQueryRule", {"severity": 5}, "severity 5 not one of"),
        ("monitor:ScheduledQueryRule", {"windowSize": None}, "missing ['windowSize']"),
        ("monitor:ScheduledQueryRule", {"ruleName": "a/b"}, "does not match"),
        (
            "monitor:ScheduledQueryRule",
            {"criteria": {"allOf": [{"operator": "NotEquals", "dimensions": [{"name": "x"}]}]}},
            "'NotEquals' not one of",
        ),
        ("operationalinsights:Workspace", {"sku": {"name": "PerGB"}}, "not one of"),
        ("operationalinsights:Workspace", {"retentionDays": 90}, "not defined by the API"),
    ],
)
def test_monitoring_contract_catches_what_azure_rejects(
    monitored: list[offline.Registration], type_: str, inputs: dict[str, Any], problem: str
) -> None:
    sample = next(r for r in monitored if r.type == f"azure-native:{type_}")
    assert api_contract.monitor_violations(sample.type, dict(sample.inputs)) == []
    broken = {k: v for k, v in (dict(sample.inputs) | inputs).items() if v is not None}
    assert any(problem in p for p in api_contract.monitor_violations(sample.type, broken)), (
        api_contract.monitor_violations(sample.type, broken)
    )
