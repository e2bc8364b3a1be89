"""The same resources as __main__.py, written as a plain Pulumi program: no validation, no
components. A baseline for benchmarks/run.py, which checks both register the same thing.
It trusts the config to be valid and already in canonical spelling (UTC times ending in Z,
lowercase GUIDs), as in the benchmark stacks."""

import uuid

import pulumi
import pulumiverse_time
from pulumi_azure_native import authorization, datashare, monitor, operationalinsights, resources, storage

cfg = pulumi.Config("federation")
location = pulumi.Config("azure-native").require("location")
env = cfg.get("environment") or pulumi.get_stack()
protect = cfg.get_bool("protect", env == "prod")
tags = {"environment": env, "managedBy": "pulumi"} | (cfg.get_object("tags") or {})
stores = cfg.get_object("storage") or {}
participants = cfg.get_object("participants") or {}
shares = cfg.get_object("shares") or {}
received = cfg.get_object("subscriptions") or {}
monitoring = cfg.get_object("monitoring")

ROLES = {  # built-in roles: Storage Blob Data Contributor (to receive), Reader (to share)
    "blob-contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "blob-reader": "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
}
ROLE_NAMESPACE = uuid.UUID("5b0c2a4e-2f4e-4f7c-9a52-1f3d6f1e9a10")  # as federation.naming
replace_all = {"replace_on_changes": ["*"], "delete_before_replace": True}

group = resources.ResourceGroup(
    "resource-group",
    resource_group_name=cfg.get("resourceGroup") or f"rg-fl-{env}",
    location=location,
    tags=tags,
    opts=pulumi.ResourceOptions(protect=protect),
)
account = datashare.Account(
    "account",
    account_name=cfg.get("accountName") or f"dsa-fl-{env}",
    resource_group_name=group.name,
    location=location,
    identity={"type": "SystemAssigned"},
    tags=tags,
    opts=pulumi.ResourceOptions(protect=protect),
)
client = authorization.get_client_config_output()
subscription_id = client.subscription_id

workspace_id = None
if monitoring:  # the workspace, the account's logs, the action group and the alert
    component_monitoring = pulumi.ComponentResource("federation:monitoring:Monitoring", "monitoring")
    in_monitoring = pulumi.ResourceOptions(parent=component_monitoring)
    workspace_id = monitoring.get("workspace", {}).get("id")
    if workspace_id is None:
        workspace_id = operationalinsights.Workspace(
            "workspace",
            workspace_name=monitoring.get("workspace", {}).get("name") or f"log-fl-{env}",
            resource_group_name=group.name,
            location=location,
            sku={"name": "PerGB2018"},
            retention_in_days=monitoring.get("retentionDays", 90),
            features={"enable_log_access_using_only_resource_permissions": True, "disable_local_auth": True},
            tags=tags,
            opts=pulumi.ResourceOptions(parent=component_monitoring, protect=protect),
        ).id
    categories = ("SentShareSnapshots", "ReceivedShareSnapshots", "Shares", "ShareSubscriptions")
    monitor.DiagnosticSetting(
        "account",
        name="federation-logs",
        resource_uri=account.id,
        workspace_id=workspace_id,
        log_analytics_destination_type="Dedicated",
        logs=[{"category": c, "enabled": True} for c in categories],
        metrics=[{"category": "AllMetrics", "enabled": True}],
        opts=in_monitoring,
    )
    action_group = monitor.ActionGroup(
        "alerts",
        action_group_name=f"ag-fl-{env}",
        resource_group_name=group.name,
        location="Global",
        group_short_name="fl-snapshot",
        enabled=True,
        email_receivers=[
            {"name": e, "email_address": e, "use_common_alert_schema": True}
            for e in sorted(monitoring["emails"], key=str.lower)
        ],
        tags=tags,
        opts=in_monitoring,
    )
    account_name = cfg.get("accountName") or f"dsa-fl-{env}"
    query = pulumi.Output.concat(
        "let account = '",
        account.id,
        "';\nunion isfuzzy=true (datatable(TimeGenerated:datetime, _ResourceId:string, Type:string, Status:string, "
        "DataSetName:string, DataSetType:string, DetailMessage:string, CorrelationId:string) []), "
        "MicrosoftDataShareSentSnapshotLog, MicrosoftDataShareReceivedSnapshotLog\n"
        "| where _ResourceId =~ account or _ResourceId startswith strcat(account, '/')\n"
        "| where Status =~ 'failed'\n"
        "| extend Side = iff(Type == 'MicrosoftDataShareSentSnapshotLog', 'sent', 'received')\n"
        "| extend ShareOrSubscription = coalesce("
        "extract(@'(?i)/(shares|sharesubscriptions)/([^/]+)', 2, _ResourceId), '(account-wide)')\n"
        "| project TimeGenerated, Side, ShareOrSubscription, DataSetName, DataSetType, DetailMessage, CorrelationId",
    )
    monitor.ScheduledQueryRule(
        "failed-snapshots",
        rule_name=f"{account_name}-failed-snapshots",
        resource_group_name=group.name,
        location=location,
        kind="LogAlert",
        display_name=f"Failed Data Share snapshots ({account_name})",
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
                    "query": query,
                    "time_aggregation": "Count",
                    "operator": "GreaterThan",
                    "threshold": 0,
                    "dimensions": [
                        {"name": d, "operator": "Include", "values": ["*"]}
                        for d in ("Side", "ShareOrSubscription", "DataSetName")
                    ],
                    "failing_periods": {"number_of_evaluation_periods": 1, "min_failing_periods_to_alert": 1},
                }
            ]
        },
        skip_query_validation=True,
        actions={"action_groups": [action_group.id]},
        tags=tags,
        opts=pulumi.ResourceOptions.merge(
            in_monitoring, pulumi.ResourceOptions(replace_on_changes=["scopes"], delete_before_replace=True)
        ),
    )
    component_monitoring.register_outputs({"workspaceId": workspace_id, "actionGroupId": action_group.id})
