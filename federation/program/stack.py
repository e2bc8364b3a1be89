"""What one stack builds from its config: the resource group, the Data Share account, and
the components (monitoring, storage, shares, subscriptions); returns the stack outputs.

The config model is the only plain data: here it becomes each component's Args, with
every text only a secret key holds made a secret (Pulumi says which keys are secret, and
their values flow into many inputs and outputs).
"""

from collections.abc import Callable
from typing import Any, TypeVar

import pulumi
from pulumi_azure_native import authorization, datashare, resources

from federation.config import NAMESPACE, Config, Location, naming
from federation.program import exports
from federation.program.datasets import LocationArgs
from federation.program.monitoring import Monitoring, MonitoringArgs
from federation.program.receiving import MappingArgs, Subscription, SubscriptionArgs, sender_output
from federation.program.sharing import InvitationArgs, Share, ShareArgs
from federation.program.storage import BLOB_DATA_CONTRIBUTOR, BLOB_DATA_READER, Storage, StorageArgs

RESOURCE_GROUP = "azure-native:resources:ResourceGroup"
ACCOUNT = "azure-native:datashare:Account"

T = TypeVar("T")


def build(config: Config) -> dict[str, Any]:
    """Register the stack's resources; its outputs, by name, in the order they are exported."""
    hide = _Secrets(config.secret_texts())
    s = hide.value
    tags = {k: s(v) for k, v in config.resource_tags.items()}
    protect = pulumi.ResourceOptions(protect=config.protect)
    group = resources.ResourceGroup(
        "resource-group",
        resource_group_name=s(config.resource_group),
        location=s(config.location),
        tags=tags,
        opts=protect,
    )
    account = datashare.Account(
        "account",
        account_name=s(config.account_name),
        resource_group_name=group.name,
        location=s(config.location),
        identity={"type": "SystemAssigned"},
        tags=tags,
        opts=protect,
    )
    principal_id = account.identity.apply(lambda identity: identity.principal_id)
    monitoring = None
    if config.monitoring is not None:
        workspace = config.monitoring.workspace
        monitoring = Monitoring(
            "monitoring",
            MonitoringArgs(
                resource_group_name=group.name,
                location=s(config.location),
                account_id=account.id,
                account_name=config.account_name,
                action_group_name=s(naming.action_group(config.environment)),
                emails=[s(e) for e in sorted(config.monitoring.emails, key=str.lower)],
                workspace_name=None if workspace.id is not None else s(config.workspace_name),
                workspace_id=s(workspace.id) if workspace.id is not None else None,
                retention_in_days=config.monitoring.retention_days,
                tags=tags,
                protect=config.protect,
            ),
        )
    client = _Once(authorization.get_client_config_output)
    roles = _roles(config)
    storage: dict[str, Storage] = {}
    storage_ids: dict[str, Any] = {}
    for key in sorted(config.storage):
        entry = config.storage[key]
        if not entry.created and not roles.get(key):
            storage_ids[key] = s(entry.id)
            continue
        network = entry.network
        created = entry.created
        storage[key] = Storage(
            key,
            StorageArgs(
                account_name=s(entry.name if created else entry.account_name),
                resource_group_name=group.name if created else s(entry.resource_group),
                subscription_id=client().subscription_id if created else s(entry.subscription_id),
                data_share_account_id=account.id,
                data_share_principal_id=principal_id,
                create=created,
                existing_id=None if created else s(entry.id),
                roles=sorted(roles.get(key, set())),
                location=s(config.location) if created else None,
                tenant_id=client().tenant_id if created else None,
                hns=entry.hns,
                containers=sorted(entry.containers) if created else (),
                shared_key_access=bool(entry.shared_key_access),
                ip_rules=[s(ip) for ip in sorted(network.allow if network else ())],
                subnets=[s(subnet) for subnet in sorted(network.subnets if network else (), key=str.lower)],
                workspace_id=monitoring.workspace_id if monitoring is not None else None,
                tags=tags,
                protect=config.protect,
            ),
        )
        storage_ids[key] = storage[key].id

    def where(location: Location, role: str) -> LocationArgs:
        entry = config.storage[location.storage]
        found = storage.get(location.storage)
        return LocationArgs(
            container=s(location.container),
            storage_account_name=found.account_name if found and entry.created else s(entry.account_name),
            resource_group=found.resource_group_name if found and entry.created else s(entry.resource_group),
            subscription_id=found.subscription_id if found and entry.created else s(entry.subscription_id),
            hns=entry.hns,
            folder=None if location.folder is None else s(location.folder),
            file=None if location.file is None else s(location.file),
            prerequisites=found.prerequisites(role, location.container) if found else (),
        )

    shares = {}
    for name in sorted(config.shares):
        share = config.shares[name]
        invitations = {}
        for key in config.invited(share):
            participant = config.participants[key]
            expires = share.expiry_for(participant)
            invitations[key] = InvitationArgs(
                target_email=_maybe(s, participant.email),
                target_active_directory_id=_maybe(s, participant.tenant_id),
                target_object_id=_maybe(s, participant.object_id),
                expiration_date=_maybe(s, expires),
            )
        shares[name] = Share(
            name,
            ShareArgs(
                account_name=account.name,
                resource_group_name=group.name,
                datasets={k: where(loc, BLOB_DATA_READER.suffix) for k, loc in share.datasets.items()},
                invitations=invitations,
                description=_maybe(s, share.description),
                terms=_maybe(s, share.terms),
                recurrence=None if share.schedule is None else s(share.schedule.recurrence),
                start=None if share.schedule is None else s(share.schedule.start),
                protect=config.protect,
            ),
        ).outputs
    senders: dict[str, pulumi.StackReference] = {}
    subscriptions = {}
    for name in sorted(config.subscriptions):
        received = config.subscriptions[name]
        source = received.from_
        invitation_id: Any
        if source is None:
            invitation_id = s(received.invitation_id)
            ids = {key: s(key) for key in received.datasets}
        else:
            if source.stack not in senders:
                senders[source.stack] = pulumi.StackReference(source.stack, source.stack)
            sender, named_by = senders[source.stack], f"{NAMESPACE}:subscriptions.{name}"
            shared = ("shares", source.share)
            invitation_id = sender_output(sender, source.stack, named_by, *shared, "invitations", source.participant)
            ids = {
                key: sender_output(sender, source.stack, named_by, *shared, "datasets", key)
                for key in received.datasets
            }
        schedule = received.schedule
        subscriptions[name] = Subscription(
            name,
            SubscriptionArgs(
                account_name=account.name,
                resource_group_name=group.name,
                invitation_id=invitation_id,
                mappings={
                    k: MappingArgs(ids[k], where(loc, BLOB_DATA_CONTRIBUTOR.suffix))
                    for k, loc in received.datasets.items()
                },
                source_share_location=_maybe(s, received.source_location),
                expiration_date=_maybe(s, received.expires),
                recurrence=None if schedule is None else s(schedule.recurrence),
                start=None if schedule is None else s(schedule.start),
                mode=None if schedule is None else s(schedule.mode),
                protect=config.protect,
            ),
        ).outputs
    outputs: dict[str, Any] = {
        exports.RESOURCE_GROUP_NAME: group.name,
        exports.ACCOUNT_NAME: account.name,
        exports.ACCOUNT_ID: account.id,
        exports.ACCOUNT_PRINCIPAL_ID: principal_id,
        exports.SHARES: shares,
        exports.STORAGE: storage_ids,
        exports.SUBSCRIPTIONS: subscriptions,
    }
    if monitoring is not None:
        outputs[exports.WORKSPACE_ID] = monitoring.workspace_id
        outputs[exports.ACTION_GROUP_ID] = monitoring.action_group_id
    return outputs


def _roles(config: Config) -> dict[str, set[str]]:
    """Which roles the account's identity needs on which storage: to read what it shares
    and to write what it receives."""
    roles: dict[str, set[str]] = {}
    for role, entries in ((BLOB_DATA_READER, config.shares), (BLOB_DATA_CONTRIBUTOR, config.subscriptions)):
        for entry in entries.values():
            for location in entry.datasets.values():
                roles.setdefault(location.storage, set()).add(role.suffix)
    return roles


def _maybe(s: Callable[[T], Any], value: T | None) -> Any:
    return None if value is None else s(value)


class _Once:
    """The deploying identity from the provider's client config: one invoke per run, and
    only if something needs it."""

    def __init__(self, get: Callable[[], Any]) -> None:
        self.get = get
        self.found: Any = None

    def __call__(self) -> Any:
        if self.found is None:
            self.found = self.get()
        return self.found


class _Secrets:
    """Texts only secret keys hold, made secret wherever config puts them."""

    def __init__(self, texts: frozenset[str]) -> None:
        self.texts = texts

    def value(self, value: Any) -> Any:
        if isinstance(value, str) and value in self.texts:
            return pulumi.Output.secret(value)
        return value
