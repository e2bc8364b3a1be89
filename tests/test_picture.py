"""The picture of a stack's data flows: which boxes and arrows a config draws, and what a
diff marks; checked on the parsed Mermaid, not its spelling."""

import copy
import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from federation import cli, config
from federation.config import stackfile
from federation.review import diff, picture
from tests.support import OBJECT, PROJECT, base, received_from, run_ok

_NODE = re.compile(r'\s*(\w+)(\[\(|\[\[|\(\[)"(.*)"(\)\]|\]\]|\]\))')
_EDGE = re.compile(r'\s*(\w+) (-->|-\.->)(?:\|"(.*)"\|)? (\w+)')
_SHAPES = {"[(": "storage", "[[": "share or subscription", "([": "party"}


@dataclass
class Chart:
    """A Mermaid flowchart read back: boxes by their first label line."""

    shapes: dict[str, str] = field(default_factory=dict)
    labels: dict[str, list[str]] = field(default_factory=dict)
    edges: dict[tuple[str, str], str] = field(default_factory=dict)
    dashed: set[tuple[str, str]] = field(default_factory=set)
    classes: dict[str, set[str]] = field(default_factory=dict)  # status -> box titles and edges


def unescape(label: str) -> str:
    """A label as Mermaid shows it: `#name;` and `#number;` are entities."""
    return re.sub(r"#(\w+);", lambda m: html.unescape(f"&#{m[1]};" if m[1].isdigit() else f"&{m[1]};"), label)


def parse(text: str) -> Chart:
    chart, titles, order, strokes = Chart(), {}, [], {}
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    for line in lines[1:]:
        if node := _NODE.fullmatch(line):
            ident, shape, label = node[1], node[2], [unescape(line) for line in node[3].split("<br>")]
            titles[ident] = label[0]
            chart.shapes[label[0]], chart.labels[label[0]] = _SHAPES[shape], label
        elif edge := _EDGE.fullmatch(line):
            key = (titles[edge[1]], titles[edge[4]])
            chart.edges[key] = "\n".join(unescape(line) for line in (edge[3] or "").split("<br>"))
            order.append(key)
            if edge[2] == "-.->":
                chart.dashed.add(key)
        elif line.strip().startswith("class "):
            _, idents, status = line.split()
            chart.classes.setdefault(status, set()).update(titles[i] for i in idents.split(","))
        elif style := re.fullmatch(r"\s*classDef (\w+) .*stroke:(#\w+).*", line):
            strokes[style[2]] = style[1]
        elif style := re.fullmatch(r"\s*linkStyle ([\d,]+) stroke:(#\w+).*", line):
            status = strokes[style[2]]  # arrows take the colour of their status's boxes
            chart.classes.setdefault(status, set()).update(str(order[int(i)]) for i in style[1].split(","))
        else:
            assert re.fullmatch(r'\s*(subgraph \w+\[".*"\]|end)', line), line
    return chart


def model(stack: dict[str, Any]) -> config.Config:
    return config.parse(stackfile.config_values(stack), "test")


def drawn(stack: dict[str, Any]) -> Chart:
    return parse(picture.mermaid(picture.of(model(stack)), "test"))


def test_shares_flow_from_storage_to_each_invited_participant() -> None:
    stack = base()
    stack["federation:shares"]["only_b"] = {
        "datasets": {"stats": {"storage": "lake", "container": "agg", "folder": "s"}},
        "participants": ["hospital-a"],
    }
    chart = drawn(stack)
    assert set(chart.edges) == {
        ("storage models", "share global_model"),
        ("share global_model", "hospital-a"),
        ("share global_model", "hospital-b"),
        ("storage lake", "share only_b"),
        ("share only_b", "hospital-a"),
    }
    assert chart.edges["storage models", "share global_model"].splitlines() == [
        "checkpoints: global-model",
        "holdout: eval/holdout/v3",
        "labels: eval/holdout/labels.csv",
    ]
    assert chart.edges["share global_model", "hospital-b"] == "invitation until 2027-03-31T00:00:00Z"
    assert chart.edges["share only_b", "hospital-a"] == "invitation"
    assert chart.labels["share global_model"][1] == "every day from 2026-12-01T02:00:00Z"
    assert chart.labels["share only_b"][1] == "on demand"
    assert chart.labels["hospital-a"][1] == "mlops@hospital-a.example"
    assert chart.shapes["storage lake"] == "storage"
    assert chart.shapes["hospital-b"] == "party"


def test_received_shares_flow_from_the_sender_through_the_subscription_to_storage() -> None:
    stack = base()
    stack["federation:subscriptions"] = {
        "updates": received_from("silo-a", "model_updates", "coordinator", {"update": "eval"}),
        "direct": {
            "invitationId": OBJECT,
            "sourceLocation": "northeurope",
            "datasets": {OBJECT: {"storage": "lake", "container": "inbox", "file": "a.csv"}},
        },
    }
    chart = drawn(stack)
    received = {e for e in chart.edges if "subscription" in e[0] + e[1]}
    assert received == {
        ("stack silo-a", "subscription updates"),
        ("subscription updates", "storage models"),
        ("sender in northeurope", "subscription direct"),
        ("subscription direct", "storage lake"),
    }
    assert chart.edges["stack silo-a", "subscription updates"] == "share model_updates, for coordinator"
    assert chart.edges["subscription direct", "storage lake"] == "8e4a6f20…: inbox/a.csv"


