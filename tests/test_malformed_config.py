"""Malformed config through the command line, in-process: the committed stacks and generated
configs with wrong types at any key path (null, numbers, booleans, lists, maps, strings),
times and names at the edge of what Azure takes, Unicode and over-long values.

The contract: `plan` exits 0 with requests that fit the API, or 2 with one line per problem,
each naming its key path; never an uncaught exception."""

import contextlib
import copy
import io
import json
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from federation import cli, exits
from federation import config as config_module
from federation.config import stackfile
from tests import api_contract, strategies
from tests.support import PROJECT, base

STACK_FILES = sorted(PROJECT.glob("Pulumi.*.yaml"))
EXAMPLES = [stackfile.parse(p.read_bytes(), p.name) for p in STACK_FILES]
NAMESPACES = ("federation:", "azure-native:")
# pydantic's own phrasing, which speaks of Python ("instance of Participant", "a valid tuple").
PYDANTIC = re.compile(r"Input should|instance of|valid (dictionary|tuple|list|string|boolean|integer)|should have")

EDGE_STRINGS = [
    "",
    " ",
    "null",
    "9999-12-31T23:59:59-01:00",
    "0001-01-01T00:00:00+01:00",
    "1969-12-31T23:59:59Z",
    "2026-02-29T00:00:00Z",
    "2026-12-01T24:00:00Z",
    "rg-½",
    "rg-Ⅷ",
    "rg.",
    "a" * 91,
    "a" * 1025,
    "/".join(["a"] * 255),
    "../..",
    "t\x07g",
    "\u202eevil",
    "😀",
    "Ⅻ" * 3,
    "00000000-0000-0000-0000-00000000000G",
    "/subscriptions/x/resourceGroups/rg./providers/Microsoft.Storage/storageAccounts/st",
    "x" * 20_000,
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**30, max_value=10**40),
    st.floats(),
    st.text(max_size=40),
    st.sampled_from(EDGE_STRINGS),
)
values = st.one_of(
    scalars,
    st.lists(scalars, max_size=3),
    st.dictionaries(st.one_of(st.text(max_size=8), st.sampled_from(EDGE_STRINGS[:12])), scalars, max_size=3),
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path in a config: map keys and list positions, at every depth."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, (*prefix, index))
    return found


@st.composite
def mutated(draw: st.DrawFn, config: dict[str, Any]) -> dict[str, Any]:
    """1-3 edits: a value replaced, a key removed, or a key added, anywhere."""
    edited = copy.deepcopy(config)
    for _ in range(draw(st.integers(1, 3))):
        where = paths(edited)
        if not where:
            break
        path = draw(st.sampled_from(where))
        *head, last = path
        parent: Any = edited
        for part in head:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "replace", "replace", "remove", "add"]))
        if action == "replace":
            parent[last] = draw(values)
        elif action == "remove" and isinstance(parent, dict):
            del parent[last]
        elif isinstance(parent[last], dict):
            key = draw(st.one_of(st.text(min_size=1, max_size=8), st.sampled_from(EDGE_STRINGS[1:])))
            parent[last][key] = draw(values)
    return edited


