"""Config problems as people read them: one line each, its key path, what is wrong and the
value found there (never a secret's), and what was meant where a key is misspelt."""

import difflib
import json
from typing import Any, get_args, get_origin

import pulumi
from pydantic import (
    BaseModel,
)

from federation.config.fields import (
    unwrap,
)


class ConfigError(pulumi.RunError):
    """Every problem of a stack config, each as `key path: message; got value`."""

    def __init__(self, problems: list[str]) -> None:
        # A control character in a key or value would break the one-line-per-problem form.
        self.problems = ["".join(c if c.isprintable() else repr(c)[1:-1] for c in p) for p in problems]
        problems = self.problems
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(f"{len(problems)} {noun} in stack config:\n" + "\n".join(f"  {p}" for p in problems))


def describe(error: Any, root: type[BaseModel], secret_keys: frozenset[str] = frozenset()) -> str:
    """One line per problem: key path, what is wrong, and the value found there; under a
    key set with --secret, `[secret]` instead of the value, and no detail a library drew
    from it (email-validator quotes the characters it refuses)."""
    loc = list(error["loc"])
    is_key = bool(loc) and loc[-1] == "[key]"  # pydantic marks a bad map key this way
    if is_key:
        loc.pop()
    path = _path(loc)
    secret = bool(loc) and loc[0] in secret_keys
    if error["type"] == "missing":
        return f"{path}: is required but not set"
    got = "[secret]" if secret else show(error["input"])
    if error["type"] == "extra_forbidden":
        return f"{path}: is not a known key{_suggest(loc, root)}; got {got}"
    message = error["msg"].removeprefix("Value error, ")
    if secret and error["type"] == "value_error":
        message = message.partition(":")[0]
    if is_key:
        # Keys are plain text in the stack file even under a secret key.
        return f"{path}: key {message}; got {show(loc[-1])}"
    return f"{path}: {message}; got {got}"


def _path(loc: list[Any]) -> str:
    if not loc:
        return "stack config"
    head, *rest = loc
    # An empty key, or one with a line break or other control character, is quoted.
    return str(head) + "".join(
        f"[{part}]" if isinstance(part, int) else f"[{part!r}]" if _needs_quotes(str(part)) else f".{part}"
        for part in rest
    )


def _needs_quotes(key: str) -> bool:
    return not key or not key.isprintable()


def show(value: Any, limit: int = 200) -> str:
    shown = repr(value) if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    # One line a person can read, whatever was pasted into the value.
    return shown if len(shown) <= limit else f"{shown[: limit - 30]}…{shown[-20:]} ({len(shown):,} characters)"


def _suggest(loc: list[Any], root: type[BaseModel]) -> str:
    """' (did you mean X?)' for a misspelt key, from the model's own field names."""
    known = _keys_at(loc[:-1], root)
    close = difflib.get_close_matches(str(loc[-1]), known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(sorted(known))})" if known else ""


def _keys_at(loc: list[Any], root: type[BaseModel]) -> list[str]:
    """The keys the model accepts at a location, following fields, maps and optionals."""
    shape: Any = root
    for part in loc:
        shape = unwrap(shape)
        if isinstance(shape, type) and issubclass(shape, BaseModel):
            field = next((f for n, f in shape.model_fields.items() if (f.alias or n) == part), None)
            if field is None:
                return []
            shape = field.annotation
        elif get_origin(shape) is dict:
            shape = get_args(shape)[1]
        else:
            return []
    shape = unwrap(shape)
    if isinstance(shape, type) and issubclass(shape, BaseModel):
        return [f.alias or n for n, f in shape.model_fields.items()]
    return []
