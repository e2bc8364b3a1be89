"""The round manifest on bytes alone: what publish writes reads back the same, and every
rule a manifest or a file's name can break is refused in one line each."""

import json
from typing import Any

import pytest

from federation.operate import manifest
from federation.operate.manifest import File, Manifest, ManifestError

ROUND = Manifest(
    "global_model",
    "round-2",
    "2026-12-05T12:00:00Z",
    (File("weights.bin", "a" * 64, 10), File("config/model.json", "b" * 64, 0)),
    "c" * 64,
)


def document() -> dict[str, Any]:
    return dict(json.loads(manifest.build(ROUND)))


def problems(value: Any) -> list[str]:
    data = value if isinstance(value, bytes) else json.dumps(value).encode()
    with pytest.raises(ManifestError) as refused:
        manifest.parse(data)
    return refused.value.problems


def test_a_manifest_reads_back_as_it_was_built() -> None:
    data = manifest.build(ROUND)
    assert manifest.parse(data) == Manifest(
        ROUND.share, ROUND.round, ROUND.published_at, tuple(sorted(ROUND.files, key=lambda f: f.name)), ROUND.previous
    )
    # One manifest, one spelling: files sorted by name, whatever order they came in.
    reordered = Manifest(ROUND.share, ROUND.round, ROUND.published_at, ROUND.files[::-1], ROUND.previous)
    assert manifest.build(reordered) == data
    assert [s["name"] for s in json.loads(data)["subject"]] == ["config/model.json", "weights.bin"]
    assert manifest.parse(data).size == 10


def test_the_first_round_names_no_previous_one() -> None:
    first = Manifest("s", "round-1", "2026-12-05T12:00:00Z", (File("a", "0" * 64, 1),), None)
    assert json.loads(manifest.build(first))["predicate"]["previous"] is None
    assert manifest.parse(manifest.build(first)).previous is None


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (lambda d: d.update(_type="https://in-toto.io/Statement/v0.1"), "_type is not https://in-toto.io/Statement/v1"),
        (lambda d: d.update(predicateType="https://slsa.dev/provenance/v1"), "predicateType is not "),
        (lambda d: d.update(subject=[]), "subject is not a list of files, or is empty"),
        (lambda d: d.update(subject={"name": "a"}), "subject is not a list of files, or is empty"),
        (lambda d: d["subject"][0].pop("name"), "subject[0] has no name"),
        (lambda d: d["subject"][0]["digest"].update(sha256="ABC"), 'subject "config/model.json" has no sha256'),
        (lambda d: d["subject"][0].update(digest={"sha512": "0" * 128}), 'subject "config/model.json" has no sha256'),
        (lambda d: d["subject"].append(dict(d["subject"][0])), 'subject "config/model.json" is named twice'),
        (lambda d: d.update(predicate=[]), "predicate is not an object"),
        (lambda d: d["predicate"].update(share=""), "predicate.share is not a share's name"),
        (lambda d: d["predicate"].update(round="2"), "predicate.round is not a round (round-N)"),
        (lambda d: d["predicate"].update(publishedAt="yesterday"), "predicate.publishedAt is not an RFC 3339 time"),
        (lambda d: d["predicate"].update(previous="c" * 63), "predicate.previous is neither null nor a sha256"),
        (lambda d: d["predicate"]["files"].pop("weights.bin"), 'subject "weights.bin" has no size in predicate.files'),
        (lambda d: d["predicate"]["files"].update(x={"size": 1}), 'predicate.files names "x", which no subject names'),
        (
            lambda d: d["predicate"]["files"].update({"weights.bin": {"size": True}}),
            'predicate.files["weights.bin"].size is not a whole',
        ),
        (
            lambda d: d["predicate"]["files"].update({"weights.bin": {"size": -1}}),
            'predicate.files["weights.bin"].size is not a whole',
        ),
        (
            lambda d: d["predicate"]["files"].update({"weights.bin": {"size": 1.5}}),
            'predicate.files["weights.bin"].size is not a whole',
        ),
        (lambda d: d["predicate"].update(files=None), "predicate.files is not an object"),
    ],
)
def test_a_manifest_breaking_a_rule_is_refused_saying_which(change: Any, said: str) -> None:
    changed = document()
    change(changed)
    assert any(p.startswith(said) for p in problems(changed)), problems(changed)


