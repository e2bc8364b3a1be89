"""The receiving side under mocks: share subscriptions, dataset mappings, triggers, the
write grant, and the sender's ids read from its stack."""

from typing import Any

import pytest

from federation import config as config_module
from federation.config import naming, stackfile
from federation.program import exports
from federation.program import receiving as program_receiving
from federation.review import diff, offline
from tests.support import KINDS, LAKE_ID, PROJECT, SUB, base, received_from, run, run_ok, state

DS = "azure-native:datashare"
CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
INVITATION = "7f3a9c2e-1b4d-4e8f-a6c5-2d9b0e1f3a84"
CHECKPOINTS = "1c6e8a4f-2b3d-4f5e-9a7c-8e0d1b2c3f46"
LABELS = "3f8a0c6b-4d5f-4b7a-9c9e-0a2f3d4e5b68"


def receiving(**subscription: Any) -> dict[str, Any]:
    """The base config, receiving one share into created storage `models`."""
    config = base()
    config["federation:subscriptions"] = {
        "global_model": {
            "invitationId": INVITATION,
            "sourceLocation": "northeurope",
            "datasets": {
                CHECKPOINTS: {"storage": "models", "container": "global-model"},
                LABELS: {"storage": "models", "container": "eval", "file": "holdout/labels.csv"},
            },
            "schedule": {"recurrence": "Day", "start": "2026-12-01T04:00:00+00:00"},
        }
        | subscription
    }
    return config


@pytest.fixture(scope="module")
def result() -> offline.Run:
    return run_ok(receiving(expires="2027-06-30T00:00:00Z"))


def test_share_subscription_carries_invitation_location_and_expiry(result: offline.Run) -> None:
    subscription = result.named(f"{DS}:ShareSubscription", "global_model")
    assert subscription.inputs == {
        "accountName": "dsa-fl-test",
        "resourceGroupName": "rg-fl-test",
        "shareSubscriptionName": "global_model",
        "invitationId": INVITATION,
        "sourceShareLocation": "northeurope",
        "expirationDate": "2027-06-30T00:00:00Z",
    }
    assert result.named(f"{DS}:Account", "account").urn in subscription.depends_on


def test_contributor_grant_on_each_target_storage(result: offline.Run) -> None:
    grant = result.named("azure-native:authorization:RoleAssignment", "models.blob-contributor")
    storage = result.named("azure-native:storage:StorageAccount", "models")
    account = result.named(f"{DS}:Account", "account")
    assert grant.inputs["scope"] == storage.id
    assert grant.inputs["principalId"] == account.outputs["identity"]["principalId"]
    assert grant.inputs["principalType"] == "ServicePrincipal"
    assert grant.inputs["roleDefinitionId"].endswith(
        f"/providers/Microsoft.Authorization/roleDefinitions/{CONTRIBUTOR}"
    )
    reader = result.named("azure-native:authorization:RoleAssignment", "models.blob-reader")
    assert grant.inputs["roleAssignmentName"] != reader.inputs["roleAssignmentName"]


def test_mappings_carry_the_source_dataset_and_the_target(result: offline.Run) -> None:
    subscription = result.named(f"{DS}:ShareSubscription", "global_model")
    grant = result.named("azure-native:authorization:RoleAssignment", "models.blob-contributor")
    wait = result.named("time:index/sleep:Sleep", "models.blob-contributor")
    containers = {r.inputs["containerName"]: r.urn for r in result.of_type("azure-native:storage:BlobContainer")}
    where = {"storageAccountName": "stmodels", "resourceGroup": "rg-fl-test", "subscriptionId": offline.SUBSCRIPTION_ID}
    within = {"accountName": "dsa-fl-test", "resourceGroupName": "rg-fl-test", "shareSubscriptionName": "global_model"}
    checkpoints = result.named(f"{DS}:BlobContainerDataSetMapping", f"global_model.{CHECKPOINTS}")
    assert checkpoints.inputs == within | where | {
        "dataSetMappingName": CHECKPOINTS,
        "dataSetId": CHECKPOINTS,
        "kind": "Container",
        "containerName": "global-model",
    }
    labels = result.named(f"{DS}:BlobDataSetMapping", f"global_model.{LABELS}")
    assert labels.inputs == within | where | {
        "dataSetMappingName": LABELS,
        "dataSetId": LABELS,
        "kind": "Blob",
        "containerName": "eval",
        "filePath": "holdout/labels.csv",
    }
    for mapping, container in ((checkpoints, "global-model"), (labels, "eval")):
        assert {subscription.urn, grant.urn, wait.urn, containers[container]} <= set(mapping.depends_on)
        assert mapping.replace_on_changes == ("*",)
        assert mapping.delete_before_replace


