"""Monitoring and storage networks under mocks: what each resource is registered with,
what it waits for, the outputs, and that nothing of it is built without `monitoring`."""

from typing import Any

import pytest

from federation import exports, offline
from tests.support import LAKE_ID, SUB, base, run_ok

MON = "azure-native:monitor"
STORAGE = "azure-native:storage:StorageAccount"
WORKSPACE = "azure-native:operationalinsights:Workspace"
WORKSPACE_ID = f"/subscriptions/{SUB}/resourceGroups/rg-ops/providers/Microsoft.OperationalInsights/workspaces/log-ops"
SUBNET = f"/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/ci"
EMAILS = ["ops@coordinator.example", "Alerts@Coordinator.example"]


def monitored(**monitoring: Any) -> dict[str, Any]:
    config = base()
    config["federation:monitoring"] = {"emails": EMAILS} | monitoring
    return config


@pytest.fixture(scope="module")
def result() -> offline.Run:
    return run_ok(monitored())


def test_nothing_of_monitoring_is_built_without_it() -> None:
    plain = run_ok(base())
    built = {r.type for r in plain.resources}
    assert not {t for t in built if t.startswith((MON, "azure-native:operationalinsights", "federation:monitoring"))}
    assert exports.WORKSPACE_ID not in plain.outputs
    assert exports.ACTION_GROUP_ID not in plain.outputs


def test_workspace_is_created_with_its_retention(result: offline.Run) -> None:
    workspace = result.named(WORKSPACE, "workspace")
    assert workspace.inputs == {
        "workspaceName": "log-fl-test",
        "resourceGroupName": "rg-fl-test",
        "location": "westeurope",
        "sku": {"name": "PerGB2018"},
        "retentionInDays": 90,
        "features": {"enableLogAccessUsingOnlyResourcePermissions": True, "disableLocalAuth": True},
        "tags": {"environment": "test", "managedBy": "pulumi"},
    }
    assert result.named("federation:monitoring:Monitoring", "monitoring").urn == workspace.parent
    named = run_ok(monitored(workspace={"name": "log-consortium"}, retentionDays=365))
    assert named.named(WORKSPACE, "workspace").inputs["workspaceName"] == "log-consortium"
    assert named.named(WORKSPACE, "workspace").inputs["retentionInDays"] == 365


def test_protect_covers_the_workspace() -> None:
    assert run_ok(monitored(), stack="prod").named(WORKSPACE, "workspace").protect


def test_account_logs_every_category_to_resource_specific_tables(result: offline.Run) -> None:
    account = result.named("azure-native:datashare:Account", "account")
    workspace = result.named(WORKSPACE, "workspace")
    setting = result.named(f"{MON}:DiagnosticSetting", "account")
    assert setting.inputs == {
        "name": "federation-logs",
        "resourceUri": account.id,
        "workspaceId": workspace.id,
        "logAnalyticsDestinationType": "Dedicated",
        "logs": [
            {"category": c, "enabled": True}
            for c in ("SentShareSnapshots", "ReceivedShareSnapshots", "Shares", "ShareSubscriptions")
        ],
        "metrics": [{"category": "AllMetrics", "enabled": True}],
    }
    assert "retentionPolicy" not in str(setting.inputs)
    assert {account.urn, workspace.urn} <= set(setting.depends_on)


def test_blob_service_of_created_storage_logs_reads_writes_and_deletes(result: offline.Run) -> None:
    service = result.named("azure-native:storage:BlobServiceProperties", "models")
    workspace = result.named(WORKSPACE, "workspace")
    setting = result.named(f"{MON}:DiagnosticSetting", "models")
    assert setting.inputs == {
        "name": "federation-logs",
        "resourceUri": f"{result.named(STORAGE, 'models').id}/blobServices/default",
        "workspaceId": workspace.id,
        "logs": [{"category": c, "enabled": True} for c in ("StorageRead", "StorageWrite", "StorageDelete")],
    }
    assert {service.urn, workspace.urn} <= set(setting.depends_on)
    assert setting.parent == result.named("federation:storage:Storage", "models").urn
    # Existing storage (lake) gets no setting: it is never modified.
    settings = result.of_type(f"{MON}:DiagnosticSetting")
    assert sorted(s.name for s in settings) == ["account", "models"]
    assert not [s for s in settings if LAKE_ID.lower() in s.inputs["resourceUri"].lower()]


