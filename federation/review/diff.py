"""What changing a stack config would do, as `pulumi preview --diff` reports it: create,
update (each changed input, old and new), replace, delete, and the steps at which the
deployment would fail.

The engine's rules, reproduced on two offline runs (base as the state, head as the goal):
- A resource is the same if its URN, or one of its aliases, was in the base.
- It is replaced when a changed input is one azure-native cannot update (a path
  parameter of its resource id, or `location`) or one in its `replace_on_changes`.
  azure-native asks for its old one to go first whenever its own rules replace it; the
  program's `delete_before_replace` asks the same. Otherwise the new one is created first.
- Replacing a resource old one first also replaces, old ones first, every resource whose
  inputs come from it and would replace it once unknown, and so on down the graph
  (`calculateDependentReplacements` in the engine's step generator).
- azure-native refuses to create a resource that already exists, and removed resources
  are deleted only after every create: creating an Azure id that a base resource still
  holds fails mid-deployment. So does replacing or deleting a protected resource.
"""

import dataclasses
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from federation.program import storage
from federation.review import comment, offline, plan
from federation.review.offline import Registration, Run

_FIXED_AT_CREATION = {storage.STORAGE_ACCOUNT: storage.FIXED_AT_CREATION}


@dataclass(frozen=True)
class Change:
    urn: str
    type: str
    name: str
    inputs: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # path -> (old, new)
    # For a replacement the engine adds: the replaced resource whose outputs it is built from.
    because: Registration | None = None
    # For a replacement: the old one is deleted before the new one is created (for a while,
    # neither exists), as every replacement the engine adds is.
    old_first: bool = False


@dataclass(frozen=True)
class Failure:
    """A step the deployment would attempt and fail at, and why."""

    urn: str
    type: str
    name: str
    step: str  # create, replace or delete
    reason: str


@dataclass(frozen=True)
class Diff:
    create: list[Change]
    update: list[Change]
    replace: list[Change]
    delete: list[Change]
    unchanged: int
    fail: list[Failure] = field(default_factory=list)

    @property
    def destructive(self) -> bool:
        return bool(self.delete or self.replace)


@dataclass(frozen=True)
class _Replacement:
    old: Registration
    new: Registration
    inputs: dict[str, tuple[Any, Any]]
    old_first: bool


def compare(base: Run, head: Run) -> Diff:
    base, head = _managed(base), _managed(head)
    before = _matches(base, head)
    create, update, unchanged = [], [], 0
    replacements: dict[str, _Replacement] = {}
    for resource in plan.ordered(head):
        previous = before.get(resource.urn)
        if previous is None:
            create.append(_change(resource, {k: (None, v) for k, v in plan.inputs(resource).items()}))
            continue
        changed = _changed_inputs(previous, resource)
        replaced = _replaced_keys(resource, [p for p in changed if not p.startswith("(")])
        if replaced:
            old_first = (
                resource.delete_before_replace
                if resource.delete_before_replace is not None
                else any(k in _provider_replaces(resource) for k in replaced)
            )
            replacements[resource.urn] = _Replacement(previous, resource, changed, old_first)
        elif changed:
            update.append(_change(resource, changed))
        else:
            unchanged += 1
    roots = {r.old.urn for r in replacements.values() if r.old_first}
    cascade = _dependent_replacements(base, roots)
    matched = {r.urn for r in before.values()}
    gone = [r for r in plan.ordered(base) if r.urn not in matched]

    # What the cascade takes from the update and unchanged counts, it adds to replace.
    replace, fail = [], []
    for resource in plan.ordered(head):
        previous = before.get(resource.urn)
        if previous is None:
            continue
        direct = replacements.get(resource.urn)
        because = cascade.get(previous.urn)
        if direct is None and because is None:
            continue
        if direct is None:
            entry = next((c for c in update if c.urn == resource.urn), None)
            if entry is not None:
                update.remove(entry)
            else:
                unchanged -= 1
            inputs = entry.inputs if entry else {}
        else:
            inputs = direct.inputs
        old_first = direct is None or direct.old_first or because is not None
        replace.append(dataclasses.replace(_change(resource, inputs, because), old_first=old_first))
        # As the engine checks: a replacement of its own needs protect on both sides, one
        # the cascade forces only in the state.
        if previous.protect and (resource.protect or because is not None):
            via = f" as part of replacing {_label(because)}" if because else ""
            fail.append(_failure(resource, "replace", f"is protected: the engine refuses to replace it{via}"))
    fail += _fixed_at_creation(replacements.values())
    fail += _collisions(base, head, before, replacements, roots | set(cascade), gone)
    fail += [_failure(r, "delete", "is protected: the engine refuses to delete it") for r in gone if r.protect]
    delete = [_change(r) for r in gone]
    return Diff(create, update, replace, delete, unchanged, _merged(fail))


