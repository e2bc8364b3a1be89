"""What a stack config would create, rendered as `pulumi preview` lays it out: a tree of
resources by parent, with each one's key inputs, then counts per type."""

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

from federation.program.graph import Secret
from federation.review import offline
from federation.review.offline import Registration, Run

SECRET = "[secret]"

# Inputs that only repeat where a child lives (its parents' names) or are noise in a summary.
_CONTEXT_INPUTS = {"resourceGroupName", "accountName", "shareName", "shareSubscriptionName", "tags"}


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
    """A value as every output format shows it: a secret as [secret], as Pulumi does."""
    if isinstance(value, Secret):
        return SECRET
    if isinstance(value, dict):
        return {k: shown(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [shown(v) for v in value]
    return value


def key_inputs(resource: Registration) -> dict[str, Any]:
    """The scalar inputs that say what this resource is, without its parents' names."""
    skip = _CONTEXT_INPUTS - {offline.name_input(resource.type)}
    return {k: v for k, v in sorted(resource.inputs.items()) if k not in skip and not isinstance(v, dict | list)}


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
        inputs = " ".join(f"{k}={_scalar(v)}" for k, v in key_inputs(resource).items())
        flag = " [protect]" if resource.protect else ""
        sign = ">" if resource.read else "+"
        lines.append(f" {sign}  {'   ' * (depth + 1)}{resource.type} {resource.name}{flag}")
        if inputs:
            lines.append(f"    {'   ' * (depth + 2)}{inputs}")
    reads = sum(r.read for r in run.resources)
    lines += ["", f"Resources: + {len(run.resources) - reads} to create" + (f", > {reads} to read" if reads else "")]
    lines += [f"    {n:>4}  {t}" for t, n in sorted(counts(run).items())]
    return "\n".join(lines) + "\n"


def render_markdown(run: Run, stack: str) -> str:
    lines = [
        f"**Plan for `{stack}`**: {sum(not r.read for r in run.resources)} resources to create (offline, under mocks)",
        "",
        "| | Type | Name | Key inputs |",
        "| --- | --- | --- | --- |",
    ]
    for resource, depth in walk(run):
        inputs = ", ".join(f"`{k}={_scalar(v)}`" for k, v in key_inputs(resource).items())
        sign = ">" if resource.read else "+"
        lines.append(f"| {sign} | `{resource.type}` | {'&nbsp;&nbsp;' * depth}`{resource.name}` | {cell(inputs)} |")
    lines += ["", "| Type | Count |", "| --- | --- |"]
    lines += [f"| `{t}` | {n} |" for t, n in sorted(counts(run).items())]
    return "\n".join(lines) + "\n"


def render_json(run: Run) -> str:
    return json.dumps(to_json(run), indent=2, sort_keys=True) + "\n"


def cell(text: str) -> str:
    """Text for a markdown table cell: a `|` would end the cell, even inside backticks."""
    return text.replace("|", "\\|").replace("\n", " ")


def _scalar(value: Any) -> str:
    value = shown(value)
    return json.dumps(value) if not isinstance(value, str) else value
