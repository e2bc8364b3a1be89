"""A picture of a stack's data flows, as a Mermaid flowchart: storage → share → each invited
participant, and for received shares, sender → subscription → storage.

The picture is built from the config model as plain data (boxes and arrows), then drawn;
a diff's picture marks what the change adds, removes, replaces or changes.
"""

from dataclasses import dataclass, field, replace

from federation.config import Config, Location, Participant, Schedule
from federation.program import receiving, sharing, storage
from federation.review import diff

STATUSES = ("added", "removed", "replaced", "changed")
# (fill, stroke): readable in GitHub's light and dark themes; removed ones also dashed.
_COLOURS = {
    "added": ("#d4f7d4", "#1a7f37"),
    "removed": ("#ffd7d5", "#cf222e"),
    "replaced": ("#fff1c2", "#bf8700"),
    "changed": ("#ddf4ff", "#0969da"),
}
_SHAPES = {
    "storage": '[("{}")]',
    "share": '[["{}"]]',
    "subscription": '[["{}"]]',
    "participant": '(["{}"])',
    "sender": '(["{}"])',
}
_INSIDE = ("storage", "share", "subscription")  # this stack's own; the others are parties


@dataclass(frozen=True)
class Box:
    id: str  # kind:key, such as share:global_model
    kind: str
    label: str  # lines joined by newlines


@dataclass(frozen=True)
class Arrow:
    source: str
    target: str
    label: str

    @property
    def id(self) -> str:
        return f"{self.source}->{self.target}"


@dataclass(frozen=True)
class Picture:
    boxes: dict[str, Box] = field(default_factory=dict)
    arrows: dict[str, Arrow] = field(default_factory=dict)
    marks: dict[str, str] = field(default_factory=dict)  # box or arrow id -> status

    def edges(self) -> set[tuple[str, str]]:
        return {(a.source, a.target) for a in self.arrows.values()}


def of(config: Config) -> Picture:
    """The data flows a stack config sets up."""
    picture = Picture()
    for key in sorted(config.storage):
        entry = config.storage[key]
        form = f"account {entry.account_name}" if entry.created else f"existing account {entry.account_name}"
        _box(picture, "storage", key, f"storage {key}\n{form}")
    for name in sorted(config.shares):
        share = config.shares[name]
        _box(picture, "share", name, "\n".join([f"share {name}", _schedule(share.schedule)]))
        for key, datasets in _by_storage(share.datasets).items():
            _arrow(picture, f"storage:{key}", f"share:{name}", datasets)
        for key in config.invited(share):
            participant = config.participants[key]
            _box(picture, "participant", key, f"{key}\n{_identity(participant)}")
            expires = share.expiry_for(participant)
            _arrow(
                picture, f"share:{name}", f"participant:{key}", "invitation" + (f" until {expires}" if expires else "")
            )
    for name in sorted(config.subscriptions):
        subscription = config.subscriptions[name]
        if subscription.from_ is not None:
            sender = _box(picture, "sender", f"stack {subscription.from_.stack}", f"stack {subscription.from_.stack}")
            via = f"share {subscription.from_.share}, for {subscription.from_.participant}"
        else:
            label = f"sender in {subscription.source_location}\ninvitation {_short(subscription.invitation_id or '')}"
            sender = _box(picture, "sender", name, label)
            via = "invitation"
        schedule = subscription.schedule
        trigger = f"{_schedule(schedule)}, {schedule.mode}" if schedule is not None else _schedule(None)
        _box(picture, "subscription", name, f"subscription {name}\n{trigger}")
        _arrow(picture, sender.id, f"subscription:{name}", via)
        for key, datasets in _by_storage(subscription.datasets).items():
            _arrow(picture, f"subscription:{name}", f"storage:{key}", datasets)
    return picture


_STORAGE = (storage.COMPONENT, storage.STORAGE_ACCOUNT, storage.BLOB_SERVICE, storage.CONTAINER)
_SHARING = (sharing.COMPONENT, sharing.SHARE, sharing.SCHEDULE)
_RECEIVING = (receiving.COMPONENT, receiving.SHARE_SUBSCRIPTION, receiving.TRIGGER)
# The resource a box or arrow stands for: replacing it replaces what is drawn (a consumer
# loses its subscription). Replacing anything else in it (a dataset, a mapping) changes it.
_WHOLE = (storage.STORAGE_ACCOUNT, sharing.SHARE, sharing.INVITATION, receiving.SHARE_SUBSCRIPTION)


def owner(type_: str, name: str) -> str | None:
    """The box or arrow a resource belongs to in the picture (None: not pictured)."""
    head = name.split(".", 1)[0]
    if type_ in _STORAGE:
        return f"storage:{head}"
    if type_ == sharing.INVITATION:
        share, _, participant = name.partition(".")
        return f"share:{share}->participant:{participant}"
    if type_.endswith("DataSetMapping") or type_ in _RECEIVING:
        return f"subscription:{head}"
    if type_.endswith("DataSet") or type_ in _SHARING:
        return f"share:{head}"
    return None  # resource group, account, grants: not data flows


