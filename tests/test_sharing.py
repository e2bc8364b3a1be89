"""The sharing side under mocks: what each resource is registered with, what it waits
for, its options, and the stack outputs."""

import uuid

import pytest

from federation.program import exports
from federation.review import offline
from tests.support import KINDS, LAKE_ID, OBJECT, SUB, TENANT, base, run_ok

DS = "azure-native:datashare"
READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"


@pytest.fixture(scope="module")
def result() -> offline.Run:
    return run_ok(base())


def test_resource_group_and_account_carry_location_tags_and_identity(result: offline.Run) -> None:
    tags = {"environment": "test", "managedBy": "pulumi"}
    group = result.named("azure-native:resources:ResourceGroup", "resource-group")
    assert group.inputs == {"resourceGroupName": "rg-fl-test", "location": "westeurope", "tags": tags}
    account = result.named(f"{DS}:Account", "account")
    assert account.inputs == {
        "accountName": "dsa-fl-test",
        "resourceGroupName": "rg-fl-test",
        "location": "westeurope",
        "identity": {"type": "SystemAssigned"},
        "tags": tags,
    }
    assert group.urn in account.depends_on


def test_created_storage_is_hardened(result: offline.Run) -> None:
    storage = result.named("azure-native:storage:StorageAccount", "models")
    assert storage.inputs == {
        "accountName": "stmodels",
        "resourceGroupName": "rg-fl-test",
        "location": "westeurope",
        "kind": "StorageV2",
        "sku": {"name": "Standard_LRS"},
        "isHnsEnabled": False,
        "enableHttpsTrafficOnly": True,
        "minimumTlsVersion": "TLS1_2",
        "allowBlobPublicAccess": False,
        "allowCrossTenantReplication": False,
        "encryption": {"keySource": "Microsoft.Storage", "requireInfrastructureEncryption": True},
        "allowSharedKeyAccess": False,
        "defaultToOAuthAuthentication": True,
        "publicNetworkAccess": "Enabled",
        "networkRuleSet": {
            "defaultAction": "Deny",
            "bypass": "AzureServices",
            "resourceAccessRules": [
                {
                    "resourceId": result.named(f"{DS}:Account", "account").id,
                    "tenantId": offline.TENANT_ID,
                }
            ],
            "ipRules": [],
            "virtualNetworkRules": [],
        },
        "tags": {"environment": "test", "managedBy": "pulumi"},
    }
    account = result.named(f"{DS}:Account", "account")
    assert account.urn in storage.depends_on, "the instance rule names the account: created first"
    service = result.named("azure-native:storage:BlobServiceProperties", "models")
    assert service.inputs["deleteRetentionPolicy"] == {"enabled": True, "days": 7}
    assert service.inputs["containerDeleteRetentionPolicy"] == {"enabled": True, "days": 7}
    containers = {r.inputs["containerName"]: r for r in result.of_type("azure-native:storage:BlobContainer")}
    assert sorted(containers) == ["eval", "global-model"]
    assert all(
        c.inputs["publicAccess"] == "None" and c.inputs["accountName"] == "stmodels" for c in containers.values()
    )


def test_existing_storage_is_never_created_or_modified(result: offline.Run) -> None:
    names = [r.inputs.get("accountName") for r in result.of_type("azure-native:storage:StorageAccount")]
    assert names == ["stmodels"]
    assert not any(r.type.startswith("azure-native:storage:") and "stlake" in str(r.inputs) for r in result.resources)


def test_reader_grant_on_each_storage_a_share_reads() -> None:
    config = base()
    config["federation:shares"]["global_model"]["datasets"]["raw"] = {"storage": "lake", "container": "raw"}
    result = run_ok(config)
    principal = result.named(f"{DS}:Account", "account").outputs["identity"]["principalId"]
    grants = {g.name: g for g in result.of_type("azure-native:authorization:RoleAssignment")}
    assert sorted(grants) == ["lake.blob-reader", "models.blob-reader"]
    models_id = result.named("azure-native:storage:StorageAccount", "models").id
    for grant, scope, subscription in (
        (grants["models.blob-reader"], models_id, offline.SUBSCRIPTION_ID),
        (grants["lake.blob-reader"], LAKE_ID, SUB),
    ):
        assert grant.inputs["scope"] == scope
        assert grant.inputs["principalId"] == principal
        assert grant.inputs["principalType"] == "ServicePrincipal"
        assert grant.inputs["roleDefinitionId"] == (
            f"/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{READER}"
        )
        assert uuid.UUID(grant.inputs["roleAssignmentName"]).version == 5


def test_grant_name_is_deterministic_and_distinct_per_scope(result: offline.Run) -> None:
    again = run_ok(base())
    name = result.named("azure-native:authorization:RoleAssignment", "models.blob-reader").inputs["roleAssignmentName"]
    assert (
        again.named("azure-native:authorization:RoleAssignment", "models.blob-reader").inputs["roleAssignmentName"]
        == name
    )
    config = base()
    config["federation:storage"]["models"]["name"] = "stmodels2"
    moved = run_ok(config)
    assert (
        moved.named("azure-native:authorization:RoleAssignment", "models.blob-reader").inputs["roleAssignmentName"]
        != name
    )


