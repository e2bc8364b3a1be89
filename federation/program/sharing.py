"""The sending side: a share, its datasets, its snapshot schedule and its invitations."""

from federation.config import Config, Participant, Share
from federation.program import datasets
from federation.program.graph import ALL, Graph, Node, Value, with_optional
from federation.program.storage import BLOB_DATA_READER, Target

COMPONENT = "federation:sharing:Share"
SHARE = "azure-native:datashare:Share"
SCHEDULE = "azure-native:datashare:ScheduledSynchronizationSetting"
INVITATION = "azure-native:datashare:Invitation"
SCHEDULE_NAME = "schedule"


def add(
    graph: Graph, config: Config, name: str, share: Share, group: Node, account: Node, targets: dict[str, Target]
) -> dict[str, Value]:
    """Register one share and everything in it; returns its stack output."""
    component = graph.add(Node(COMPONENT, name, component=True))
    parent = {"account_name": account.ref("name"), "resource_group_name": group.ref("name")}
    resource = graph.add(
        Node(
            SHARE,
            name,
            with_optional(
                parent, share_name=name, share_kind="CopyBased", description=share.description, terms=share.terms
            ),
            parent=component,
            protect=config.protect,
        )
    )
    within = parent | {"share_name": resource.ref("name")}
    dataset_ids = {}
    for key, location in sorted(share.datasets.items()):
        fields = within | {"data_set_name": key}
        dataset = datasets.node(
            "", f"{name}.{key}", fields, location, targets[location.storage], BLOB_DATA_READER, component
        )
        dataset_ids[key] = graph.add(dataset).ref("data_set_id")
    if share.schedule is not None:
        graph.add(
            Node(
                SCHEDULE,
                f"{name}.{SCHEDULE_NAME}",
                within
                | {
                    "synchronization_setting_name": SCHEDULE_NAME,
                    "kind": "ScheduleBased",
                    "recurrence_interval": share.schedule.recurrence,
                    "synchronization_time": share.schedule.start,
                },
                parent=component,
                replace_on_changes=ALL,
                delete_before_replace=True,
            )
        )
    invitation_ids = {}
    for key in config.invited(share):
        invitation = graph.add(
            Node(
                INVITATION,
                f"{name}.{key}",
                within | {"invitation_name": key} | _target(config.participants[key], share),
                parent=component,
                replace_on_changes=ALL,
                delete_before_replace=True,
            )
        )
        invitation_ids[key] = invitation.ref("invitation_id")
    output = {"id": resource.ref("id"), "datasets": dataset_ids, "invitations": invitation_ids}
    graph.finish(component, output)
    return output


def _target(participant: Participant, share: Share) -> dict[str, Value]:
    """Whom an invitation goes to, and until when."""
    return with_optional(
        {},
        target_email=participant.email,
        target_active_directory_id=participant.tenant_id,
        target_object_id=participant.object_id,
        expiration_date=share.expiry_for(participant),
    )
