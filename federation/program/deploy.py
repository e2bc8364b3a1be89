"""Registers a resource graph with Pulumi: each node becomes its azure-native resource
(or a component), each reference an output of the resource it names."""

import functools
from collections.abc import Mapping
from typing import Any

import pulumi

from federation import config
from federation.config import naming
from federation.program import classes
from federation.program.graph import CLIENT_CONFIG, STACK_REFERENCE, Concat, Graph, Guid, Ref, Secret, Value


def deploy(graph: Graph) -> None:
    """Register every node in order, then the components' and the stack's outputs."""
    registrar = _Registrar()
    components: dict[str, pulumi.ComponentResource] = {}
    for node in graph:
        opts = pulumi.ResourceOptions(
            parent=registrar.registered[node.parent.key] if node.parent else None,
            depends_on=[registrar.registered[n.key] for n in node.depends_on],
            protect=node.protect,
            replace_on_changes=list(node.replace_on_changes) or None,
            delete_before_replace=node.delete_before_replace,
            ignore_changes=list(node.ignore_changes) or None,
            aliases=[f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::{key}" for key in node.aliases] or None,
        )
        if node.type == STACK_REFERENCE:
            registrar.registered[node.key] = pulumi.StackReference(node.name, node.inputs["name"], opts)
        elif node.component:
            components[node.key] = registrar.registered[node.key] = pulumi.ComponentResource(
                node.type, node.name, None, opts
            )
        else:
            registrar.registered[node.key] = classes.resource_class(node.type)(
                node.name, opts=opts, **registrar.resolve(node.inputs)
            )
    for key, outputs in graph.component_outputs.items():
        components[key].register_outputs(registrar.resolve(outputs))
    for name, value in graph.outputs.items():
        pulumi.export(name, registrar.resolve(value))


class _Registrar:
    """Resources registered so far, and how references to them become outputs."""

    def __init__(self) -> None:
        self.registered: dict[str, pulumi.Resource] = {}

    def resolve(self, value: Value) -> Any:
        if isinstance(value, Ref) and value.node == CLIENT_CONFIG:
            return getattr(self._client_config, value.attr)
        if isinstance(value, Ref):
            output: Any = functools.reduce(getattr, value.attr.split("."), self.registered[value.node])
            return output.apply(functools.partial(_lookup, value)) if value.items else output
        if isinstance(value, Secret):
            return pulumi.Output.secret(self.resolve(value.value))
        if isinstance(value, Concat):
            return pulumi.Output.concat(*(self.resolve(p) for p in value.parts))
        if isinstance(value, Guid):
            parts = pulumi.Output.all(self.resolve(value.scope), self.resolve(value.principal))
            return parts.apply(lambda p: naming.role_assignment(p[0], p[1], value.role))
        if isinstance(value, Mapping):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.resolve(v) for v in value]
        return value

    @functools.cached_property
    def _client_config(self) -> Any:
        # One invoke per run, and only if something needs the deploying identity.
        return classes.get_client_config_output()


def _lookup(ref: Ref, value: Any) -> Any:
    """Follow a stack reference's outputs, naming what is missing if the sender lacks it:
    under `pulumi up` the outputs are known only now (offline, `parse` checks them first)."""
    if ref.named_by:
        _, share, part, key = ref.items
        problem = config.unsent(
            ref.named_by,
            ref.node.rsplit("::", 1)[1],
            value,
            share,
            participant=key if part == "invitations" else None,
            dataset=key if part == "datasets" else None,
        )
        if problem:
            raise config.ConfigError([problem])
    for depth, key in enumerate(ref.items):
        if not isinstance(value, Mapping) or key not in value:
            path = ".".join(ref.items[: depth + 1])
            raise pulumi.RunError(f"{ref.node.rsplit('::', 1)[1]} has no output {path}")
        value = value[key]
    return value
