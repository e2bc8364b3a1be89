"""What one stack builds from its config: the whole resource graph and its outputs."""

from federation.config import Config
from federation.program import exports, monitoring, receiving, sharing, storage
from federation.program.graph import Graph, Node
from federation.program.storage import BLOB_DATA_CONTRIBUTOR, BLOB_DATA_READER, Role

RESOURCE_GROUP = "azure-native:resources:ResourceGroup"
ACCOUNT = "azure-native:datashare:Account"


def build(config: Config) -> Graph:
    graph = Graph()
    group = graph.add(
        Node(
            RESOURCE_GROUP,
            "resource-group",
            {"resource_group_name": config.resource_group, "location": config.location, "tags": config.resource_tags},
            protect=config.protect,
        )
    )
    account = graph.add(
        Node(
            ACCOUNT,
            "account",
            {
                "account_name": config.account_name,
                "resource_group_name": group.ref("name"),
                "location": config.location,
                "identity": {"type": "SystemAssigned"},
                "tags": config.resource_tags,
            },
            protect=config.protect,
        )
    )
    monitor = monitoring.add(graph, config, group, account)
    roles = _roles(config)
    targets = {
        key: storage.add(graph, config, key, config.storage[key], roles.get(key, set()), group, account, monitor)
        for key in sorted(config.storage)
    }
    shares = {
        name: sharing.add(graph, config, name, config.shares[name], group, account, targets)
        for name in sorted(config.shares)
    }
    subscriptions = {
        name: receiving.add(graph, config, name, config.subscriptions[name], group, account, targets)
        for name in sorted(config.subscriptions)
    }
    graph.outputs = {
        exports.RESOURCE_GROUP_NAME: group.ref("name"),
        exports.ACCOUNT_NAME: account.ref("name"),
        exports.ACCOUNT_ID: account.ref("id"),
        exports.ACCOUNT_PRINCIPAL_ID: account.ref("identity.principal_id"),
        exports.SHARES: shares,
        exports.STORAGE: {key: targets[key].id for key in sorted(config.storage)},
        exports.SUBSCRIPTIONS: subscriptions,
    }
    if monitor is not None:
        graph.outputs[exports.WORKSPACE_ID] = monitor.workspace_id
        graph.outputs[exports.ACTION_GROUP_ID] = monitor.action_group_id
    return graph.with_secrets(config.secret_texts())


def _roles(config: Config) -> dict[str, set[Role]]:
    """Which roles the account's identity needs on which storage: to read what it shares
    and to write what it receives."""
    roles: dict[str, set[Role]] = {}
    for role, entries in ((BLOB_DATA_READER, config.shares), (BLOB_DATA_CONTRIBUTOR, config.subscriptions)):
        for entry in entries.values():
            for location in entry.datasets.values():
                roles.setdefault(location.storage, set()).add(role)
    return roles
