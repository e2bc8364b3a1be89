"""What a stack config would create, rendered as `pulumi preview --diff` lays it out: a
tree of resources by parent, each with its inputs one a line, nested ones indented, then
counts per type."""

import json
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

from federation.review import comment, offline
from federation.review.offline import Registration, Run, Secret

SECRET = "[secret]"
# No line is longer: a terminal, a CI log or a code block in a pull request would wrap it
# or scroll it sideways, and a reviewer would miss what is at its end.
WIDTH = 120

# Inputs that only repeat where a child lives: its parents' names.
_CONTEXT_INPUTS = {"resourceGroupName", "accountName", "shareName", "shareSubscriptionName"}


def to_json(run: Run) -> dict[str, Any]:
    return {
        "resources": [
            {
                "urn": r.urn,
                "type": r.type,
                "name": r.name,
                "parent": r.parent,
                "dependsOn": list(r.depends_on),
                "inputs": shown(r.inputs),
                "protect": r.protect,
            }
            for r in ordered(run)
        ],
        "outputs": shown(run.outputs),
    }


def shown(value: Any) -> Any:
    """A value as every output format shows it: a secret as [secret], as Pulumi does, and
    a whole number as written (Pulumi passes every number as a float: 90 arrives as 90.0)."""
    if isinstance(value, Secret):
        return SECRET
    if isinstance(value, dict):
        return {k: shown(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [shown(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def inputs(resource: Registration) -> dict[str, Any]:
    """The inputs that say what this resource is, nested ones whole (a storage account's
    public network access means little without its network rules), without its parents'
    names."""
    skip = _CONTEXT_INPUTS - {offline.name_input(resource.type)}
    return {k: v for k, v in sorted(resource.inputs.items()) if k not in skip}


def ordered(run: Run) -> list[Registration]:
    """Parents before children, siblings by type then name: stable whatever the config order."""
    return [r for r, _ in walk(run)]


# Siblings appear in the order a reader follows the exchange: where, who, what, to whom.
_RANK = [
    "azure-native:resources:ResourceGroup",
    "azure-native:datashare:Account",
    "federation:storage:Storage",
    "azure-native:storage:StorageAccount",
    "azure-native:storage:BlobServiceProperties",
    "azure-native:storage:BlobContainer",
    "azure-native:authorization:RoleAssignment",
    "federation:sharing:Share",
    "azure-native:datashare:Share",
    "DataSet",
    "azure-native:datashare:ScheduledSynchronizationSetting",
    "azure-native:datashare:Invitation",
    "federation:receiving:Subscription",
    "azure-native:datashare:ShareSubscription",
    "DataSetMapping",
    "azure-native:datashare:ScheduledTrigger",
]


def _rank(resource: Registration) -> tuple[int, str, str]:
    family = next((s for s in ("DataSetMapping", "DataSet") if resource.type.endswith(s)), resource.type)
    rank = _RANK.index(family) if family in _RANK else len(_RANK)
    return rank, resource.type, resource.name


def walk(run: Run) -> Iterator[tuple[Registration, int]]:
    """Each resource with its depth under the stack, parents first."""
    children: dict[str | None, list[Registration]] = {}
    for resource in run.resources:
        children.setdefault(resource.parent, []).append(resource)

    def visit(parent: str | None, depth: int) -> Iterator[tuple[Registration, int]]:
        for child in sorted(children.get(parent, []), key=_rank):
            yield child, depth
            yield from visit(child.urn, depth + 1)

    yield from visit(None, 0)


def counts(run: Run) -> Counter[str]:
    return Counter(r.type for r in run.resources)


def render_text(run: Run, stack: str) -> str:
    lines = [f"Plan for stack {stack} (offline, under mocks: ids and principal ids are stand-ins)", ""]
    lines.append(f" +  pulumi:pulumi:Stack {run.project}-{stack}")
    for resource, depth in walk(run):
        lines += entry(resource, depth)
    reads = sum(r.read for r in run.resources)
    lines += ["", f"Resources: + {len(run.resources) - reads} to create" + (f", > {reads} to read" if reads else "")]
    lines += [f"    {n:>4}  {t}" for t, n in sorted(counts(run).items())]
    return "\n".join(lines) + "\n"


def entry(resource: Registration, depth: int) -> list[str]:
    """One resource of the tree, at its depth under the stack, with its inputs."""
    flag = " [protect]" if resource.protect else ""
    sign = ">" if resource.read else "+"
    head = wrapped(f" {sign}  {'   ' * (depth + 1)}", f"{resource.type} {resource.name}{flag}")
    return head + properties(inputs(resource), " " * (7 + 3 * (depth + 1)))


def markdown_parts(run: Run, stack: str) -> tuple[list[comment.Part], list[comment.Part]]:
    """For a pull request: the one-line summary; then the counts per type and the
    resources, folded, each top-level resource with what was made under it, as the text
    shows them. The command line puts the program's warnings and the picture between."""
    reads = sum(r.read for r in run.resources)
    summary = (
        f"**Plan for `{stack}`**: {len(run.resources) - reads} resources to create"
        + (f", {reads} to read" if reads else "")
        + " (offline, under mocks)\n\n"
    )
    by_type = [
        "#### Resources",
        "",
        "<details><summary>Resources by type</summary>",
        "",
        "| Type | Count |",
        "| --- | --- |",
        *(f"| `{t}` | {n} |" for t, n in sorted(counts(run).items())),
        "",
        "</details>",
    ]
    groups: list[list[tuple[Registration, int]]] = []
    for resource, depth in walk(run):
        if depth == 0:
            groups.append([])
        groups[-1].append((resource, depth))
    details: list[comment.Part] = [comment.Block("\n".join(by_type) + "\n\n")]
    for group in groups:
        top = group[0][0]
        under = f", and {len(group) - 1} under it" if len(group) > 1 else ""
        details.append(
            comment.details(
                f"{'>' if top.read else '+'} {top.type} {top.name}{under}",
                ["\n".join(entry(r, d)) for r, d in group],
                "resources",
                [f"{r.type} {r.name}" for r, _ in group],
            )
        )
    return [comment.Block(summary)], details


def render_json(run: Run) -> str:
    return json.dumps(to_json(run), indent=2, sort_keys=True) + "\n"


def cell(text: str) -> str:
    """Text for a markdown table cell: a `|` would end the cell, even inside backticks."""
    return text.replace("|", "\\|").replace("\n", " ")


def properties(values: Mapping[str, Any], indent: str) -> list[str]:
    """Inputs one a line, as `pulumi preview --diff` prints them: keys aligned, strings
    quoted, objects and lists opened on their key's line with what they hold four spaces
    deeper; a string too long for its line in quoted pieces, one a line, that join into it."""
    # A key much longer than the others (a tag's name can be 128 characters) is not aligned
    # with: its value starts on the next line.
    fits = [len(k) for k in values if len(indent) + len(k) + 2 <= WIDTH - _ROOM]
    align = max(fits, default=0)
    lines: list[str] = []
    for key, value in sorted(values.items()):
        title = f"{indent}{key.ljust(align)}: "
        if len(title) > WIDTH - _ROOM:
            keys = pieces(key, WIDTH - len(indent) - 1)
            lines += [indent + k for k in keys[:-1]]
            lines.append(f"{indent}{keys[-1]}:")
            lines += value_lines(f"{indent}    ", f"{indent}    ", value)
        else:
            lines += value_lines(title, indent, value)
    return lines


def value_lines(title: str, indent: str, value: Any) -> list[str]:
    """A value after `title` (the key, or the start of the line), what it holds nested
    four spaces deeper than `indent`, as `pulumi preview --diff` prints it."""
    if isinstance(value, Mapping) and value:
        return [title + "{", *properties(value, indent + "    "), indent + "}"]
    if isinstance(value, list | tuple) and value:
        lines = [title + "["]
        for i, item in enumerate(value):
            lines += value_lines(f"{indent}    [{i}]: ", indent + "    ", item)
        return [*lines, indent + "]"]
    if not isinstance(value, str) or len(title) + len(quote(value)) <= WIDTH:
        return [title + scalar(value)]
    if WIDTH - len(title) < _ROOM:  # too little room after the key: the pieces go below it
        title, indent = title.rstrip(), indent + "    "
        return [title, *(indent + p for p in pieces(value, WIDTH - len(indent)))]
    first, *rest = pieces(value, WIDTH - len(title))
    return [title + first, *(" " * len(title) + p for p in rest)]


def scalar(value: Any) -> str:
    """A value that holds no other, as `pulumi preview --diff` prints it."""
    if isinstance(value, Secret):
        return SECRET
    value = shown(value)
    if value is None:
        return "<null>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, Mapping):
        return "{}"
    if isinstance(value, list | tuple):
        return "[]"
    return quote(str(value))


def quote(text: str) -> str:
    """Text in double quotes, as Go's %q writes it for Pulumi: a quote, a backslash and
    anything not printable (a newline, a terminal escape, a right-to-left override that
    would show text other than what it is) escaped."""
    return f'"{"".join(_ESCAPES.get(c) or (c if c.isprintable() else _escape(c)) for c in text)}"'


def pieces(text: str, room: int) -> list[str]:
    """`text` as quoted pieces of at most `room` characters each, which joined are `text`:
    broken after each newline, else after a space or before a `/`, else where it must."""
    room = max(room, _ROOM) - 2
    found: list[str] = []
    while True:
        width, n = 0, 0
        while n < len(text) and width + len(quote(text[n])) - 2 <= room:
            width += len(quote(text[n])) - 2
            n += 1
            if text[n - 1] == "\n":
                break
        if n < len(text) and text[n - 1] != "\n":
            space, slash = text.rfind(" ", 0, n), text.rfind("/", 0, n)
            n = space + 1 if space >= n // 2 else slash if slash >= n // 2 and slash > 0 else n
        found.append(quote(text[:n]))
        text = text[n:]
        if not text:
            return found


def wrapped(start: str, text: str, hanging: str | None = None) -> list[str]:
    """`text` after `start`, broken at spaces so no line is longer than WIDTH; the lines
    after the first start with `hanging` (default: indented under the text). A word longer
    than a line (a resource id) is broken before a `/`, else where it must."""
    if len(start) + len(text) <= WIDTH:
        return [start + text]
    if hanging is None:
        hanging = " " * min(len(start) + 4, WIDTH // 2)
    lines, line, fresh = [], start, True
    for word in text.split(" "):
        if not fresh and len(line) + 1 + len(word) > WIDTH:
            lines.append(line)
            line, fresh = hanging, True
        if not fresh:
            word = f" {word}"
        while len(line) + len(word) > WIDTH:
            room = max(WIDTH - len(line), 20)  # what is left, or some room at least: the loop ends
            cut = word.rfind("/", 1, room + 1)
            cut = cut if cut > room // 2 else room
            lines.append(line + word[:cut])
            line, word = hanging, word[cut:].lstrip(" ")
        line += word
        fresh = False
    return [*lines, line]


_ROOM = 30  # at least this much of a line for a value
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escape(char: str) -> str:
    return f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08x}"
