"""The JSON Schema of stack files: generated from the config model, committed up to date,
accepting the committed stacks and flagging what one key can get wrong on its own."""

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from federation import config
from federation.config import naming, schema, stackfile
from tests.support import OBJECT, PROJECT, base

STACKS = ["Pulumi.dev.yaml", "Pulumi.silo-a.yaml"]
HEADER = "# yaml-language-server: $schema=./schema/stack.schema.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    document = schema.generate()
    jsonschema.Draft202012Validator.check_schema(document)
    return jsonschema.Draft202012Validator(document)


def problems(validator: jsonschema.Draft202012Validator, config: dict[str, Any]) -> list[str]:
    return [".".join(map(str, e.absolute_path)) for e in validator.iter_errors({"config": config})]


def test_committed_schema_is_up_to_date() -> None:
    committed = (PROJECT / schema.PATH).read_text()
    assert committed == schema.render(), f"regenerate it: python -m federation schema > {schema.PATH}"


@pytest.mark.parametrize("name", STACKS)
def test_committed_stacks_name_the_schema_and_follow_it(name: str, validator: jsonschema.Draft202012Validator) -> None:
    text = (PROJECT / name).read_text()
    assert text.splitlines()[0] == HEADER
    assert list(validator.iter_errors(yaml.safe_load(text))) == []