def test_no_grant_where_no_share_reads(result: offline.Run) -> None:
    # lake is declared but no dataset of the base config reads it
    assert [g.name for g in result.of_type("azure-native:authorization:RoleAssignment")] == ["models.blob-reader"]
    assert not any(r.name == "lake" for r in result.resources)


@pytest.mark.parametrize(("storage", "location", "type_", "properties"), KINDS, ids=[k[2] for k in KINDS])
def test_dataset_kind_follows_location_form_and_hns(
    storage: str, location: dict[str, str], type_: str, properties: dict[str, str]
) -> None:
    config = base()
    config["federation:shares"]["global_model"]["datasets"] = {"probe": {"storage": storage, **location}}
    result = run_ok(config)
    [dataset] = [r for r in result.resources if r.type.endswith("DataSet")]
    assert dataset.type == f"{DS}:{type_}DataSet"
    where = (
        {"storageAccountName": "stmodels", "resourceGroup": "rg-fl-test", "subscriptionId": offline.SUBSCRIPTION_ID}
        if storage == "models"
        else {"storageAccountName": "stlake", "resourceGroup": "rg-lake", "subscriptionId": SUB}
    )
    assert dataset.inputs == {
        "accountName": "dsa-fl-test",
        "resourceGroupName": "rg-fl-test",
        "shareName": "global_model",
        "dataSetName": "probe",
        **properties,
        **where,
    }
    assert dataset.delete_before_replace


def test_datasets_wait_for_the_grant_to_take_effect_and_their_container(result: offline.Run) -> None:
    grant = result.named("azure-native:authorization:RoleAssignment", "models.blob-reader")
    wait = result.named("time:index/sleep:Sleep", "models.blob-reader")
    assert wait.inputs == {"createDuration": "120s", "triggers": {"roleAssignment": grant.id}}
    assert grant.urn in wait.depends_on
    containers = {r.inputs["containerName"]: r.urn for r in result.of_type("azure-native:storage:BlobContainer")}
    share = result.named(f"{DS}:Share", "global_model")
    for name, container in (("checkpoints", "global-model"), ("holdout", "eval"), ("labels", "eval")):
        dataset = next(r for r in result.resources if r.name == f"global_model.{name}")
        assert {grant.urn, wait.urn, containers[container], share.urn} <= set(dataset.depends_on), dataset.urn


def test_what_azure_cannot_update_is_replaced_old_first(result: offline.Run) -> None:
    immutable = [r for r in result.resources if r.type.endswith("DataSet")]
    immutable += result.of_type(f"{DS}:Invitation") + result.of_type(f"{DS}:ScheduledSynchronizationSetting")
    assert len(immutable) == 6
    for resource in immutable:
        assert resource.replace_on_changes == ("*",), resource.urn
        assert resource.delete_before_replace, resource.urn
    storage = result.named("azure-native:storage:StorageAccount", "models")
    assert storage.replace_on_changes == ("isHnsEnabled", "encryption.requireInfrastructureEncryption")
    share = result.named(f"{DS}:Share", "global_model")
    assert share.replace_on_changes == ()
    assert not share.delete_before_replace


def test_share_is_copy_based_with_description_and_terms() -> None:
    config = base()
    config["federation:shares"]["global_model"] |= {"description": "Checkpoints", "terms": "Consortium only"}
    share = run_ok(config).named(f"{DS}:Share", "global_model")
    assert share.inputs == {
        "accountName": "dsa-fl-test",
        "resourceGroupName": "rg-fl-test",
        "shareName": "global_model",
        "shareKind": "CopyBased",
        "description": "Checkpoints",
        "terms": "Consortium only",
    }


def test_schedule_is_a_scheduled_synchronization_setting(result: offline.Run) -> None:
    [setting] = result.of_type(f"{DS}:ScheduledSynchronizationSetting")
    assert setting.inputs == {
        "accountName": "dsa-fl-test",
        "resourceGroupName": "rg-fl-test",
        "shareName": "global_model",
        "synchronizationSettingName": "schedule",
        "kind": "ScheduleBased",
        "recurrenceInterval": "Day",
        "synchronizationTime": "2026-12-01T02:00:00Z",
    }
    assert setting.delete_before_replace


def test_schedule_time_is_stored_in_utc() -> None:
    config = base()
    config["federation:shares"]["global_model"]["schedule"]["start"] = "2026-12-01T03:30:00+01:00"
    [setting] = run_ok(config).of_type(f"{DS}:ScheduledSynchronizationSetting")
    assert setting.inputs["synchronizationTime"] == "2026-12-01T02:30:00Z"