principal_id = account.identity.principal_id
needs = {  # role -> the storage keys the account's identity needs it on
    role: {ds["storage"] for entry in entries.values() for ds in entry["datasets"].values()}
    for role, entries in (("blob-contributor", received), ("blob-reader", shares))
}

# Per storage key: where datasets point; per (key, role): the grant and its wait.
targets, waits, containers = {}, {}, {}
for key, entry in sorted(stores.items()):
    if "id" in entry:
        _, _, sub, _, rg, *_, name = entry["id"].split("/")
        targets[key] = (name, rg, sub, entry["id"], entry.get("hns", False))
    roles = [role for role in ROLES if key in needs[role]]
    if "id" in entry and not roles:
        continue
    component = pulumi.ComponentResource("federation:storage:Storage", key)
    child = pulumi.ResourceOptions(parent=component)
    if "id" not in entry:
        created = storage.StorageAccount(
            key,
            account_name=entry["name"],
            resource_group_name=group.name,
            location=location,
            kind="StorageV2",
            sku={"name": "Standard_LRS"},
            is_hns_enabled=entry.get("hns", False),
            enable_https_traffic_only=True,
            minimum_tls_version="TLS1_2",
            allow_blob_public_access=False,
            allow_cross_tenant_replication=False,
            encryption={"key_source": "Microsoft.Storage", "require_infrastructure_encryption": True},
            allow_shared_key_access=bool(entry.get("sharedKeyAccess")),
            default_to_o_auth_authentication=True,
            public_network_access="Enabled",
            network_rule_set={
                "default_action": "Deny",
                "bypass": "AzureServices",
                "resource_access_rules": [{"resource_id": account.id, "tenant_id": client.tenant_id}],
                "ip_rules": [
                    {"i_p_address_or_range": ip, "action": "Allow"}
                    for ip in sorted(entry.get("network", {}).get("allow", []))
                ],
                "virtual_network_rules": [
                    {"virtual_network_resource_id": s, "action": "Allow"}
                    for s in sorted(entry.get("network", {}).get("subnets", []), key=str.lower)
                ],
            },
            tags=tags,
            opts=pulumi.ResourceOptions(
                parent=component,
                protect=protect,
                replace_on_changes=["isHnsEnabled", "encryption.requireInfrastructureEncryption"],
                delete_before_replace=False,
            ),
        )
        retention = {"enabled": True, "days": 7}
        blob_service = storage.BlobServiceProperties(
            key,
            account_name=created.name,
            resource_group_name=group.name,
            blob_services_name="default",
            delete_retention_policy=retention,
            container_delete_retention_policy=retention,
            opts=child,
        )
        if workspace_id is not None:
            monitor.DiagnosticSetting(
                key,
                name="federation-logs",
                resource_uri=blob_service.id,
                workspace_id=workspace_id,
                logs=[{"category": c, "enabled": True} for c in ("StorageRead", "StorageWrite", "StorageDelete")],
                opts=child,
            )
        for name in sorted(entry.get("containers", [])):
            containers[key, name] = storage.BlobContainer(
                f"{key}.{name}",
                account_name=created.name,
                resource_group_name=group.name,
                container_name=name,
                public_access="None",
                opts=pulumi.ResourceOptions(parent=component, protect=protect),
            )
        targets[key] = (created.name, group.name, subscription_id, created.id, entry.get("hns", False))
    scope, sub = targets[key][3], targets[key][2]
    for role in roles:
        grant = authorization.RoleAssignment(
            f"{key}.{role}",
            role_assignment_name=pulumi.Output.all(scope, principal_id).apply(
                lambda p, role=role: str(uuid.uuid5(ROLE_NAMESPACE, f"{p[0].lower()}|{p[1]}|{ROLES[role]}"))
            ),
            principal_id=principal_id,
            principal_type="ServicePrincipal",
            role_definition_id=pulumi.Output.concat(
                "/subscriptions/", sub, "/providers/Microsoft.Authorization/roleDefinitions/", ROLES[role]
            ),
            scope=scope,
            opts=child,
        )
        wait = pulumiverse_time.Sleep(
            f"{key}.{role}",
            create_duration="120s",
            triggers={"roleAssignment": grant.id},
            opts=pulumi.ResourceOptions(parent=component, replace_on_changes=["triggers"]),
        )
        waits[key, role] = [grant, wait]
    component.register_outputs({"id": scope})

