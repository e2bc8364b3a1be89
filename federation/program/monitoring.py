"""Monitoring: the Log Analytics workspace, the Data Share account's logs, and the alert
that tells people of a failed snapshot. Storage sends its own logs (see `storage`)."""

from dataclasses import dataclass

from federation.config import Config, naming
from federation.program.graph import Concat, Graph, Node, Value

COMPONENT = "federation:monitoring:Monitoring"
WORKSPACE = "azure-native:operationalinsights:Workspace"
ACTION_GROUP = "azure-native:monitor:ActionGroup"
DIAGNOSTIC_SETTING = "azure-native:monitor:DiagnosticSetting"
LOG_ALERT = "azure-native:monitor:ScheduledQueryRule"

# The name of every diagnostic setting made here (a resource holds at most five).
DIAGNOSTICS_NAME = "federation-logs"
# Every Data Share log category: snapshots on both sides, shares, share subscriptions.
ACCOUNT_LOGS = ("SentShareSnapshots", "ReceivedShareSnapshots", "Shares", "ShareSubscriptions")
# Who read, wrote and deleted what on the blob service (CIS Azure Foundations 4.13).
BLOB_LOGS = ("StorageRead", "StorageWrite", "StorageDelete")

# Each side's snapshot log table, in resource-specific mode.
SNAPSHOT_TABLES = {"sent": "MicrosoftDataShareSentSnapshotLog", "received": "MicrosoftDataShareReceivedSnapshotLog"}
# The columns the alert reads. A table appears in a workspace with its first record, and
# a query naming a table that is not there fails every evaluation: an empty table of these
# columns keeps the union valid (isfuzzy skips the missing legs) until snapshots are logged.
_COLUMNS = (
    "TimeGenerated:datetime, _ResourceId:string, Type:string, Status:string, DataSetName:string, "
    "DataSetType:string, DetailMessage:string, CorrelationId:string"
)
# Failed snapshots on either side, one alert per side, share or subscription and dataset.
# Both tables whatever the stack sends or receives today: the alert stays as it is when a
# share or subscription is added or removed, and a missing table costs nothing. The tables
# have no share column: the share or subscription comes from the log's resource id where
# Azure records it there. Records take minutes to arrive, so the query looks back three
# evaluations.
_FAILED_SNAPSHOTS = (
    "let account = '{account}';\n"
    "union isfuzzy=true (datatable({columns}) []), {tables}\n"
    # This account and what is in it, not another whose name it begins (dsa-fl-x-eval).
    "| where _ResourceId =~ account or _ResourceId startswith strcat(account, '/')\n"
    "| where Status =~ 'failed'\n"
    "| extend Side = iff(Type == '{sent}', 'sent', 'received')\n"
    "| extend ShareOrSubscription = coalesce("
    "extract(@'(?i)/(shares|sharesubscriptions)/([^/]+)', 2, _ResourceId), '(account-wide)')\n"
    "| project TimeGenerated, Side, ShareOrSubscription, DataSetName, DataSetType, DetailMessage, CorrelationId"
).format(
    account="{account}",
    columns=_COLUMNS,
    tables=", ".join(SNAPSHOT_TABLES.values()),
    sent=SNAPSHOT_TABLES["sent"],
)
ALERT_DIMENSIONS = ("Side", "ShareOrSubscription", "DataSetName")


@dataclass(frozen=True)
class Monitor:
    """What the rest of the stack sends logs to, and the stack's monitoring outputs."""

    workspace_id: Value
    action_group_id: Value


