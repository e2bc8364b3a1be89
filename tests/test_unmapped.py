"""A dataset the sender adds to a share after the receiver mapped it is never copied, and
Azure says nothing: `access --check` compares the sender's datasets (consumerSourceDataSets)
with the stack's mappings and names the key to add. Through `federation.cli.main`, over
HTTPS against the fake Resource Manager."""

import json
import re
from pathlib import Path
from typing import Any

import yaml

from federation.operate import access
from tests.fake_arm import FakeArm, Received
from tests.operate_support import UPDATES, Cli, arm, ca, ca_file, federation, outside, stack, stack_config
from tests.support import received_from

__all__ = ["arm", "ca", "ca_file", "federation", "outside", "stack"]

# The dataset stack_config's subscription maps, by the sender's dataSetId.
MAPPED = "5a1f7e92-3c4d-4b6a-8e0f-9d2c1b7a6e35"
LABELS = "7c2d9e41-0b8a-4f3c-a5d6-1e9f2b3c4d5e"
KEY = f"federation:subscriptions.{UPDATES}.datasets"
SUGGESTED = "(a suggested place: change it to where it should land), then pulumi up"


def sending(arm: FakeArm) -> None:
    """Both shares found, the received one active and holding the mapped dataset."""
    arm.share("global_model")
    arm.share("training_plan")
    arm.received[UPDATES] = Received()
    arm.offer(UPDATES, "update", "BlobFolder", "round", data_set_id=MAPPED)


def problems(federation: Cli) -> tuple[int, list[str]]:
    code, out, err = federation("access", "--check", "-o", "json")
    assert err == ""
    return code, json.loads(out)["problems"]


def test_an_unmapped_dataset_is_named_with_the_key_to_add(arm: FakeArm, federation: Cli) -> None:
    sending(arm)
    arm.offer(UPDATES, "labels", "BlobFolder", "round/labels", data_set_id=LABELS)
    code, found = problems(federation)
    assert code == 4
    assert found == [
        f"subscription {UPDATES}: the sender's dataset labels (BlobFolder round/labels) is not mapped, so it never "
        f"arrives: add `{KEY}.{LABELS}: {{storage: models, container: eval, folder: labels}}` to {federation.stack} "
        f"{SUGGESTED}"
    ]


def test_the_suggested_entry_added_to_the_stack_file_maps_the_dataset(arm: FakeArm, federation: Cli) -> None:
    sending(arm)
    arm.offer(UPDATES, "labels", "Blob", "holdout/labels.csv", data_set_id=LABELS)
    arm.offer(UPDATES, "checkpoints", "Container", "global-model")
    _, found = problems(federation)
    assert len(found) == 2
    config = yaml.safe_load(federation.stack.read_text())
    for problem in found:
        # The YAML between the backticks, as the receiver pastes it under the subscription's datasets.
        snippet = re.search(r"`([^`]*)`", problem)
        assert snippet is not None
        path, _, entry = snippet[1].partition(": ")
        dataset = path.removeprefix(f"{KEY}.")
        config["config"]["federation:subscriptions"][UPDATES]["datasets"].update(yaml.safe_load(f"{dataset}: {entry}"))
    added = config["config"]["federation:subscriptions"][UPDATES]["datasets"]
    assert added[LABELS] == {"storage": "models", "container": "eval", "file": "labels.csv"}
    # A whole container lands in a container of its own.
    assert [v for k, v in added.items() if k not in (MAPPED, LABELS)] == [
        {"storage": "models", "container": "checkpoints"}
    ]
    # The storage takes the suggested container: on created storage, each is declared.
    config["config"]["federation:storage"]["models"]["containers"].append("checkpoints")
    federation.stack.write_text(yaml.safe_dump(config))
    assert problems(federation) == (0, [])


def test_all_datasets_mapped_is_no_problem(arm: FakeArm, federation: Cli) -> None:
    sending(arm)
    code, out, _ = federation("access", "--check")
    assert code == 0
    assert out.endswith("No problems.\n")
    assert f"subscription {UPDATES}: the sender's datasets" in out
    assert f"update  BlobFolder  round  {MAPPED}" in out


def test_a_dataset_id_in_another_case_is_mapped(arm: FakeArm, federation: Cli) -> None:
    """Resource Manager's ids are case-insensitive; config keeps its dataset ids lowercased."""
    arm.share("global_model")
    arm.share("training_plan")
    arm.received[UPDATES] = Received()
    arm.offer(UPDATES, "update", "BlobFolder", "round", data_set_id=MAPPED.upper())
    code, out, _ = federation("access", "--check", "-o", "json")
    assert code == 0
    review = json.loads(out)
    assert review["problems"] == []
    assert [d["mapping"] for d in review["subscriptions"][UPDATES]["datasets"]] == [MAPPED]


