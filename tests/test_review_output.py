"""What `plan` and `diff` show a reviewer, through the command line: every input, nested
ones as `pulumi preview --diff` prints them, numbers as written, no line too long to read;
a pull-request comment GitHub takes at any size, the whole output still in `-o text`; and
a stack named wrongly answered with what was meant."""

import copy
import json
import re
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from federation import cli, exits
from tests.support import PROJECT, base

WIDTH = 120
GITHUB_LIMIT = 65_536  # characters GitHub takes in a comment


def main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write(path: Path, config: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump({"config": config}))
    return path


def consortium(shares: int, participants: int) -> dict[str, Any]:
    """The small config with `participants` participants (by email and by service
    principal, half each) and `shares` shares like its own, each inviting every one."""
    config = base()
    invited = config["federation:participants"]
    for i in range(participants - len(invited)):
        if i % 2:
            invited[f"site-{i:04d}"] = {"email": f"mlops@site-{i:04d}.example"}
        else:
            guid = uuid.uuid5(uuid.NAMESPACE_URL, f"site-{i}")
            invited[f"site-{i:04d}"] = {"tenantId": str(uuid.uuid5(guid, "t")), "objectId": str(uuid.uuid5(guid, "o"))}
    model = config["federation:shares"]["global_model"]
    for s in range(1, shares):
        config["federation:shares"][f"round_{s:03d}"] = copy.deepcopy(model)
    return config


def code_blocks(markdown: str) -> list[str]:
    """The lines of text inside the markdown's fenced code blocks, Mermaid's left out."""
    lines, fence, mermaid = [], "", False
    for line in markdown.splitlines():
        opening = re.fullmatch(r"(`{3,})(\w*)", line)
        if not fence and opening:
            fence, mermaid = opening[1], opening[2] == "mermaid"
        elif fence and line == fence:
            fence = ""
        elif fence and not mermaid:
            lines.append(line)
    assert not fence, "a code block is left open"
    return lines


def read_back(lines: list[str]) -> str:
    """A string printed as quoted pieces, one a line, from the first of `lines` on (a key's
    last piece ends with its colon)."""
    pieces = []
    for line in lines:
        piece = line.strip()
        if not piece.startswith('"'):
            break
        pieces.append(json.loads(piece.removesuffix(":")))
        if piece.endswith('":'):
            break
    return "".join(pieces)


