"""Storage: hardened accounts and containers created here, and the role grants that let
the Data Share account's identity read them (sharing) or write them (receiving)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumiverse_time as time
from pulumi_azure_native import authorization
from pulumi_azure_native import storage as azure_storage

from federation.config import naming
from federation.program.monitoring import BLOB_LOGS, DIAGNOSTIC_SETTING, diagnostic_setting

COMPONENT = "federation:storage:Storage"
STORAGE_ACCOUNT = "azure-native:storage:StorageAccount"
BLOB_SERVICE = "azure-native:storage:BlobServiceProperties"
CONTAINER = "azure-native:storage:BlobContainer"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
SLEEP = "time:index/sleep:Sleep"
# Azure RBAC takes a while to honour a new grant; Data Share rejects datasets and mappings
# until it does (error 5006). Waited for once, when the grant is created or replaced.
GRANT_PROPAGATION = "120s"

SOFT_DELETE_DAYS = 7
# A storage account's properties fixed when it is created (engine names): Azure cannot
# change them, and replacing the account would delete its data.
FIXED_AT_CREATION = ("isHnsEnabled", "encryption.requireInfrastructureEncryption")

__all__ = ["DIAGNOSTIC_SETTING", "Role", "Storage", "StorageArgs"]


@dataclass(frozen=True)
class Role:
    suffix: str  # of the grant's logical name
    id: str  # built-in role definition id, the same in every subscription


BLOB_DATA_READER = Role("blob-reader", "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1")
BLOB_DATA_CONTRIBUTOR = Role("blob-contributor", "ba92f5b4-2d11-453d-a403-e96b0029c9fe")
ROLES = {role.suffix: role for role in (BLOB_DATA_READER, BLOB_DATA_CONTRIBUTOR)}


@dataclass
class StorageArgs:
    """One storage entry: created here (`create`), or an existing account given by its id
    and parts, on which the Data Share account's identity gets `roles` (role suffixes:
    `blob-reader`, `blob-contributor`)."""

    account_name: pulumi.Input[str]
    resource_group_name: pulumi.Input[str]  # created: the stack's resource group
    subscription_id: pulumi.Input[str]  # created: the deploying subscription
    data_share_account_id: pulumi.Input[str]
    data_share_principal_id: pulumi.Input[str]
    create: bool = True
    existing_id: pulumi.Input[str] | None = None  # an existing account's resource id
    roles: Sequence[str] = ()
    # Created storage only:
    location: pulumi.Input[str] | None = None
    tenant_id: pulumi.Input[str] | None = None  # the Data Share account's tenant
    hns: bool = False
    containers: Sequence[str] = ()
    shared_key_access: bool = False
    ip_rules: Sequence[pulumi.Input[str]] = ()  # addresses and ranges allowed, in order
    subnets: Sequence[pulumi.Input[str]] = ()  # subnet ids allowed, in order
    workspace_id: pulumi.Input[str] | None = None  # where the blob service logs go
    tags: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    protect: bool = False  # the account and its containers


class Storage(pulumi.ComponentResource):
    """A storage entry as datasets and mappings address it, and the grants they wait for."""

    id: pulumi.Output[str]
    account_name: pulumi.Output[str]
    resource_group_name: pulumi.Output[str]
    subscription_id: pulumi.Output[str]

    def __init__(self, name: str, args: StorageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(COMPONENT, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.hns = args.hns
        self.containers: dict[str, azure_storage.BlobContainer] = {}
        self.grants: dict[str, tuple[authorization.RoleAssignment, time.Sleep]] = {}
        if args.create:
            account = self._create(name, args, child)
            self.id = account.id
            self.account_name = account.name
            self.resource_group_name = pulumi.Output.from_input(args.resource_group_name)
            self.subscription_id = pulumi.Output.from_input(args.subscription_id)
        else:
            self.id = pulumi.Output.from_input(args.existing_id or "")
            self.account_name = pulumi.Output.from_input(args.account_name)
            self.resource_group_name = pulumi.Output.from_input(args.resource_group_name)
            self.subscription_id = pulumi.Output.from_input(args.subscription_id)
        scope: pulumi.Input[str] = self.id if args.create or args.existing_id is None else args.existing_id
        subscription: pulumi.Input[str] = args.subscription_id
        for role in sorted((ROLES[r] for r in set(args.roles)), key=lambda r: r.suffix):
            self.grants[role.suffix] = self._grant(name, role, scope, subscription, args, child)
        self.register_outputs({"id": scope})

    def prerequisites(self, role: str, container: str) -> list[pulumi.Output[str]]:
        """The ids of what a dataset or mapping here waits for, though no data flows from
        it: the grant, in effect, and on storage created here, the container."""
        assignment, wait = self.grants[role]
        created = self.containers.get(container)
        return [assignment.id, wait.id] + ([created.id] if created else [])

    def _create(self, name: str, args: StorageArgs, child: pulumi.ResourceOptions) -> azure_storage.StorageAccount:
        # Deny by default (CIS 4.7); let trusted Azure services through (CIS 4.8), and by a
        # resource instance rule, as Microsoft recommends, the Data Share account itself;
        # then the entry's own addresses and subnets.
        network: azure_storage.NetworkRuleSetArgsDict = {
            "default_action": azure_storage.DefaultAction.DENY,
            "bypass": "AzureServices",
            "resource_access_rules": [{"resource_id": args.data_share_account_id, "tenant_id": args.tenant_id}],
            "ip_rules": [{"i_p_address_or_range": ip, "action": azure_storage.Action.ALLOW} for ip in args.ip_rules],
            "virtual_network_rules": [
                {"virtual_network_resource_id": subnet, "action": azure_storage.Action.ALLOW} for subnet in args.subnets
            ],
        }
        encryption: azure_storage.EncryptionArgsDict = {
            "key_source": "Microsoft.Storage",
            "require_infrastructure_encryption": True,
        }
        account = azure_storage.StorageAccount(
            name,
            account_name=args.account_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            kind="StorageV2",
            sku={"name": "Standard_LRS"},
            is_hns_enabled=args.hns,
            # Baseline of CIS Azure Foundations section 4; infrastructure encryption
            # can only be chosen at creation, so it is on from the start.
            enable_https_traffic_only=True,
            minimum_tls_version="TLS1_2",
            allow_blob_public_access=False,
            allow_cross_tenant_replication=False,
            encryption=encryption,
            # Data Share reads and writes with its managed identity, never a key.
            allow_shared_key_access=args.shared_key_access,
            default_to_o_auth_authentication=True,
            # Enabled: Data Share has no private endpoint; the rules below narrow it.
            public_network_access="Enabled",
            network_rule_set=network,
            tags=args.tags,
            opts=pulumi.ResourceOptions.merge(
                child,
                pulumi.ResourceOptions(
                    protect=args.protect,
                    replace_on_changes=list(FIXED_AT_CREATION),
                    # Never the old one first: replacing would delete its data. Azure refuses
                    # to create the new one under the same name instead (diff reports it).
                    delete_before_replace=False,
                ),
            ),
        )
        retention: Any = {"enabled": True, "days": SOFT_DELETE_DAYS}
        blob_service = azure_storage.BlobServiceProperties(
            name,
            account_name=account.name,
            resource_group_name=args.resource_group_name,
            blob_services_name="default",
            delete_retention_policy=retention,
            container_delete_retention_policy=retention,
            opts=child,
        )
        if args.workspace_id is not None:
            diagnostic_setting(name, blob_service.id, args.workspace_id, BLOB_LOGS, child)
        for container in sorted(args.containers):
            self.containers[container] = azure_storage.BlobContainer(
                f"{name}.{container}",
                account_name=account.name,
                resource_group_name=args.resource_group_name,
                container_name=container,
                public_access=azure_storage.PublicAccess.NONE,
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(protect=args.protect)),
            )
        return account

    def _grant(
        self,
        name: str,
        role: Role,
        scope: pulumi.Input[str],
        subscription: pulumi.Input[str],
        args: StorageArgs,
        child: pulumi.ResourceOptions,
    ) -> tuple[authorization.RoleAssignment, time.Sleep]:
        """A role for the Data Share account's identity on this storage account, and the
        wait until Azure honours it."""
        grant = f"{name}.{role.suffix}"
        parts = pulumi.Output.all(scope, args.data_share_principal_id)
        assignment = authorization.RoleAssignment(
            grant,
            role_assignment_name=parts.apply(lambda p: naming.role_assignment(p[0], p[1], role.id)),
            principal_id=args.data_share_principal_id,
            principal_type="ServicePrincipal",
            role_definition_id=pulumi.Output.concat(
                "/subscriptions/", subscription, "/providers/Microsoft.Authorization/roleDefinitions/", role.id
            ),
            scope=scope,
            opts=child,
        )
        wait = time.Sleep(
            grant,
            create_duration=GRANT_PROPAGATION,
            triggers={"roleAssignment": assignment.id},
            # As the time provider does: a new grant is waited for anew.
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(replace_on_changes=["triggers"])),
        )
        return assignment, wait