def compare(base: Picture, head: Picture, change: diff.Diff) -> Picture:
    """Head's picture with what the change does marked, and what it removes kept, marked."""
    before, after = {*base.boxes, *base.arrows}, {*head.boxes, *head.arrows}
    marks = dict.fromkeys(after - before, "added") | dict.fromkeys(before - after, "removed")
    edits = [("changed", c) for c in (*change.create, *change.update, *change.delete)]
    edits += [("replaced" if c.type in _WHOLE else "changed", c) for c in change.replace]
    for status, edit in edits:
        element = owner(edit.type, edit.name)
        # Added and removed stay so; replaced outweighs changed.
        if element in after and marks.get(element, "changed") == "changed":
            marks[element] = status
    boxes = head.boxes | {k: v for k, v in base.boxes.items() if k not in head.boxes}
    arrows = head.arrows | {k: v for k, v in base.arrows.items() if k not in head.arrows}
    return replace(head, boxes=boxes, arrows=arrows, marks=marks)


def mermaid(picture: Picture, stack: str) -> str:
    """The picture as a Mermaid flowchart: the stack's own boxes in a subgraph, parties outside."""
    lines = ["flowchart LR"]
    inside = [b for b in picture.boxes.values() if b.kind in _INSIDE]
    outside = [b for b in picture.boxes.values() if b.kind not in _INSIDE]
    lines.append(f'  subgraph {_id("stack:" + stack)}["stack {_text(stack)}"]')
    lines += [f"    {_node(b)}" for b in inside]
    lines.append("  end")
    lines += [f"  {_node(b)}" for b in outside]
    for arrow in picture.arrows.values():
        line = "-.->" if picture.marks.get(arrow.id) == "removed" else "-->"
        label = f'|"{_text(arrow.label)}"|' if arrow.label else ""
        lines.append(f"  {_id(arrow.source)} {line}{label} {_id(arrow.target)}")
    used = sorted(set(picture.marks.values()), key=STATUSES.index)
    for status in used:
        fill, stroke = _COLOURS[status]
        dashed = ",stroke-dasharray:5 3" if status == "removed" else ""
        lines.append(f"  classDef {status} fill:{fill},stroke:{stroke},color:#000{dashed}")
        boxes = [_id(b) for b in picture.boxes if picture.marks.get(b) == status]
        if boxes:
            lines.append(f"  class {','.join(boxes)} {status}")
        # Arrows are styled by their position in the chart.
        links = [str(i) for i, a in enumerate(picture.arrows.values()) if picture.marks.get(a.id) == status]
        if links:
            lines.append(f"  linkStyle {','.join(links)} stroke:{stroke},stroke-width:2px")
    return "\n".join(lines) + "\n"


def fenced(text: str) -> str:
    """A Mermaid diagram as markdown that GitHub renders."""
    return f"```mermaid\n{text}```\n"


def _box(picture: Picture, kind: str, key: str, label: str) -> Box:
    return picture.boxes.setdefault(f"{kind}:{key}", Box(f"{kind}:{key}", kind, label))


def _arrow(picture: Picture, source: str, target: str, label: str) -> None:
    arrow = Arrow(source, target, label)
    picture.arrows[arrow.id] = arrow


def _by_storage(datasets: dict[str, Location]) -> dict[str, str]:
    """Per storage key, the datasets on it as `name: container/path`, one a line."""
    found: dict[str, list[str]] = {}
    for key, location in sorted(datasets.items()):
        found.setdefault(location.storage, []).append(f"{_short(key)}: {location.path}")
    return {key: "\n".join(lines) for key, lines in sorted(found.items())}


def _schedule(schedule: Schedule | None) -> str:
    return f"every {schedule.recurrence.lower()} from {schedule.start}" if schedule else "on demand"


def _identity(participant: Participant) -> str:
    return str(participant.email) if participant.email else f"service principal {_short(participant.object_id or '')}"


def _short(key: str) -> str:
    """GUIDs shortened to their first block: enough to tell them apart in a picture."""
    return f"{key[:8]}…" if len(key) == 36 and key.count("-") == 4 else key


def _node(box: Box) -> str:
    return _id(box.id) + _SHAPES[box.kind].format(_text(box.label))


def _id(element: str) -> str:
    """A Mermaid node id for a box id: letters and digits kept, anything else escaped, so
    two keys never share an id and no id is a Mermaid keyword."""
    return "".join(c if c.isascii() and c.isalnum() else f"_{ord(c):x}_" for c in element)


# Mermaid reads `#name;` and `#number;` as entities, `"` ends a label, `|` an edge's label
# and `<` `>` `&` would be HTML: written as entities, each renders as itself.
_ENTITIES = str.maketrans({"#": "#35;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "&": "#amp;", "|": "#124;"})


def _text(label: str) -> str:
    """A label Mermaid draws as written, its lines broken where the text's are."""
    return label.translate(_ENTITIES).replace("\n", "<br>")