KINDS = {  # (hns, form) -> (dataset class, mapping class, kind)
    (False, "container"): (datashare.BlobContainerDataSet, datashare.BlobContainerDataSetMapping, "Container"),
    (False, "folder"): (datashare.BlobFolderDataSet, datashare.BlobFolderDataSetMapping, "BlobFolder"),
    (False, "file"): (datashare.BlobDataSet, datashare.BlobDataSetMapping, "Blob"),
    (True, "container"): (
        datashare.ADLSGen2FileSystemDataSet,
        datashare.ADLSGen2FileSystemDataSetMapping,
        "AdlsGen2FileSystem",
    ),
    (True, "folder"): (datashare.ADLSGen2FolderDataSet, datashare.ADLSGen2FolderDataSetMapping, "AdlsGen2Folder"),
    (True, "file"): (datashare.ADLSGen2FileDataSet, datashare.ADLSGen2FileDataSetMapping, "AdlsGen2File"),
}


def place(ds, role, parent):
    """A dataset's or mapping's classes, storage inputs, and what it waits for."""
    name, rg, sub, _, hns = targets[ds["storage"]]
    form = "file" if "file" in ds else "folder" if "folder" in ds else "container"
    dataset_cls, mapping_cls, kind = KINDS[hns, form]
    inputs = {
        "kind": kind,
        "file_system" if hns else "container_name": ds["container"],
        "storage_account_name": name,
        "resource_group": rg,
        "subscription_id": sub,
    }
    if "folder" in ds:
        inputs["folder_path" if hns else "prefix"] = ds["folder"]
    if "file" in ds:
        inputs["file_path"] = ds["file"]
    created = containers.get((ds["storage"], ds["container"]))
    waits_for = waits[ds["storage"], role] + ([created] if created else [])
    opts = pulumi.ResourceOptions(parent=parent, depends_on=waits_for, **replace_all)
    return dataset_cls, mapping_cls, inputs, opts


