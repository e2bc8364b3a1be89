"""A round's manifest: an in-toto Statement v1 naming each file of the round with its
sha256, and a predicate of this project's own (share, round, time, each file's size, and
the sha256 of the previous round's manifest, which chains the rounds). Building, reading
and checking it only: no I/O, so every rule can be tested on bytes alone."""

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
# Names what the predicate holds; a reader that knows no other refuses any other.
PREDICATE_TYPE = "https://github.com/federation-consortium/federation/round-manifest/v1"
NAME = "manifest.json"
# Far more than a round's file list needs (about 100,000 files), and little enough to read
# into memory: a bigger one is refused unread.
MAX_BYTES = 16 * 1024 * 1024
# The manifest's problems past this many are counted, not listed.
SHOWN = 20

# round-N: rounds are ordered by N, a decimal number; round-7 and round-007 are one round.
ROUND = re.compile(r"round-([0-9]{1,18})")
SHA256 = re.compile(r"[0-9a-f]{64}")
# Azure's limit for a whole blob name; a file's name under a round is shorter still.
MAX_NAME = 1024


class ManifestError(Exception):
    """A manifest that is not one: every problem, one line each. `readable` is False when
    the bytes are not JSON at all, as a manifest still being copied can be."""

    def __init__(self, problems: list[str], readable: bool = True) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
        self.readable = readable


@dataclass(frozen=True)
class File:
    name: str  # relative, with / between folders
    sha256: str
    size: int


@dataclass(frozen=True)
class Manifest:
    share: str
    round: str
    published_at: str
    files: tuple[File, ...]
    previous: str | None  # the previous round's manifest.json sha256, or None for the first

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)


def round_number(name: str) -> int | None:
    """A round's number, or None for a name that is no round's."""
    found = ROUND.fullmatch(name)
    return int(found[1]) if found else None


def round_problem(name: str) -> str | None:
    """Why a name is no round's, or None."""
    if round_number(name) is None:
        return f"{shown(name)} is not a round: name rounds round-N (N a number, such as round-42), ordered by N"
    return None


def name_problem(name: str) -> str | None:
    """Why a file's name under a round is refused (said after the name), or None. The
    names become paths on the receiver's disk, so nothing that could leave the round's
    folder, hide a character or mean two things on two systems is taken."""
    if not name:
        return "is empty"
    if len(name) > MAX_NAME:
        return f"is {len(name):,} characters long (at most {MAX_NAME:,})"
    if any(not c.isprintable() for c in name):
        return "holds a control or invisible character"
    if name.startswith("/"):
        return "starts with /"
    if "\\" in name:
        return "holds a backslash, a folder separator on Windows"
    segments = name.split("/")
    if ".." in segments:
        return "holds a .. segment, which leaves the round's folder"
    if "." in segments or "" in segments:
        return "holds an empty or . segment"
    if name.endswith("."):
        return "ends with a dot, which Azure advises against in blob names"
    if name == NAME:
        return "is the manifest's own name"
    return None


def shown(text: str, limit: int = 200) -> str:
    """A name from outside, quoted on one line with every control character escaped."""
    return json.dumps(text if len(text) <= limit else text[:limit] + "…")


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build(manifest: Manifest) -> bytes:
    """The manifest's bytes, files sorted by name: the same manifest, the same bytes."""
    files = sorted(manifest.files, key=lambda f: f.name)
    statement = {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": f.name, "digest": {"sha256": f.sha256}} for f in files],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "share": manifest.share,
            "round": manifest.round,
            "publishedAt": manifest.published_at,
            "files": {f.name: {"size": f.size} for f in files},
            "previous": manifest.previous,
        },
    }
    return (json.dumps(statement, indent=2) + "\n").encode()


