"""What the program registers for a config, as tests compare it: every resource keyed by
its URN's type chain and name, with everything that decides what `pulumi up` does to it."""

import json
from collections.abc import Mapping
from typing import Any

from federation.config import stackfile
from federation.review import offline
from tests import strategies


def registered(config: Mapping[str, Any], stack_name: str = "test") -> offline.Run:
    """The program's run under mocks for a config in stack-file form (senders' outputs for
    any `from`); a config error raised as the program raises it."""
    result = offline.run(stackfile.config_values(config), stack_name, stacks=strategies.sender_outputs(dict(config)))
    if result.error is not None:
        raise result.error
    return result


def key(urn: str) -> str:
    """A URN's type chain and name: unique within a stack."""
    return urn.split("::", 2)[2]


def canonical(run: offline.Run) -> dict[str, Any]:
    """Per resource (by URN key): everything that decides what `pulumi up` does to it."""
    return {
        key(r.urn): {
            "type": r.type,
            "inputs": _plain(r.inputs),
            "parent": key(r.parent) if r.parent else None,
            "dependsOn": sorted(key(d) for d in r.depends_on),
            "protect": r.protect,
            "replaceOnChanges": list(r.replace_on_changes),
            "deleteBeforeReplace": r.delete_before_replace,
            "ignoreChanges": list(r.ignore_changes),
            "component": not r.custom,
        }
        for r in sorted(run.resources, key=lambda r: r.urn)
    }


def model(config: Mapping[str, Any], stack_name: str = "test") -> dict[str, Any]:
    return canonical(registered(config, stack_name))


def model_json(config: Mapping[str, Any]) -> str:
    return json.dumps(model(config), sort_keys=True)


def _plain(value: Any) -> Any:
    """Secrets spelt out as data, so models compare and serialise by value."""
    if isinstance(value, offline.Secret):
        return {"$secret": _plain(value.value)}
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