def add(graph: Graph, config: Config, group: Node, account: Node) -> Monitor | None:
    """Register the workspace (unless an existing one is named), the account's logs, the
    action group and the alert; nothing without `federation:monitoring`."""
    monitoring = config.monitoring
    if monitoring is None:
        return None
    component = graph.add(Node(COMPONENT, "monitoring", component=True))
    workspace_id: Value = monitoring.workspace.id
    if workspace_id is None:
        workspace_id = graph.add(
            Node(
                WORKSPACE,
                "workspace",
                {
                    "workspace_name": config.workspace_name,
                    "resource_group_name": group.ref("name"),
                    "location": config.location,
                    "sku": {"name": "PerGB2018"},
                    "retention_in_days": monitoring.retention_days,
                    # Queries need Entra sign-in and read rights on the resource logged;
                    # diagnostic settings need no workspace key.
                    "features": {"enable_log_access_using_only_resource_permissions": True, "disable_local_auth": True},
                    "tags": config.resource_tags,
                },
                parent=component,
                protect=config.protect,
            )
        ).ref("id")
    graph.add(
        Node(
            DIAGNOSTIC_SETTING,
            "account",
            {
                "name": DIAGNOSTICS_NAME,
                "resource_uri": account.ref("id"),
                "workspace_id": workspace_id,
                # Resource-specific tables (MicrosoftDataShare*SnapshotLog), which the alert queries.
                "log_analytics_destination_type": "Dedicated",
                "logs": [{"category": category, "enabled": True} for category in ACCOUNT_LOGS],
                "metrics": [{"category": "AllMetrics", "enabled": True}],
            },
            parent=component,
        )
    )
    action_group = graph.add(
        Node(
            ACTION_GROUP,
            "alerts",
            {
                "action_group_name": naming.action_group(config.environment),
                "resource_group_name": group.ref("name"),
                # Action groups are global; azure-native would otherwise fill in the
                # resource group's region, which Azure refuses.
                "location": "Global",
                "group_short_name": "fl-snapshot",
                "enabled": True,
                "email_receivers": [
                    {"name": email, "email_address": email, "use_common_alert_schema": True}
                    for email in sorted(monitoring.emails, key=str.lower)
                ],
                "tags": config.resource_tags,
            },
            parent=component,
        )
    )
    query_before, query_after = _FAILED_SNAPSHOTS.split("{account}")
    graph.add(
        Node(
            LOG_ALERT,
            "failed-snapshots",
            {
                "rule_name": f"{config.account_name}-failed-snapshots",
                "resource_group_name": group.ref("name"),
                # A log search alert is regional; the stack's region, as the workspace made
                # here (a workspace given by id may be elsewhere: the rule still queries it).
                "location": config.location,
                "kind": "LogAlert",
                "display_name": f"Failed Data Share snapshots ({config.account_name})",
                "description": "A snapshot failed on a share sent or a share received: "
                "the dimensions name the side, the share or subscription, and the dataset.",
                "severity": 1,
                "enabled": True,
                "scopes": [workspace_id],
                "evaluation_frequency": "PT5M",
                "window_size": "PT15M",
                "criteria": {
                    "all_of": [
                        {
                            "query": Concat((query_before, account.ref("id"), query_after)),
                            "time_aggregation": "Count",
                            "operator": "GreaterThan",
                            "threshold": 0,
                            "dimensions": [
                                {"name": name, "operator": "Include", "values": ["*"]} for name in ALERT_DIMENSIONS
                            ],
                            "failing_periods": {"number_of_evaluation_periods": 1, "min_failing_periods_to_alert": 1},
                        }
                    ]
                },
                # The snapshot tables appear with the first record; until then Azure's
                # check of the query would refuse it.
                "skip_query_validation": True,
                "actions": {"action_groups": [action_group.ref("id")]},
                "tags": config.resource_tags,
            },
            parent=component,
            # Azure refuses to move a rule to another workspace ("Scope can not be
            # updated"): a new workspace means a new rule, under the same name, so the old
            # one goes first.
            replace_on_changes=("scopes",),
            delete_before_replace=True,
        )
    )
    graph.finish(component, {"workspaceId": workspace_id, "actionGroupId": action_group.ref("id")})
    return Monitor(workspace_id, action_group.ref("id"))