def test_datasets_on_every_page_are_compared(arm: FakeArm, federation: Cli) -> None:
    sending(arm)
    ids = [arm.offer(UPDATES, f"part{n}", "Blob", f"parts/part{n}.bin") for n in range(1, 5)]
    arm.page_size = 2
    code, found = problems(federation)
    assert code == 4
    # The mapped dataset is on the first page; the last unmapped one on the third.
    assert [p.split(" ")[5] for p in found] == ["part1", "part2", "part3", "part4"]
    assert f"{KEY}.{ids[3]}: {{storage: models, container: eval, file: part4.bin}}" in found[3]
    pages = arm.sent("GET", rf"/shareSubscriptions/{UPDATES}/consumerSourceDataSets$")
    assert [r.query.get("$skipToken") for r in pages] == [None, "2", "4"]


def from_stack(path: Path) -> None:
    """The stack's received share read from a sender stack by `from`: mappings keyed by the
    sender's dataset names."""
    config = stack_config()
    config["federation:subscriptions"] = {
        UPDATES: received_from("org/federation/silo-a", "model_updates", "coordinator", {"update": "eval"})
    }
    path.write_text(yaml.safe_dump({"config": config}))


def test_with_from_the_key_to_add_is_the_senders_dataset_name(arm: FakeArm, federation: Cli) -> None:
    from_stack(federation.stack)
    arm.share("global_model")
    arm.share("training_plan")
    arm.received[UPDATES] = Received()
    arm.offer(UPDATES, "Update", "Container", "updates")  # Azure's names are case-insensitive
    arm.offer(UPDATES, "metrics", "AdlsGen2File", "round/metrics.json")
    code, found = problems(federation)
    assert code == 4
    assert found == [
        f"subscription {UPDATES}: the sender's dataset metrics (AdlsGen2File round/metrics.json) is not mapped, so it "
        f"never arrives: add `{KEY}.metrics: {{storage: models, container: eval, file: metrics.json}}` to "
        f"{federation.stack} {SUGGESTED}"
    ]


def test_a_dataset_federation_cannot_map_is_named(arm: FakeArm, federation: Cli) -> None:
    sending(arm)
    arm.offer(UPDATES, "cohort", "SqlDBTable", "dbo.cohort")
    _, found = problems(federation)
    assert found == [
        f"subscription {UPDATES}: the sender's dataset cohort (SqlDBTable dbo.cohort) is not mapped, so it never "
        "arrives; federation maps only blob and ADLS Gen2 datasets: map it in the Azure portal"
    ]


def test_a_revoked_subscriptions_datasets_are_not_asked_to_be_mapped(arm: FakeArm, federation: Cli) -> None:
    sending(arm)
    arm.received[UPDATES].status = "Revoked"
    arm.offer(UPDATES, "labels", "BlobFolder", "round/labels")
    _, out, _ = federation("access", "--check", "-o", "json")
    review = json.loads(out)
    # Listed, but mapping it would bring nothing: no snapshot comes.
    assert [d["mapping"] for d in review["subscriptions"][UPDATES]["datasets"]] == [None, MAPPED]
    assert review["problems"] == [
        f"subscription {UPDATES}: Revoked: no snapshot reaches this stack (the sender revoked or deleted it)"
    ]


def test_json_gives_each_senders_dataset_and_its_mapping(arm: FakeArm, federation: Cli) -> None:
    sending(arm)
    arm.offer(UPDATES, "labels", "BlobFolder", "round/labels", data_set_id=LABELS)
    code, out, _ = federation("access", "-o", "json", "--check")
    assert code == 4
    review: dict[str, Any] = json.loads(out)
    assert review["subscriptions"][UPDATES]["datasets"] == [
        {"id": LABELS, "name": "labels", "type": "BlobFolder", "path": "round/labels", "mapping": None},
        {"id": MAPPED, "name": "update", "type": "BlobFolder", "path": "round", "mapping": MAPPED},
    ]
    assert len(review["problems"]) == 1
    assert f"`{KEY}.{LABELS}: {{storage: models, container: eval, folder: labels}}`" in review["problems"][0]


def test_markdown_escapes_the_key_to_add_and_the_senders_text(arm: FakeArm, federation: Cli) -> None:
    sending(arm)
    # The sender names its datasets: text from another party, shown as typed.
    arm.offer(UPDATES, "[x](https://evil.example)", "Blob", "a/<b>.csv", data_set_id=LABELS)
    code, out, _ = federation("access", "-o", "markdown", "--check")
    assert code == 4
    assert f"#### subscription {UPDATES}: the sender's datasets" in out
    assert "| name | type | path | mapped by |" in out
    shown = access.markdown("[x](https://evil.example)")
    assert f"| {shown} | Blob | a/&lt;b&gt;.csv | NOT MAPPED |" in out
    problem = next(line for line in out.splitlines() if line.startswith("- "))
    assert problem == (
        f"- subscription {UPDATES}: the sender's dataset {shown} (Blob a/&lt;b&gt;.csv) is not mapped, so it never "
        f'arrives: add \\`{KEY}.{LABELS}: {{storage: models, container: eval, file: "&lt;b&gt;.csv"}}\\` to '
        f"{access.markdown(str(federation.stack))} {SUGGESTED}"
    )
    assert "[x](" not in out  # no link