def subschemas(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every (path, schema) that describes a named property."""
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            yield f"{path}.{name}", sub
        for key, sub in node.items():
            yield from subschemas(sub, f"{path}/{key}")
    elif isinstance(node, list):
        for i, sub in enumerate(node):
            yield from subschemas(sub, f"{path}[{i}]")


def test_every_key_has_a_description() -> None:
    found = dict(subschemas(schema.generate()))
    assert len(found) > 30
    assert [path for path, sub in found.items() if not sub.get("description")] == []


def test_mistakes_one_key_can_make_are_flagged(validator: jsonschema.Draft202012Validator) -> None:
    config = yaml.safe_load((PROJECT / "Pulumi.dev.yaml").read_text())["config"]
    config["federation:shars"] = {}  # misspelt key
    config["federation:shares"]["global_model"]["schedule"]["recurrence"] = "Week"  # enum
    config["federation:storage"]["models"]["containers"].append("Global_Model")  # container pattern
    config["federation:participants"]["hospital-a"]["mail"] = "x@y.example"  # unknown field
    config["federation:shares"]["global model"] = {"datasets": {}}  # share name pattern
    assert sorted(problems(validator, config)) == [
        "config",
        "config.federation:participants.hospital-a",
        "config.federation:shares",
        "config.federation:shares.global_model.schedule",  # one of its alternatives fails
        "config.federation:storage.models.containers.4",
    ]


def test_required_keys_are_only_those_without_defaults(validator: jsonschema.Draft202012Validator) -> None:
    assert problems(validator, {"federation:storage": {}}) == ["config"]  # no location
    assert problems(validator, {"azure-native:location": "westeurope"}) == []


def test_secure_values_and_other_namespaces_are_accepted(validator: jsonschema.Draft202012Validator) -> None:
    config = {
        "azure-native:location": "westeurope",
        "azure-native:subscriptionId": "anything",
        "federation:participants": {"lab": {"email": {"secure": "v1:abc"}}},
    }
    assert problems(validator, config) == []
    config["federation:participants"] = {"lab": {"email": {"secure": 1}}}
    assert problems(validator, config) == ["config.federation:participants.lab.email"]


@pytest.mark.parametrize(
    ("key", "where"),
    [
        ("azure-native:location", ()),
        ("federation:environment", ()),
        ("federation:resourceGroup", ()),
        ("federation:accountName", ()),
        ("federation:tags", ("owner",)),  # a tag set with --secret makes the whole key secret
    ],
)
def test_keys_the_program_refuses_as_secret_take_no_secure_value(
    validator: jsonschema.Draft202012Validator, key: str, where: tuple[str, ...]
) -> None:
    stack: dict[str, Any] = {"azure-native:location": "westeurope"}
    secure = {"secure": "v1:abc"}
    stack[key] = {where[0]: secure} if where else secure
    assert problems(validator, stack) == [".".join(("config", key, *where))]


def verdicts(validator: jsonschema.Draft202012Validator, stack: dict[str, Any]) -> tuple[bool, bool]:
    """(the schema accepts it, the model accepts it)."""
    try:
        config.parse(stackfile.config_values(stack), "test")
        model = True
    except config.ConfigError:
        model = False
    return problems(validator, stack) == [], model


GM = ("federation:shares", "global_model")


@pytest.mark.parametrize(
    ("path", "value", "accepted"),
    [
        (("federation:tags", "costCenter"), 1234, True),
        (("federation:tags", "billable"), True, True),
        ((*GM, "datasets", "holdout", "folder"), 2026, True),
        ((*GM, "datasets", "holdout", "folder"), False, True),
        ((*GM, "description"), 5.5, True),
        (("federation:storage", "models", "name"), 20261234, True),
        ((*GM, "schedule", "recurrence"), 1, False),  # an enum: text only
        (("federation:participants", "hospital-a", "email"), 5, False),
        ((*GM, "schedule", "start"), 2026, False),  # no time is a number
        (("federation:participants", "hospital-b", "objectId"), 1234, False),  # nor a GUID
    ],
)
def test_numbers_and_booleans_where_text_goes_are_taken_as_the_model_takes_them(
    validator: jsonschema.Draft202012Validator, path: tuple[str, ...], value: Any, accepted: bool
) -> None:
    stack = base()
    node = stack
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    assert verdicts(validator, stack) == (accepted, accepted)


def reasons(validator: jsonschema.Draft202012Validator, stack: dict[str, Any]) -> set[tuple[str, str]]:
    """(key path, schema keyword) of every failure, with those inside failed alternatives."""
    found, errors = set(), list(validator.iter_errors({"config": stack}))
    while errors:
        error = errors.pop()
        found.add((".".join(map(str, error.absolute_path)), str(error.validator)))
        errors += error.context or []
    return found


def over_the_limit(stack: dict[str, Any], what: str) -> tuple[str, str]:
    """Edit a stack one past a limit of Data Share or the program; the key path it breaks."""
    share = stack["federation:shares"]["global_model"]
    received = {"invitationId": OBJECT, "sourceLocation": "northeurope", "datasets": {}}
    if what == "shares":
        stack["federation:shares"] |= {f"s{i}": share for i in range(config.MAX_SHARES)}
        return "config.federation:shares", "maxProperties"
    if what == "datasets":
        share["datasets"] = {}
        return "config.federation:shares.global_model.datasets", "minProperties"
    if what == "datasets per share":
        dataset = share["datasets"]["checkpoints"]
        share["datasets"] = {f"d{i}": dataset for i in range(config.MAX_DATASETS + 1)}
        return "config.federation:shares.global_model.datasets", "maxProperties"
    if what == "invitations":
        stack["federation:participants"] = {
            f"p{i}": {"email": f"p{i}@x.example"} for i in range(config.MAX_INVITATIONS + 1)
        }
        share["participants"] = sorted(stack["federation:participants"])[: config.MAX_INVITATIONS + 1]
        return "config.federation:shares.global_model.participants", "maxItems"
    if what == "subscriptions":
        mapping = {OBJECT: {"storage": "models", "container": "eval"}}
        stack["federation:subscriptions"] = {
            f"inbox{i}": received | {"datasets": mapping} for i in range(config.MAX_RECEIVED_SHARES + 1)
        }
        return "config.federation:subscriptions", "maxProperties"
    if what == "mappings":
        stack["federation:subscriptions"] = {"inbox": received}
        return "config.federation:subscriptions.inbox.datasets", "minProperties"
    stack["federation:monitoring"] = {"emails": []}
    return "config.federation:monitoring.emails", "minItems"


@pytest.mark.parametrize(
    "what", ["shares", "datasets", "datasets per share", "invitations", "subscriptions", "mappings", "emails"]
)
def test_limits_are_flagged_by_the_schema_as_by_the_model(
    validator: jsonschema.Draft202012Validator, what: str
) -> None:
    stack = base()
    assert over_the_limit(stack, what) in reasons(validator, stack)
    assert verdicts(validator, stack) == (False, False)


RULES = {name: rule for name, rule in vars(naming).items() if isinstance(rule, naming.Rule)}
SAMPLES = [
    "westeurope",
    "global_model",
    "hospital-a",
    "rg-fl-dev",
    "stflmodelsdev",
    "global-model",
    "a--b",
    "holdout/v3",
    "a/",
    "a.",
    "2026-12-01T02:00:00Z",
    "2026-12-01T02:00:00+01:00",
    "org/federation/silo-a",
    "8e4a6f20-1c3d-4b5e-9f7a-6d2c0b8e1f94",
    "/subscriptions/6f1c2a4e-8d3b-4c9a-9e71-0a5b3c2d1e4f/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st",
    "/SUBSCRIPTIONS/6f1c2a4e-8d3b-4c9a-9e71-0a5b3c2d1e4f/resourcegroups/rg/providers/microsoft.storage/storageaccounts/st",
    "/subscriptions/6f1c2a4e-8d3b-4c9a-9e71-0a5b3c2d1e4f/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/ST",
    "x" * 91,
    "",
]


@pytest.mark.parametrize("name", sorted(RULES))
def test_schema_patterns_accept_what_the_model_accepts(name: str) -> None:
    rule = RULES[name]
    # What JavaScript's RegExp (the editors') and Python's re both read: no Python-only groups.
    assert not re.search(r"\(\?P|\(\?[aiLmsux]|\(\?<\w", rule.ecma)
    for sample in SAMPLES:
        assert (re.search(rule.ecma, sample) is not None) == rule.accepts(sample), sample


@pytest.mark.parametrize(
    ("key", "flagged"),
    [
        ("federaton:shares", True),
        ("fedration:shares", True),
        ("Federation:shares", True),
        ("federation-x:shares", True),
        ("federation:shares", False),
        ("azure-native:subscriptionId", False),
        ("pulumi:tags", False),
        ("feder:shares", False),
        ("azure-nativ:location", True),
        ("Azure-Native:location", True),
        ("pulumni:tags", True),
        ("azure:location", False),
    ],
)
def test_a_misspelt_namespace_is_flagged(validator: jsonschema.Draft202012Validator, key: str, flagged: bool) -> None:
    stack = {"azure-native:location": "westeurope", key: {}}
    assert (problems(validator, stack) == ["config"]) == flagged


@given(st.text(alphabet="federationFEDRTIONazuretivpulmiAZUxyz-_.", max_size=14))
def test_the_schema_flags_the_namespaces_the_program_takes_for_misspellings(namespace: str) -> None:
    flagged = re.search(schema.misspelt_namespace(), f"{namespace}:shares") is not None
    assert flagged == config.misspelt(namespace)


def test_the_schema_check_in_the_docs_says_each_problem_in_words(tmp_path: Path) -> None:
    # The script and its example output as docs/configuration.md shows them, on the copy of
    # Pulumi.dev.yaml it describes.
    doc = (PROJECT / "docs" / "configuration.md").read_text()
    section = doc[doc.index("To check a stack file against the schema") :]
    script, after = section.split("<<'EOF'\n", 1)[1].split("\nEOF\n```\n", 1)
    shown = after.split("```\n", 1)[1].split("```", 1)[0].splitlines()
    text = (PROJECT / "Pulumi.dev.yaml").read_text()
    for old, new in [
        ("  azure-native:location:", "  azure-nativ:location:"),
        ("containers: [global-model,", "containers: [Global-Model,"),
        ("      email: mlops@hospital-a.example", "      mail: mlops@hospital-a.example"),
        ("recurrence: Day", "recurrence: Week"),
    ]:
        assert old in text
        text = text.replace(old, new, 1)
    broken = tmp_path / "Pulumi.broken.yaml"
    broken.write_text(text)
    done = subprocess.run(
        [sys.executable, "-", str(broken)], input=script, capture_output=True, text=True, cwd=PROJECT, check=False
    )
    assert (done.returncode, done.stderr) == (1, "")
    assert done.stdout.splitlines() == [line.replace("/tmp/Pulumi.broken.yaml", str(broken)) for line in shown]
    # Words, never a pattern or "not valid under any of the given schemas".
    assert not re.search(r"\(\?|\[\^|given schemas|\{'pattern'", done.stdout), done.stdout