def test_every_problem_is_said_at_once_up_to_a_limit() -> None:
    changed = document()
    changed["subject"] = [{"name": f"../{i}", "digest": {"sha256": "0" * 64}} for i in range(30)]
    changed["predicate"]["files"] = {}
    found = problems(changed)
    assert len(found) == manifest.SHOWN + 1
    assert found[-1] == "and 10 more problems"


@pytest.mark.parametrize(
    ("data", "said", "readable"),
    [
        (b"", "is not JSON (", False),
        (b'{"_type": ', "is not JSON (", False),
        (b"\xff\xfe", "is not UTF-8 text", False),
        (b'{"a": NaN}', "is not JSON (", False),
        (b'{"a": 1, "a": 2}', 'is not one JSON document: key "a" is set twice', True),
        (b"[" * 100_000 + b"]" * 100_000, "is nested too deeply to be a manifest", True),
        (b"[]", "is not a JSON object (an in-toto Statement)", True),
        (b" " * (manifest.MAX_BYTES + 1), "is 16,777,217 bytes, more than the 16,777,216 a manifest may be", True),
    ],
)
def test_what_is_no_manifest_at_all_is_refused_in_one_line(data: bytes, said: str, readable: bool) -> None:
    with pytest.raises(ManifestError) as refused:
        manifest.parse(data)
    assert len(refused.value.problems) == 1
    assert refused.value.problems[0].startswith(said)
    # Bytes that are not JSON may be a manifest still being copied; the rest are wrong.
    assert refused.value.readable is readable


def test_a_key_set_twice_deep_inside_is_refused() -> None:
    data = manifest.build(ROUND).replace(b'"weights.bin": {', b'"weights.bin": {"size": 1, ', 1)
    assert problems(data) == ['is not one JSON document: key "size" is set twice']


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("", "is empty"),
        ("/etc/passwd", "starts with /"),
        ("../x", "holds a .. segment, which leaves the round's folder"),
        ("a/../../x", "holds a .. segment, which leaves the round's folder"),
        ("..", "holds a .. segment, which leaves the round's folder"),
        ("a//b", "holds an empty or . segment"),
        ("./a", "holds an empty or . segment"),
        ("a/", "holds an empty or . segment"),
        ("a\\..\\b", "holds a backslash, a folder separator on Windows"),
        ("a\nb", "holds a control or invisible character"),
        ("a\u202eb", "holds a control or invisible character"),
        ("a\u00a0b", "holds a control or invisible character"),
        ("weights.", "ends with a dot, which Azure advises against in blob names"),
        ("manifest.json", "is the manifest's own name"),
        ("x" * 1025, "is 1,025 characters long (at most 1,024)"),
    ],
)
def test_names_that_could_leave_the_round_or_hide_a_character_are_refused(name: str, said: str) -> None:
    assert manifest.name_problem(name) == said


@pytest.mark.parametrize(
    "name", ["weights.bin", "a/b/c.npz", "..hidden", "a..b", "model v2.safetensors", "données.bin"]
)
def test_ordinary_names_are_taken(name: str) -> None:
    assert manifest.name_problem(name) is None


@pytest.mark.parametrize(
    ("name", "number"),
    [("round-0", 0), ("round-42", 42), ("round-0042", 42), ("round-" + "9" * 18, 10**18 - 1)],
)
def test_rounds_are_ordered_by_their_number(name: str, number: int) -> None:
    assert manifest.round_number(name) == number
    assert manifest.round_problem(name) is None


@pytest.mark.parametrize(
    "name", ["round-", "round--1", "round-1a", "Round-1", "42", "round-" + "9" * 19, "round-\u0661"]
)
def test_other_names_are_no_rounds(name: str) -> None:
    assert manifest.round_number(name) is None
    assert manifest.round_problem(name) is not None


def test_a_refused_name_is_said_once() -> None:
    changed = document()
    changed["subject"][0]["name"] = "../x"
    changed["predicate"]["files"] = {"../x": {"size": 0}, "weights.bin": {"size": 10}}
    assert problems(changed) == ['subject "../x" holds a .. segment, which leaves the round\'s folder']