def test_action_group_is_global_and_mails_each_address(result: offline.Run) -> None:
    group = result.named(f"{MON}:ActionGroup", "alerts")
    assert group.inputs["location"] == "Global"
    assert group.inputs["actionGroupName"] == "ag-fl-test"
    assert len(group.inputs["groupShortName"]) <= 12
    assert group.inputs["enabled"] is True
    assert group.inputs["emailReceivers"] == [
        {"name": e, "emailAddress": e, "useCommonAlertSchema": True}
        for e in ["Alerts@coordinator.example", "ops@coordinator.example"]  # domains as email-validator spells them
    ]


def test_alert_queries_failed_snapshots_of_this_account_by_share_and_dataset(result: offline.Run) -> None:
    rule = result.named(f"{MON}:ScheduledQueryRule", "failed-snapshots")
    group = result.named(f"{MON}:ActionGroup", "alerts")
    workspace = result.named(WORKSPACE, "workspace")
    account = result.named("azure-native:datashare:Account", "account")
    inputs = rule.inputs
    # Regional, beside the workspace it queries; within 15 minutes: every 5 over the last 15.
    assert inputs["location"] == "westeurope"
    assert inputs["kind"] == "LogAlert"
    assert (inputs["evaluationFrequency"], inputs["windowSize"]) == ("PT5M", "PT15M")
    assert inputs["scopes"] == [workspace.id]
    assert inputs["actions"] == {"actionGroups": [group.id]}
    assert inputs["skipQueryValidation"] is True
    [condition] = inputs["criteria"]["allOf"]
    query = condition["query"]
    assert "MicrosoftDataShareSentSnapshotLog" in query
    assert "MicrosoftDataShareReceivedSnapshotLog" in query
    assert query.startswith(f"let account = '{account.id}';\n")
    # Not another account whose name begins with this one's.
    assert "| where _ResourceId =~ account or _ResourceId startswith strcat(account, '/')\n" in query
    assert "Status =~ 'failed'" in query  # the table reference spells it failed
    assert (condition["timeAggregation"], condition["operator"], condition["threshold"]) == ("Count", "GreaterThan", 0)
    assert [d["name"] for d in condition["dimensions"]] == ["Side", "ShareOrSubscription", "DataSetName"]
    assert all(d["operator"] == "Include" and d["values"] == ["*"] for d in condition["dimensions"])
    assert {group.urn, workspace.urn, account.urn} <= set(rule.depends_on)


def test_existing_workspace_is_used_by_id_and_not_created() -> None:
    result = run_ok(monitored(workspace={"id": WORKSPACE_ID}))
    assert result.of_type(WORKSPACE) == []
    assert {s.inputs["workspaceId"] for s in result.of_type(f"{MON}:DiagnosticSetting")} == {WORKSPACE_ID}
    assert result.named(f"{MON}:ScheduledQueryRule", "failed-snapshots").inputs["scopes"] == [WORKSPACE_ID]
    assert result.outputs[exports.WORKSPACE_ID] == WORKSPACE_ID


def test_outputs_are_the_workspace_and_action_group_ids(result: offline.Run) -> None:
    assert result.outputs[exports.WORKSPACE_ID] == result.named(WORKSPACE, "workspace").id
    assert result.outputs[exports.ACTION_GROUP_ID] == result.named(f"{MON}:ActionGroup", "alerts").id


def test_storage_network_opens_listed_addresses_and_subnets_sorted() -> None:
    config = base()
    config["federation:storage"]["models"]["network"] = {
        "allow": ["81.2.69.160", "52.178.0.0/24"],
        "subnets": [SUBNET],
    }
    result = run_ok(config)
    rules = result.named(STORAGE, "models").inputs["networkRuleSet"]
    assert rules["defaultAction"] == "Deny"
    assert rules["bypass"] == "AzureServices"
    assert rules["ipRules"] == [
        {"iPAddressOrRange": "52.178.0.0/24", "action": "Allow"},
        {"iPAddressOrRange": "81.2.69.160", "action": "Allow"},
    ]
    assert rules["virtualNetworkRules"] == [{"virtualNetworkResourceId": SUBNET, "action": "Allow"}]
    assert rules["resourceAccessRules"] == [
        {"resourceId": result.named("azure-native:datashare:Account", "account").id, "tenantId": offline.TENANT_ID}
    ]


@pytest.mark.parametrize(("value", "expected"), [(None, False), (False, False), (True, True)])
def test_shared_key_access_is_off_unless_opted_in(value: bool | None, expected: bool) -> None:
    config = base()
    if value is not None:
        config["federation:storage"]["models"]["sharedKeyAccess"] = value
    storage = run_ok(config).named(STORAGE, "models")
    assert storage.inputs["allowSharedKeyAccess"] is expected
    assert storage.inputs["publicNetworkAccess"] == "Enabled"
