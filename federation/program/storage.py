"""Storage: hardened accounts and containers created here, and the role grants that let
the Data Share account's identity read them (sharing) or write them (receiving)."""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from federation.config import Config, Storage
from federation.program.graph import SUBSCRIPTION, TENANT, Concat, Graph, Guid, Node, Value
from federation.program.monitoring import BLOB_LOGS, DIAGNOSTIC_SETTING, DIAGNOSTICS_NAME, Monitor

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


@dataclass(frozen=True)
class Role:
    suffix: str  # of the grant's logical name
    id: str  # built-in role definition id, the same in every subscription


BLOB_DATA_READER = Role("blob-reader", "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1")
BLOB_DATA_CONTRIBUTOR = Role("blob-contributor", "ba92f5b4-2d11-453d-a403-e96b0029c9fe")


@dataclass(frozen=True)
class Target:
    """A storage entry as datasets and mappings address it, and what they must wait for."""

    account_name: Value
    resource_group: Value
    subscription_id: Value
    hns: bool
    id: Value  # the account's resource id, exported
    containers: Mapping[str, Node] = field(default_factory=dict)
    grants: Mapping[Role, tuple[Node, Node]] = field(default_factory=dict)  # (assignment, its wait)

    def prerequisites(self, role: Role, container: str) -> tuple[Node, ...]:
        """What a dataset or mapping here waits for, though no data flows from it: the
        grant, in effect, and on storage created here, the container."""
        created = self.containers.get(container)
        return self.grants[role] + ((created,) if created else ())


def add(
    graph: Graph,
    config: Config,
    key: str,
    storage: Storage,
    roles: set[Role],
    group: Node,
    account: Node,
    monitor: Monitor | None = None,
) -> Target:
    """Register one storage entry; existing storage that no role needs registers nothing."""
    if not storage.created and not roles:
        return _existing(storage)
    component = graph.add(Node(COMPONENT, key, component=True))
    if storage.created:
        created = _create(graph, config, key, storage, group, account, component, monitor)
        containers = {
            name: _container(graph, config, key, name, created, group, component) for name in sorted(storage.containers)
        }
        target = Target(
            created.ref("name"), group.ref("name"), SUBSCRIPTION, storage.hns, created.ref("id"), containers
        )
    else:
        target = _existing(storage)
    grants = {
        role: _grant(graph, key, role, target, account, component) for role in sorted(roles, key=lambda r: r.suffix)
    }
    graph.finish(component, {"id": target.id})
    return replace(target, grants=grants)


def _grant(graph: Graph, key: str, role: Role, target: Target, account: Node, component: Node) -> tuple[Node, Node]:
    """A role for the Data Share account's identity on this storage account, and the wait
    until Azure honours it."""
    principal = account.ref("identity.principal_id")
    name = f"{key}.{role.suffix}"
    assignment = graph.add(
        Node(
            ROLE_ASSIGNMENT,
            name,
            {
                "role_assignment_name": Guid(target.id, principal, role.id),
                "principal_id": principal,
                "principal_type": "ServicePrincipal",
                "role_definition_id": Concat(
                    (
                        "/subscriptions/",
                        target.subscription_id,
                        "/providers/Microsoft.Authorization/roleDefinitions/",
                        role.id,
                    )
                ),
                "scope": target.id,
            },
            parent=component,
        )
    )
    wait = graph.add(
        Node(
            SLEEP,
            name,
            {"create_duration": GRANT_PROPAGATION, "triggers": {"roleAssignment": assignment.ref("id")}},
            parent=component,
            # As the time provider does: a new grant is waited for anew.
            replace_on_changes=("triggers",),
        )
    )
    return assignment, wait


def _existing(storage: Storage) -> Target:
    return Target(storage.account_name, storage.resource_group, storage.subscription_id, storage.hns, storage.id)


def _container(graph: Graph, config: Config, key: str, name: str, account: Node, group: Node, component: Node) -> Node:
    return graph.add(
        Node(
            CONTAINER,
            f"{key}.{name}",
            {
                "account_name": account.ref("name"),
                "resource_group_name": group.ref("name"),
                "container_name": name,
                "public_access": "None",
            },
            parent=component,
            protect=config.protect,
        )
    )


def _network(storage: Storage, data_share: Node) -> dict[str, Value]:
    """Deny by default (CIS 4.7); let trusted Azure services through (CIS 4.8), and by a
    resource instance rule, as Microsoft recommends, the Data Share account itself; then
    the entry's own addresses and subnets, sorted so that their order changes nothing."""
    network = storage.network
    return {
        "default_action": "Deny",
        "bypass": "AzureServices",
        "resource_access_rules": [{"resource_id": data_share.ref("id"), "tenant_id": TENANT}],
        "ip_rules": [
            {"i_p_address_or_range": ip, "action": "Allow"} for ip in sorted(network.allow if network else ())
        ],
        "virtual_network_rules": [
            {"virtual_network_resource_id": subnet, "action": "Allow"}
            for subnet in sorted(network.subnets if network else (), key=str.lower)
        ],
    }


def _create(
    graph: Graph,
    config: Config,
    key: str,
    storage: Storage,
    group: Node,
    data_share: Node,
    component: Node,
    monitor: Monitor | None,
) -> Node:
    account = graph.add(
        Node(
            STORAGE_ACCOUNT,
            key,
            {
                "account_name": storage.name,
                "resource_group_name": group.ref("name"),
                "location": config.location,
                "kind": "StorageV2",
                "sku": {"name": "Standard_LRS"},
                "is_hns_enabled": storage.hns,
                # Baseline of CIS Azure Foundations section 4; infrastructure encryption
                # can only be chosen at creation, so it is on from the start.
                "enable_https_traffic_only": True,
                "minimum_tls_version": "TLS1_2",
                "allow_blob_public_access": False,
                "allow_cross_tenant_replication": False,
                "encryption": {"key_source": "Microsoft.Storage", "require_infrastructure_encryption": True},
                # Data Share reads and writes with its managed identity, never a key.
                "allow_shared_key_access": bool(storage.shared_key_access),
                "default_to_o_auth_authentication": True,
                # Enabled: Data Share has no private endpoint; the rules below narrow it.
                "public_network_access": "Enabled",
                "network_rule_set": _network(storage, data_share),
                "tags": config.resource_tags,
            },
            parent=component,
            protect=config.protect,
            replace_on_changes=FIXED_AT_CREATION,
            # Never the old one first: replacing would delete its data. Azure refuses to
            # create the new one under the same name instead (diff reports it).
            delete_before_replace=False,
        )
    )
    retention = {"enabled": True, "days": SOFT_DELETE_DAYS}
    blob_service = graph.add(
        Node(
            BLOB_SERVICE,
            key,
            {
                "account_name": account.ref("name"),
                "resource_group_name": group.ref("name"),
                "blob_services_name": "default",
                "delete_retention_policy": retention,
                "container_delete_retention_policy": retention,
            },
            parent=component,
        )
    )
    if monitor is not None:
        graph.add(
            Node(
                DIAGNOSTIC_SETTING,
                key,
                {
                    "name": DIAGNOSTICS_NAME,
                    "resource_uri": blob_service.ref("id"),
                    "workspace_id": monitor.workspace_id,
                    "logs": [{"category": category, "enabled": True} for category in BLOB_LOGS],
                },
                parent=component,
            )
        )
    return account
