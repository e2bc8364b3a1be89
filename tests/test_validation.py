"""Bad input: every rule rejects its config through the program, with the key path and
the value in the message, as a RunError, before any resource is registered."""

from collections.abc import Callable
from typing import Any

import pulumi
import pytest

from federation import config as config_module
from tests.support import LAKE_ID, OBJECT, SUB, TENANT, base, run, run_ok

Edit = Callable[[dict[str, Any]], None]

SHARES = "federation:shares"
GM = ("federation:shares", "global_model")


def put(*path: str, value: Any) -> Edit:
    def edit(config: dict[str, Any]) -> None:
        node = config
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value

    return edit


def drop(*path: str) -> Edit:
    def edit(config: dict[str, Any]) -> None:
        node = config
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]

    return edit


def dataset(**location: Any) -> Edit:
    return put(*GM, "datasets", "extra", value=location)


INVITATION = "7f3a9c2e-1b4d-4e8f-a6c5-2d9b0e1f3a84"
DATASET = "1c6e8a4f-2b3d-4f5e-9a7c-8e0d1b2c3f46"
SUBS = ("federation:subscriptions", "global_model")


def subscription(**fields: Any) -> Edit:
    """Receive one share into `models`, with fields changed (None deletes one)."""
    value = {
        "invitationId": INVITATION,
        "sourceLocation": "northeurope",
        "datasets": {DATASET: {"storage": "models", "container": "eval"}},
    } | fields
    return put(*SUBS, value={k: v for k, v in value.items() if v is not None})


NET = ("federation:storage", "models", "network")
NET_PATH = "federation:storage.models.network"
MON = "federation:monitoring"
WORKSPACE_ID = f"/subscriptions/{SUB}/resourceGroups/rg-ops/providers/Microsoft.OperationalInsights/workspaces/log-ops"


def monitoring(**fields: Any) -> Edit:
    return put(MON, value={"emails": ["ops@coordinator.example"]} | fields)


# A sender whose outputs offline knows (its stack file is here): what a from names exists.
SILO_A = {"stack": "silo-a", "share": "model_updates", "participant": "coordinator"}


def many(count: int, make: Callable[[int], tuple[str, Any]]) -> dict[str, Any]:
    return dict(make(i) for i in range(count))