@pytest.mark.parametrize(("storage", "location", "type_", "properties"), KINDS, ids=[k[2] for k in KINDS])
def test_mapping_kind_follows_target_form_and_hns(
    storage: str, location: dict[str, str], type_: str, properties: dict[str, str]
) -> None:
    result = run_ok(receiving(datasets={CHECKPOINTS: {"storage": storage, **location}}))
    [mapping] = [r for r in result.resources if r.type.endswith("Mapping")]
    assert mapping.type == f"{DS}:{type_}DataSetMapping"
    assert {k: mapping.inputs[k] for k in properties} == properties
    assert set(mapping.inputs) - set(properties) == {
        "accountName",
        "resourceGroupName",
        "shareSubscriptionName",
        "dataSetMappingName",
        "dataSetId",
        "storageAccountName",
        "resourceGroup",
        "subscriptionId",
    }
    if storage == "lake":
        assert (mapping.inputs["storageAccountName"], mapping.inputs["resourceGroup"]) == ("stlake", "rg-lake")
        assert mapping.inputs["subscriptionId"] == SUB
        grant = result.named("azure-native:authorization:RoleAssignment", "lake.blob-contributor")
        assert grant.inputs["scope"] == LAKE_ID


def test_trigger_follows_the_schedule_after_the_mappings(result: offline.Run) -> None:
    trigger = result.named(f"{DS}:ScheduledTrigger", "global_model.schedule")
    assert trigger.inputs == {
        "accountName": "dsa-fl-test",
        "resourceGroupName": "rg-fl-test",
        "shareSubscriptionName": "global_model",
        "triggerName": "schedule",
        "kind": "ScheduleBased",
        "recurrenceInterval": "Day",
        "synchronizationTime": "2026-12-01T04:00:00Z",
        "synchronizationMode": "Incremental",
    }
    mappings = {r.urn for r in result.resources if r.type.endswith("Mapping")}
    assert mappings <= set(trigger.depends_on)
    assert trigger.replace_on_changes == ("*",)


def test_trigger_mode_and_absence() -> None:
    full = run_ok(receiving(schedule={"recurrence": "Hour", "start": "2026-12-01T00:15:00Z", "mode": "FullSync"}))
    trigger = full.named(f"{DS}:ScheduledTrigger", "global_model.schedule")
    assert (trigger.inputs["recurrenceInterval"], trigger.inputs["synchronizationMode"]) == ("Hour", "FullSync")
    config = receiving()
    del config["federation:subscriptions"]["global_model"]["schedule"]
    assert run_ok(config).of_type(f"{DS}:ScheduledTrigger") == []


def test_subscription_is_replaced_old_one_first_on_any_change(result: offline.Run) -> None:
    # Its PUT only creates: an update would fail in Azure.
    subscription = result.named(f"{DS}:ShareSubscription", "global_model")
    assert subscription.replace_on_changes == ("*",)
    assert subscription.delete_before_replace


