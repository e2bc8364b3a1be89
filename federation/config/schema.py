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
    # Other namespaces' keys (azure-native:subscriptionId, pulumi:tags) are the provider's and
    # the engine's, but not one whose namespace is a misspelling of theirs or the program's:
    # no one would read it.
    del model["additionalProperties"]
    model["propertyNames"] = {
        "anyOf": [{"enum": known}, {"not": {"pattern": f"^{config.NAMESPACE}:"}}],
        "not": {"pattern": misspelt_namespace()},
        # In words, where a checker would show the pattern above.
        "errorMessage": f"its namespace looks like a misspelling of {', '.join(config.WATCHED[:-1])} or "
        f"{config.WATCHED[-1]}: no one would read the key",
    }
    model["description"] = (
        "Stack config; keys other than these federation:* ones are passed on unchecked, but for a namespace "
        f"that looks like a misspelling of {', '.join(map(repr, config.WATCHED))} (no one would read the key)."
    )
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


def misspelt_namespace() -> str:
    """A pattern for keys whose namespace `config.misspelt` takes for a misspelling: every
    spelling within `config.TYPO_DISTANCE` edits of a watched namespace (the program's, the
    provider's, the engine's; case aside), other than those themselves, as a trie of
    alternatives (JSON Schema patterns have no flags)."""
    spellings: set[tuple[str, ...]] = {tuple(namespace) for namespace in config.WATCHED}
    for _ in range(config.TYPO_DISTANCE):
        spellings |= {edited for spelling in spellings for edited in _edits(spelling)}
    trie: dict[str, Any] = {}
    for spelling in spellings:
        node = trie
        for char in (*spelling, ":"):
            node = node.setdefault(char, {})
    exact = "|".join(re.escape(namespace) for namespace in config.WATCHED)
    return f"^(?!(?:{exact}):){_alternatives(trie)}"


_ANY = ""  # stands for any one character of a namespace


def _edits(spelling: tuple[str, ...]) -> set[tuple[str, ...]]:
    """Each spelling one insertion, deletion or replacement away, with `_ANY` for a character."""
    found = set()
    for i in range(len(spelling) + 1):
        found.add((*spelling[:i], _ANY, *spelling[i:]))
        if i < len(spelling):
            found.add(spelling[:i] + spelling[i + 1 :])
            found.add((*spelling[:i], _ANY, *spelling[i + 1 :]))
    return found


def _alternatives(trie: dict[str, Any]) -> str:
    branches = [_char(char) + _alternatives(rest) for char, rest in sorted(trie.items())]
    return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")" if branches else ""


def _char(char: str) -> str:
    if char == _ANY:
        return "[^:]"
    return f"[{char}{char.upper()}]" if char.isalpha() else re.escape(char)