CASES: list[tuple[str, Edit, str, str]] = [
    # (case, edit, key path, text in the message, usually the offending value)
    ("location missing", drop("azure-native:location"), "azure-native:location", "is required"),
    (
        "location display name",
        put("azure-native:location", value="West Europe"),
        "azure-native:location",
        "'West Europe'",
    ),
    ("environment", put("federation:environment", value="Prod_EU"), "federation:environment", "'Prod_EU'"),
    ("protect not a bool", put("federation:protect", value="maybe"), "federation:protect", "'maybe'"),
    ("tag name", put("federation:tags", value={"a/b": "x"}), "federation:tags.a/b", "key must be"),
    ("resource group", put("federation:resourceGroup", value="rg."), "federation:resourceGroup", "'rg.'"),
    ("account name", put("federation:accountName", value="dsa:fl"), "federation:accountName", "'dsa:fl'"),
    (
        "unknown top-level key",
        put("federation:sharez", value={}),
        "federation:sharez",
        "did you mean 'federation:shares'",
    ),
    ("share name hyphen", put(SHARES, "global-model", value={}), "federation:shares.global-model", "key must be"),
    ("share name short", put(SHARES, "g", value={}), "federation:shares.g", "key must be"),
    ("dataset key", put(*GM, "datasets", "a b", value={}), "federation:shares.global_model.datasets.a b", "key must"),
    ("no datasets", put(*GM, "datasets", value={}), "federation:shares.global_model.datasets", "at least one"),
    (
        "participant key",
        put("federation:participants", "h!", value={"email": "a@b.org"}),
        "federation:participants.h!",
        "key must be",
    ),
    (
        "email and object id",
        put("federation:participants", "hospital-a", "objectId", value=OBJECT),
        "federation:participants.hospital-a",
        "not both",
    ),
    (
        "tenant without object",
        put("federation:participants", "hospital-c", value={"tenantId": TENANT}),
        "federation:participants.hospital-c",
        "both tenantId and objectId",
    ),
    (
        "neither identity",
        put("federation:participants", "hospital-c", value={}),
        "federation:participants.hospital-c",
        "set either email",
    ),
    (
        "bad tenant guid",
        put("federation:participants", "hospital-b", "tenantId", value="contoso"),
        "federation:participants.hospital-b.tenantId",
        "'contoso'",
    ),
    (
        "one email for two participants",
        put("federation:participants", "hospital-c", value={"email": "MLOps@Hospital-A.example"}),
        "federation:participants",
        "hospital-a and hospital-c have the same email (case aside)",
    ),
    (
        "email syntax",
        put("federation:participants", "hospital-a", "email", value="mlops.hospital-a"),
        "federation:participants.hospital-a.email",
        "'mlops.hospital-a'",
    ),
    ("recurrence", put(*GM, "schedule", "recurrence", value="Week"), "global_model.schedule.recurrence", "'Week'"),
    (
        "time without zone",
        put(*GM, "schedule", "start", value="2026-12-01T02:00:00"),
        "federation:shares.global_model.schedule.start",
        "'2026-12-01T02:00:00'",
    ),
    (
        "time not a time",
        put(*GM, "expires", value="next June"),
        "federation:shares.global_model.expires",
        "'next June'",
    ),
    (
        "participant expiry",
        put("federation:participants", "hospital-b", "expires", value="2027-03-31"),
        "federation:participants.hospital-b.expires",
        "'2027-03-31'",
    ),
    (
        "folder and file",
        dataset(storage="models", container="eval", folder="a", file="a/b.csv"),
        "federation:shares.global_model.datasets.extra",
        "at most one of folder and file",
    ),
    (
        "unknown storage",
        dataset(storage="modles", container="eval"),
        "federation:shares.global_model.datasets.extra.storage",
        "'modles'",
    ),
    (
        "undeclared container",
        dataset(storage="models", container="evals"),
        "federation:shares.global_model.datasets.extra.container",
        "'evals'",
    ),
    (
        "container name",
        dataset(storage="lake", container="Raw_Data"),
        "federation:shares.global_model.datasets.extra.container",
        "'Raw_Data'",
    ),
    (
        "unknown participant",
        put(*GM, "participants", value=["hospital-a", "hospital-z"]),
        "federation:shares.global_model.participants",
        "hospital-z",
    ),
    (
        "participant twice",
        put(*GM, "participants", value=["hospital-a", "hospital-a"]),
        "federation:shares.global_model.participants",
        "twice",
    ),
    (
        "dataset typo",
        put(*GM, "datasets", "labels", "fille", value="x.csv"),
        "federation:shares.global_model.datasets.labels.fille",
        "did you mean 'file'",
    ),
    ("share typo", put(*GM, "descripton", value="x"), "federation:shares.global_model.descripton", "'description'"),
    (
        "storage name and id",
        put("federation:storage", "models", "id", value=LAKE_ID),
        "federation:storage.models",
        "exactly one of name",
    ),
    (
        "storage neither",
        put("federation:storage", "spare", value={"hns": True}),
        "federation:storage.spare",
        "exactly one of name",
    ),
    (
        "storage id shape",
        put("federation:storage", "lake", "id", value="/subscriptions/x/storageAccounts/stlake"),
        "federation:storage.lake.id",
        "'/subscriptions/x/storageAccounts/stlake'",
    ),
    (
        "storage account name",
        put("federation:storage", "models", "name", value="St-Models"),
        "federation:storage.models.name",
        "'St-Models'",
    ),
    (
        "container double hyphen",
        put("federation:storage", "models", "containers", value=["global-model", "eval", "a--b"]),
        "federation:storage.models.containers[2]",
        "'a--b'",
    ),
    (
        "containers on existing storage",
        put("federation:storage", "lake", "containers", value=["raw"]),
        "federation:storage.lake",
        "only on storage made here",
    ),
    (
        "too many datasets",
        put(*GM, "datasets", value=many(201, lambda i: (f"ds{i}", {"storage": "lake", "container": "raw"}))),
        "federation:shares.global_model.datasets",
        "has 201 datasets; a share holds at most 200",
    ),
    (
        "too many invitations",
        put("federation:participants", value=many(201, lambda i: (f"p{i:03}", {"email": f"p{i}@h.org"}))),
        "federation:shares.global_model",
        "invites 201 participants",
    ),
    (
        "too many shares",
        put(
            SHARES,
            value=many(201, lambda i: (f"s{i:03}", {"datasets": {"ds": {"storage": "lake", "container": "c1c"}}})),
        ),
        "federation:shares",
        "has 201 shares; an account holds at most 200",
    ),
    (
        "share names differing in case",
        put(SHARES, "Global_Model", value={"datasets": {"ds": {"storage": "lake", "container": "raw"}}}),
        "federation:shares",
        "global_model and Global_Model are the same share name to Azure",
    ),
    (
        "dataset names differing in case",
        put(*GM, "datasets", "Labels", value={"storage": "lake", "container": "raw"}),
        "federation:shares.global_model.datasets",
        "labels and Labels are the same dataset name",
    ),
    (
        "participants differing in case",
        put("federation:participants", "Hospital-A", value={"email": "x@hospital-a.example"}),
        "federation:participants",
        "hospital-a and Hospital-A are the same invitation name",
    ),
    (
        "one storage account twice",
        put("federation:storage", "lake2", value={"id": LAKE_ID.replace("rg-lake", "RG-LAKE")}),
        "federation:storage",
        "lake and lake2 are the same storage account",
    ),
    ("double slash", dataset(storage="lake", container="raw", folder="a//b"), "datasets.extra.folder", "'a//b'"),
    ("trailing slash", dataset(storage="lake", container="raw", folder="a/"), "datasets.extra.folder", "'a/'"),
    ("trailing dot", dataset(storage="lake", container="raw", file="a/b."), "datasets.extra.file", "'a/b.'"),
    ("path too long", dataset(storage="lake", container="raw", file="a" * 1025), "datasets.extra.file", "1024"),
    (
        "subscription name",
        put("federation:subscriptions", "global-model", value={}),
        "subscriptions.global-model",
        "key",
    ),
    (
        "invitation id not a guid",
        subscription(invitationId="hospital-a"),
        "federation:subscriptions.global_model.invitationId",
        "'hospital-a'",
    ),
    (
        "neither invitation nor from",
        subscription(invitationId=None),
        "federation:subscriptions.global_model",
        "exactly one of invitationId",
    ),
    (
        "invitation and from",
        subscription(**{"from": SILO_A}),
        "federation:subscriptions.global_model",
        "exactly one of invitationId",
    ),
    ("source location missing", subscription(sourceLocation=None), "global_model.sourceLocation", "is required"),
    ("source location", subscription(sourceLocation="North Europe"), "global_model.sourceLocation", "'North Europe'"),
    (
        "dataset key not a guid",
        subscription(datasets={"checkpoints": {"storage": "models", "container": "eval"}}),
        "federation:subscriptions.global_model.datasets",
        "keys must be the sender's dataSetIds",
    ),
    (
        "mode",
        subscription(schedule={"recurrence": "Day", "start": "2026-12-01T04:00:00Z", "mode": "Full"}),
        "federation:subscriptions.global_model.schedule.mode",
        "'Full'",
    ),
    (
        "mapping to unknown storage",
        subscription(datasets={DATASET: {"storage": "silo", "container": "eval"}}),
        f"federation:subscriptions.global_model.datasets.{DATASET}.storage",
        "'silo'",
    ),
    (
        "mapping to undeclared container",
        subscription(datasets={DATASET: {"storage": "models", "container": "incoming"}}),
        f"federation:subscriptions.global_model.datasets.{DATASET}.container",
        "'incoming'",
    ),
    (
        "mapping folder and file",
        subscription(datasets={DATASET: {"storage": "lake", "container": "inbox", "folder": "a", "file": "b"}}),
        f"federation:subscriptions.global_model.datasets.{DATASET}",
        "at most one of folder and file",
    ),
    (
        "subscription typo",
        subscription(sourceLocaton="westeurope"),
        "federation:subscriptions.global_model.sourceLocaton",
        "did you mean 'sourceLocation'",
    ),
    (
        "dataset name with from",
        subscription(
            invitationId=None,
            datasets={"check points": {"storage": "models", "container": "eval"}},
            **{"from": SILO_A},
        ),
        "federation:subscriptions.global_model.datasets",
        "keys must be the sender's dataset names",
    ),
    (
        "from stack name",
        subscription(invitationId=None, **{"from": {"stack": "a b", "share": "global_model", "participant": "h-a"}}),
        "federation:subscriptions.global_model.from.stack",
        "'a b'",
    ),
    (
        "from stack name past 100 characters",
        subscription(invitationId=None, **{"from": {"stack": "s" * 101, "share": "global_model", "participant": "h"}}),
        "federation:subscriptions.global_model.from.stack",
        "the stack and project 1-100 ASCII letters",
    ),
    (
        "from stack name outside ASCII",
        subscription(
            invitationId=None, **{"from": {"stack": "org/federation/stäck", "share": "g", "participant": "h"}}
        ),
        "federation:subscriptions.global_model.from.stack",
        "'org/federation/stäck'",
    ),
    (
        "from stack of an organization with a dot",
        subscription(
            invitationId=None, **{"from": {"stack": "my.org/federation/prod", "share": "g", "participant": "h"}}
        ),
        "federation:subscriptions.global_model.from.stack",
        "'my.org/federation/prod'",
    ),
    ("week date", put(*GM, "expires", value="2026-W49-1T02:00:00+00:00"), "global_model.expires", "'2026-W49-1"),
    (
        "fractional seconds",
        put(*GM, "expires", value="2027-06-30T00:00:00.5Z"),
        "global_model.expires",
        "to the second",
    ),
    ("no such day", put(*GM, "expires", value="2027-02-30T00:00:00Z"), "global_model.expires", "is not a real time"),
    # Storage networks: Azure takes public IPv4 addresses and ranges wider than /31, and subnets by id.
    ("private range", put(*NET, "allow", value=["81.2.69.0/24", "10.1.0.0/16"]), f"{NET_PATH}.allow[1]", "public"),
    ("/32 range", put(*NET, "allow", value=["81.2.69.160/32"]), f"{NET_PATH}.allow[0]", "/31 and /32"),
    ("/31 range", put(*NET, "allow", value=["81.2.69.160/31"]), f"{NET_PATH}.allow[0]", "single addresses"),
    ("ipv6", put(*NET, "allow", value=["2001:4860::/32"]), f"{NET_PATH}.allow[0]", "no IPv6"),
    ("host bits", put(*NET, "allow", value=["81.2.69.1/24"]), f"{NET_PATH}.allow[0]", "host bits set"),
    ("not an address", put(*NET, "allow", value=["office"]), f"{NET_PATH}.allow[0]", "'office'"),
    ("loopback", put(*NET, "allow", value=["127.0.0.1"]), f"{NET_PATH}.allow[0]", "'127.0.0.1'"),
    ("address twice", put(*NET, "allow", value=["81.2.69.160", "81.2.69.160"]), f"{NET_PATH}.allow", "twice"),
    ("subnet id", put(*NET, "subnets", value=[f"/subscriptions/{SUB}/vnets/x"]), f"{NET_PATH}.subnets[0]", "subnets/"),
    ("network typo", put(*NET, "alow", value=[]), f"{NET_PATH}.alow", "did you mean 'allow'"),
    (
        "network on existing storage",
        put("federation:storage", "lake", "network", value={"allow": ["81.2.69.160"]}),
        "federation:storage.lake",
        "existing storage is never modified",
    ),
    (
        "shared key on existing storage",
        put("federation:storage", "lake", "sharedKeyAccess", value=True),
        "federation:storage.lake",
        "apply only to storage made here",
    ),
    # Monitoring.
    ("monitoring without emails", put(MON, value={}), f"{MON}.emails", "is required"),
    ("no email", put(MON, value={"emails": []}), f"{MON}.emails", "at least one address"),
    ("bad email", put(MON, value={"emails": ["ops"]}), f"{MON}.emails[0]", "'ops'"),
    ("email twice", put(MON, value={"emails": ["a@b.org", "A@b.org"]}), f"{MON}.emails", "twice"),
    ("retention low", monitoring(retentionDays=7), f"{MON}.retentionDays", "must be at least 30; got 7"),
    ("retention high", monitoring(retentionDays=731), f"{MON}.retentionDays", "must be at most 730; got 731"),
    ("retention text", monitoring(retentionDays="90"), f"{MON}.retentionDays", "'90'"),
    ("workspace name", monitoring(workspace={"name": "log_fl"}), f"{MON}.workspace.name", "'log_fl'"),
    ("workspace id", monitoring(workspace={"id": "/subscriptions/x"}), f"{MON}.workspace.id", "workspaces/<name>"),
    (
        "workspace both forms",
        monitoring(workspace={"name": "log-fl", "id": WORKSPACE_ID}),
        f"{MON}.workspace",
        "at most one of name",
    ),
    (
        "retention on existing workspace",
        monitoring(workspace={"id": WORKSPACE_ID}, retentionDays=120),
        MON,
        "retentionDays applies only to a workspace made here",
    ),
    ("monitoring typo", monitoring(email=["a@b.org"]), f"{MON}.email", "did you mean 'emails'"),
    # A null or a wrong type is reported on its key, never handed to a rule as another type.
    ("storage id null", put("federation:storage", "lake", "id", value=None), "federation:storage.lake", "exactly one"),
    ("participants null", put(*GM, "participants", value=None), "global_model.participants", "leave it out"),
    (
        "participants a number",
        put(*GM, "participants", value=5),
        "global_model.participants",
        "a list, such as [hospital-a",
    ),
    (
        "containers a string",
        put("federation:storage", "models", "containers", value="eval"),
        "containers",
        "such as [eval]",
    ),
    # Times past the calendar's edge once in UTC, and before the epoch.
    ("time past 9999", put(*GM, "expires", value="9999-12-31T23:59:59-01:00"), "global_model.expires", "9999-12-31"),
    ("time before 1", put(*GM, "expires", value="0001-01-01T00:00:00+01:00"), "global_model.expires", "in UTC"),
    ("year 1", put(*GM, "schedule", "start", value="0001-01-01T00:00:00Z"), "schedule.start", "1970-01-01"),
    ("before the epoch", put(*GM, "expires", value="1970-01-01T00:30:00+01:00"), "global_model.expires", "in UTC"),
    ("non-ASCII digits", put(*GM, "expires", value="٢٠٢٧-06-30T00:00:00Z"), "global_model.expires", "RFC 3339"),
    # What Azure refuses though Python's own character classes take it.
    ("group with a vulgar fraction", put("federation:resourceGroup", value="rg-½"), "federation:resourceGroup", "½"),
    ("group with a roman numeral", put("federation:resourceGroup", value="rg-Ⅷ"), "federation:resourceGroup", "Ⅷ"),
    (
        "storage id group ending in a period",
        put("federation:storage", "lake", "id", value=LAKE_ID.replace("rg-lake", "rg-lake.")),
        "federation:storage.lake.id",
        "rg-lake.",
    ),
    (
        "storage id group with a numeral",
        put("federation:storage", "lake", "id", value=LAKE_ID.replace("rg-lake", "rg-Ⅷ")),
        "federation:storage.lake.id",
        "rg-Ⅷ",
    ),
    (
        "storage id subscription not a guid",
        put("federation:storage", "lake", "id", value=LAKE_ID.replace(SUB, "-" * 36)),
        "federation:storage.lake.id",
        "/subscriptions/<guid>/",
    ),
    (
        "blob path too deep",
        dataset(storage="models", container="eval", file="/".join(["a"] * 255)),
        "datasets.extra.file",
        "has 255 segments; at most 254 on blob storage",
    ),
    (
        "hns path too deep",
        dataset(storage="lake", container="raw", folder="/".join(["a"] * 62)),
        "datasets.extra.folder",
        "has 62 segments; at most 61 on hierarchical namespace",
    ),
    ("tag name too long", put("federation:tags", value={"t" * 129: "x"}), "federation:tags.ttt", "1-128 characters"),
    ("tag name control", put("federation:tags", value={"a\x07b": "x"}), "federation:tags['a\\x07b']", "control"),
    (
        "too many received shares",
        put(
            "federation:subscriptions",
            value=many(
                101,
                lambda i: (
                    f"r{i:03}",
                    {
                        "invitationId": INVITATION,
                        "sourceLocation": "northeurope",
                        "datasets": {DATASET: {"storage": "models", "container": "eval"}},
                    },
                ),
            ),
        ),
        "federation:subscriptions",
        "has 101 received shares; an account holds at most 100",
    ),
]