def test_an_expiry_the_sender_moves_replaces_nothing(result: offline.Run) -> None:
    # The sender adjusts or reinstates the expiry; a refresh reads it into the state. The
    # subscription must stay: deleting it loses the share until a new invitation.
    subscription = result.named(f"{DS}:ShareSubscription", "global_model")
    assert subscription.ignore_changes == ("expirationDate",)
    for moved in ("2028-01-01T00:00:00Z", None):
        change = diff.compare(result, run_ok(receiving(expires=moved)))
        assert change.replace == change.update == change.create == change.delete == []


def test_subscription_is_protected_in_prod() -> None:
    result = run_ok(receiving() | {"federation:environment": "prod"})
    assert result.named(f"{DS}:ShareSubscription", "global_model").protect
    assert not any(r.protect for r in result.resources if r.type.endswith("Mapping"))


def test_exports_name_each_mapping(result: offline.Run) -> None:
    subscription = result.named(f"{DS}:ShareSubscription", "global_model")
    mappings = {r.inputs["dataSetId"]: r.id for r in result.resources if r.type.endswith("Mapping")}
    assert result.outputs[exports.SUBSCRIPTIONS] == {"global_model": {"id": subscription.id, "mappings": mappings}}
    assert len(mappings) == 2


SENDER = {
    "shares": {
        "global_model": {
            "id": "/subscriptions/x/shares/global_model",
            "datasets": {"checkpoints": CHECKPOINTS, "labels": LABELS},
            "invitations": {"hospital-a": INVITATION},
        }
    }
}


def from_sender(participant: str = "hospital-a") -> dict[str, Any]:
    config = base()
    config["federation:subscriptions"] = {
        "global_model": received_from(
            "acme/federation/coordinator", "global_model", participant, {"checkpoints": "global-model"}
        )
    }
    return config


def test_from_reads_invitation_and_dataset_ids_from_the_sender_stack() -> None:
    result = offline.run(stackfile.config_values(from_sender()), "test", stacks={"acme/federation/coordinator": SENDER})
    assert result.error is None, str(result.error)
    reference = result.named("pulumi:pulumi:StackReference", "acme/federation/coordinator")
    assert reference.inputs["name"] == "acme/federation/coordinator"
    subscription = result.named(f"{DS}:ShareSubscription", "global_model")
    assert subscription.inputs["invitationId"] == INVITATION
    assert reference.urn in subscription.depends_on
    mapping = result.named(f"{DS}:BlobContainerDataSetMapping", "global_model.checkpoints")
    assert (mapping.inputs["dataSetMappingName"], mapping.inputs["dataSetId"]) == ("checkpoints", CHECKPOINTS)
    assert result.outputs[exports.SUBSCRIPTIONS]["global_model"]["mappings"] == {"checkpoints": mapping.id}


STACK = "acme/federation/coordinator"
SUBSCRIPTION = "federation:subscriptions.global_model"
# What the sender lacks -> the problem line, naming the key that named it.
UNSENT = [
    (
        {"share": "nosuch"},
        f"{SUBSCRIPTION}.from.share: is not a share of stack {STACK} (it has: global_model); got 'nosuch'",
    ),
    (
        {"participant": "hospital-z"},
        f"{SUBSCRIPTION}.from.participant: is not in share global_model of stack {STACK} (invited: hospital-a); "
        "got 'hospital-z'",
    ),
    (
        {"dataset": "weights"},
        f"{SUBSCRIPTION}.datasets.weights: key is not in share global_model of stack {STACK} "
        "(datasets: checkpoints, labels); got 'weights'",
    ),
]


def unsent_config(share: str = "global_model", participant: str = "hospital-a", dataset: str = "checkpoints") -> Any:
    config = from_sender(participant)
    config["federation:subscriptions"]["global_model"] = received_from(
        STACK, share, participant, {dataset: "global-model"}
    )
    return config