def test_keys_that_differ_only_in_punctuation_are_distinct_boxes() -> None:
    stack = base()
    stack["federation:participants"]["hospital_a"] = {"email": "x@hospital-a.example"}
    flows = picture.of(model(stack))
    assert len(parse(picture.mermaid(flows, "test")).edges) == len(flows.arrows) == 4


def test_labels_render_markup_and_entity_codes_as_written() -> None:
    stack = base()
    folder = 'a"b<br>#quot;|x&y>z'
    stack["federation:shares"]["global_model"]["datasets"] = {
        "odd": {"storage": "models", "container": "global-model", "folder": folder}
    }
    text = picture.mermaid(picture.of(model(stack)), "test")
    chart = parse(text)
    assert chart.edges["storage models", "share global_model"] == f"odd: global-model/{folder}"
    line = next(line for line in text.splitlines() if "-->" in line and "odd" in line)
    assert (line.count('"'), line.count("|")) == (2, 2)  # the label's own quotes and bars only


def test_the_committed_stacks_render_every_arrow_of_their_picture() -> None:
    for name in ("dev", "silo-a"):
        stack_file = stackfile.read_stack_file(PROJECT / f"Pulumi.{name}.yaml")
        flows = picture.of(config.parse(stack_file.config, name))
        chart = parse(picture.mermaid(flows, name))
        titles = {b.id: b.label.split("\n")[0] for b in flows.boxes.values()}
        assert set(chart.edges) == {(titles[s], titles[t]) for s, t in flows.edges()}


def marked(base_stack: dict[str, Any], head_stack: dict[str, Any]) -> Chart:
    change = diff.compare(run_ok(base_stack), run_ok(head_stack))
    flows = picture.compare(picture.of(model(base_stack)), picture.of(model(head_stack)), change)
    return parse(picture.mermaid(flows, "test"))


def test_diff_marks_an_added_participant_and_its_invitation() -> None:
    head = base()
    head["federation:participants"]["lab-c"] = {"email": "ops@lab-c.example"}
    chart = marked(base(), head)
    assert chart.classes == {"added": {"lab-c", str(("share global_model", "lab-c"))}}


def test_diff_keeps_a_removed_share_dashed_and_marked() -> None:
    head = base()
    head["federation:shares"]["next"] = head["federation:shares"].pop("global_model")
    chart = marked(base(), head)
    assert chart.classes["removed"] == {
        "share global_model",
        *(str(e) for e in chart.edges if "share global_model" in e),
    }
    assert {e for e in chart.edges if "share global_model" in e} == chart.dashed
    assert "share next" in chart.classes["added"]


def test_diff_marks_replaced_and_changed_boxes() -> None:
    head = base()
    head["federation:storage"]["models"]["hns"] = True  # fixed at creation: the account is replaced
    head["federation:participants"]["hospital-b"]["expires"] = "2027-04-30T00:00:00Z"
    chart = marked(base(), head)
    # The share's datasets change kind with the storage and are replaced, but the share
    # and its invitations stay: it is changed, not replaced.
    assert chart.classes == {
        "replaced": {"storage models", str(("share global_model", "hospital-b"))},
        "changed": {"share global_model"},
    }
    head = base()
    del head["federation:shares"]["global_model"]["datasets"]["labels"]
    assert marked(base(), head).classes == {"changed": {"share global_model"}}


def test_diff_marks_a_subscription_replaced_only_when_it_is() -> None:
    stack = base()
    stack["federation:subscriptions"] = {
        "direct": {
            "invitationId": OBJECT,
            "sourceLocation": "northeurope",
            "datasets": {OBJECT: {"storage": "models", "container": "eval", "folder": "in"}},
        }
    }
    head = copy.deepcopy(stack)
    head["federation:subscriptions"]["direct"]["datasets"][OBJECT]["folder"] = "elsewhere"
    change = diff.compare(run_ok(stack), run_ok(head))
    assert [c.type for c in change.replace] == ["azure-native:datashare:BlobFolderDataSetMapping"]
    assert marked(stack, head).classes == {"changed": {"subscription direct"}}
    head = copy.deepcopy(stack)
    head["federation:subscriptions"]["direct"]["sourceLocation"] = "westeurope"
    assert marked(stack, head).classes["replaced"] == {"subscription direct"}


def test_diff_markdown_embeds_the_marked_picture(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    head = base()
    head["federation:participants"]["lab-c"] = {"email": "ops@lab-c.example"}
    base_file, head_file = tmp_path / "Pulumi.test.yaml", tmp_path / "Pulumi.head.yaml"
    base_file.write_text(yaml.safe_dump({"config": base()}))
    head_file.write_text(yaml.safe_dump({"config": head}))
    assert cli.main(["diff", str(base_file), str(head_file), "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    block = out.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert parse(block).classes["added"] == {"lab-c", str(("share global_model", "lab-c"))}
    assert cli.main(["plan", "--config", str(head_file), "--format", "mermaid"]) == 0
    assert ("share global_model", "lab-c") in parse(capsys.readouterr().out).edges


def test_readme_shows_the_current_pictures_of_the_example_stacks() -> None:
    readme = (PROJECT / "README.md").read_text()
    for name in ("dev", "silo-a"):
        stack_file = stackfile.read_stack_file(PROJECT / f"Pulumi.{name}.yaml")
        drawn = picture.mermaid(picture.of(config.parse(stack_file.config, name)), name)
        assert picture.fenced(drawn) in readme, f"paste `python -m federation plan {name} --format mermaid`"