def test_plan_shows_nested_inputs_one_a_line_as_pulumi_preview_diff_does(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The account allows public network access: what limits it is its network rules.
    account = (
        " +        azure-native:storage:StorageAccount models\n"
        '             accountName                 : "stflmodelsdev"\n'
        "             allowBlobPublicAccess       : false\n"
        "             allowCrossTenantReplication : false\n"
        "             allowSharedKeyAccess        : false\n"
        "             defaultToOAuthAuthentication: true\n"
        "             enableHttpsTrafficOnly      : true\n"
        "             encryption                  : {\n"
        '                 keySource                      : "Microsoft.Storage"\n'
        "                 requireInfrastructureEncryption: true\n"
        "             }\n"
        "             isHnsEnabled                : false\n"
        '             kind                        : "StorageV2"\n'
        '             location                    : "westeurope"\n'
        '             minimumTlsVersion           : "TLS1_2"\n'
        "             networkRuleSet              : {\n"
        '                 bypass             : "AzureServices"\n'
        '                 defaultAction      : "Deny"\n'
        "                 ipRules            : [\n"
        "                     [0]: {\n"
        '                         action          : "Allow"\n'
        '                         iPAddressOrRange: "81.2.69.0/24"\n'
        "                     }\n"
        "                 ]\n"
        "                 resourceAccessRules: [\n"
        "                     [0]: {\n"
        "                         resourceId: "
        '"/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-fl-dev"\n'
        '                                     "/providers/Microsoft.DataShare/accounts/dsa-fl-dev"\n'
        '                         tenantId  : "00000000-0000-4000-8000-000000000002"\n'
        "                     }\n"
        "                 ]\n"
        "                 virtualNetworkRules: []\n"
        "             }\n"
        '             publicNetworkAccess         : "Enabled"\n'
        "             sku                         : {\n"
        '                 name: "Standard_LRS"\n'
        "             }\n"
        "             tags                        : {\n"
        '                 consortium : "cardio-fl"\n'
        '                 costCenter : "fl-research"\n'
        '                 environment: "dev"\n'
        '                 managedBy  : "pulumi"\n'
        "             }\n"
    )
    code, text, _ = main(capsys, "plan", "dev")
    assert code == exits.OK
    assert account in text
    code, markdown, _ = main(capsys, "plan", "dev", "-o", "markdown")
    assert code == exits.OK
    assert account in "\n".join(code_blocks(markdown)) + "\n"


def test_numbers_are_shown_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    # Pulumi hands the program's 90 over as 90.0; the stack file says 90.
    code, text, _ = main(capsys, "plan", "dev")
    assert code == exits.OK
    assert "             retentionInDays: 90\n" in text
    assert "                 days   : 7\n" in text
    assert "                             minFailingPeriodsToAlert : 1\n" in text
    _, markdown, _ = main(capsys, "plan", "dev", "-o", "markdown")
    assert "             retentionInDays: 90\n" in markdown
    _, data, _ = main(capsys, "plan", "dev", "-o", "json")
    assert '"retentionInDays": 90,' in data
    assert not re.search(r": \d+\.0\b", data), re.search(r".{40}: \d+\.0\b", data)


def test_no_line_is_longer_than_120_characters_and_long_values_read_back_whole(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = base()
    description = "Round checkpoints of the global model, " * 6 + "\u202eevil\x1b[0m"
    config["federation:shares"]["global_model"]["description"] = description
    tag = "t" * 128  # as long as Azure takes a tag's name
    config["federation:tags"] = {tag: "v" * 256, "owner": "fl"}
    stack = write(tmp_path / "Pulumi.test.yaml", config)
    head = copy.deepcopy(config)
    head["federation:storage"]["models"]["hns"] = True  # would fail: fixed when the account is created
    head["federation:shares"]["global_model"]["description"] = description[::-1]
    head_file = write(tmp_path / "head.yaml", head)
    outputs = {
        "plan text": main(capsys, "plan", "--config", str(stack))[1],
        "plan markdown": "\n".join(code_blocks(main(capsys, "plan", "--config", str(stack), "-o", "markdown")[1])),
        "diff text": main(capsys, "diff", str(stack), str(head_file))[1],
        "diff markdown": "\n".join(code_blocks(main(capsys, "diff", str(stack), str(head_file), "-o", "markdown")[1])),
        "dev": main(capsys, "plan", "dev")[1],
        "silo-a": main(capsys, "plan", "silo-a")[1],
    }
    for name, out in outputs.items():
        assert out
        long = [line for line in out.splitlines() if len(line) > WIDTH]
        assert long == [], (name, long)
    text = outputs["plan text"]
    # A long string is quoted pieces, one a line, that join into it; what a terminal would
    # act on, or show reversed, is escaped.
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if 'description: "' in line)
    assert read_back(['"' + lines[at].split('"', 1)[1], *lines[at + 1 :]]) == description
    assert "\x1b" not in text
    assert "\u202e" not in text
    # A key too long to leave room for its value is quoted pieces too, its value below it.
    at = next(i for i, line in enumerate(lines) if line.strip().startswith('"ttt'))
    assert read_back(lines[at:]) == tag
    at = next(i for i in range(at, len(lines)) if lines[i].endswith('":'))
    assert read_back(lines[at + 1 :]) == "v" * 256
    assert (
        "The deployment would fail at:\n !  replace azure-native:storage:StorageAccount models\n"
        in outputs["diff text"]
    )


# Shares x participants: 100 invitations, and 1,000.
SIZES = [(1, 100), (5, 200)]


@pytest.mark.parametrize(("shares", "participants"), SIZES, ids=["100 invitations", "1000 invitations"])
def test_pull_request_comments_fit_at_any_size(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, shares: int, participants: int
) -> None:
    small = write(tmp_path / "Pulumi.test.yaml", consortium(shares, 2))
    config = consortium(shares, participants)
    config["federation:storage"]["models"]["hns"] = True  # a step that would fail, to be read first
    large = write(tmp_path / "Pulumi.large.yaml", config)

    code, plan, _ = main(capsys, "plan", "--config", str(large), "-o", "markdown")
    assert code == exits.OK
    assert len(plan) <= GITHUB_LIMIT
    assert plan.startswith("**Plan for `large`**: ")
    assert plan.count("<details>") == plan.count("</details>")
    code_blocks(plan)  # every code block closed
    code, text, _ = main(capsys, "plan", "--config", str(large))
    resources = int(re.search(r"Resources: \+ (\d+) to create", text)[1])  # type: ignore[index]
    assert text.count("azure-native:datashare:Invitation ") == shares * participants
    shown = sum(1 for line in code_blocks(plan) if re.match(r" [+>]  ", line))
    if len(text) > GITHUB_LIMIT:
        # What is cut is said, from where, and where the whole plan is: text is never cut.
        last = plan.rstrip("\n").rsplit("\n", 1)[1]
        assert last.startswith(f"**Cut to fit a comment** (GitHub takes at most {GITHUB_LIMIT:,} characters). ")
        assert f": {resources - shown:,} of {resources:,} resources" in last
        assert f"federation plan --config {large} -o text` prints the whole plan, never cut" in last
        assert shown < resources
    else:
        assert shown == resources
        assert "Cut to fit" not in plan
    if "```mermaid" not in plan:
        # Mermaid draws no picture that long: it is not sent, and where it is is said.
        assert re.search(r"the picture is [\d,]+ characters of Mermaid, more than the 50,000 it draws", plan)
        assert f"plan --config {large} -o mermaid` prints it" in plan
    assert ("```mermaid" in plan) == (shares * participants < 1000)

    code, change, _ = main(capsys, "diff", str(small), str(large), "-o", "markdown")
    assert code == exits.PROBLEMS
    assert len(change) <= GITHUB_LIMIT
    summary, heading, failing, *_ = change.split("\n\n")
    assert summary.startswith("**Config change for `test`**: + ")
    assert heading == "#### ! would fail (1)"
    assert "\n| replace | `azure-native:storage:StorageAccount` | `models` |" in failing
    # The rest in folds: the created invitations, each with its inputs.
    assert f"<details><summary>+ create ({shares * (participants - 2)})</summary>" in change
    assert '        targetEmail   : "mlops@site-0001.example"' in code_blocks(change)
    cut = "Cut to fit a comment" in change
    assert cut == (shares * participants >= 1000)
    if cut:
        assert f"federation diff {small} {large} -o text` prints the whole diff, never cut" in change


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project directory of two stacks, the working directory."""
    shutil.copy(PROJECT / "Pulumi.yaml", tmp_path)
    for name in ("alpha", "beta"):
        write(tmp_path / f"Pulumi.{name}.yaml", base())
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("words", [["Pulumi.alpha.yaml"], ["-s", "Pulumi.alpha.yaml"]])
def test_a_file_name_where_a_stack_name_goes_hints_at_config(
    capsys: pytest.CaptureFixture[str], project: Path, words: list[str]
) -> None:
    code, out, err = main(capsys, "plan", *words)
    assert (code, out) == (exits.UNREADABLE, "")
    assert err == (
        "error: Pulumi.alpha.yaml is a file name where a stack name goes: give the file with "
        "--config Pulumi.alpha.yaml, or the stack's name (alpha)\n"
    )
    code, _, err = main(capsys, "plan", "stacks/other.yml")
    assert err == (
        "error: stacks/other.yml is a file name where a stack name goes: give the file with --config stacks/other.yml\n"
    )
    code, _, _ = main(capsys, "plan", "--config", "Pulumi.alpha.yaml")
    assert code == exits.OK


def test_a_stack_with_no_file_lists_the_stacks_there(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    code, out, err = main(capsys, "plan", "prod")
    assert (code, out) == (exits.UNREADABLE, "")
    assert err == (
        f"error: no stack file {project / 'Pulumi.prod.yaml'} for stack prod; the stacks there are alpha, beta "
        "(a stack file elsewhere: --config FILE)\n"
    )
    for stack in project.glob("Pulumi.*.yaml"):
        stack.unlink()
    code, _, err = main(capsys, "plan")
    assert err == (
        f"error: no stack file {project / 'Pulumi.dev.yaml'} for stack dev; there are no stack files there "
        "(a stack file elsewhere: --config FILE)\n"
    )


@pytest.mark.parametrize(("shares", "participants"), SIZES, ids=["100 invitations", "1000 invitations"])
def test_the_policy_checks_comment_fits_too(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, shares: int, participants: int
) -> None:
    """Every invitation beyond the allow lists is a violation: 1,000 of them make a check
    far longer than a comment. The mandatory ones come first, the comment is cut at a row,
    and the text stays whole."""
    large = write(tmp_path / "Pulumi.large.yaml", consortium(shares, participants))
    code, markdown, _ = main(capsys, "check", "--config", str(large), "-o", "markdown")
    code_text, text, _ = main(capsys, "check", "--config", str(large))
    assert code == code_text == exits.POLICY
    assert len(markdown) <= GITHUB_LIMIT
    assert markdown.startswith("**Policy check of `large`** (federation-consortium): ")
    rows = [line for line in markdown.splitlines() if line.startswith("| mandatory |")]
    assert rows
    assert markdown.count("<details>") == markdown.count("</details>")
    violations = text.count("\n mandatory ")
    if len(text) > GITHUB_LIMIT:
        last = markdown.rstrip("\n").rsplit("\n", 1)[1]
        assert last.startswith(f"**Cut to fit a comment** (GitHub takes at most {GITHUB_LIMIT:,} characters). ")
        assert f"{violations - len(rows):,} of {violations:,} mandatory violations" in last
        assert f"federation check --config {large} -o text` prints the whole check, never cut" in last
    else:
        assert len(rows) == violations
        assert "Cut to fit" not in markdown
