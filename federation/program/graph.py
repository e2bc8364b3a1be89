"""The vocabulary of a planned deployment: resources, references between them, outputs.

A `Graph` is plain data: it can be built, compared and checked without Pulumi running,
and `deploy` registers it one node at a time. Values are literals or the expressions
below, which `deploy` turns into Pulumi outputs.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeAlias


@dataclass(frozen=True)
class Ref:
    """An output attribute of another node (dotted for nested outputs), then optionally
    keys looked up in it (a stack reference's outputs)."""

    node: str
    attr: str
    items: tuple[str, ...] = ()
    # The config key whose `from` named the items, for the error if the outputs lack them.
    named_by: str = ""


@dataclass(frozen=True)
class Concat:
    """Parts joined into one string, like `pulumi.Output.concat`."""

    parts: tuple["Value", ...]


@dataclass(frozen=True)
class Guid:
    """A deterministic role-assignment name over resolved parts (scope, principal, role)."""

    scope: "Value"
    principal: "Value"
    role: str


@dataclass(frozen=True)
class Secret:
    """A value Pulumi keeps secret: encrypted in state, `[secret]` wherever it is shown."""

    value: "Value"


STACK_REFERENCE = "pulumi:pulumi:StackReference"

# The deploying identity, from the provider's client config: not a node of the graph.
CLIENT_CONFIG = "client-config"
SUBSCRIPTION = Ref(CLIENT_CONFIG, "subscription_id")
TENANT = Ref(CLIENT_CONFIG, "tenant_id")

# replace_on_changes for resources Azure cannot update at all.
ALL = ("*",)

Value: TypeAlias = Any  # a literal, Ref, Concat, Guid or Secret, or a dict or list of them


@dataclass(frozen=True)
class Node:
    """One resource to register: type token, logical name, inputs and options."""

    type: str
    name: str
    inputs: Mapping[str, Value] = field(default_factory=dict)
    parent: "Node | None" = None
    depends_on: tuple["Node", ...] = ()
    protect: bool = False
    # Properties Azure cannot update in place (engine names; "*" for all): a change
    # replaces the resource instead of failing mid-deployment.
    replace_on_changes: tuple[str, ...] = ()
    # With a fixed Azure name, the old resource must go before the new one of the same
    # name can be created (True). False: the new one first, even where azure-native would
    # delete first, so that Azure refuses the create rather than the data being deleted.
    # None: as azure-native decides.
    delete_before_replace: bool | None = None
    # Inputs whose changes are not applied (engine names): what Azure or another party
    # changes after creation, and a deployment must not undo.
    ignore_changes: tuple[str, ...] = ()
    component: bool = False
    # Former URN keys (type chain and name) of a resource moved or renamed after it was
    # deployed: Pulumi then keeps it instead of replacing it.
    aliases: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """Unique within a graph: the type chain and name, as in the resource's URN."""
        return f"{self.type_chain}::{self.name}"

    @property
    def type_chain(self) -> str:
        return f"{self.parent.type_chain}${self.type}" if self.parent else self.type

    def ref(self, attr: str, *items: str, named_by: str = "") -> Ref:
        return Ref(self.key, attr, items, named_by)


@dataclass
class Graph:
    """Nodes in registration order (parents and dependencies first) and stack outputs."""

    nodes: dict[str, Node] = field(default_factory=dict)
    outputs: dict[str, Value] = field(default_factory=dict)
    component_outputs: dict[str, Mapping[str, Value]] = field(default_factory=dict)

    def add(self, node: Node) -> Node:
        """Add a node after everything it needs: `deploy` registers in this order."""
        if node.key in self.nodes:
            raise ValueError(f"two resources would share the URN of {node.key}")
        needed = [n.key for n in (node.parent, *node.depends_on) if n is not None]
        needed += [r.node for r in references(node.inputs) if r.node != CLIENT_CONFIG]
        missing = [key for key in needed if key not in self.nodes]
        if missing:
            raise ValueError(f"{node.key} is added before {', '.join(missing)}")
        self.nodes[node.key] = node
        return node

    def finish(self, component: Node, outputs: Mapping[str, Value]) -> None:
        """Record what a component registers as its outputs once its children exist."""
        self.component_outputs[component.key] = outputs

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes.values())

    def with_secrets(self, texts: frozenset[str]) -> "Graph":
        """This graph with every value that carries one of these texts made a Secret,
        however a builder came by it: Pulumi says which config keys are secret, and their
        values flow into many inputs and outputs."""
        if not texts:
            return self
        hidden = Graph(outputs={k: _hide(v, texts) for k, v in self.outputs.items()})
        hidden.nodes = {key: replace(node, inputs=_hide(node.inputs, texts)) for key, node in self.nodes.items()}
        hidden.component_outputs = {k: _hide(v, texts) for k, v in self.component_outputs.items()}
        return hidden


def with_optional(base: Mapping[str, Value], **optional: Value) -> dict[str, Value]:
    """Inputs with the optional ones that are set: Azure treats absent and null alike,
    but a null in state would show as a change once the value is set."""
    return dict(base) | {k: v for k, v in optional.items() if v is not None}


def references(value: Value) -> Iterator[Ref]:
    """Every reference in a value (inputs, outputs)."""
    if isinstance(value, Ref):
        yield value
    elif isinstance(value, Secret):
        yield from references(value.value)
    elif isinstance(value, Concat):
        yield from references(list(value.parts))
    elif isinstance(value, Guid):
        yield from references([value.scope, value.principal])
    elif isinstance(value, Mapping):
        yield from references(list(value.values()))
    elif isinstance(value, list | tuple):
        for item in value:
            yield from references(item)


def _hide(value: Value, texts: frozenset[str]) -> Value:
    """A value with what carries a secret text made a Secret: the text itself, or the
    whole of a concatenation that includes it. A role-assignment GUID is a one-way hash
    of its parts and stays as it is."""
    if isinstance(value, str):
        return Secret(value) if value in texts else value
    if isinstance(value, Concat):
        parts = [_hide(p, texts) for p in value.parts]
        return Secret(value) if any(isinstance(p, Secret) for p in parts) else value
    if isinstance(value, Mapping):
        return {k: _hide(v, texts) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_hide(v, texts) for v in value)
    return value
