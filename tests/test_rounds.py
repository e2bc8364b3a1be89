"""A training round through `federation.cli.main`, on Azurite's Blob API and the fake
Resource Manager: publish, sync --verify and verify end to end, and each way a received
round can be incomplete, wrong, or out of reach."""

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import ContainerClient

from federation import exits
from federation.operate import blobs, manifest
from tests.clock import CLOCK
from tests.exchange import Exchange, azurite, ca, ca_file, exchange, outside
from tests.fake_arm import Fault

__all__ = ["azurite", "ca", "ca_file", "exchange", "outside"]

# Three blocks of weights (one short), small files, a folder, and an empty file.
MODEL = {
    "weights.bin": bytes(range(256)) * (10 * 1024 * 1024 // 256 + 3),
    "config.json": b'{"layers": 3}',
    "tokenizer/vocab.txt": b"a\nb\nc\n",
    "empty.bin": b"",
}


def directory(root: Path, files: dict[str, bytes] = MODEL) -> Path:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def publish(exchange: Exchange, tmp_path: Path, round_name: str, files: dict[str, bytes] = MODEL) -> dict[str, Any]:
    source = directory(tmp_path / round_name, files)
    code, out, err = exchange.coordinator.cli(
        "publish", "global_model", round_name, "--from", str(source), "-o", "json"
    )
    assert (code, err) == (0, ""), err
    return dict(json.loads(out))


def received(exchange: Exchange) -> ContainerClient:
    return exchange.participant.container("incoming-model")


def sent(exchange: Exchange) -> ContainerClient:
    return exchange.coordinator.container("global-model")


def sync(exchange: Exchange, *words: str) -> tuple[int, dict[str, Any]]:
    """The participant's one command: a snapshot, then verify."""
    code, out, _ = exchange.participant.cli("sync", "global_model", "--verify", *words, "-o", "json")
    return code, dict(json.loads(out))


def verify(exchange: Exchange, *words: str) -> tuple[int, dict[str, Any]]:
    code, out, _ = exchange.participant.cli("verify", "global_model", *words, "-o", "json")
    return code, dict(json.loads(out))


def write(container: ContainerClient, name: str, data: bytes) -> None:
    container.get_blob_client(name).upload_blob(data, overwrite=True)


def statement(files: list[dict[str, Any]], sizes: dict[str, Any], round_name: str = "round-1") -> bytes:
    """A manifest written by hand, for what `publish` never writes."""
    return json.dumps(
        {
            "_type": manifest.STATEMENT_TYPE,
            "subject": files,
            "predicateType": manifest.PREDICATE_TYPE,
            "predicate": {
                "share": "global_model",
                "round": round_name,
                "publishedAt": "2026-12-05T12:00:00Z",
                "files": sizes,
                "previous": None,
            },
        }
    ).encode()


# End to end.


def test_a_round_is_published_received_and_verified(exchange: Exchange, tmp_path: Path) -> None:
    first = publish(exchange, tmp_path, "round-1")
    assert first["files"] == 4
    assert first["bytes"] == sum(len(d) for d in MODEL.values())
    assert (first["container"], first["prefix"], first["dataset"]) == ("global-model", "round-1/", "checkpoints")
    stored = sent(exchange).get_blob_client("round-1/manifest.json").download_blob().readall()
    assert first["manifest"] == {"path": "round-1/manifest.json", "sha256": hashlib.sha256(stored).hexdigest()}

    # An in-toto Statement: each file's digest, and the round's facts in the predicate.
    document = json.loads(stored)
    assert document["_type"] == "https://in-toto.io/Statement/v1"
    assert document["predicateType"] == manifest.PREDICATE_TYPE
    assert {s["name"]: s["digest"]["sha256"] for s in document["subject"]} == {
        name: hashlib.sha256(data).hexdigest() for name, data in MODEL.items()
    }
    assert document["predicate"] == {
        "share": "global_model",
        "round": "round-1",
        "publishedAt": CLOCK.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "files": {name: {"size": len(data)} for name, data in sorted(MODEL.items())},
        "previous": None,
    }
    for name, data in MODEL.items():
        assert sent(exchange).get_blob_client(f"round-1/{name}").download_blob().readall() == data

    code, result = sync(exchange, "round-1")
    assert code == exits.OK, result
    assert result["status"] == "Succeeded"
    assert result["verify"]["status"] == "verified"
    assert result["verify"]["manifestSha256"] == first["manifest"]["sha256"]
    assert result["verify"]["location"] == {"account": "stflsilo", "container": "incoming-model", "prefix": "round-1/"}

    # The next round chains to the first: `previous` is the digest of round-1's manifest.
    second = publish(exchange, tmp_path, "round-2", {"weights.bin": b"newer"})
    assert second["previous"] == first["manifest"]["sha256"]
    code, snapshot = sync(exchange)
    assert code == exits.OK, snapshot
    code, result = verify(exchange)
    assert code == exits.OK
    assert (result["round"], result["status"], result["previousRound"]) == ("round-2", "verified", "round-1")
    assert result["snapshot"] == {"id": snapshot["synchronizationId"], "status": "Succeeded", "running": False}
    assert result["problems"] == []
    # Round 1 still verifies; an incremental snapshot deletes nothing.
    assert verify(exchange, "round-1")[0] == exits.OK


def test_publish_reads_the_blob_endpoint_from_resource_manager_and_signs_in_to_storage(
    exchange: Exchange, tmp_path: Path
) -> None:
    publish(exchange, tmp_path, "round-1")
    looked = exchange.coordinator.arm.sent("GET", "/providers/Microsoft.Storage/storageAccounts/stflcoord$")
    assert len(looked) == 1
    assert looked[0].query["api-version"] == blobs.STORAGE_API
    assert looked[0].authorization == "Bearer fake-token"
    assert ("https://storage.azure.com/.default",) in exchange.coordinator.credential.scopes


def test_the_updates_go_back_through_a_folder_dataset(exchange: Exchange, tmp_path: Path) -> None:
    update = directory(tmp_path / "update", {"delta.npz": b"delta"})
    code, out, err = exchange.participant.cli("publish", "model_updates", "round-1", "--from", str(update))
    assert (code, err) == (0, ""), err
    assert "stflsilo/updates/round/round-1/" in out
    assert exchange.participant.container("updates").get_blob_client("round/round-1/delta.npz").exists()
    code, out, _ = exchange.coordinator.cli("sync", "updates_hospital_a", "--verify", "round-1")
    assert code == exits.OK, out
    assert "stflcoord/updates/hospital-a/round-1/: verified" in out


# What is not there yet: worth trying again.


def test_nothing_published_is_incomplete(exchange: Exchange) -> None:
    code, result = verify(exchange)
    assert code == exits.INCOMPLETE
    assert result["status"] == "incomplete"
    assert result["round"] is None
    assert result["problems"] == ["no round with a manifest in stflsilo/incoming-model/ yet"]


def test_a_round_that_has_not_arrived_is_incomplete(exchange: Exchange, tmp_path: Path) -> None:
    publish(exchange, tmp_path, "round-1")
    assert sync(exchange, "round-1")[0] == exits.OK
    code, result = verify(exchange, "round-2")
    assert code == exits.INCOMPLETE
    assert result["problems"] == ["round-2 has not arrived in stflsilo/incoming-model/"]


def test_a_snapshot_stopped_mid_copy_is_incomplete_until_it_ends(exchange: Exchange, tmp_path: Path) -> None:
    publish(exchange, tmp_path, "round-1")
    exchange.storage.halt_after = 1  # the manifest, then the first file in flight
    code, out, _ = exchange.participant.cli("sync", "global_model")
    assert code == exits.OK, out
    assert exchange.storage.halted.wait(30)
    code, result = verify(exchange, "round-1")
    assert code == exits.INCOMPLETE, result
    assert result["snapshot"]["running"] is True
    assert result["snapshot"]["status"] == "InProgress"
    # The manifest arrived before the files it names; the one being copied shows 0 bytes.
    assert 'short: "config.json" (0 of 13 bytes)' in result["problems"]
    assert 'missing: "weights.bin"' in result["problems"]
    code, out, _ = exchange.participant.cli("verify", "global_model", "round-1")
    assert "incomplete (a snapshot is running; worth trying again after the next snapshot)" in out

    exchange.storage.resume()
    for _ in range(100):
        code, result = verify(exchange, "round-1")
        if not result["snapshot"]["running"]:
            break
        exchange.storage.copies[result["snapshot"]["id"]].done.wait(1)
    assert (code, result["status"]) == (exits.OK, "verified"), result


def test_a_missing_file_is_incomplete(exchange: Exchange, tmp_path: Path) -> None:
    publish(exchange, tmp_path, "round-1")
    assert sync(exchange, "round-1")[0] == exits.OK
    received(exchange).delete_blob("round-1/tokenizer/vocab.txt")
    code, result = verify(exchange, "round-1")
    assert code == exits.INCOMPLETE
    assert result["problems"] == ['missing: "tokenizer/vocab.txt"']


def test_a_round_without_its_manifest_is_incomplete(exchange: Exchange, tmp_path: Path) -> None:
    publish(exchange, tmp_path, "round-1")
    assert sync(exchange, "round-1")[0] == exits.OK
    received(exchange).delete_blob("round-1/manifest.json")
    code, result = verify(exchange, "round-1")
    assert code == exits.INCOMPLETE
    assert result["problems"] == ["round-1 has no manifest yet"]


# What is wrong: never worth trying again.


def test_a_tampered_file_is_a_mismatch(exchange: Exchange, tmp_path: Path) -> None:
    publish(exchange, tmp_path, "round-1")
    assert sync(exchange, "round-1")[0] == exits.OK
    weights = MODEL["weights.bin"]
    write(received(exchange), "round-1/weights.bin", weights[:-1] + b"\x00")  # same size, one byte changed
    code, result = verify(exchange, "round-1")
    assert code == exits.MISMATCH
    assert result["status"] == "mismatch"
    assert result["problems"] == ['sha256 differs from the manifest\'s: "weights.bin"']
    code, out, _ = exchange.participant.cli("verify", "global_model", "round-1")
    assert "mismatch (the latest snapshot Succeeded; not worth trying again: a person must look)" in out


@pytest.mark.parametrize("kept", [100, 0])
def test_a_truncated_or_empty_file_after_the_snapshot_is_a_mismatch(
    exchange: Exchange, tmp_path: Path, kept: int
) -> None:
    publish(exchange, tmp_path, "round-1")
    assert sync(exchange, "round-1")[0] == exits.OK
    write(received(exchange), "round-1/weights.bin", MODEL["weights.bin"][:kept])
    code, result = verify(exchange, "round-1")
    assert code == exits.MISMATCH
    assert result["problems"] == [f'short: "weights.bin" ({kept:,} of {len(MODEL["weights.bin"]):,} bytes)']


def test_an_extra_file_is_a_mismatch(exchange: Exchange, tmp_path: Path) -> None:
    publish(exchange, tmp_path, "round-1")
    assert sync(exchange, "round-1")[0] == exits.OK
    write(received(exchange), "round-1/backdoor.py", b"import os")
    code, result = verify(exchange, "round-1")
    assert code == exits.MISMATCH
    assert result["problems"] == ['not in the manifest: "backdoor.py"']


def test_a_file_added_after_the_manifest_is_a_mismatch(exchange: Exchange, tmp_path: Path) -> None:
    publish(exchange, tmp_path, "round-1")
    write(sent(exchange), "round-1/late.bin", b"added by hand after publish")
    code, result = sync(exchange, "round-1")
    assert code == exits.MISMATCH
    assert result["verify"]["problems"] == ['not in the manifest: "late.bin"']


def test_a_manifest_from_an_older_round_is_a_mismatch(exchange: Exchange, tmp_path: Path) -> None:
    publish(exchange, tmp_path, "round-1")
    publish(exchange, tmp_path, "round-2")  # the same files
    assert sync(exchange)[0] == exits.OK
    old = received(exchange).get_blob_client("round-1/manifest.json").download_blob().readall()
    write(received(exchange), "round-2/manifest.json", old)  # a replay of round 1 as round 2
    code, result = verify(exchange, "round-2")
    assert code == exits.MISMATCH
    assert "the manifest is round-1's, an older round, found under round-2" in result["problems"]


def test_a_broken_chain_is_a_mismatch(exchange: Exchange, tmp_path: Path) -> None:
    publish(exchange, tmp_path, "round-1")
    publish(exchange, tmp_path, "round-2", {"weights.bin": b"2"})
    assert sync(exchange)[0] == exits.OK
    # Round 1's manifest rewritten at the receiver: round 2 no longer follows from it.
    changed = received(exchange).get_blob_client("round-1/manifest.json").download_blob().readall() + b"\n"
    write(received(exchange), "round-1/manifest.json", changed)
    code, result = verify(exchange, "round-2")
    assert code == exits.MISMATCH
    assert len(result["problems"]) == 1
    assert result["problems"][0].startswith("broken chain: the manifest's previous is ")


def test_a_round_that_names_no_previous_one_where_one_is_here_is_a_mismatch(exchange: Exchange, tmp_path: Path) -> None:
    publish(exchange, tmp_path, "round-1")
    assert sync(exchange, "round-1")[0] == exits.OK
    sent(exchange).delete_blob("round-1/manifest.json")  # the sender lost round 1's manifest
    publish(exchange, tmp_path, "round-2")
    code, result = sync(exchange, "round-2")
    assert code == exits.MISMATCH
    assert result["verify"]["problems"] == [
        "broken chain: the manifest names no previous round, but round-1's manifest is here"
    ]


@pytest.mark.parametrize(
    ("subjects", "sizes", "said"),
    [
        ([], {}, "the manifest subject is not a list of files, or is empty: a round has at least one file"),
        (
            [{"name": "a.bin", "digest": {"sha256": "0" * 64}}, {"name": "a.bin", "digest": {"sha256": "1" * 64}}],
            {"a.bin": {"size": 1}},
            'the manifest subject "a.bin" is named twice',
        ),
        (
            [{"name": "../../escape.sh", "digest": {"sha256": "0" * 64}}],
            {"../../escape.sh": {"size": 1}},
            'the manifest subject "../../escape.sh" holds a .. segment, which leaves the round\'s folder',
        ),
        (
            [{"name": "/etc/passwd", "digest": {"sha256": "0" * 64}}],
            {"/etc/passwd": {"size": 1}},
            'the manifest subject "/etc/passwd" starts with /',
        ),
        (
            [{"name": "a\u001b[2Jb", "digest": {"sha256": "0" * 64}}],
            {"a\u001b[2Jb": {"size": 1}},
            'the manifest subject "a\\u001b[2Jb" holds a control or invisible character',
        ),
    ],
)
def test_a_manifest_that_breaks_the_rules_is_a_mismatch(
    exchange: Exchange, tmp_path: Path, subjects: list[Any], sizes: dict[str, Any], said: str
) -> None:
    publish(exchange, tmp_path, "round-1")
    assert sync(exchange, "round-1")[0] == exits.OK
    write(received(exchange), "round-1/manifest.json", statement(subjects, sizes))
    code, result = verify(exchange, "round-1")
    assert code == exits.MISMATCH
    assert said in result["problems"]


def test_a_manifest_that_is_not_json_or_too_large_is_a_mismatch(exchange: Exchange, tmp_path: Path) -> None:
    publish(exchange, tmp_path, "round-1")
    assert sync(exchange, "round-1")[0] == exits.OK
    write(received(exchange), "round-1/manifest.json", b"\xff\xfe not json")
    code, result = verify(exchange, "round-1")
    assert code == exits.MISMATCH
    assert result["problems"] == ["the manifest is not UTF-8 text"]
    write(received(exchange), "round-1/manifest.json", b"{" * 10)
    assert verify(exchange, "round-1")[1]["problems"][0].startswith("the manifest is not JSON (")
    write(received(exchange), "round-1/manifest.json", b" " * (manifest.MAX_BYTES + 1))
    code, result = verify(exchange, "round-1")
    assert code == exits.MISMATCH
    assert result["problems"] == ["the manifest is more than 16,777,216 bytes: refused unread"]


# publish refuses.


def test_a_round_is_published_once(exchange: Exchange, tmp_path: Path) -> None:
    publish(exchange, tmp_path, "round-1")
    again = directory(tmp_path / "again", {"other.bin": b"other"})
    for name in ("round-1", "round-001"):
        code, out, err = exchange.coordinator.cli("publish", "global_model", name, "--from", str(again))
        assert (code, out) == (exits.PROBLEMS, "")
        assert err == (
            "error: round-1 is in stflcoord/global-model/ already: a round is published once; publish the next one\n"
        )
    assert not sent(exchange).get_blob_client("round-1/other.bin").exists()


def test_a_round_older_than_one_there_is_refused(exchange: Exchange, tmp_path: Path) -> None:
    publish(exchange, tmp_path, "round-3")
    code, _, err = exchange.coordinator.cli("publish", "global_model", "round-2", "--from", str(tmp_path / "round-3"))
    assert code == exits.PROBLEMS
    assert err == (
        "error: round-3 is in stflcoord/global-model/, newer than round-2: rounds only go forward; publish round-4\n"
    )


def test_a_round_begun_without_its_manifest_is_a_round_there(exchange: Exchange, tmp_path: Path) -> None:
    write(sent(exchange), "round-1/weights.bin", b"partly published")
    code, _, err = exchange.coordinator.cli("publish", "global_model", "round-1", "--from", str(directory(tmp_path)))
    assert code == exits.PROBLEMS
    assert "round-1 is in stflcoord/global-model/ already" in err


def test_publish_refuses_files_it_cannot_name_all_at_once(exchange: Exchange, tmp_path: Path) -> None:
    source = directory(tmp_path / "model", {"ok.bin": b"1", "bad\nname.bin": b"2", "manifest.json": b"{}"})
    (source / "link.bin").symlink_to(source / "ok.bin")
    code, out, err = exchange.coordinator.cli("publish", "global_model", "round-1", "--from", str(source))
    assert (code, out) == (exits.UNREADABLE, "")
    assert err.splitlines() == [
        f"error: --from {source}: 3 files cannot be published:",
        '  "bad\\nname.bin" holds a control or invisible character',
        '  "link.bin" is a symbolic link: publish the file itself',
        '  "manifest.json" is the manifest\'s own name',
    ]
    assert list(sent(exchange).list_blobs()) == []


def test_a_file_that_changes_while_published_leaves_no_manifest(
    exchange: Exchange, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = directory(tmp_path / "model")
    walk = blobs.walk
    changing = ["weights.bin"]

    def changed(directory: Path) -> tuple[list[blobs.Local], list[str]]:
        files, problems = walk(directory)
        (directory / changing[0]).write_bytes(MODEL[changing[0]] + b"more")  # after it was listed
        return files, problems

    monkeypatch.setattr(blobs, "walk", changed)
    # The large file first: nothing is written yet, so the round is still free.
    code, _, err = exchange.coordinator.cli("publish", "global_model", "round-1", "--from", str(source))
    assert code == exits.UNREADABLE
    assert err == f"error: {source / 'weights.bin'}: changed while it was read; publish it again under a new round\n"
    assert list(sent(exchange).list_blobs()) == []
    # A small file after the large one is up: the round is left without its manifest.
    directory(source)
    changing[0] = "config.json"
    code, _, err = exchange.coordinator.cli("publish", "global_model", "round-1", "--from", str(source))
    assert code == exits.UNREADABLE
    assert err == (
        f"error: {source / 'config.json'}: changed while it was read; publish it again under a new round; "
        "round-1 may be left without its manifest, which no receiver verifies: publish round-2\n"
    )
    assert sent(exchange).get_blob_client("round-1/weights.bin").exists()
    assert not sent(exchange).get_blob_client("round-1/manifest.json").exists()


@pytest.mark.parametrize("name", ["round-x", "round--1", "1", "../round-1", "round-1/", "Round-1"])
def test_a_round_is_named_round_n(exchange: Exchange, tmp_path: Path, name: str) -> None:
    code, _, err = exchange.coordinator.cli("publish", "global_model", name, "--from", str(tmp_path))
    assert code == exits.INVALID_CONFIG
    assert "is not a round: name rounds round-N (N a number, such as round-42), ordered by N" in err
    assert exchange.participant.cli("verify", "global_model", name)[0] == exits.INVALID_CONFIG


def test_the_dataset_is_named_where_a_share_has_several(exchange: Exchange, tmp_path: Path) -> None:
    party = exchange.coordinator
    datasets = party.config["federation:shares"]["global_model"]["datasets"]
    datasets["archive"] = {"storage": "models", "container": "global-model", "folder": "archive"}
    datasets["card"] = {"storage": "models", "container": "global-model", "file": "card.md"}
    party.stack.write_text(json.dumps({"config": party.config}))
    source = str(directory(tmp_path / "model", {"a.bin": b"a"}))
    code, _, err = party.cli("publish", "global_model", "round-1", "--from", source)
    assert code == exits.INVALID_CONFIG
    assert err == (
        "error: share global_model has 2 container or folder datasets: name one with --dataset (archive, checkpoints)\n"
    )
    code, _, err = party.cli("publish", "global_model", "round-1", "--from", source, "--dataset", "card")
    assert code == exits.INVALID_CONFIG
    assert "--dataset card: one file (global-model/card.md), which holds no rounds" in err
    code, out, _ = party.cli("publish", "global_model", "round-1", "--from", source, "--dataset", "archive")
    assert code == exits.OK
    assert "stflcoord/global-model/archive/round-1/" in out
    assert sent(exchange).get_blob_client("archive/round-1/a.bin").exists()


# Refused access.


def test_storage_refusing_the_receiver_is_no_access(exchange: Exchange, tmp_path: Path) -> None:
    publish(exchange, tmp_path, "round-1")
    assert sync(exchange, "round-1")[0] == exits.OK
    # A token for the sender's account only: the receiver's storage answers 403.
    exchange.participant.credential.storage_audience = "https://stflcoord.blob.core.windows.net"
    code, out, err = exchange.participant.cli("verify", "global_model", "round-1")
    assert (code, out) == (exits.NO_ACCESS, "")
    assert err == (
        "error: storage account stflsilo, container incoming-model refused to list (403 AuthenticationFailed): "
        "the signed-in identity needs Storage Blob Data Reader on it\n"
    )
    code, result = verify(exchange, "round-1")
    assert code == exits.NO_ACCESS
    assert (result["status"], result["round"]) == ("no-access", "round-1")
    assert result["problems"] == [err.removeprefix("error: ").rstrip("\n")]


def test_storage_refusing_the_sender_is_no_access(exchange: Exchange, tmp_path: Path) -> None:
    exchange.coordinator.credential.storage_audience = "https://stflsilo.blob.core.windows.net"
    source = str(directory(tmp_path / "model"))
    code, out, err = exchange.coordinator.cli("publish", "global_model", "round-1", "--from", source)
    assert (code, out) == (exits.NO_ACCESS, "")
    assert err == (
        "error: storage account stflcoord, container global-model refused to list (403 AuthenticationFailed): "
        "the signed-in identity needs Storage Blob Data Contributor on it\n"
    )


def test_resource_manager_refusing_the_storage_account_is_no_access(exchange: Exchange, tmp_path: Path) -> None:
    exchange.participant.arm.faults.append(Fault("GET", "/storageAccounts/stflsilo$", status=403))
    code, _, err = exchange.participant.cli("verify", "global_model")
    assert code == exits.NO_ACCESS
    assert err == (
        "error: Resource Manager refused to read storage account stflsilo (403): the signed-in identity needs "
        "Reader on it to find its blob endpoint\n"
    )


def test_data_share_refusing_the_snapshots_is_no_access(exchange: Exchange) -> None:
    exchange.participant.arm.faults.append(Fault("POST", "/listSynchronizations$", status=403))
    code, _, err = exchange.participant.cli("verify", "global_model")
    assert code == exits.NO_ACCESS
    assert err.startswith("error: permission denied")
    assert "Contributor role on Data Share account dsa-fl-silo" in err