def test_no_schedule_no_setting() -> None:
    config = base()
    del config["federation:shares"]["global_model"]["schedule"]
    assert run_ok(config).of_type(f"{DS}:ScheduledSynchronizationSetting") == []


def test_invitations_target_email_or_service_principal_and_expire_at_the_earlier_date(result: offline.Run) -> None:
    invitations = {r.inputs["invitationName"]: r.inputs for r in result.of_type(f"{DS}:Invitation")}
    common = {"accountName": "dsa-fl-test", "resourceGroupName": "rg-fl-test", "shareName": "global_model"}
    assert invitations == {
        # share expires 2027-06-30, hospital-a has no expiry of its own
        "hospital-a": common
        | {
            "invitationName": "hospital-a",
            "targetEmail": "mlops@hospital-a.example",
            "expirationDate": "2027-06-30T00:00:00Z",
        },
        # hospital-b's own expiry, 2027-03-31, comes first
        "hospital-b": common
        | {
            "invitationName": "hospital-b",
            "targetActiveDirectoryId": TENANT,
            "targetObjectId": OBJECT,
            "expirationDate": "2027-03-31T00:00:00Z",
        },
    }


def test_invitation_without_any_expiry_has_none() -> None:
    config = base()
    del config["federation:shares"]["global_model"]["expires"]
    invitation = run_ok(config).named(f"{DS}:Invitation", "global_model.hospital-a")
    assert "expirationDate" not in invitation.inputs


def test_share_invites_only_its_listed_participants() -> None:
    config = base()
    config["federation:shares"]["global_model"]["participants"] = ["hospital-b"]
    assert [r.name for r in run_ok(config).of_type(f"{DS}:Invitation")] == ["global_model.hospital-b"]
    config["federation:shares"]["global_model"]["participants"] = []
    assert run_ok(config).of_type(f"{DS}:Invitation") == []


@pytest.mark.parametrize(
    ("environment", "protect", "expected"),
    [("prod", None, True), ("dev", None, False), ("prod", False, False), ("dev", True, True)],
)
def test_protect_follows_environment_unless_set(environment: str, protect: bool | None, expected: bool) -> None:
    config = base() | {"federation:environment": environment}
    if protect is not None:
        config["federation:protect"] = protect
    result = run_ok(config)
    protected = {(r.type, r.name) for r in result.resources if r.protect}
    guarded = {
        ("azure-native:resources:ResourceGroup", "resource-group"),
        (f"{DS}:Account", "account"),
        ("azure-native:storage:StorageAccount", "models"),
        ("azure-native:storage:BlobContainer", "models.eval"),
        ("azure-native:storage:BlobContainer", "models.global-model"),
        (f"{DS}:Share", "global_model"),
    }
    assert protected == (guarded if expected else set())


def test_children_are_grouped_under_their_share_and_storage(result: offline.Run) -> None:
    components = {r.name: r.urn for r in result.resources if not r.custom}
    assert set(components) == {"global_model", "models"}
    for r in result.resources:
        if r.name.startswith("global_model"):
            assert r.parent == components["global_model"] or r.urn == components["global_model"], r.urn
        if r.name.startswith("models") and r.custom:
            assert r.parent == components["models"], r.urn


def test_exports_are_the_registered_values(result: offline.Run) -> None:
    account = result.named(f"{DS}:Account", "account")
    share = result.named(f"{DS}:Share", "global_model")
    datasets = {r.inputs["dataSetName"]: r.outputs["dataSetId"] for r in result.resources if r.type.endswith("DataSet")}
    invitations = {r.inputs["invitationName"]: r.outputs["invitationId"] for r in result.of_type(f"{DS}:Invitation")}
    assert result.outputs == {
        exports.RESOURCE_GROUP_NAME: "rg-fl-test",
        exports.ACCOUNT_NAME: "dsa-fl-test",
        exports.ACCOUNT_ID: account.id,
        exports.ACCOUNT_PRINCIPAL_ID: account.outputs["identity"]["principalId"],
        exports.SHARES: {"global_model": {"id": share.id, "datasets": datasets, "invitations": invitations}},
        exports.STORAGE: {
            "lake": LAKE_ID,
            "models": result.named("azure-native:storage:StorageAccount", "models").id,
        },
        exports.SUBSCRIPTIONS: {},
    }
    assert len(set(datasets.values())) == 3
    assert len(set(invitations.values())) == 2


def test_names_and_defaults_can_be_set() -> None:
    config = base() | {
        "federation:environment": "prod",
        "federation:resourceGroup": "rg-consortium",
        "federation:accountName": "dsa-consortium",
        "federation:tags": {"costCenter": "fl", "managedBy": "platform-team"},
    }
    result = run_ok(config, stack="anything")
    account = result.named(f"{DS}:Account", "account")
    assert account.inputs["accountName"] == "dsa-consortium"
    assert account.inputs["resourceGroupName"] == "rg-consortium"
    assert account.inputs["tags"] == {"environment": "prod", "managedBy": "platform-team", "costCenter": "fl"}
