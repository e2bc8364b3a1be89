"""The sending side: a share, its datasets, its snapshot schedule and its invitations."""

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import datashare

from federation.program import datasets
from federation.program.datasets import ALL, LocationArgs

COMPONENT = "federation:sharing:Share"
SHARE = "azure-native:datashare:Share"
SCHEDULE = "azure-native:datashare:ScheduledSynchronizationSetting"
INVITATION = "azure-native:datashare:Invitation"
SCHEDULE_NAME = "schedule"


@dataclass
class InvitationArgs:
    """Whom an invitation goes to (an email, or a service principal's tenant and object
    id), and until when."""

    target_email: pulumi.Input[str] | None = None
    target_active_directory_id: pulumi.Input[str] | None = None
    target_object_id: pulumi.Input[str] | None = None
    expiration_date: pulumi.Input[str] | None = None


@dataclass
class ShareArgs:
    """A share on a Data Share account: its datasets by name, its invitations by
    participant, and optionally a snapshot schedule (`recurrence`, from `start`)."""

    account_name: pulumi.Input[str]
    resource_group_name: pulumi.Input[str]
    datasets: Mapping[str, LocationArgs] = field(default_factory=dict)
    invitations: Mapping[str, InvitationArgs] = field(default_factory=dict)  # in order
    description: pulumi.Input[str] | None = None
    terms: pulumi.Input[str] | None = None
    recurrence: pulumi.Input[str] | None = None  # Day or Hour
    start: pulumi.Input[str] | None = None
    protect: bool = False  # the share


class Share(pulumi.ComponentResource):
    """One share, named as the component, and everything in it."""

    id: pulumi.Output[str]
    dataset_ids: dict[str, pulumi.Output[str]]
    invitation_ids: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: ShareArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(COMPONENT, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        share = datashare.Share(
            name,
            account_name=args.account_name,
            resource_group_name=args.resource_group_name,
            share_name=name,
            share_kind=datashare.ShareKind.COPY_BASED,
            description=args.description,
            terms=args.terms,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(protect=args.protect)),
        )
        self.id = share.id
        self.dataset_ids = {}
        for key, location in sorted(args.datasets.items()):
            dataset = datasets.dataset(
                f"{name}.{key}", key, args.account_name, args.resource_group_name, share.name, location, self
            )
            self.dataset_ids[key] = dataset.data_set_id  # type: ignore[attr-defined]
        replace_first = pulumi.ResourceOptions(replace_on_changes=ALL, delete_before_replace=True)
        if args.recurrence is not None:
            datashare.ScheduledSynchronizationSetting(
                f"{name}.{SCHEDULE_NAME}",
                account_name=args.account_name,
                resource_group_name=args.resource_group_name,
                share_name=share.name,
                synchronization_setting_name=SCHEDULE_NAME,
                kind="ScheduleBased",
                recurrence_interval=args.recurrence,
                synchronization_time=args.start,
                opts=pulumi.ResourceOptions.merge(child, replace_first),
            )
        self.invitation_ids = {}
        for key, target in args.invitations.items():
            invitation = datashare.Invitation(
                f"{name}.{key}",
                account_name=args.account_name,
                resource_group_name=args.resource_group_name,
                share_name=share.name,
                invitation_name=key,
                target_email=target.target_email,
                target_active_directory_id=target.target_active_directory_id,
                target_object_id=target.target_object_id,
                expiration_date=target.expiration_date,
                opts=pulumi.ResourceOptions.merge(child, replace_first),
            )
            self.invitation_ids[key] = invitation.invitation_id
        self.register_outputs(self.outputs)

    @property
    def outputs(self) -> dict[str, object]:
        """The share's stack output: its id, and its datasets' and invitations' ids."""
        return {"id": self.id, "datasets": self.dataset_ids, "invitations": self.invitation_ids}
