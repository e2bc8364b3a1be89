"""Stack files as users write them, and as a hostile pull request writes them: read as the
Pulumi CLI reads them, or refused in one line (exit 1), or their config refused problem by
problem (exit 2), never a traceback."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from federation import cli, exits
from federation.config import stackfile
from tests.support import PROJECT, base, received_from


def main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write(path: Path, text: str | bytes) -> Path:
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def valid_yaml(extra: str = "") -> str:
    return yaml.safe_dump({"config": base()}) + extra


def test_scalars_are_read_as_yaml_1_2_as_the_cli_reads_them() -> None:
    config = stackfile.parse(
        b"config:\n  a: yes\n  b: on\n  c: 12:30\n  d: 2026-12-01\n  e: true\n  f: 0x1f\n  g: 1.5\n  h: ~\n  i: 007\n",
        "t",
    )
    assert config == {"a": "yes", "b": "on", "c": "12:30", "d": "2026-12-01", "e": True, "f": 31, "g": 1.5}.__or__(
        {"h": None, "i": 7}
    )


def test_integers_past_64_bits_are_read_as_yaml_v3_reads_them() -> None:
    config = stackfile.parse(f"config:\n  a: {'9' * 25}\n  b: {'9' * 10000}\n".encode(), "t")
    assert config["a"] == float("9" * 25)
    assert config["b"] == "9" * 10000  # no finite float: kept as text


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("config:\n  a: 1\n  a: 2\n", "line 3: the key 'a' is set twice (first on line 2)"),
        ("config:\n  a: &a [*a]\n", "an alias refers to the value containing it"),
        ("config:\n  a: !!binary aGk=\n", "the tag !!binary is not plain data"),
        ("config:\n  a: !!set {x: null}\n", "the tag !!set is not plain data"),
        ("config:\n  a: !!timestamp 2026-01-01\n", "the tag !!timestamp is not plain data"),
        ("config:\n  ? [a]\n  : b\n", "a key must be text"),
        ("- config\n", "must be a mapping with a config: key; got a list"),
        ("config: [a]\n", "config: must be a mapping of keys to values; got a list"),
        ("config:\n  a: {b\n", "Pulumi.x.yaml:2:6: not valid YAML: expected ',' or '}'"),
        ("config: {}\n---\nconfig: {}\n", "Pulumi.x.yaml:2:1: not valid YAML: expected a single document"),
        ("config:\n  a: " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
        ("config:\n  a: " + "[" * 70 + "]" * 70 + "\n", "nested deeper than 64 levels"),
    ],
)
def test_files_the_cli_would_refuse_are_one_line_exit_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, says: str
) -> None:
    code, out, err = main(capsys, "plan", "--config", str(write(tmp_path / "Pulumi.x.yaml", text)))
    assert (code, out) == (exits.UNREADABLE, "")
    assert err.startswith(f"error: {tmp_path / 'Pulumi.x.yaml'}")
    assert says in err
    assert err.count("\n") == 1


def test_alias_expansion_is_refused_before_expanding(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    lines = ['  l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 10)]
    bomb = write(tmp_path / "Pulumi.bomb.yaml", "config:\n" + "\n".join(lines) + "\n")
    code, _, err = main(capsys, "plan", "--config", str(bomb))
    assert code == exits.UNREADABLE
    assert "aliases expand it past 1,000,000 values" in err


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        "config:\n  federation:environment: dev\n".encode("utf-16"),
        "config:\n  federation:tags: {owner: Jos\u00e9}\n".encode("latin-1"),
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00",
    ],
)
def test_bytes_that_are_not_utf8_are_one_line_exit_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, data: bytes
) -> None:
    code, _, err = main(capsys, "plan", "--config", str(write(tmp_path / "Pulumi.x.yaml", data)))
    assert code == exits.UNREADABLE
    assert "is not UTF-8 text" in err


def test_a_utf8_byte_order_mark_is_read(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, _ = main(capsys, "plan", "--config", str(write(tmp_path / "Pulumi.x.yaml", "\ufeff" + valid_yaml())))
    assert code == 0


def test_file_names_too_long_for_the_os_are_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    name = str(tmp_path / ("a" * 5000 + ".yaml"))
    for argv in (("plan", "--config", name), ("diff", name, name)):
        code, _, err = main(capsys, *argv)
        assert code == exits.UNREADABLE
        assert "cannot read" in err
        assert len(err) < 400


def test_a_from_stack_name_too_long_for_the_os_is_a_config_problem(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Pulumi refuses a stack name over 100 characters; no file of that name is looked for.
    config = base()
    config["federation:subscriptions"] = {"in_": received_from("x" * 5000, "global_model", "lab", {"ab": "eval"})}
    stack = write(tmp_path / "Pulumi.x.yaml", yaml.safe_dump({"config": config}))
    code, _, err = main(capsys, "plan", "--config", str(stack))
    assert code == exits.INVALID_CONFIG
    assert "  federation:subscriptions.in_.from.stack: must be a stack name" in err


def test_numbers_and_booleans_where_text_is_meant(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = base()
    config["federation:tags"] = {"costCenter": 1234, "billable": True}
    config["federation:shares"]["global_model"]["datasets"]["holdout"]["folder"] = 2026
    stack = write(tmp_path / "Pulumi.x.yaml", yaml.safe_dump({"config": config}))
    code, out, err = main(capsys, "plan", "--config", str(stack), "--format", "json")
    assert (code, err) == (0, "")
    resources = {r["name"]: r for r in json.loads(out)["resources"]}
    assert resources["resource-group"]["inputs"]["tags"]["costCenter"] == "1234"
    assert resources["resource-group"]["inputs"]["tags"]["billable"] == "true"
    assert resources["global_model.holdout"]["inputs"]["prefix"] == "2026"


def test_lower_case_t_and_z_are_the_same_time(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = base()
    config["federation:shares"]["global_model"]["schedule"]["start"] = "2026-12-01t02:00:00z"
    stack = write(tmp_path / "Pulumi.x.yaml", yaml.safe_dump({"config": config}))
    code, out, _ = main(capsys, "plan", "--config", str(stack), "--format", "json")
    assert code == 0
    schedule = next(r for r in json.loads(out)["resources"] if r["name"] == "global_model.schedule")
    assert schedule["inputs"]["synchronizationTime"] == "2026-12-01T02:00:00Z"


def test_what_the_cli_would_ignore_without_a_word_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    text = valid_yaml("  environment: dev\n  federation:environment: prod\n  Federation:protect: true\n")
    code, out, err = main(capsys, "plan", "--config", str(write(tmp_path / "Pulumi.x.yaml", text)))
    assert (code, out) == (exits.INVALID_CONFIG, "")
    assert "federation:environment: is set twice, as 'environment' and as 'federation:environment'" in err
    assert "Federation:protect: is not a known key (namespaces are case-sensitive" in err
    assert "2 problems in stack config" in err


def test_config_keys_that_are_not_text_are_named(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    text = valid_yaml("  1: a\n  true: b\n  null: c\n")
    code, _, err = main(capsys, "plan", "--config", str(write(tmp_path / "Pulumi.x.yaml", text)))
    assert code == exits.INVALID_CONFIG
    for key in ("federation:1", "federation:true", "federation:null"):
        assert f"{key}: is not a known key" in err


def test_deep_json_in_a_structured_key_is_a_problem(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = base() | {"federation:tags": "[" * 100_000 + "]" * 100_000}
    stack = write(tmp_path / "Pulumi.x.yaml", yaml.safe_dump({"config": config}))
    code, _, err = main(capsys, "plan", "--config", str(stack))
    assert code == exits.INVALID_CONFIG
    assert "federation:tags: is nested deeper than 64 levels" in err


def sender_outside(tmp_path: Path) -> Path:
    config = base()
    config["federation:subscriptions"] = {
        "global_model": received_from("org/federation/coordinator-prod", "global_model", "lab", {"checkpoints": "eval"})
    }
    return write(tmp_path / "Pulumi.x.yaml", yaml.safe_dump({"config": config}))


def test_a_sender_outside_this_repository_needs_its_outputs(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    stack = sender_outside(tmp_path)
    code, out, err = main(capsys, "plan", "--config", str(stack))
    assert (code, out) == (exits.NO_SENDER_OUTPUTS, "")
    assert err == (
        "federation:subscriptions.global_model.from.stack: sender stack org/federation/coordinator-prod has no stack"
        " file here; give its outputs with --outputs org/federation/coordinator-prod=FILE (what `pulumi stack output"
        " --json` prints for it)\n"
    )
    code, _, _ = main(capsys, "diff", str(stack), str(stack))
    assert code == exits.NO_SENDER_OUTPUTS


def test_stand_in_outputs_answer_for_a_sender_outside(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    stack = sender_outside(tmp_path)
    invitation, dataset = "11111111-2222-4333-8444-555555555555", "66666666-7777-4888-9999-000000000000"
    shares = {"global_model": {"id": "x", "invitations": {"lab": invitation}, "datasets": {"checkpoints": dataset}}}
    outputs = write(tmp_path / "prod.json", json.dumps({"shares": shares, "accountName": "dsa"}))
    given = f"org/federation/coordinator-prod={outputs}"
    code, out, err = main(capsys, "plan", "--config", str(stack), "--outputs", given, "--format", "json")
    assert (code, err) == (0, "")
    resources = {r["name"]: r for r in json.loads(out)["resources"]}
    assert resources["global_model"]["inputs"]["invitationId"] == invitation
    assert resources["global_model.checkpoints"]["inputs"]["dataSetId"] == dataset
    code, out, _ = main(capsys, "diff", str(stack), str(stack), "--outputs", given)
    assert (code, out.splitlines()[2]) == (0, " no changes")
    code, _, err = main(capsys, "plan", "--config", str(stack), "--outputs", f"x={stack}")
    assert (code, err) == (
        exits.UNREADABLE,
        f"error: --outputs x={stack}: {stack} is not JSON (what `pulumi stack output --json` prints)\n",
    )


def test_diff_names_the_stack_as_the_base_file_does(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    base_file = write(tmp_path / "Pulumi.prod.yaml", valid_yaml())
    head_file = write(tmp_path / "Pulumi.pr-42.yaml", valid_yaml())
    code, out, _ = main(capsys, "diff", str(base_file), str(head_file))
    assert code == 0
    assert out.startswith("Diff for stack prod ")


def test_stack_names_resolve_from_the_nearest_pulumi_yaml(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "sub").mkdir(parents=True)
    shutil.copy(PROJECT / "Pulumi.yaml", project)
    write(project / "Pulumi.elsewhere.yaml", valid_yaml())
    assert stackfile.stack_file_path("elsewhere", project / "sub") == project / "Pulumi.elsewhere.yaml"
    assert stackfile.project_dir(Path("/")) == PROJECT  # no project up from here: the program's own
    # The entry points, from another directory (this checkout's code first on the path).
    env = os.environ | {"PYTHONPATH": str(PROJECT)}
    script = Path(sys.executable).with_name("federation")
    commands = [[sys.executable, "-m", "federation"]] + ([[str(script)]] if script.exists() else [])
    for command in commands:
        done = subprocess.run(
            [*command, "plan", "elsewhere"], cwd=project / "sub", capture_output=True, text=True, env=env, check=False
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("Plan for stack elsewhere ")
    done = subprocess.run(
        [sys.executable, "-m", "federation", "plan", "nosuch"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == exits.UNREADABLE
    assert done.stderr == (
        f"error: no stack file {PROJECT / 'Pulumi.nosuch.yaml'} for stack nosuch; the stacks there are dev, silo-a "
        "(a stack file elsewhere: --config FILE)\n"
    )


def test_stack_file_error_from_a_sibling_stack_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config: dict[str, Any] = base()
    config["federation:subscriptions"] = {"in_": received_from("sib", "global_model", "lab", {"ab": "eval"})}
    shutil.copy(PROJECT / "Pulumi.yaml", tmp_path)
    write(tmp_path / "Pulumi.sib.yaml", b"\xff\xfe")
    stack = write(tmp_path / "Pulumi.x.yaml", yaml.safe_dump({"config": config}))
    cwd = Path.cwd()
    os.chdir(tmp_path)
    try:
        code, _, err = main(capsys, "plan", "--config", str(stack))
    finally:
        os.chdir(cwd)
    assert code == exits.UNREADABLE
    assert f"error: {tmp_path / 'Pulumi.sib.yaml'} is not UTF-8 text" in err


def test_an_empty_key_is_refused_not_read_as_the_text_null(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = {k: v for k, v in base().items() if k != "azure-native:location"}
    text = yaml.safe_dump({"config": config}) + "  azure-native:location:\n  federation:environment: null\n"
    code, out, err = main(capsys, "plan", "--config", str(write(tmp_path / "Pulumi.x.yaml", text)))
    assert (code, out) == (exits.INVALID_CONFIG, "")
    assert "azure-native:location: is empty (null); give it a value or leave the key out" in err
    assert "federation:environment: is empty (null)" in err


SCALARS = [
    ".nan",
    ".NaN",
    "!!float .nan",
    ".inf",
    "-.Inf",
    "+.inf",
    "!!bool yes",
    "!!bool 1",
    "!!int 1.5",
    "!!int abc",
    "!!int",
    "!!null x",
    "!!float abc",
    "!!map x",
    "!!seq x",
    "!!binary aGVsbG8=",
    "!!timestamp 2001-12-14",
    "!!int '12'",
    "!!float 1",
    "0o17",
    "017",
    "0x1F",
    "1_000",
    "1e400",
    "1.5",
    "yes",
    "on",
    "~",
    "''",
    "12:30",
    "2026-12-01",
    "[true]",
    "{a: true}",
    "!!str",
    '"\\x1b[31mred"',
]


@pytest.mark.parametrize("scalar", SCALARS)
def test_every_scalar_form_of_a_boolean_is_read_or_refused_in_words(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, scalar: str
) -> None:
    text = valid_yaml(f"  federation:protect: {scalar}\n")
    code, out, err = main(capsys, "plan", "--config", str(write(tmp_path / "Pulumi.x.yaml", text)))
    assert out == ""
    assert "Traceback" not in err
    shown = str(tmp_path / "Pulumi.x.yaml")
    if code == exits.UNREADABLE:  # what the Pulumi CLI refuses too: one line, where and why
        assert err.startswith(f"error: {shown}: line "), err
        assert err.count("\n") == 1, err
    else:
        assert code == exits.INVALID_CONFIG, err
        assert "  federation:protect: " in err
        assert "\x1b" not in err


def test_nan_and_infinities_are_refused_as_the_pulumi_cli_refuses_them() -> None:
    for text in (".nan", "!!float .NaN", "-.inf"):
        with pytest.raises(stackfile.StackFileError, match="the Pulumi CLI refuses NaN and infinities"):
            stackfile.parse(f"config:\n  federation:protect: {text}\n".encode(), "t")
    # yaml.v3's integers: a leading 0 is octal, underscores group digits.
    assert stackfile.parse(b"config:\n  a: 017\n  b: 1_000\n  c: !!int '12'\n", "t") == {"a": 15, "b": 1000, "c": 12}


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            "config:\n  federation:participants:\n    hospital-b:\n      email: a@b.example\n        expires: x\n",
            "Pulumi.x.yaml:5:16: not valid YAML: mapping values are not allowed here (a `key:` where a value "
            "belongs: quote a value holding ': ', or is the line indented deeper than its siblings?); "
            "line 5 reads '        expires: x'",
        ),
        (
            "config:\n  federation:participants:\n    hospital-b:\n      email: a@b.example\n   expires: x\n",
            "Pulumi.x.yaml:5:4: not valid YAML: expected <block end>, but found '<block mapping start>' (is the line "
            "indented differently from the keys beside it?); line 5 reads '   expires: x'",
        ),
        (
            "config:\n\tfederation:environment: dev\n",
            "Pulumi.x.yaml:2:1: not valid YAML: found character '\\t' that cannot start any token (YAML indents with "
            "spaces, not tabs); line 2 reads '\\tfederation:environment: dev'",
        ),
        (
            "config:\n  federation:tags: {owner: fl\n",
            "Pulumi.x.yaml:2:20: not valid YAML: expected ',' or '}', but got '<stream end>' (while parsing a flow "
            "mapping from line 2); line 2 reads '  federation:tags: {owner: fl'",
        ),
        (
            "config:\n  federation:tags: {a: \x07}\n",
            "Pulumi.x.yaml:2:24: not valid YAML: the character '\\x07' is not allowed in YAML; "
            "line 2 reads '  federation:tags: {a: \\x07}'",
        ),
    ],
)
def test_yaml_errors_say_file_line_and_column_and_quote_the_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, says: str
) -> None:
    stack = write(tmp_path / "Pulumi.x.yaml", text)
    code, _, err = main(capsys, "plan", "--config", str(stack))
    assert (code, err) == (exits.UNREADABLE, f"error: {tmp_path}/{says}\n")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            "azure-native:location: westeurope\nfederation:environment: dev\nfederation:protect: true\n",
            "`config:` is empty; 3 keys sit at the top level (azure-native:location, federation:environment, "
            "federation:protect): indent them under `config:`",
        ),
        (
            "config:\nazure-native:location: westeurope\n",
            "`config:` is empty; 1 key sits at the top level (azure-native:location): indent it under `config:`",
        ),
        (
            "configs:\n  azure-native:location: westeurope\n  federation:environment: dev\n",
            "`config:` is empty; 2 keys sit under `configs:` instead: did you mean `config:`?",
        ),
        (
            "config:\n  azure-native:location: westeurope\nfederation:monitoring:\n  emails: [ops@x.example]\n",
            "federation:monitoring sits at the top level, outside `config:`, where the Pulumi CLI passes over it: "
            "indent it under `config:`",
        ),
    ],
)
def test_keys_outside_config_are_named_not_taken_for_missing_ones(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, says: str
) -> None:
    stack = write(tmp_path / "Pulumi.x.yaml", text)
    code, _, err = main(capsys, "plan", "--config", str(stack))
    assert (code, err) == (exits.UNREADABLE, f"error: {stack}: {says}\n")


def test_what_a_stack_file_holds_besides_config_is_read_as_the_cli_reads_it(tmp_path: Path) -> None:
    text = "secretsprovider: passphrase\nencryptionsalt: v1:x\nenvironment: [fl/dev]\n" + valid_yaml()
    assert stackfile.read_stack_file(write(tmp_path / "Pulumi.x.yaml", text)).config["azure-native:location"]
