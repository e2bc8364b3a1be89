"""The receiving side: a share subscription, where each received dataset lands (dataset
mappings) and when snapshots are copied (a scheduled trigger)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi_azure_native import datashare

from federation import config
from federation.program import datasets
from federation.program.datasets import ALL, LocationArgs

COMPONENT = "federation:receiving:Subscription"
SHARE_SUBSCRIPTION = "azure-native:datashare:ShareSubscription"
TRIGGER = "azure-native:datashare:ScheduledTrigger"
STACK_REFERENCE = "pulumi:pulumi:StackReference"
TRIGGER_NAME = "schedule"


@dataclass
class MappingArgs:
    """Where one received dataset (the sender's `data_set_id`) lands."""

    data_set_id: pulumi.Input[str]
    location: LocationArgs


@dataclass
class SubscriptionArgs:
    """A share subscription on a Data Share account: the sender's invitation, where each
    dataset lands (by mapping name), and optionally a trigger (`recurrence` from `start`,
    in `mode`)."""

    account_name: pulumi.Input[str]
    resource_group_name: pulumi.Input[str]
    invitation_id: pulumi.Input[str]
    mappings: Mapping[str, MappingArgs] = field(default_factory=dict)
    source_share_location: pulumi.Input[str] | None = None
    expiration_date: pulumi.Input[str] | None = None
    recurrence: pulumi.Input[str] | None = None  # Day or Hour
    start: pulumi.Input[str] | None = None
    mode: pulumi.Input[str] | None = None  # Incremental or FullSync
    protect: bool = False  # the subscription


class Subscription(pulumi.ComponentResource):
    """One received share, named as the component, with its mappings and trigger."""

    id: pulumi.Output[str]
    mapping_ids: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: SubscriptionArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(COMPONENT, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        subscription = datashare.ShareSubscription(
            name,
            account_name=args.account_name,
            resource_group_name=args.resource_group_name,
            share_subscription_name=name,
            invitation_id=args.invitation_id,
            source_share_location=args.source_share_location,
            expiration_date=args.expiration_date,
            opts=pulumi.ResourceOptions.merge(
                child,
                pulumi.ResourceOptions(
                    # Deleting a subscription loses the received share: a new invitation is
                    # needed to get it back. So protect blocks a replacement too, on purpose.
                    protect=args.protect,
                    # Its PUT only creates: any change is a new subscription, made after the
                    # old one goes.
                    replace_on_changes=ALL,
                    delete_before_replace=True,
                    # The sender moves the expiry (adjust, reinstate) and a refresh reads it
                    # back: that must not replace the subscription. Config's expiry is the one
                    # asked for at creation.
                    ignore_changes=["expirationDate"],
                ),
            ),
        )
        self.id = subscription.id
        self.mapping_ids = {}
        mappings = []
        for key, mapping in sorted(args.mappings.items()):
            resource = datasets.mapping(
                f"{name}.{key}",
                key,
                mapping.data_set_id,
                args.account_name,
                args.resource_group_name,
                subscription.name,
                mapping.location,
                self,
            )
            mappings.append(resource)
            self.mapping_ids[key] = resource.id
        if args.recurrence is not None:
            datashare.ScheduledTrigger(
                f"{name}.{TRIGGER_NAME}",
                account_name=args.account_name,
                resource_group_name=args.resource_group_name,
                share_subscription_name=subscription.name,
                trigger_name=TRIGGER_NAME,
                kind="ScheduleBased",
                recurrence_interval=args.recurrence,
                synchronization_time=args.start,
                synchronization_mode=args.mode,
                opts=pulumi.ResourceOptions.merge(
                    child,
                    pulumi.ResourceOptions(
                        # Mappings first: a trigger copies into them.
                        depends_on=mappings,
                        replace_on_changes=ALL,
                        delete_before_replace=True,
                    ),
                ),
            )
        self.register_outputs(self.outputs)

    @property
    def outputs(self) -> dict[str, object]:
        """The subscription's stack output: its id and its mappings' ids."""
        return {"id": self.id, "mappings": self.mapping_ids}


def sender_output(sender: pulumi.StackReference, stack: str, named_by: str, *items: str) -> pulumi.Output[Any]:
    """An output of a sender's stack (`shares`, share, `invitations` or `datasets`, key),
    naming what is missing if the sender lacks it: under `pulumi up` the outputs are known
    only now (offline, `parse` checks them first)."""
    return sender.outputs.apply(lambda outputs: _lookup(stack, named_by, items, outputs))


def _lookup(stack: str, named_by: str, items: tuple[str, ...], value: Any) -> Any:
    _, share, part, key = items
    problem = config.unsent(
        named_by,
        stack,
        value,
        share,
        participant=key if part == "invitations" else None,
        dataset=key if part == "datasets" else None,
    )
    if problem:
        raise config.ConfigError([problem])
    for depth, item in enumerate(items):
        if not isinstance(value, Mapping) or item not in value:
            path = ".".join(items[: depth + 1])
            raise pulumi.RunError(f"{stack} has no output {path}")
        value = value[item]
    return value
