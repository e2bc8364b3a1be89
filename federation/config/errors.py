"""Config problems as people read them: one line each, its key path, what is wrong and the
value found there (never a secret's), and what was meant where a key is misspelt."""

import difflib
import json
from collections.abc import Callable, Sized
from typing import Annotated, Any, get_args, get_origin

import pulumi
from pydantic import (
    BaseModel,
)
from pydantic.fields import FieldInfo

from federation.config.fields import (
    Known,
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


def describe(
    error: Any, root: type[BaseModel], secret_keys: frozenset[str] = frozenset(), known: Known | None = None
) -> str:
    """One line per problem: key path, what is wrong, and the value found there; under a
    key set with --secret, `[secret]` instead of the value, and no detail a library drew
    from it (email-validator quotes the characters it refuses). `known` says which keys
    are unset only because their namespace is misspelt."""
    loc = list(error["loc"])
    is_key = bool(loc) and loc[-1] == "[key]"  # pydantic marks a bad map key this way
    if is_key:
        loc.pop()
    path = _path(loc)
    secret = bool(loc) and loc[0] in secret_keys
    if error["type"] == "missing":
        pointer = known.pointer(str(loc[0])) if known and len(loc) == 1 else ""
        return f"{path}: is required but not set" + (f" ({pointer})" if pointer else "")
    got = "[secret]" if secret else show(error["input"])
    if error["type"] == "extra_forbidden":
        return f"{path}: is not a known key{_suggest(loc, root)}; got {got}"
    plain = _PLAIN.get(error["type"])
    message = plain(error, loc, root, secret) if plain else error["msg"].removeprefix("Value error, ")
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
    shape, _ = _expected(loc, root)
    if isinstance(shape, type) and issubclass(shape, BaseModel):
        return [f.alias or n for n, f in shape.model_fields.items()]
    return []


def _expected(loc: list[Any], root: type[BaseModel]) -> tuple[Any, FieldInfo | None]:
    """What the model expects at a location, following fields, maps, lists and optionals,
    and the field that declares it (None inside a map or list); (None, None) off the model."""
    shape: Any = root
    field: FieldInfo | None = None
    for part in loc:
        shape = _bare(shape)
        if isinstance(shape, type) and issubclass(shape, BaseModel):
            field = next((f for n, f in shape.model_fields.items() if (f.alias or n) == part), None)
            if field is None:
                return None, None
            shape = field.annotation
        elif get_origin(shape) is dict:
            shape, field = get_args(shape)[1], None
        elif get_origin(shape) is tuple and isinstance(part, int):
            shape, field = get_args(shape)[0], None
        else:
            return None, None
    return _bare(shape), field


def _bare(shape: Any) -> Any:
    """A type without `| None` and `Annotated` rules around it."""
    while True:
        inner = get_args(shape)[0] if get_origin(shape) is Annotated else unwrap(shape)
        if inner is shape:
            return shape
        shape = inner


# pydantic's own wording ("Input should be a valid dictionary or instance of Participant")
# speaks of Python; these say what to write in a stack file, by the kind of error.
Plain = Callable[[Any, list[Any], type[BaseModel], bool], str]

# What a model is called in a message, where its class name would not say it.
_NOUNS = {"Location": "dataset", "Storage": "storage entry", "Trigger": "schedule"}


def _map_of(error: Any, loc: list[Any], root: type[BaseModel], secret: bool) -> str:
    """A single value or a list where a model's map belongs. A key of that model in its
    place means the lines under an entry lost their indentation: `expires` one level up,
    beside the participants, instead of under its participant."""
    shape, _ = _expected(loc, root)
    keys = _keys_at(loc, root)
    noun = _NOUNS.get(shape.__name__, shape.__name__.lower()) if isinstance(shape, type) else "entry"
    what = f"a {noun}, a map of {', '.join(keys)}" if keys else "a map of keys to values"
    if error["input"] is None:
        return f"is empty: it must be {what} (are its keys indented under it?)"
    if loc and str(loc[-1]) in keys and not isinstance(error["input"], dict | list):
        return f"must be {what} (is `{loc[-1]}` indented under its {noun}?)"
    return f"must be {what}"


def _list_of(error: Any, loc: list[Any], root: type[BaseModel], secret: bool) -> str:
    """A list, shown with what was written made into one (`hospital-b` -> [hospital-b]),
    else with the field's own example."""
    written = error["input"]
    _, field = _expected(loc, root)
    if isinstance(written, str) and written.strip() and not secret:
        items = [item.strip() for item in written.split(",") if item.strip()]
    elif field is not None and field.examples:
        items = [str(item) for item in field.examples[0]]
    else:
        return "must be a list"
    return f"must be a list, such as [{', '.join(items)}]"


def _too_long(error: Any, loc: list[Any], root: type[BaseModel], secret: bool) -> str:
    found = error["input"]
    count = f"has {len(found)} entries" if isinstance(found, Sized) else "has too many entries"
    return f"{count}; at most {error['ctx']['max_length']}"


def _fixed(message: str) -> Plain:
    return lambda error, loc, root, secret: message.format(**error.get("ctx", {}))


_PLAIN: dict[str, Plain] = {
    "model_type": _map_of,
    "model_attributes_type": _map_of,
    "dict_type": _fixed("must be a map of keys to values"),
    "tuple_type": _list_of,
    "list_type": _list_of,
    "string_type": _fixed("must be text"),
    "bool_type": _fixed("must be true or false"),
    "int_type": _fixed("must be a whole number"),
    "literal_error": _fixed("must be {expected}"),
    "greater_than_equal": _fixed("must be at least {ge}"),
    "less_than_equal": _fixed("must be at most {le}"),
    "greater_than": _fixed("must be more than {gt}"),
    "less_than": _fixed("must be less than {lt}"),
    "too_long": _too_long,
    "too_short": _fixed("must have at least {min_length} entries"),
    "string_too_long": _fixed("must be at most {max_length} characters"),
    "string_too_short": _fixed("must be at least {min_length} characters"),
}
