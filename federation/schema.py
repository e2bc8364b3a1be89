"""A JSON Schema of `Pulumi.<stack>.yaml`, generated from the config model, for editors that
complete keys and flag mistakes while typing (the YAML language server).

The schema checks what one key can say on its own: types, patterns, enums. Rules between
keys (a dataset's storage must be a storage key) stay in the config model.
"""

import json
import re
from typing import Any

from federation import config

PATH = "schema/stack.schema.json"
SECURE = {
    "type": "object",
    "description": "An encrypted value, as `pulumi config set --secret` writes it.",
    "properties": {"secure": {"type": "string", "description": "The ciphertext; Pulumi decrypts it for the program."}},
    "required": ["secure"],
    "additionalProperties": False,
}


# What a number or boolean reads as where the model wants text (`pulumi config set --path`
# stores `1234` and `true` as such; the model takes them as "1234" and "true").
_AS_TEXT = {"number": "1234", "boolean": "true"}


def generate() -> dict[str, Any]:
    """The schema of a whole stack file: a `config:` map of the model's keys."""
    model = config.Config.model_json_schema(by_alias=True)
    definitions = model.pop("$defs")
    known = sorted(model["properties"])
    # The program fills these in when left out (the environment from the stack name).
    optional = {*config.defaults("unset"), f"{config.NAMESPACE}:environment"}
    model["required"] = [key for key in model["required"] if key not in optional]
    # Other namespaces' keys (azure-native:subscriptionId, pulumi:tags) are the engine's.
    del model["additionalProperties"]
    model["propertyNames"] = {"anyOf": [{"enum": known}, {"not": {"pattern": f"^{config.NAMESPACE}:"}}]}
    model["description"] = "Stack config; keys other than these federation:* ones are passed on unchecked."
    properties = model.pop("properties")
    walked = _walk(model) | {
        "properties": {key: _walk(sub, secure=key not in config.NEVER_SECRET) for key, sub in properties.items()}
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Pulumi stack file of the federation project",
        "type": "object",
        "properties": {"config": walked},
        "$defs": {name: _walk(schema) for name, schema in sorted(definitions.items())} | {"Secure": SECURE},
    }


def render() -> str:
    return json.dumps(generate(), indent=2, ensure_ascii=False) + "\n"


def _walk(schema: dict[str, Any], secure: bool = True) -> dict[str, Any]:
    """Each subschema with pydantic's generated titles dropped (descriptions say more), maps
    closed to keys their pattern accepts, and text also taken as a number or boolean where
    the model takes it so, and as a secure value (unless `secure` is off: a key the
    program refuses as a secret)."""
    found: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("properties", "patternProperties", "$defs"):
            found[key] = {name: _walk(sub, secure) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
            found[key] = _walk(value, secure)
        elif key in ("anyOf", "allOf", "oneOf"):
            found[key] = [_walk(sub, secure) for sub in value]
        elif key != "title":
            found[key] = value
    if "patternProperties" in found:
        found.setdefault("additionalProperties", False)
    if found.get("type") != "string":
        return found
    outer = {k: found.pop(k) for k in ("description", "default") if k in found}
    branches = [found, *_as_text(found)] + ([{"$ref": "#/$defs/Secure"}] if secure else [])
    return outer | ({"anyOf": branches} if len(branches) > 1 else found)


def _as_text(text: dict[str, Any]) -> list[dict[str, Any]]:
    """The number and boolean forms the model reads as this text: not for an enum or an
    email (those it takes only as text), nor where the text's pattern refuses what they read as."""
    if {"enum", "const", "format"} & text.keys():
        return []
    pattern = text.get("pattern")
    kinds = [k for k, sample in _AS_TEXT.items() if pattern is None or re.search(pattern, sample)]
    return [{"type": kinds}] if kinds else []
