"""What changing a stack config would do, as `pulumi preview --diff` reports it: create,
update (each changed input, old and new), replace, delete.

Replacement is predicted from what Azure cannot update in place: a resource's Azure name,
the parents in its resource id, and properties fixed at creation.
"""

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from federation import offline, plan
from federation.graph import Secret
from federation.offline import Registration, Run

# azure-native lists every dataset (and every mapping) type as an alias of the others:
# a dataset whose kind changes under the same key is the same resource, replaced.
_ALIASED_FAMILIES = ("DataSetMapping", "DataSet")


@dataclass(frozen=True)
class Change:
    urn: str
    type: str
    name: str
    inputs: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # path -> (old, new)


@dataclass(frozen=True)
class Diff:
    create: list[Change]
    update: list[Change]
    replace: list[Change]
    delete: list[Change]
    unchanged: int

    @property
    def destructive(self) -> bool:
        return bool(self.delete or self.replace)


def compare(base: Run, head: Run) -> Diff:
    base, head = _managed(base), _managed(head)
    old = base.by_urn()
    new_urns = {r.urn for r in head.resources}
    gone = {_alias_key(r): r for r in base.resources if r.urn not in new_urns and _alias_key(r)}
    create, update, replace, unchanged = [], [], [], 0
    for resource in plan.ordered(head):
        before = old.get(resource.urn) or gone.pop(_alias_key(resource), None)
        if before is None:
            create.append(_change(resource, {k: (None, v) for k, v in plan.key_inputs(resource).items()}))
            continue
        changed = _changed_inputs(before, resource)
        if not changed:
            unchanged += 1
        elif _replaces(resource, changed):
            replace.append(_change(resource, changed))
        else:
            update.append(_change(resource, changed))
    matched = {r.urn for r in gone.values()}
    delete = [
        _change(r) for r in plan.ordered(base) if r.urn not in new_urns and (not _alias_key(r) or r.urn in matched)
    ]
    return Diff(create, update, replace, delete, unchanged)


def _managed(run: Run) -> Run:
    """Without reads: a stack reference is read, never created, updated or deleted."""
    return dataclasses.replace(run, resources=tuple(r for r in run.resources if not r.read))


def _alias_key(resource: Registration) -> tuple[str | None, str, str] | None:
    family = next((f for f in _ALIASED_FAMILIES if resource.type.endswith(f)), None)
    return (resource.parent, family, resource.name) if family else None


def _change(resource: Registration, inputs: dict[str, tuple[Any, Any]] | None = None) -> Change:
    return Change(resource.urn, resource.type, resource.name, inputs or {})


def _changed_inputs(old: Registration, new: Registration) -> dict[str, tuple[Any, Any]]:
    before, after = _flatten(old.inputs), _flatten(new.inputs)
    for option in ("type", "protect"):
        if getattr(old, option) != getattr(new, option):
            before[f"({option})"], after[f"({option})"] = getattr(old, option), getattr(new, option)
    return {
        k: (before.get(k), after.get(k)) for k in sorted(before.keys() | after.keys()) if before.get(k) != after.get(k)
    }


def _flatten(inputs: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in inputs.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat |= _flatten(value, f"{path}.")
        else:
            flat[path] = value
    return flat


def _replaces(resource: Registration, changed: dict[str, tuple[Any, Any]]) -> bool:
    """As the engine decides: a property the resource replaces on (`replace_on_changes`),
    or one the provider cannot update, an input of the resource id or the location."""
    fixed = set(resource.replace_on_changes) | offline.id_inputs(resource.type) | {"location"}
    paths = [p for p in changed if not p.startswith("(")]
    return "(type)" in changed or any("*" in fixed or p in fixed or p.split(".", 1)[0] in fixed for p in paths)


_SIGNS = (("create", "+ "), ("update", "~ "), ("replace", "+-"), ("delete", "- "))


def summary(diff: Diff) -> str:
    return (
        f"+ {len(diff.create)} to create, ~ {len(diff.update)} to update, "
        f"+- {len(diff.replace)} to replace, - {len(diff.delete)} to delete, {diff.unchanged} unchanged"
    )


def render_text(diff: Diff, stack: str) -> str:
    lines = [f"Diff for stack {stack} (offline, under mocks)", ""]
    for kind, sign in _SIGNS:
        for change in getattr(diff, kind):
            lines.append(f" {sign} {change.type} {change.name}")
            lines += [f"        {path}: {_transition(kind, old, new)}" for path, (old, new) in change.inputs.items()]
    if len(lines) == 2:
        lines.append(" no changes")
    lines += ["", f"Resources: {summary(diff)}"]
    return "\n".join(lines) + "\n"


def render_markdown(diff: Diff, stack: str) -> str:
    warning = " **Deletes or replaces resources.**" if diff.destructive else ""
    lines = [f"**Config change for `{stack}`**: {summary(diff)}.{warning}"]
    for kind, sign in _SIGNS:
        changes = getattr(diff, kind)
        if not changes:
            continue
        lines += [
            "",
            f"#### {sign.strip()} {kind} ({len(changes)})",
            "",
            "| Type | Name | Inputs |",
            "| --- | --- | --- |",
        ]
        for change in changes:
            inputs = "<br>".join(f"`{p}`: `{_transition(kind, o, n, '→')}`" for p, (o, n) in change.inputs.items())
            lines.append(f"| `{change.type}` | `{change.name}` | {inputs} |")
    return "\n".join(lines) + "\n"


def render_json(diff: Diff) -> str:
    def entry(change: Change, with_inputs: bool) -> dict[str, Any]:
        found: dict[str, Any] = {"urn": change.urn, "type": change.type, "name": change.name}
        if with_inputs:
            found["inputs"] = {p: {"old": plan.shown(o), "new": plan.shown(n)} for p, (o, n) in change.inputs.items()}
        return found

    document = {kind: [entry(c, kind in ("update", "replace")) for c in getattr(diff, kind)] for kind, _ in _SIGNS}
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def _transition(kind: str, old: Any, new: Any, arrow: str = "=>") -> str:
    return _show(new) if kind == "create" else f"{_show(old)} {arrow} {_show(new)}"


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    return plan.SECRET if isinstance(value, Secret) else json.dumps(plan.shown(value))