def _managed(run: Run) -> Run:
    """Without reads: a stack reference is read, never created, updated or deleted."""
    return dataclasses.replace(run, resources=tuple(r for r in run.resources if not r.read))


def _matches(base: Run, head: Run) -> dict[str, Registration]:
    """Each head resource's base resource, as the engine finds it: by URN, else by the
    first of its aliases that the base has (azure-native aliases dataset kinds to each
    other, so a dataset whose kind changes is the same resource)."""
    old = base.by_urn()
    kept = {r.urn for r in head.resources if r.urn in old}
    found: dict[str, Registration] = {}
    for resource in head.resources:
        if resource.urn in old:
            found[resource.urn] = old[resource.urn]
            continue
        alias = next((a for a in resource.aliases if a in old and a not in kept), None)
        if alias is not None:
            found[resource.urn] = old[alias]
            kept.add(alias)
    return found


def _provider_replaces(resource: Registration) -> set[str]:
    """Inputs azure-native cannot update: its resource id's path parameters, `location`."""
    if offline.name_input(resource.type) is None:
        return set()
    return offline.id_inputs(resource.type) | {"location"}


def _replaced_keys(resource: Registration, paths: list[str]) -> list[str]:
    """The changed paths that replace this resource, by azure-native's rules or its
    `replace_on_changes`."""
    provider = _provider_replaces(resource)
    program = set(resource.replace_on_changes)
    return [p for p in paths if p.split(".", 1)[0] in provider or "*" in program or _under(p, program)]


def _dependent_replacements(base: Run, roots: set[str]) -> dict[str, Registration]:
    """Resources the engine replaces because one they are built from is replaced old one
    first: walking the base in order, each custom resource with an input from a replaced
    one is replaced if that input, unknown, would replace it. Maps each to the nearest
    replaced resource one of those inputs came from."""
    replaced = set(roots)
    dependents = set(roots)
    because: dict[str, Registration] = {}
    by_urn = base.by_urn()
    depth: dict[str, int] = {}
    for resource in base.resources:  # dependencies come first
        depth[resource.urn] = 1 + max((depth.get(d, 0) for d in resource.depends_on), default=0)
    for resource in base.resources:
        if resource.urn in roots or not dependents & set(resource.depends_on):
            continue
        dependents.add(resource.urn)
        if not resource.custom:
            continue
        unknown = {k: urns for k, urns in resource.property_dependencies.items() if replaced & set(urns)}
        if unknown and _replaced_keys(resource, list(unknown)):
            replaced.add(resource.urn)
            # Named after the nearest: a dataset after its share (its id is built from it), not
            # the resource group or the storage account it reads.
            id_inputs = offline.id_inputs(resource.type)
            nearest = max(
                (key in id_inputs, depth[u], u) for key, urns in unknown.items() for u in urns if u in replaced
            )
            because[resource.urn] = by_urn[nearest[2]]
    return because


def _fixed_at_creation(replacements: Any) -> list[Failure]:
    found = []
    for replacement in replacements:
        fixed = _FIXED_AT_CREATION.get(replacement.new.type, ())
        changed = [p for p in replacement.inputs if p in fixed]
        if changed:
            found.append(
                _failure(
                    replacement.new,
                    "replace",
                    f"{', '.join(changed)} is fixed when the account is created: replacing the account would "
                    "delete its data, and Azure refuses to create it again under the same name. Keep the value, "
                    "or add a storage entry with another key and name and move the data to it",
                )
            )
    return found


