"""The receiving side: a share subscription, where each received dataset lands (dataset
mappings) and when snapshots are copied (a scheduled trigger)."""

from collections.abc import Callable

from federation.config import NAMESPACE, Config, Subscription
from federation.program import datasets
from federation.program.graph import ALL, STACK_REFERENCE, Graph, Node, Value, with_optional
from federation.program.storage import BLOB_DATA_CONTRIBUTOR, Target

COMPONENT = "federation:receiving:Subscription"
SHARE_SUBSCRIPTION = "azure-native:datashare:ShareSubscription"
TRIGGER = "azure-native:datashare:ScheduledTrigger"
TRIGGER_NAME = "schedule"


def add(
    graph: Graph,
    config: Config,
    name: str,
    subscription: Subscription,
    group: Node,
    account: Node,
    targets: dict[str, Target],
) -> dict[str, Value]:
    """Register one received share and its mappings and trigger; returns its stack output."""
    invitation_id, dataset_id = _source(graph, name, subscription)
    component = graph.add(Node(COMPONENT, name, component=True))
    parent = {"account_name": account.ref("name"), "resource_group_name": group.ref("name")}
    inputs = with_optional(
        parent,
        share_subscription_name=name,
        invitation_id=invitation_id,
        source_share_location=subscription.source_location,
        expiration_date=subscription.expires,
    )
    resource = graph.add(
        Node(
            SHARE_SUBSCRIPTION,
            name,
            inputs,
            parent=component,
            # Deleting a subscription loses the received share: a new invitation is needed
            # to get it back. So protect blocks a replacement too, on purpose.
            protect=config.protect,
            # Its PUT only creates: any change is a new subscription, made after the old one goes.
            replace_on_changes=ALL,
            delete_before_replace=True,
            # The sender moves the expiry (adjust, reinstate) and a refresh reads it back:
            # that must not replace the subscription. Config's expiry is the one asked for
            # at creation.
            ignore_changes=("expirationDate",),
        )
    )
    within = parent | {"share_subscription_name": resource.ref("name")}
    mapping_ids = {}
    for key, location in sorted(subscription.datasets.items()):
        fields = within | {"data_set_mapping_name": key, "data_set_id": dataset_id(key)}
        target = targets[location.storage]
        mapping = datasets.node("Mapping", f"{name}.{key}", fields, location, target, BLOB_DATA_CONTRIBUTOR, component)
        mapping_ids[key] = graph.add(mapping).ref("id")
    if subscription.schedule is not None:
        schedule = subscription.schedule
        graph.add(
            Node(
                TRIGGER,
                f"{name}.{TRIGGER_NAME}",
                within
                | {
                    "trigger_name": TRIGGER_NAME,
                    "kind": "ScheduleBased",
                    "recurrence_interval": schedule.recurrence,
                    "synchronization_time": schedule.start,
                    "synchronization_mode": schedule.mode,
                },
                parent=component,
                # Mappings first: a trigger copies into them.
                depends_on=tuple(graph.nodes[r.node] for r in mapping_ids.values()),
                replace_on_changes=ALL,
                delete_before_replace=True,
            )
        )
    output = {"id": resource.ref("id"), "mappings": mapping_ids}
    graph.finish(component, output)
    return output


def _source(graph: Graph, name: str, subscription: Subscription) -> tuple[Value, Callable[[str], Value]]:
    """The invitation id, and each dataset's id by key: as given in config, or read from
    the sender's stack outputs (one stack reference per sender stack)."""
    if subscription.from_ is None:
        return subscription.invitation_id, lambda key: key
    source = subscription.from_
    sender = graph.nodes.get(f"{STACK_REFERENCE}::{source.stack}") or graph.add(
        Node(STACK_REFERENCE, source.stack, {"name": source.stack})
    )
    share = ("shares", source.share)
    named_by = f"{NAMESPACE}:subscriptions.{name}"
    return (
        sender.ref("outputs", *share, "invitations", source.participant, named_by=named_by),
        lambda key: sender.ref("outputs", *share, "datasets", key, named_by=named_by),
    )