def plan(config: dict[str, Any]) -> tuple[int, str, str]:
    """`python -m federation plan --config <stack file> --format json`, in this process."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "Pulumi.fuzz.yaml"
        path.write_text(yaml.safe_dump({"config": config}, allow_unicode=True))
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(["plan", "--config", str(path), "--format", "json"])
    return code, out.getvalue(), err.getvalue()


def assert_contract(config: dict[str, Any]) -> None:
    code, out, err = plan(config)
    if code == 0:
        resources = json.loads(out)["resources"]
        checked = {r["urn"]: r for r in resources if r["type"].startswith("azure-native:datashare:")}
        found = {urn: api_contract.violations(r["type"], r["inputs"]) for urn, r in checked.items()}
        assert found == {urn: [] for urn in checked}
        return
    if code == exits.NO_SENDER_OUTPUTS:  # valid, but a `from` names a stack with no outputs here
        for line in err.splitlines():
            assert line.startswith("federation:subscriptions."), err
            assert "has no stack file here" in line, err
        return
    if code == exits.UNREADABLE:  # NaN or an infinity: the Pulumi CLI refuses the file itself
        assert err.count("\n") == 1, err
        assert err.endswith("the Pulumi CLI refuses NaN and infinities\n"), err
        return
    assert code == exits.INVALID_CONFIG, (code, err)
    # Warnings of misspelt namespaces may come first: they are often why the config is invalid.
    header, *problems = [line for line in err.splitlines() if not line.startswith("warning: ")]
    assert "Pulumi.fuzz.yaml: " in header, err
    assert header.endswith(" in stack config:"), err
    assert problems, err
    for line in problems:
        assert line.startswith("  "), err
        assert line.strip().startswith(NAMESPACES), err
        assert not PYDANTIC.search(line), line


@settings(max_examples=60)
@given(st.sampled_from(EXAMPLES).flatmap(mutated))
def test_mutated_committed_stacks_keep_the_contract(config: dict[str, Any]) -> None:
    assert_contract(config)


@settings(max_examples=25)
@given(strategies.configs().flatmap(mutated))
def test_mutated_generated_configs_keep_the_contract(config: dict[str, Any]) -> None:
    assert_contract(config)


def key_paths(config: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [p for p in paths(config) if len(p) > 1]


@pytest.mark.parametrize("value", [None, 0, True, 1.5, [], {}, "", "x" * 300], ids=repr)
def test_every_key_of_the_base_config_refuses_a_wrong_type_on_its_path(value: Any) -> None:
    # Deterministic and exhaustive over one config: a wrong type at any path is a problem at
    # that path (or its parent, for a rule over the whole entry), or a value it may take.
    for path in key_paths(base()):
        config = base()
        node: Any = config
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value
        problems = []
        try:
            config_module.parse(stackfile.config_values(config), "test")
        except config_module.ConfigError as error:
            problems = error.problems
        assert all(p.startswith(NAMESPACES) for p in problems), (path, problems)
        assert not [p for p in problems if PYDANTIC.search(p)], (path, problems)


def test_a_key_that_would_break_the_line_is_quoted_in_its_path() -> None:
    config = base()
    config["federation:shares"]["a\nb"] = {"datasets": {}}
    config["federation:tags"] = {"x\ty": "v"}
    code, _, err = plan(config)
    assert code == exits.INVALID_CONFIG
    assert err.splitlines()[1:] == [
        "  federation:tags['x\\ty']: key must be 1-128 characters, none of <>%&\\?/ or control characters; got 'x\\ty'",
        "  federation:shares['a\\nb']: key must be 2-90 letters, digits or underscores; got 'a\\nb'",
        "  federation:shares['a\\nb'].datasets: a share needs at least one dataset; got {}",
    ]


def plan_text(text: str) -> tuple[int, str]:
    """`plan` on a stack file written by hand, as YAML text."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "Pulumi.hand.yaml"
        path.write_text(text)
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            code = cli.main(["plan", "--config", str(path)])
    return code, err.getvalue()


def test_a_key_that_lost_its_indentation_is_said_in_plain_words() -> None:
    # `expires` and `email` one level up, beside the participants, as a hand edit leaves them.
    code, err = plan_text(
        "config:\n"
        "  azure-native:location: westeurope\n"
        "  federation:participants:\n"
        "    hospital-b:\n"
        "      email: mlops@hospital-b.example\n"
        "    expires: 2027-03-31T00:00:00Z\n"
        "    hospital-c:\n"
        "    email: mlops@hospital-c.example\n"
    )
    assert code == exits.INVALID_CONFIG
    assert err.splitlines()[1:] == [
        "  federation:participants.expires: must be a participant, a map of email, tenantId, objectId, expires "
        "(is `expires` indented under its participant?); got '2027-03-31T00:00:00Z'",
        "  federation:participants.hospital-c: is empty: it must be a participant, a map of email, tenantId, "
        "objectId, expires (are its keys indented under it?); got null",
        "  federation:participants.email: must be a participant, a map of email, tenantId, objectId, expires "
        "(is `email` indented under its participant?); got 'mlops@hospital-c.example'",
    ]


@pytest.mark.parametrize(
    ("where", "value", "says"),
    [
        (("federation:shares", "global_model", "participants"), "hospital-b", "must be a list, such as [hospital-b]"),
        (
            ("federation:shares", "global_model", "participants"),
            "hospital-a, hospital-b",
            "must be a list, such as [hospital-a, hospital-b]",
        ),
        (("federation:shares", "global_model", "participants"), 5, "must be a list, such as [hospital-a, hospital-b]"),
        (
            ("federation:storage", "models", "containers"),
            {"eval": True},
            "must be a list, such as [global-model, eval]",
        ),
        (("federation:storage", "models", "hns"), "yes", "must be true or false"),
        (("federation:shares", "global_model", "schedule", "recurrence"), "Week", "must be 'Hour' or 'Day'"),
        (("federation:shares", "global_model", "datasets", "labels"), "models", "must be a dataset, a map of storage"),
        (("federation:shares", "global_model", "description"), ["a"], "must be text"),
        (("federation:tags",), {f"t{i}": "x" for i in range(49)}, "has 49 entries; at most 48"),
        (("federation:tags",), {"owner": "x" * 257}, "must be at most 256 characters"),
        (("federation:storage",), "models", "must be a map of keys to values"),
        (("federation:protect",), "yes", "must be true or false"),
        (("federation:monitoring",), {"emails": ["a@b.example"], "retentionDays": 7}, "must be at least 30"),
        (("federation:monitoring",), {"emails": ["a@b.example"], "retentionDays": "90"}, "must be a whole number"),
    ],
    ids=repr,
)
def test_wrong_shapes_are_said_in_the_words_of_a_stack_file(where: tuple[str, ...], value: Any, says: str) -> None:
    config = base()
    node: Any = config
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    code, _, err = plan(config)
    assert code == exits.INVALID_CONFIG, err
    assert says in err, err
    assert not PYDANTIC.search(err), err