@pytest.mark.parametrize(("named", "line"), UNSENT, ids=[next(iter(n)) for n, _ in UNSENT])
def test_from_naming_what_the_sender_lacks_is_a_config_problem_offline(named: dict[str, str], line: str) -> None:
    # Offline the sender's outputs are known before the run: reported with the rest, nothing registered.
    config = unsent_config(**named)
    config["federation:shares"]["global_model"]["expires"] = "someday"
    result = offline.run(stackfile.config_values(config), "test", stacks={STACK: SENDER})
    assert isinstance(result.error, config_module.ConfigError)
    assert result.error.problems == [
        f"federation:shares.global_model.expires: must be {naming.TIME.says}; got 'someday'",
        line,
    ]
    assert result.resources == ()


@pytest.mark.parametrize(("named", "line"), UNSENT, ids=[next(iter(n)) for n, _ in UNSENT])
def test_from_naming_what_the_sender_lacks_fails_pulumi_up_naming_the_key(named: dict[str, str], line: str) -> None:
    # Under `pulumi up` the stack reference's outputs arrive only while resources register:
    # the same line, from the lookup the program makes in the sender's outputs.
    values = stackfile.config_values(unsent_config(**named))
    parsed = config_module.parse(values, "test")
    lookups = [
        (f"{config_module.NAMESPACE}:subscriptions.{name}", items)
        for name, entry in parsed.subscriptions.items()
        if entry.from_ is not None and entry.from_.stack == STACK
        for items in [
            ("shares", entry.from_.share, "invitations", entry.from_.participant),
            *(("shares", entry.from_.share, "datasets", key) for key in entry.datasets),
        ]
        if set(named.values()) & set(items)
    ]
    assert lookups
    for named_by, items in lookups:
        with pytest.raises(config_module.ConfigError) as raised:
            program_receiving._lookup(STACK, named_by, items, SENDER)
        assert raised.value.problems == [line]


def test_from_a_stack_of_this_project_uses_its_stack_file() -> None:
    # silo-a's stack file shares model_updates with `coordinator`
    config = base()
    config["federation:subscriptions"] = {
        "global_model": received_from("silo-a", "model_updates", "coordinator", {"update": "eval"})
    }
    silo = offline.run_stack_file(PROJECT / "Pulumi.silo-a.yaml")
    result = run_ok(config)
    expected = silo.outputs["shares"]["model_updates"]
    subscription = result.named(f"{DS}:ShareSubscription", "global_model")
    assert subscription.inputs["invitationId"] == expected["invitations"]["coordinator"]
    mapping = result.named(f"{DS}:BlobContainerDataSetMapping", "global_model.update")
    assert mapping.inputs["dataSetId"] == expected["datasets"]["update"]


def test_adding_or_reordering_subscriptions_touches_nothing_else() -> None:
    before = state(run_ok(receiving()))
    config = receiving()
    config["federation:subscriptions"]["eval_sets"] = {
        "invitationId": CHECKPOINTS,
        "sourceLocation": "westeurope",
        "datasets": {LABELS: {"storage": "lake", "container": "incoming"}},
    }
    config["federation:subscriptions"] = dict(reversed(config["federation:subscriptions"].items()))
    after = state(run_ok(config))
    assert {urn: after[urn] for urn in before} == before
    added = {urn.rsplit("::", 1)[1] for urn in set(after) - set(before)}
    assert added == {"eval_sets", f"eval_sets.{LABELS}", "lake", "lake.blob-contributor"}


def test_committed_participant_stack_runs_under_mocks() -> None:
    result = offline.run_stack_file(PROJECT / "Pulumi.silo-a.yaml")
    assert result.error is None, str(result.error)
    assert len(result.of_type(f"{DS}:ShareSubscription")) == 1
    assert len(result.of_type(f"{DS}:Share")) == 1
    assert {r.name for r in result.of_type("azure-native:authorization:RoleAssignment")} == {
        "silo.blob-reader",
        "silo.blob-contributor",
    }


def test_invalid_subscription_registers_nothing() -> None:
    config = receiving()
    config["federation:subscriptions"]["global_model"]["datasets"] = {
        "checkpoints": {"storage": "models", "container": "x1"}
    }
    result = run(config)
    assert result.error is not None
    assert result.resources == ()
