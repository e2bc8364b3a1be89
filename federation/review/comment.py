"""Markdown for a pull-request comment that GitHub takes at any size.

A comment is made of parts in the order a reviewer reads them: the summary and what would
fail first, then the details, each folded in a <details> block. When the whole would be
longer than GitHub takes, it stops at the last whole part or entry that fits and ends
with a line saying what was left out and how to get everything (`-o text`, never cut).
"""

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

LIMIT = 65_536  # GitHub refuses a comment longer than this many characters.
MERMAID_LIMIT = 50_000  # Mermaid's default maxTextSize: it draws no longer diagram.
_RESERVE = 1_500  # room kept for the closing line when the comment is cut
_LABEL = 200  # at most this much of an entry's label in the closing line


@dataclass(frozen=True)
class Block:
    """Markdown shown whole or not at all."""

    text: str
    what: str = ""  # what it shows, as the closing line names it when it is left out
    optional: bool = False  # if it does not fit, only it is left out and the comment goes on


@dataclass(frozen=True)
class Entries:
    """Entries that can be cut between any two (list items, table rows, resources in a
    code block), with the markdown around them: `head` and `tail` come with the entries
    shown, and are left out with them when none fits."""

    head: str
    entries: Sequence[str]
    tail: str
    noun: str  # plural, as the closing line counts them: "resources"
    labels: Sequence[str] = ()  # per entry, how the closing line names the first left out


Part = Block | Entries


def fit(parts: Sequence[Part], whole: str, limit: int = LIMIT) -> str:
    """The parts as one comment of at most `limit` characters. `whole` is a sentence
    saying where the whole output is, for the closing line of a comment that is cut."""
    text = _joined(_render(p) for p in parts)
    if len(text) <= limit:
        return text
    budget = limit - _RESERVE
    shown: list[str] = []
    used = 0
    stopped = False
    left: list[str] = []  # blocks left out, as named
    counts: dict[str, list[int]] = {}  # noun -> [shown, total]
    first: str | None = None  # the first entry left out
    for part in parts:
        if isinstance(part, Block):
            if not stopped and used + len(part.text) <= budget:
                shown.append(part.text)
                used += len(part.text)
                continue
            if part.what:
                left.append(part.what)
            stopped = stopped or not part.optional
            continue
        count = counts.setdefault(part.noun, [0, 0])
        count[1] += len(part.entries)
        room = budget - used - len(part.head) - len(part.tail)
        n = 0
        while not stopped and n < len(part.entries) and len(part.entries[n]) <= room:
            room -= len(part.entries[n])
            n += 1
        if n:
            block = part.head + "".join(part.entries[:n]) + part.tail
            shown.append(block)
            used += len(block)
            count[0] += n
        if n < len(part.entries):
            stopped = True
            if first is None and n < len(part.labels):
                first = part.labels[n]
    missing = [f"{total - n:,} of {total:,} {noun}" for noun, (n, total) in counts.items() if n < total]
    return _joined(shown) + _closing(missing + left, first, whole, limit)


def details(summary: str, lines: Sequence[str], noun: str, labels: Sequence[str] = ()) -> Entries:
    """Entries of text (each one or more lines) in a code block folded under `summary`."""
    entries = [f"{e}\n" for e in lines]
    fence = "`" * max(3, 1 + max((len(run) for e in entries for run in re.findall("`+", e)), default=0))
    head = f"<details><summary>{html.escape(summary)}</summary>\n\n{fence}\n"
    return Entries(head, entries, f"{fence}\n\n</details>\n\n", noun, labels)


def items(title: str, lines: Sequence[str], noun: str) -> Entries:
    """A bulleted list under a bold title."""
    return Entries(f"**{title}**:\n\n", [f"- {line}\n" for line in lines], "\n", noun, lines)


def mermaid(flows: str, whole: str = "") -> Block:
    """The picture of the data flows, which GitHub draws; left out alone when it does not
    fit, since what follows it still helps. Mermaid draws nothing for a long diagram,
    so that one is not sent, and `whole` says where it is."""
    head = "#### Data flows\n\n"
    if len(flows) > MERMAID_LIMIT:
        where = f" {whole}" if whole else ""
        return Block(
            f"{head}Not drawn here: the picture is {len(flows):,} characters of Mermaid, more than the "
            f"{MERMAID_LIMIT:,} it draws.{where}\n\n"
        )
    return Block(f"{head}```mermaid\n{flows}```\n\n", "the picture of the data flows", optional=True)


def _render(part: Part) -> str:
    if isinstance(part, Block):
        return part.text
    return part.head + "".join(part.entries) + part.tail if part.entries else ""


def _joined(texts: Iterable[str]) -> str:
    return "".join(texts).rstrip("\n") + "\n"


def _closing(missing: list[str], first: str | None, whole: str, limit: int) -> str:
    start = f", from `{_short(first)}` on" if first else ""
    return (
        f"\n**Cut to fit a comment** (GitHub takes at most {limit:,} characters). Not shown{start}: "
        f"{'; '.join(missing)}. {whole}\n"
    )


def _short(label: str) -> str:
    label = label.replace("`", "'").replace("\n", " ")
    return label if len(label) <= _LABEL else f"{label[: _LABEL - 1]}…"
