"""Monitoring: the Log Analytics workspace, the Data Share account's logs, and the alert
that tells people of a failed snapshot. Storage sends its own logs (see `storage`)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import monitor, operationalinsights

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


@dataclass
class MonitoringArgs:
    """The workspace (made here as `workspace_name`, or an existing one's `workspace_id`),
    the Data Share account whose logs go there, and who is told of failed snapshots."""

    resource_group_name: pulumi.Input[str]
    location: pulumi.Input[str]
    account_id: pulumi.Input[str]  # the Data Share account's resource id
    account_name: str  # the Data Share account's name, in the alert's name
    action_group_name: pulumi.Input[str]
    emails: Sequence[pulumi.Input[str]] = ()  # in order
    workspace_name: pulumi.Input[str] | None = None
    workspace_id: pulumi.Input[str] | None = None
    retention_in_days: pulumi.Input[int] | None = None
    tags: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    protect: bool = False  # the workspace


class Monitoring(pulumi.ComponentResource):
    """The workspace (unless an existing one is named), the account's logs, the action
    group and the failed-snapshot alert. Its children keep the names they were first
    deployed under: one instance per stack."""

    workspace_id: pulumi.Output[str]
    action_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(COMPONENT, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        workspace_id: pulumi.Input[str]
        if args.workspace_id is not None:
            workspace_id = args.workspace_id
        else:
            workspace_id = operationalinsights.Workspace(
                "workspace",
                workspace_name=args.workspace_name,
                resource_group_name=args.resource_group_name,
                location=args.location,
                sku={"name": "PerGB2018"},
                retention_in_days=args.retention_in_days,
                # Queries need Entra sign-in and read rights on the resource logged;
                # diagnostic settings need no workspace key.
                features={"enable_log_access_using_only_resource_permissions": True, "disable_local_auth": True},
                tags=args.tags,
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(protect=args.protect)),
            ).id
        monitor.DiagnosticSetting(
            "account",
            name=DIAGNOSTICS_NAME,
            resource_uri=args.account_id,
            workspace_id=workspace_id,
            # Resource-specific tables (MicrosoftDataShare*SnapshotLog), which the alert queries.
            log_analytics_destination_type="Dedicated",
            logs=[{"category": category, "enabled": True} for category in ACCOUNT_LOGS],
            metrics=[{"category": "AllMetrics", "enabled": True}],
            opts=child,
        )
        action_group = monitor.ActionGroup(
            "alerts",
            action_group_name=args.action_group_name,
            resource_group_name=args.resource_group_name,
            # Action groups are global; azure-native would otherwise fill in the resource
            # group's region, which Azure refuses.
            location="Global",
            group_short_name="fl-snapshot",
            enabled=True,
            email_receivers=[
                {"name": email, "email_address": email, "use_common_alert_schema": True} for email in args.emails
            ],
            tags=args.tags,
            opts=child,
        )
        query_before, query_after = _FAILED_SNAPSHOTS.split("{account}")
        monitor.ScheduledQueryRule(
            "failed-snapshots",
            rule_name=f"{args.account_name}-failed-snapshots",
            resource_group_name=args.resource_group_name,
            # A log search alert is regional; the stack's region, as the workspace made
            # here (a workspace given by id may be elsewhere: the rule still queries it).
            location=args.location,
            kind="LogAlert",
            display_name=f"Failed Data Share snapshots ({args.account_name})",
            description="A snapshot failed on a share sent or a share received: "
            "the dimensions name the side, the share or subscription, and the dataset.",
            severity=1,
            enabled=True,
            scopes=[workspace_id],
            evaluation_frequency="PT5M",
            window_size="PT15M",
            criteria={
                "all_of": [
                    {
                        "query": pulumi.Output.concat(query_before, args.account_id, query_after),
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
            # The snapshot tables appear with the first record; until then Azure's check of
            # the query would refuse it.
            skip_query_validation=True,
            actions={"action_groups": [action_group.id]},
            tags=args.tags,
            # Azure refuses to move a rule to another workspace ("Scope can not be
            # updated"): a new workspace means a new rule, under the same name, so the old
            # one goes first.
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(replace_on_changes=["scopes"], delete_before_replace=True)
            ),
        )
        self.workspace_id = pulumi.Output.from_input(workspace_id)
        self.action_group_id = action_group.id
        self.register_outputs({"workspaceId": workspace_id, "actionGroupId": action_group.id})


def diagnostic_setting(
    name: str,
    resource_uri: pulumi.Input[str],
    workspace_id: pulumi.Input[str],
    categories: Sequence[str],
    opts: pulumi.ResourceOptions,
) -> monitor.DiagnosticSetting:
    """A resource's logs of these categories, sent to the workspace."""
    return monitor.DiagnosticSetting(
        name,
        name=DIAGNOSTICS_NAME,
        resource_uri=resource_uri,
        workspace_id=workspace_id,
        logs=[{"category": category, "enabled": True} for category in categories],
        opts=opts,
    )
