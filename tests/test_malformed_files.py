"""Property: whatever a stack file holds (hostile YAML, wrong shapes, random bytes), the
command line keeps its contract: exit 0, 1 (one line), 2 (one line per problem, each naming
a key path) or 4, never a traceback, and quickly."""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from federation import cli, exits
from tests.support import base

KEYS = [
    "azure-native:location",
    "federation:environment",
    "federation:protect",
    "federation:tags",
    "federation:resourceGroup",
    "federation:accountName",
    "federation:storage",
    "federation:participants",
    "federation:shares",
    "federation:subscriptions",
    "environment",
    "Federation:environment",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)

# YAML no stack file should hold, each a template over one value's position.
HOSTILE = [
    "config:\n  a: &a [*a]\n",
    "config:\n  a: &x [1, 2]\n  b: &y [*x, *x, *x, *x, *x, *x, *x, *x]\n  c: [*y, *y, *y, *y, *y, *y, *y, *y]\n",
    "config:\n  federation:tags: !!binary aGk=\n",
    "config:\n  federation:tags: !!set {a, b}\n",
    "config:\n  federation:tags: {2026-01-01: x}\n",
    "config:\n  federation:tags: !!python/object:os.system x\n",
    "config:\n  federation:tags: {a: 1}\n  federation:tags: {a: 2}\n",
    "config:\n  federation:tags: " + "[" * 2000 + "]" * 2000 + "\n",
    "config:\n  federation:storage: " + "{a: " * 300 + "1" + "}" * 300 + "\n",
    "config:\n  federation:tags: '" + "[" * 20000 + "]" * 20000 + "'\n",
    "config:\n  federation:tags: " + "9" * 10000 + "\n",
    "config: !!str\n",
    "%YAML 1.1\n---\nconfig: {}\n",
    "config: {}\n...\n---\nconfig: {}\n",
    "config:\n  \x00: x\n",
    "config:\n  federation:participants: {a: {email: {secure: 3}}}\n",
    "config:\n  federation:participants: {a: {email: {secure: v1:x}}}\n",
    "\ufeff\ufeffconfig: {}\n",
    "config:\n\tfederation:tags: x\n",
]

# A key path starts with its namespace (`federation:tags[' ']`), or is the whole config.
_PROBLEM = re.compile(r"  (stack config|[A-Za-z-]+:\S.*?): ")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("malformed")


def assert_contract(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["plan", "--config", str(path)])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    assert code in (0, exits.UNREADABLE, exits.INVALID_CONFIG, exits.NO_SENDER_OUTPUTS), err
    if code == 0:
        assert err == ""
        assert out.startswith("Plan for stack ")
        return
    assert out == ""
    lines = err.splitlines()
    if code == exits.UNREADABLE:
        assert len(lines) == 1
        assert lines[0].startswith("error: ")
    elif code == exits.INVALID_CONFIG:
        # Warnings of misspelt namespaces may come first: they are often why the config is invalid.
        head, *problems = [line for line in lines if not line.startswith("warning: ")]
        assert head.startswith(f"{path}: ")
        assert problems, err
        for problem in problems:
            assert _PROBLEM.match(problem), problem  # each problem names a key path
            assert "Input should" not in problem, problem  # in a stack file's words, not pydantic's


def write(workdir: Path, data: bytes) -> Path:
    path = workdir / "Pulumi.fuzz.yaml"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_yaml_keeps_the_contract(text: str, workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert_contract(write(workdir, text.encode()), capsys)


# Each example that gets past the reader runs the program (about 0.1 s): a budget of a few
# seconds a property in the normal suite; HYPOTHESIS_PROFILE=deep does not raise it.
_SETTINGS = settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])


@_SETTINGS
@given(data=st.binary(max_size=200))
def test_random_bytes_keep_the_contract(data: bytes, workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert_contract(write(workdir, data), capsys)


@_SETTINGS
@given(changes=st.dictionaries(st.sampled_from(KEYS), values, max_size=4))
def test_wrong_shapes_at_top_level_keys_keep_the_contract(
    changes: dict[str, Any], workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert_contract(write(workdir, yaml.safe_dump({"config": base() | changes}).encode()), capsys)


@_SETTINGS
@given(document=values)
def test_any_document_shape_keeps_the_contract(
    document: Any, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert_contract(write(workdir, yaml.safe_dump(document).encode()), capsys)