def _collisions(
    base: Run,
    head: Run,
    before: Mapping[str, Registration],
    replacements: Mapping[str, _Replacement],
    deleted_first: set[str],
    gone: list[Registration],
) -> list[Failure]:
    """Creates of an Azure id that a base resource still holds when they run: every base
    resource not deleted first (removed ones are deleted last, after every create)."""
    held = {_azure_id(r): r for r in base.resources if _azure_id(r) and r.urn not in deleted_first}
    removed = {r.urn for r in gone}
    found = []
    for resource in head.resources:
        key = _azure_id(resource)
        holder = held.get(key) if key else None
        if holder is None:
            continue
        if resource.urn not in before:
            step = "create"
        elif resource.urn in replacements and not replacements[resource.urn].old_first:
            step = "replace"
        else:
            continue
        if holder.urn in removed:
            advice = "Keep its former key, or give it a new Azure name as well"
        elif holder is before.get(resource.urn):
            advice = "It is replaced new one first under the same Azure name"
        else:
            advice = "Another resource keeps that Azure name"
        found.append(
            _failure(
                resource,
                step,
                f"creates {resource.id}, which {_label(holder)} still holds then: azure-native refuses to create "
                f"a resource that exists. {advice}",
            )
        )
    return found


def _merged(failures: list[Failure]) -> list[Failure]:
    """One entry per step, with every reason it would fail for."""
    found: dict[tuple[str, str], Failure] = {}
    for failure in failures:
        key = (failure.urn, failure.step)
        if key in found:
            failure = dataclasses.replace(found[key], reason=f"{found[key].reason}. {failure.reason}")
        found[key] = failure
    return list(found.values())


def _azure_id(resource: Registration) -> str | None:
    """The Azure resource id, compared as Azure does: without regard to case."""
    return resource.id.lower() if resource.id and offline.name_input(resource.type) else None


def _label(resource: Registration | None) -> str:
    return f"{resource.type} {resource.name}" if resource else ""


def _change(
    resource: Registration, inputs: dict[str, tuple[Any, Any]] | None = None, because: Registration | None = None
) -> Change:
    return Change(resource.urn, resource.type, resource.name, inputs or {}, because)


def _failure(resource: Registration, step: str, reason: str) -> Failure:
    return Failure(resource.urn, resource.type, resource.name, step, reason)


def _changed_inputs(old: Registration, new: Registration) -> dict[str, tuple[Any, Any]]:
    before, after = _flatten(old.inputs), _flatten(new.inputs)
    for option in ("type", "protect"):
        if getattr(old, option) != getattr(new, option):
            before[f"({option})"], after[f"({option})"] = getattr(old, option), getattr(new, option)
    # Making a value secret changes no resource: azure-native compares the plain values.
    # The engine keeps the state's value of an ignored input: its change is no change.
    return {
        k: (before.get(k), after.get(k))
        for k in sorted(before.keys() | after.keys())
        if offline.plain(before.get(k)) != offline.plain(after.get(k)) and not _under(k, new.ignore_changes)
    }


def _under(path: str, prefixes: Iterable[str]) -> bool:
    """Whether an input path is one of these engine paths or inside one."""
    return any(path == p or path.startswith(f"{p}.") for p in prefixes)


