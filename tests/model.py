"""The program's resource model as tests compare it: the graph `stack.build` makes for a
config, keyed by URN, and the same graph resolved against what mocks registered."""

import json
from collections.abc import Mapping
from typing import Any

from pydantic.alias_generators import to_camel

from federation import config as config_module
from federation.config import naming, stackfile
from federation.program import stack
from federation.program.graph import (
    CLIENT_CONFIG,
    SUBSCRIPTION,
    TENANT,
    Concat,
    Graph,
    Guid,
    Node,
    Ref,
    Secret,
    references,
)
from federation.review import offline

# Inputs whose value is a user map: their keys are data, not property names.
MAP_INPUTS = {"tags", "triggers"}


def build(config: Mapping[str, Any], stack_name: str = "test", secret_keys: frozenset[str] = frozenset()) -> Graph:
    return stack.build(config_module.parse(stackfile.config_values(config), stack_name, secret_keys))


def urn(node: Node | str, stack_name: str = "test") -> str:
    key = node.key if isinstance(node, Node) else node
    return f"urn:pulumi:{stack_name}::{stackfile.project_name()}::{key}"


def canonical(graph: Graph) -> dict[str, Any]:
    """Per resource (by URN key): everything that decides what `pulumi up` does to it."""
    return {
        node.key: {
            "type": node.type,
            "inputs": _plain(node.inputs),
            "parent": node.parent.key if node.parent else None,
            "dependsOn": sorted(n.key for n in node.depends_on),
            "protect": node.protect,
            "replaceOnChanges": list(node.replace_on_changes),
            "deleteBeforeReplace": node.delete_before_replace,
            "component": node.component,
        }
        for node in graph
    }


def model(config: Mapping[str, Any], stack_name: str = "test") -> dict[str, Any]:
    return canonical(build(config, stack_name))


def model_json(config: Mapping[str, Any]) -> str:
    return json.dumps(model(config), sort_keys=True)


def _plain(value: Any) -> Any:
    """References spelt out as data, so models compare and serialise by value."""
    if isinstance(value, Ref):
        return {"$ref": [value.node, value.attr, *value.items]}
    if isinstance(value, Concat):
        return {"$concat": _plain(list(value.parts))}
    if isinstance(value, Guid):
        return {"$guid": [_plain(value.scope), _plain(value.principal), value.role]}
    if isinstance(value, Secret):
        return {"$secret": _plain(value.value)}
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def engine_inputs(node: Node, registered: Mapping[str, offline.Registration]) -> dict[str, Any]:
    """A node's inputs as the engine receives them: property names in camelCase and every
    reference replaced by what the referenced resource returned."""
    return {to_camel(k): _resolved(v, registered, keep_keys=k in MAP_INPUTS) for k, v in node.inputs.items()}


def _resolved(value: Any, registered: Mapping[str, offline.Registration], keep_keys: bool = False) -> Any:
    if value == SUBSCRIPTION:
        return offline.SUBSCRIPTION_ID
    if value == TENANT:
        return offline.TENANT_ID
    if isinstance(value, Ref):
        source = registered[value.node]
        found: Any = source.id if value.attr == "id" else source.outputs
        if value.attr != "id":
            for part in value.attr.split("."):
                found = found[to_camel(part)]
        for item in value.items:
            found = found[item]
        return found
    if isinstance(value, Secret):
        return Secret(_resolved(value.value, registered, keep_keys))
    if isinstance(value, Concat):
        return "".join(_resolved(p, registered) for p in value.parts)
    if isinstance(value, Guid):
        return naming.role_assignment(
            _resolved(value.scope, registered), _resolved(value.principal, registered), value.role
        )
    if isinstance(value, Mapping):
        return {(k if keep_keys else to_camel(k)): _resolved(v, registered) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_resolved(v, registered) for v in value]
    return value


def referenced(node: Node) -> set[str]:
    """Keys of the nodes whose outputs this node's inputs use."""
    return {r.node for r in references(node.inputs) if r.node != CLIENT_CONFIG}