def parse(data: bytes) -> Manifest:
    """The manifest in `data`, or ManifestError with every problem found."""
    if len(data) > MAX_BYTES:
        raise ManifestError([f"is {len(data):,} bytes, more than the {MAX_BYTES:,} a manifest may be"])
    try:
        document = json.loads(data.decode("utf-8"), object_pairs_hook=_no_twice, parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise ManifestError(["is not UTF-8 text"], readable=False) from None
    except _TwiceError as twice:
        raise ManifestError([f"is not one JSON document: key {shown(str(twice))} is set twice"]) from None
    except RecursionError:
        raise ManifestError(["is nested too deeply to be a manifest"]) from None
    except ValueError as error:  # JSONDecodeError, NaN, a number past Python's digit limit
        raise ManifestError([f"is not JSON ({_first(error)})"], readable=False) from None
    problems: list[str] = []
    manifest = _read(document, problems)
    if problems or manifest is None:
        more = len(problems) - SHOWN
        raise ManifestError(problems[:SHOWN] + ([f"and {more} more problems"] if more > 0 else []))
    return manifest


def _read(document: Any, problems: list[str]) -> Manifest | None:
    """The Statement's parts, each problem appended to `problems`."""
    if not isinstance(document, dict):
        problems.append("is not a JSON object (an in-toto Statement)")
        return None
    if document.get("_type") != STATEMENT_TYPE:
        problems.append(f"_type is not {STATEMENT_TYPE}")
    if document.get("predicateType") != PREDICATE_TYPE:
        problems.append(f"predicateType is not {PREDICATE_TYPE}")
    subjects = _subjects(document.get("subject"), problems)
    predicate = document.get("predicate")
    if not isinstance(predicate, dict):
        problems.append("predicate is not an object")
        return None
    share, round_name, published = (predicate.get(k) for k in ("share", "round", "publishedAt"))
    if not isinstance(share, str) or not share:
        problems.append("predicate.share is not a share's name")
    if not isinstance(round_name, str) or round_number(round_name) is None:
        problems.append("predicate.round is not a round (round-N)")
    if not isinstance(published, str) or not _is_time(published):
        problems.append("predicate.publishedAt is not an RFC 3339 time")
    files = predicate.get("files")
    sizes = _sizes(files, problems)
    previous = predicate.get("previous")
    if previous is not None and not (isinstance(previous, str) and SHA256.fullmatch(previous)):
        problems.append("predicate.previous is neither null nor a sha256 (64 lowercase hex digits)")
    if subjects is not None and isinstance(files, dict):
        # Names refused above are not said again here.
        named = {s.get("name") for s in document["subject"] if isinstance(s, dict)}
        for name in sorted(set(subjects) - set(files)):
            problems.append(f"subject {shown(name)} has no size in predicate.files")
        for name in sorted(set(files) - named):
            problems.append(f"predicate.files names {shown(name)}, which no subject names")
    if problems or subjects is None or sizes is None:
        return None
    files = tuple(File(name, subjects[name], sizes[name]) for name in sorted(subjects))
    return Manifest(str(share), str(round_name), str(published), files, previous)


def _subjects(subjects: Any, problems: list[str]) -> dict[str, str] | None:
    """Each subject's name and sha256; duplicates and unsafe names are problems."""
    if not isinstance(subjects, list) or not subjects:
        problems.append("subject is not a list of files, or is empty: a round has at least one file")
        return None
    found: dict[str, str] = {}
    for i, subject in enumerate(subjects):
        name = subject.get("name") if isinstance(subject, dict) else None
        digests = subject.get("digest") if isinstance(subject, dict) else None
        sha = digests.get("sha256") if isinstance(digests, dict) else None
        if not isinstance(name, str):
            problems.append(f"subject[{i}] has no name")
            continue
        if problem := name_problem(name):
            problems.append(f"subject {shown(name)} {problem}")
            continue
        if not isinstance(sha, str) or not SHA256.fullmatch(sha):
            problems.append(f"subject {shown(name)} has no sha256 digest (64 lowercase hex digits)")
            continue
        if name in found:
            problems.append(f"subject {shown(name)} is named twice")
            continue
        found[name] = sha
    return found


def _sizes(files: Any, problems: list[str]) -> dict[str, int] | None:
    if not isinstance(files, dict):
        problems.append("predicate.files is not an object of each file's size")
        return None
    sizes: dict[str, int] = {}
    for name, entry in files.items():
        size = entry.get("size") if isinstance(entry, dict) else None
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            problems.append(f"predicate.files[{shown(name)}].size is not a whole number of bytes")
            continue
        sizes[name] = size
    return sizes


def _is_time(text: str) -> bool:
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return "T" in text


class _TwiceError(ValueError):
    pass


def _no_twice(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """An object whose key is set twice means two things to two readers: refused."""
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _TwiceError(key)
        found[key] = value
    return found


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _first(error: Exception) -> str:
    return " ".join(str(error).split())[:200]