def _flatten(inputs: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in inputs.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat |= _flatten(value, f"{path}.")
        else:
            flat[path] = value
    return flat


_SIGNS = (("create", "+ "), ("update", "~ "), ("replace", "+-"), ("delete", "- "))
_FAIL = "! "


def summary(diff: Diff) -> str:
    counts = (
        f"+ {len(diff.create)} to create, ~ {len(diff.update)} to update, "
        f"+- {len(diff.replace)} to replace, - {len(diff.delete)} to delete, {diff.unchanged} unchanged"
    )
    return counts + (f"; ! {len(diff.fail)} would fail" if diff.fail else "")


def render_text(diff: Diff, stack: str) -> str:
    lines = [f"Diff for stack {stack} (offline, under mocks)", ""]
    for kind, _ in _SIGNS:
        for change in getattr(diff, kind):
            lines += _entry(kind, change)
    if len(lines) == 2:
        lines.append(" no changes")
    if diff.fail:
        lines += ["", "The deployment would fail at:"]
        for failure in diff.fail:
            lines += _failure_lines(failure)
    lines += ["", f"Resources: {summary(diff)}"]
    return "\n".join(lines) + "\n"


def _entry(kind: str, change: Change) -> list[str]:
    """One change as `pulumi preview --diff` shows it: a created resource with its inputs,
    nested ones indented; an updated or replaced one with each changed input, old and new."""
    lines = plan.wrapped(f" {dict(_SIGNS)[kind]} ", f"{change.type} {change.name}")
    if change.because is not None:
        lines += plan.wrapped(_INDENT, f"(replaced with {_label(change.because)}, old one first)")
    elif change.old_first:
        lines.append(f"{_INDENT}(old one first)")
    if kind == "create":
        return lines + plan.properties({k: new for k, (_, new) in change.inputs.items()}, _INDENT)
    for path, (old, new) in change.inputs.items():
        line = f"{_INDENT}{path}: {_show(old)} => {_show(new)}"
        if len(line) <= plan.WIDTH and not (_nested(old) or _nested(new)):
            lines.append(line)
            continue
        # Too long for one line, or a list or object: old and new each on lines of their own.
        lines += plan.wrapped(_INDENT, f"{path}:")
        for word, value in (("old", old), ("new", new)):
            if value is None:
                lines.append(f"{_INDENT}    {word}: (none)")
            else:
                lines += plan.value_lines(f"{_INDENT}    {word}: ", f"{_INDENT}    ", value)
    return lines


def _failure_lines(failure: Failure) -> list[str]:
    head = plan.wrapped(f" {_FAIL} ", f"{failure.step} {failure.type} {failure.name}")
    return head + plan.wrapped(_INDENT, failure.reason, _INDENT)


def markdown_parts(diff: Diff, stack: str) -> tuple[list[comment.Part], list[comment.Part]]:
    """For a pull request: the summary and the steps that would fail, then each kind of
    change folded, as the text shows it. Without the program's warnings and the picture,
    which the command line puts between the two."""
    warning = " **Deletes or replaces resources.**" if diff.destructive else ""
    if diff.fail:
        warning += " **The deployment would fail.**"
    head: list[comment.Part] = [comment.Block(f"**Config change for `{stack}`**: {summary(diff)}.{warning}\n\n")]
    if diff.fail:
        head.append(
            comment.Entries(
                f"#### {_FAIL.strip()} would fail ({len(diff.fail)})\n\n| Step | Type | Name | Why |\n"
                "| --- | --- | --- | --- |\n",
                [f"| {f.step} | `{f.type}` | `{f.name}` | {plan.cell(f.reason)} |\n" for f in diff.fail],
                "\n",
                "steps that would fail",
                [f"{f.step} {f.type} {f.name}" for f in diff.fail],
            )
        )
    folds: list[comment.Part] = []
    for kind, sign in _SIGNS:
        changes = getattr(diff, kind)
        if changes:
            folds.append(
                comment.details(
                    f"{sign.strip()} {kind} ({len(changes)})",
                    ["\n".join(_entry(kind, c)) for c in changes],
                    "changes",
                    [f"{kind} {c.type} {c.name}" for c in changes],
                )
            )
    if folds:
        folds.insert(0, comment.Block("#### Changes\n\n"))
    return head, folds


def render_json(diff: Diff) -> str:
    def entry(change: Change, kind: str) -> dict[str, Any]:
        found: dict[str, Any] = {"urn": change.urn, "type": change.type, "name": change.name}
        if kind in ("update", "replace"):
            found["inputs"] = {p: {"old": plan.shown(o), "new": plan.shown(n)} for p, (o, n) in change.inputs.items()}
        if kind == "replace":
            found["cascade"] = change.because is not None
            found["oldFirst"] = change.old_first
            if change.because is not None:
                found["because"] = change.because.urn
        return found

    document: dict[str, Any] = {kind: [entry(c, kind) for c in getattr(diff, kind)] for kind, _ in _SIGNS}
    document["fail"] = [dataclasses.asdict(f) for f in diff.fail]
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


_INDENT = " " * 8


def _nested(value: Any) -> bool:
    return isinstance(value, Mapping | list | tuple) and bool(value)


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    return plan.scalar(value)
