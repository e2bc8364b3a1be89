"""A JSON Schema of `Pulumi.<stack>.yaml`, generated from the config model, for editors that
complete keys and flag mistakes while typing (the YAML language server).

The schema checks what one key can say on its own: types, patterns, enums. Rules between
keys (a dataset's storage must be a storage key) stay in the config model.
"""

import json
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
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Pulumi stack file of the federation project",
        "type": "object",
        "properties": {"config": _walk(model)},
        "$defs": {name: _walk(schema) for name, schema in sorted(definitions.items())} | {"Secure": SECURE},
    }


def render() -> str:
    return json.dumps(generate(), indent=2, ensure_ascii=False) + "\n"


def _walk(schema: dict[str, Any]) -> dict[str, Any]:
    """Each subschema with pydantic's generated titles dropped (descriptions say more), maps
    closed to keys their pattern accepts, and strings also accepting a secure value."""
    found: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("properties", "patternProperties", "$defs"):
            found[key] = {name: _walk(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "propertyNames", "not") and isinstance(value, dict):
            found[key] = _walk(value)
        elif key in ("anyOf", "allOf", "oneOf"):
            found[key] = [_walk(sub) for sub in value]
        elif key != "title":
            found[key] = value
    if "patternProperties" in found:
        found.setdefault("additionalProperties", False)
    if found.get("type") == "string":
        outer = {k: found.pop(k) for k in ("description", "default") if k in found}
        return outer | {"anyOf": [found, {"$ref": "#/$defs/Secure"}]}
    return found
