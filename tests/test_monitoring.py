"""Monitoring and storage networks under mocks: what each resource is registered with,
what it waits for, the outputs, and that nothing of it is built without `monitoring`."""

from typing import Any

import pytest

from federation.program import exports
from federation.review import diff, offline
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
    assert "MicrosoftDataShareSentSnapshotLog" in query  # the stack sends: its side's table
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


def alert_query(result: offline.Run) -> str:
    [condition] = result.named(f"{MON}:ScheduledQueryRule", "failed-snapshots").inputs["criteria"]["allOf"]
    return str(condition["query"])


SENT, RECEIVED = "MicrosoftDataShareSentSnapshotLog", "MicrosoftDataShareReceivedSnapshotLog"


@pytest.mark.parametrize(("sends", "receives"), [(True, False), (False, True), (True, True), (False, False)])
def test_alert_reads_both_snapshot_tables_whatever_the_stack_sends_or_receives(sends: bool, receives: bool) -> None:
    # A send-only or receive-only stack has one of the tables at most; the union skips the
    # other. The same query on every stack: adding a first subscription changes no alert.
    config = monitored()
    if not sends:
        del config["federation:shares"]
    if receives:
        config["federation:subscriptions"] = {
            "updates": {
                "invitationId": "0d9e4c3b-7a61-4f2e-9b58-3c1a2e7f6d40",
                "sourceLocation": "northeurope",
                "datasets": {"5a1f7e92-3c4d-4b6a-8e0f-9d2c1b7a6e35": {"storage": "models", "container": "eval"}},
            }
        }
    query = alert_query(run_ok(config))
    union = next(line for line in query.splitlines() if line.startswith("union "))
    legs = [leg.strip() for leg in union.removeprefix("union isfuzzy=true ").split("), ")[-1].split(",")]
    assert legs == [SENT, RECEIVED]
    assert query == alert_query(run_ok(monitored()))


def test_alert_query_evaluates_before_any_snapshot_table_exists(result: offline.Run) -> None:
    # A table appears with its first record. `isfuzzy` drops missing legs but fails when
    # none is left: an empty datatable leg is always there, declaring every column read.
    query = alert_query(result)
    union = next(line for line in query.splitlines() if line.startswith("union "))
    assert union.startswith("union isfuzzy=true (datatable(")
    declared = {c.split(":")[0].strip() for c in union.split("datatable(")[1].split(")")[0].split(",")}
    after_union = query.split(union, 1)[1]
    read = {
        c
        for c in ("TimeGenerated", "_ResourceId", "Type", "Status", "DataSetName", "DataSetType", "DetailMessage")
        if c in after_union
    } | {"CorrelationId"}
    assert read <= declared, read - declared
    assert union.split("datatable(")[1].split(")", 1)[1].startswith(" [])")


def test_alert_is_replaced_old_one_first_when_its_workspace_changes(result: offline.Run) -> None:
    # Azure refuses to update a rule's scopes ("Scope can not be updated").
    rule = result.named(f"{MON}:ScheduledQueryRule", "failed-snapshots")
    assert rule.replace_on_changes == ("scopes",)
    assert rule.delete_before_replace is True
    for workspace in ({"id": WORKSPACE_ID}, {"name": "log-consortium"}):
        change = diff.compare(result, run_ok(monitored(workspace=workspace)))
        [replaced] = [c for c in change.replace if c.name == "failed-snapshots"]
        assert replaced.old_first
        assert "criteria.allOf" not in " ".join(replaced.inputs)
        assert any(path.startswith("scopes") for path in replaced.inputs), replaced.inputs
        assert not [f for f in change.fail if f.name == "failed-snapshots"]
    text = diff.render_text(diff.compare(result, run_ok(monitored(workspace={"id": WORKSPACE_ID}))), "test")
    assert " +- azure-native:monitor:ScheduledQueryRule failed-snapshots\n        (old one first)\n" in text