@pytest.mark.parametrize(("edit", "path", "text"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rule_rejects_config_before_anything_is_registered(edit: Edit, path: str, text: str) -> None:
    config = base()
    edit(config)
    result = run(config)
    assert isinstance(result.error, config_module.ConfigError)
    assert isinstance(result.error, pulumi.RunError)
    assert result.resources == ()
    lines = [p for p in result.error.problems if path in p.split(": ")[0]]
    assert lines, f"no problem at {path}: {result.error.problems}"
    assert any(text in line for line in lines), lines


def test_every_problem_is_reported_at_once() -> None:
    config = base()
    for edit in (
        case[1] for case in CASES if case[0] in {"environment", "recurrence", "unknown storage", "bad tenant guid"}
    ):
        edit(config)
    result = run(config)
    assert isinstance(result.error, config_module.ConfigError)
    assert len(result.error.problems) == 4
    assert str(result.error).startswith("4 problems in stack config:\n")
    assert result.resources == ()


def test_message_names_key_path_and_value() -> None:
    config = base()
    config["federation:shares"]["global_model"]["datasets"]["labels"]["storage"] = "modles"
    result = run(config)
    assert result.error is not None
    assert result.error.problems == [
        "federation:shares.global_model.datasets.labels.storage: is not a key of federation:storage "
        "(known: lake, models); got 'modles'"
    ]


def test_invalid_structured_value_is_reported_with_its_key() -> None:
    # `pulumi config set federation:shares '{oops'` stores text that is not JSON.
    with pytest.raises(config_module.ConfigError) as raised:
        config_module.parse({"azure-native:location": "westeurope", "federation:shares": "{oops"}, "dev")
    [problem] = raised.value.problems
    assert problem.startswith("federation:shares: is not valid structured config")
    assert problem.endswith("got '{oops'")


def test_reference_to_invalid_storage_entry_reports_only_the_entry() -> None:
    # A broken storage entry must not also make every dataset on it an unknown reference.
    config = base()
    config["federation:storage"]["models"]["name"] = "X"
    result = run(config)
    assert result.error is not None
    assert [p.split(":")[1] for p in result.error.problems] == ["storage.models.name"]


def test_storage_id_segments_are_case_insensitive() -> None:
    # ARM hands out ids with `resourcegroups` as well as `resourceGroups`.
    config = base()
    config["federation:storage"]["lake"]["id"] = LAKE_ID.replace("resourceGroups", "resourcegroups")
    config["federation:shares"]["global_model"]["datasets"]["raw"] = {"storage": "lake", "container": "raw"}
    result = run(config)
    assert result.error is None, str(result.error)
    [dataset] = [r for r in result.resources if r.name == "global_model.raw"]
    assert dataset.inputs["resourceGroup"] == "rg-lake"


def test_calendar_edges_inside_the_range_are_sent_with_four_digit_years() -> None:
    config = base()
    config["federation:shares"]["global_model"]["expires"] = "1970-01-01T01:00:00+01:00"
    config["federation:participants"]["hospital-b"]["expires"] = "9999-12-31T23:59:59Z"
    result = run_ok(config)
    invitations = {r.name: r.inputs["expirationDate"] for r in result.resources if r.type.endswith(":Invitation")}
    assert invitations == {
        "global_model.hospital-a": "1970-01-01T00:00:00Z",
        "global_model.hospital-b": "1970-01-01T00:00:00Z",
    }


def test_resource_groups_take_letters_and_digits_of_any_script() -> None:
    # Azure's rule is Char.IsLetterOrDigit: Unicode letters and decimal digits.
    config = base()
    config["federation:resourceGroup"] = "rg-données-٣"
    config["federation:storage"]["lake"]["id"] = LAKE_ID.replace("rg-lake", "rg-données")
    result = run_ok(config)
    [group] = result.of_type("azure-native:resources:ResourceGroup")
    assert group.inputs["resourceGroupName"] == "rg-données-٣"


def test_path_depth_limits_are_the_storage_kinds_own() -> None:
    config = base()
    datasets = config["federation:shares"]["global_model"]["datasets"]
    datasets["deep_blob"] = {"storage": "models", "container": "eval", "file": "/".join(["a"] * 254)}
    datasets["deep_hns"] = {"storage": "lake", "container": "raw", "folder": "/".join(["a"] * 61)}
    run_ok(config)


@pytest.mark.parametrize(
    ("key", "value"),
    [("federation:storage", ["models"]), ("federation:participants", 5), ("federation:storage", None)],
)
def test_a_malformed_section_is_one_problem_not_one_per_reference(key: str, value: Any) -> None:
    config = base()
    config["federation:shares"]["global_model"]["participants"] = ["hospital-a"]
    config[key] = value
    result = run(config)
    assert result.error is not None
    assert [p.split(":")[1] for p in result.error.problems] == [key.split(":")[1]]


def test_malformed_container_lists_are_not_read_as_declared_containers() -> None:
    # A string is iterable: "eval" must not declare the containers e, v, a and l.
    config = base()
    config["federation:storage"]["models"]["containers"] = "eval"
    result = run(config)
    assert result.error is not None
    assert [p.split(";")[0] for p in result.error.problems] == [
        "federation:storage.models.containers: must be a list, such as [eval]"
    ]


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({}, "global-model"),
        ({"folder": "runs/7"}, "global-model/runs/7"),
        ({"file": "eval/labels.csv"}, "global-model/eval/labels.csv"),
    ],
)
def test_a_location_reads_as_its_path_in_the_account(fields: dict[str, str], path: str) -> None:
    location = config_module.Location(storage="models", container="global-model", **fields)
    assert location.path == path