share_outputs = {}
for share_name, share in sorted(shares.items()):
    component = pulumi.ComponentResource("federation:sharing:Share", share_name)
    optional = {k: share[k] for k in ("description", "terms") if k in share}
    resource = datashare.Share(
        share_name,
        account_name=account.name,
        resource_group_name=group.name,
        share_name=share_name,
        share_kind="CopyBased",
        **optional,
        opts=pulumi.ResourceOptions(parent=component, protect=protect),
    )
    within = {"account_name": account.name, "resource_group_name": group.name, "share_name": resource.name}
    replace = pulumi.ResourceOptions(parent=component, **replace_all)
    dataset_ids = {}
    for key, ds in sorted(share["datasets"].items()):
        cls, _, inputs, opts = place(ds, "blob-reader", component)
        dataset = cls(f"{share_name}.{key}", **within, data_set_name=key, **inputs, opts=opts)
        dataset_ids[key] = dataset.data_set_id
    if "schedule" in share:
        datashare.ScheduledSynchronizationSetting(
            f"{share_name}.schedule",
            **within,
            synchronization_setting_name="schedule",
            kind="ScheduleBased",
            recurrence_interval=share["schedule"]["recurrence"],
            synchronization_time=share["schedule"]["start"],
            opts=replace,
        )
    invitation_ids = {}
    for key in sorted(share.get("participants", participants)):
        who = participants[key]
        expiries = [t for t in (share.get("expires"), who.get("expires")) if t]
        target = {
            "target_email": who.get("email"),
            "target_active_directory_id": who.get("tenantId"),
            "target_object_id": who.get("objectId"),
            "expiration_date": min(expiries) if expiries else None,
        }
        invitation = datashare.Invitation(
            f"{share_name}.{key}",
            **within,
            invitation_name=key,
            **{k: v for k, v in target.items() if v is not None},
            opts=replace,
        )
        invitation_ids[key] = invitation.invitation_id
    share_outputs[share_name] = {"id": resource.id, "datasets": dataset_ids, "invitations": invitation_ids}
    component.register_outputs(share_outputs[share_name])

senders, subscription_outputs = {}, {}
for name, entry in sorted(received.items()):
    source = entry.get("from")
    if source:  # the sender's ids, from its stack outputs
        if source["stack"] not in senders:
            senders[source["stack"]] = pulumi.StackReference(source["stack"], source["stack"])
        sent = senders[source["stack"]].outputs.apply(lambda o, s=source["share"]: o["shares"][s])
        invitation_id = sent.apply(lambda s, p=source["participant"]: s["invitations"][p])
    else:
        invitation_id = entry["invitationId"]
    component = pulumi.ComponentResource("federation:receiving:Subscription", name)
    optional = {"expiration_date": entry["expires"]} if "expires" in entry else {}
    resource = datashare.ShareSubscription(
        name,
        account_name=account.name,
        resource_group_name=group.name,
        share_subscription_name=name,
        invitation_id=invitation_id,
        source_share_location=entry["sourceLocation"],
        **optional,
        opts=pulumi.ResourceOptions(
            parent=component, protect=protect, ignore_changes=["expirationDate"], **replace_all
        ),
    )
    within = {"account_name": account.name, "resource_group_name": group.name, "share_subscription_name": resource.name}
    mappings = {}
    for key, ds in sorted(entry["datasets"].items()):
        _, cls, inputs, opts = place(ds, "blob-contributor", component)
        mappings[key] = cls(
            f"{name}.{key}",
            **within,
            data_set_mapping_name=key,
            data_set_id=sent.apply(lambda s, k=key: s["datasets"][k]) if source else key,
            **inputs,
            opts=opts,
        )
    if "schedule" in entry:
        datashare.ScheduledTrigger(
            f"{name}.schedule",
            **within,
            trigger_name="schedule",
            kind="ScheduleBased",
            recurrence_interval=entry["schedule"]["recurrence"],
            synchronization_time=entry["schedule"]["start"],
            synchronization_mode=entry["schedule"].get("mode", "Incremental"),
            opts=pulumi.ResourceOptions(parent=component, depends_on=list(mappings.values()), **replace_all),
        )
    subscription_outputs[name] = {"id": resource.id, "mappings": {k: m.id for k, m in mappings.items()}}
    component.register_outputs(subscription_outputs[name])

pulumi.export("resourceGroupName", group.name)
pulumi.export("accountName", account.name)
pulumi.export("accountId", account.id)
pulumi.export("accountPrincipalId", principal_id)
pulumi.export("shares", share_outputs)
pulumi.export("storage", {key: targets[key][3] for key in sorted(stores)})
pulumi.export("subscriptions", subscription_outputs)
if monitoring:
    pulumi.export("workspaceId", workspace_id)
    pulumi.export("actionGroupId", action_group.id)
