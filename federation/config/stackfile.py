"""Reading a stack file (`Pulumi.<stack>.yaml`) as the Pulumi CLI reads it, whatever a
pull request puts in it: its config, or one line saying why it cannot be read, in bounded
time and memory.

The Pulumi CLI reads stack files with Go's yaml.v3, so this reader follows the YAML 1.2
core schema as yaml.v3 does (`yes`, `on` and `12:30` are text; times stay text), refuses
what yaml.v3 refuses (a key set twice), and refuses what no stack file needs and what
would not end (alias expansion past a bound, nesting past a bound, tags that are not data).
"""

import difflib
import functools
import hashlib
import json
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml import nodes

from federation.config.fields import NAMESPACE

# The project: where its Pulumi.yaml and __main__.py are.
PROJECT_DIR = Path(__file__).resolve().parents[2]

# Far above any real stack file (the documented maxima take about 3 MB), far below harm.
MAX_BYTES = 16 * 1024 * 1024
# Values after alias expansion: a document may reuse a node, not multiply the data.
MAX_VALUES = 1_000_000
# Nesting levels: a stack file needs about eight.
MAX_DEPTH = 64

_PLAIN_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:merge",
}


class StackFileError(Exception):
    """A stack file that cannot be read, said in one line."""


@dataclass(frozen=True)
class Secure:
    """A value `pulumi config set --secret` stored: ciphertext only the backend can open."""

    ciphertext: str


def read_bytes(path: Path, shown: str | None = None) -> bytes:
    """A file's bytes, refusing what is too large to be a stack file."""
    shown = shown or show_name(str(path))
    try:
        with path.open("rb") as file:
            data = file.read(MAX_BYTES + 1)
    except OSError as error:
        raise StackFileError(f"cannot read {shown}: {error.strerror or error}") from None
    if len(data) > MAX_BYTES:
        raise StackFileError(f"{shown} is larger than {MAX_BYTES // 1024 // 1024} MB: not a stack file")
    return data


def parse(data: bytes, shown: str) -> dict[str, Any]:
    """A stack file's `config:` map, keys as written, values as plain data (with `Secure`
    where a value is encrypted)."""
    return _document(data, shown).get("config") or {}


def _document(data: bytes, shown: str) -> dict[str, Any]:
    """The whole stack file, checked as the Pulumi CLI would read it."""
    if len(data) > MAX_BYTES:
        raise StackFileError(f"{shown} is larger than {MAX_BYTES // 1024 // 1024} MB: not a stack file")
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        raise StackFileError(
            f"{shown} is not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start}); save it as UTF-8"
        ) from None
    try:
        loader = _Loader(text)  # checks the characters first
    except yaml.YAMLError as error:
        raise StackFileError(_not_yaml(error, text, shown)) from None
    try:
        root = loader.get_single_node()
        if root is None:
            return {}
        _check(root, shown)
        document = loader.construct_document(root)
    except yaml.YAMLError as error:
        raise StackFileError(_not_yaml(error, text, shown)) from None
    except RecursionError:
        raise StackFileError(f"{shown} is nested too deeply to be a stack file") from None
    finally:
        loader.dispose()
    if not isinstance(document, dict):
        raise StackFileError(f"{shown} must be a mapping with a config: key; got {_kind(document)}")
    config = document.get("config")
    if config is not None and not isinstance(config, dict):
        raise StackFileError(f"{shown}: config: must be a mapping of keys to values; got {_kind(config)}")
    outside = [key for key in document if key not in STACK_FILE_KEYS]
    if outside:
        raise StackFileError(_outside(shown, document, outside))
    return document


def environments(document: Mapping[str, Any]) -> tuple[str, ...]:
    """The Pulumi ESC environments a stack file imports: its `environment:` list, or the
    `imports:` of an environment written inline. Their `pulumiConfig` becomes stack config
    when the Pulumi CLI opens them, which needs Pulumi Cloud; offline they are unread."""
    found = document.get("environment")
    if found is None:
        return ()
    if isinstance(found, dict):
        imports = found.get("imports") or []
        names = [i if isinstance(i, str) else next(iter(i), "?") for i in imports if isinstance(i, str | dict)]
        return (*names, *(["(the environment written inline)"] if found.get("values") else []))
    if isinstance(found, list):
        return tuple(str(name) for name in found)
    return (str(found),)


def unread_environments(shown: str, names: tuple[str, ...]) -> str:
    """Says which imported environments a review did not read, and how to read them."""
    what = "environment" if len(names) == 1 else "environments"
    return (
        f"{shown} imports the Pulumi ESC {what} {', '.join(names)}, not read offline: the values "
        f"{'it gives' if len(names) == 1 else 'they give'} are missing here; to review with them, pass "
        "`--config-json -` from `pulumi config --json --show-secrets`, which opens them"
    )


def _not_yaml(error: yaml.YAMLError, text: str, shown: str) -> str:
    """What PyYAML found wrong, where an editor jumps to it (FILE:LINE:COLUMN), with the line
    it is on: PyYAML's own message names the text "<unicode string>" and spans lines."""
    mark = (error.problem_mark or error.context_mark) if isinstance(error, yaml.MarkedYAMLError) else None
    if isinstance(error, yaml.MarkedYAMLError) and mark is not None:
        line, column = mark.line, mark.column
        what = error.problem or error.context or "not valid YAML"
        hint = next((hint for start, hint in _YAML_HINTS.items() if what.startswith(start)), None)
        if what.startswith("but ") and error.context:  # "expected a single document", "but found another"
            what = f"{error.context}, {what}"
        elif hint:
            what += f" ({hint})"
        elif error.problem and error.context and error.context_mark:
            what += f" ({error.context} from line {error.context_mark.line + 1})"
    elif isinstance(error, yaml.reader.ReaderError):
        line = text.count("\n", 0, error.position)
        column = error.position - (text.rfind("\n", 0, error.position) + 1)
        what = f"the character {chr(error.character)!r} is not allowed in YAML"
    else:
        return f"{shown} is not valid YAML: {' '.join(str(error).split())}"
    lines = text.splitlines()
    # At the end of the file the line is empty: the one the problem started on says more.
    if (line >= len(lines) or not lines[line].strip()) and isinstance(error, yaml.MarkedYAMLError):
        line = error.context_mark.line if error.context_mark else len(lines) - 1
        column = error.context_mark.column if error.context_mark else 0
    quoted = lines[line] if 0 <= line < len(lines) else ""
    what = " ".join(what.split())
    return f"{shown}:{line + 1}:{column + 1}: not valid YAML: {what}; line {line + 1} reads {show_name(quoted, 100)!r}"


# PyYAML's words for the mistakes hand-written stack files make most, and what they mean there.
_YAML_HINTS = {
    "mapping values are not allowed here": "a `key:` where a value belongs: quote a value holding ': ', or is "
    "the line indented deeper than its siblings?",
    "found character '\\t' that cannot start any token": "YAML indents with spaces, not tabs",
    "expected <block end>": "is the line indented differently from the keys beside it?",
}


# What a stack file holds besides `config:`, as the Pulumi CLI reads it (its ProjectStack);
# it passes over any other key without a word.
STACK_FILE_KEYS = ("config", "environment", "secretsprovider", "encryptedkey", "encryptionsalt")


def _outside(shown: str, document: dict[str, Any], outside: list[str]) -> str:
    """Keys beside `config:` instead of under it, which the Pulumi CLI would pass over:
    config written without `config:`, under a misspelling of it, or indented too little."""
    names = ", ".join(k if k and k.isprintable() else repr(k) for k in (show_name(k, 40) for k in outside[:5]))
    names += ", …" if len(outside) > 5 else ""
    many = len(outside) > 1
    near = difflib.get_close_matches("config", outside, n=1)
    if document.get("config"):
        return (
            f"{shown}: {names} {'sit' if many else 'sits'} at the top level, outside `config:`, where the Pulumi CLI "
            f"passes over {'them' if many else 'it'}: indent {'them' if many else 'it'} under `config:`"
        )
    if near and isinstance(document[near[0]], dict):
        n = len(document[near[0]])
        return (
            f"{shown}: `config:` is empty; {n} key{'s sit' if n != 1 else ' sits'} under `{near[0]}:` instead: "
            "did you mean `config:`?"
        )
    n = len(outside)
    return (
        f"{shown}: `config:` is empty; {n} key{'s sit' if many else ' sits'} at the top level ({names}): "
        f"indent {'them' if many else 'it'} under `config:`"
    )


def show_name(name: str, limit: int = 120) -> str:
    """A file name fit for a one-line message."""
    return name if len(name) <= limit else f"{name[: limit // 2]}…{name[-limit // 2 :]}"


def _kind(value: Any) -> str:
    return {list: "a list", str: "text", bool: "a boolean", int: "a number", float: "a number"}.get(
        type(value), "nothing" if value is None else type(value).__name__
    )


class _Loader(yaml.SafeLoader):
    """YAML 1.2 core schema, as yaml.v3 resolves plain scalars; `{secure: ...}` as `Secure`."""

    def construct_mapping(self, node: nodes.MappingNode, deep: bool = False) -> dict[Any, Any]:
        self.flatten_mapping(node)
        # Keys as the CLI keeps them: text (yaml.v3 decodes `2026:` into the key "2026"),
        # made text before they meet in a dict, where 1 and true would be one key.
        mapping = {
            _key_text(self.construct_object(key, deep=True)): self.construct_object(value, deep=True)
            for key, value in node.value
        }
        if set(mapping) == {"secure"} and isinstance(mapping["secure"], str):
            return Secure(mapping["secure"])  # type: ignore[return-value]
        return mapping

    def construct_yaml_int(self, node: nodes.ScalarNode) -> Any:
        """yaml.v3: an int within 64 bits, else a finite float, else the text as written;
        a leading 0 is octal (`017` is 15), as `0o17` is."""
        text = str(self.construct_scalar(node)).replace("_", "")
        digits = text.lstrip("+-")
        if len(digits) <= 20:
            if digits[:2].lower() in ("0x", "0o"):
                value = int(text, 0)
            elif len(digits) > 1 and digits.startswith("0") and set(digits) <= set("01234567"):
                value = int(text, 8)
            else:
                value = int(text)
            if -(2**63) <= value < 2**64:
                return value
        try:
            number = float(text)
        except ValueError:
            return text
        return number if number not in (float("inf"), float("-inf")) else text

    def construct_yaml_float(self, node: nodes.ScalarNode) -> Any:
        number = float(str(self.construct_scalar(node)).replace("_", ""))
        return number if number not in (float("inf"), float("-inf")) else str(self.construct_scalar(node))


_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _Loader.construct_yaml_float)
# The YAML 1.2 core schema's plain scalars (yaml.v3 reads stack files so); everything
# else, times included, is text.
_Loader.yaml_implicit_resolvers = {}
# What each scalar tag takes, as yaml.v3 reads it: a plain scalar of this form gets the
# tag, and a scalar tagged explicitly (`!!bool yes`) must have this form.
_SCALARS = {
    "tag:yaml.org,2002:bool": re.compile(r"true|True|TRUE|false|False|FALSE"),
    "tag:yaml.org,2002:int": re.compile(r"[-+]?[0-9][0-9_]*|0o[0-7_]+|0x[0-9a-fA-F_]+"),
    "tag:yaml.org,2002:float": re.compile(
        r"[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"
    ),
    "tag:yaml.org,2002:null": re.compile(r"~|null|Null|NULL|"),
}
# NaN and the infinities: yaml.v3 reads them, then the Pulumi CLI refuses the file
# ("json: unsupported value: NaN").
_NOT_FINITE = re.compile(r"[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)")
for _tag, _pattern, _first in (
    ("bool", _SCALARS["tag:yaml.org,2002:bool"].pattern, "tTfF"),
    ("int", _SCALARS["tag:yaml.org,2002:int"].pattern, "-+0123456789"),
    ("float", _SCALARS["tag:yaml.org,2002:float"].pattern, "-+.0123456789"),
    ("null", r"~|null|Null|NULL|", "~nN"),
    ("merge", r"<<", "<"),
):
    _Loader.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(f"^(?:{_pattern})$"), list(_first) or None)
_Loader.add_implicit_resolver("tag:yaml.org,2002:null", re.compile("^$"), [""])


def _key_text(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    return "null" if key is None else str(key)


def _check(root: nodes.Node, shown: str) -> None:
    """Refuse, before building anything, what would not end or is not data: cycles, alias
    expansion and nesting past the bounds, tags other than plain data, keys set twice."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[nodes.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in size:
            continue
        children = list(_children(node))
        if done:
            on_path.discard(id(node))
            size[id(node)] = 1 + sum(size[id(c)] for c in children)
            depth[id(node)] = 1 + max((depth[id(c)] for c in children), default=0)
            if size[id(node)] > MAX_VALUES:
                raise StackFileError(f"{shown}: aliases expand it past {MAX_VALUES:,} values (line {_line(node)})")
            if depth[id(node)] > MAX_DEPTH:
                raise StackFileError(f"{shown}: nested deeper than {MAX_DEPTH} levels (line {_line(node)})")
            continue
        if id(node) in on_path:
            raise StackFileError(f"{shown}: an alias refers to the value containing it (line {_line(node)})")
        if node.tag not in _PLAIN_TAGS:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            raise StackFileError(
                f"{shown}: line {_line(node)}: the tag {tag} is not plain data "
                "(text, numbers, booleans, lists and maps)"
            )
        _check_scalar(node, shown)
        if isinstance(node, nodes.MappingNode):
            _distinct_keys(node, shown)
        on_path.add(id(node))
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in size)
        for child in children:
            if id(child) in on_path:
                raise StackFileError(f"{shown}: an alias refers to the value containing it (line {_line(child)})")


def _check_scalar(node: nodes.Node, shown: str) -> None:
    """A value its tag cannot hold, as yaml.v3 refuses it (`!!bool yes`, `!!int 1.5`, a
    map tagged as text), and NaN or an infinity, which the Pulumi CLI refuses."""
    tag = node.tag.replace("tag:yaml.org,2002:", "!!")
    collection = node.tag in ("tag:yaml.org,2002:seq", "tag:yaml.org,2002:map")
    if isinstance(node, nodes.ScalarNode) == collection and node.tag != "tag:yaml.org,2002:merge":
        what = "a single value" if isinstance(node, nodes.ScalarNode) else "a list or map"
        raise StackFileError(f"{shown}: line {_line(node)}: the tag {tag} cannot hold {what}")
    if not isinstance(node, nodes.ScalarNode):
        return
    pattern = _SCALARS.get(node.tag)
    value = show_name(str(node.value), 40)
    if pattern is not None and not pattern.fullmatch(node.value):
        raise StackFileError(f"{shown}: line {_line(node)}: {tag} cannot hold {value!r}")
    if node.tag == "tag:yaml.org,2002:float" and _NOT_FINITE.fullmatch(node.value):
        raise StackFileError(
            f"{shown}: line {_line(node)}: {value} is not a number a stack file can hold: the Pulumi CLI refuses "
            "NaN and infinities"
        )


def _children(node: nodes.Node) -> Iterator[nodes.Node]:
    if isinstance(node, nodes.SequenceNode):
        yield from node.value
    elif isinstance(node, nodes.MappingNode):
        for key, value in node.value:
            yield key
            yield value


def _distinct_keys(node: nodes.MappingNode, shown: str) -> None:
    """yaml.v3, and so the Pulumi CLI, refuses a mapping that sets a key twice."""
    seen: dict[str, nodes.Node] = {}
    for key, _ in node.value:
        if key.tag == "tag:yaml.org,2002:merge":
            continue
        if not isinstance(key, nodes.ScalarNode):
            raise StackFileError(f"{shown}: line {_line(key)}: a key must be text, not a list or map")
        if key.value in seen:
            raise StackFileError(
                f"{shown}: line {_line(key)}: the key {show_name(key.value, 60)!r} is set twice "
                f"(first on line {_line(seen[key.value])}); the Pulumi CLI refuses the file"
            )
        seen[key.value] = key


def _line(node: nodes.Node) -> int:
    return int(node.start_mark.line) + 1


def stand_in(field: str, ciphertext: str) -> str:
    """A value standing in for a secret that cannot be decrypted here (offline): valid for
    the field it sits in, and one per ciphertext, so a changed secret shows as a change."""
    digest = hashlib.sha256(ciphertext.encode()).hexdigest()
    guid = str(uuid.UUID(digest[:32]))
    text = f"s{digest[:12]}"  # a valid name, key, container, region and path
    # A time of day from the digest too, so that no plain time is mistaken for a stand-in.
    seconds = int(digest[:8], 16) % 86400
    time = f"2099-12-31T{seconds // 3600:02}:{seconds // 60 % 60:02}:{seconds % 60:02}Z"
    return {
        "email": f"secret-{digest[:12]}@secret.example",
        "tenantId": guid,
        "objectId": guid,
        "invitationId": guid,
        "id": f"/subscriptions/{guid}/resourceGroups/rg-{text}/providers/Microsoft.Storage/storageAccounts/{text}",
        "expires": time,
        "start": time,
    }.get(field, text)


@dataclass(frozen=True)
class StackFile:
    project: str
    stack: str
    config: dict[str, str]
    # Keys holding a `secure:` value: the CLI reports them to the program as secret.
    secret_keys: frozenset[str] = frozenset()
    # What the CLI would take without a word but the program cannot: reported as config problems.
    problems: tuple[str, ...] = ()
    # The stand-ins in `config` for secure values: what a run offline cannot know.
    stand_ins: frozenset[str] = frozenset()
    # Pulumi ESC environments it imports, whose values a run offline does not have.
    environments: tuple[str, ...] = ()


def read_stack_file(path: Path | str, data: bytes | str | None = None) -> StackFile:
    """Pulumi.<stack>.yaml as the CLI hands it to a program: keys namespaced, values as
    strings, structured values as JSON, secure values as stand-ins. Raises
    `stackfile.StackFileError` for a file the CLI could not read either."""
    path = Path(path)
    shown = show_name(str(path))
    if data is None:
        data = read_bytes(path, shown)
    whole = _document(data.encode() if isinstance(data, str) else data, shown)
    document = whole.get("config") or {}
    stack = path.name.removeprefix("Pulumi.").removesuffix(".yaml").removesuffix(".yml")
    problems = _collisions(document) + _nulls(document) + _secret_ids(document)
    return StackFile(
        project_name(),
        stack,
        config_values(document),
        secret_keys(document),
        problems,
        stand_ins(document),
        environments(whole),
    )


def config_values(config: Mapping[str, Any]) -> dict[str, str]:
    """A stack file's `config:` map as Pulumi passes it to the program; a secure value,
    which only the backend can decrypt, as a stand-in valid where it sits."""
    values = {_namespaced(key): _revealed(value, key.rpartition(":")[2]) for key, value in config.items()}
    return {key: value if isinstance(value, str) else json.dumps(value) for key, value in values.items()}


def secret_keys(config: Mapping[str, Any]) -> frozenset[str]:
    """Keys with a secure value anywhere in them: Pulumi marks the whole key secret."""
    return frozenset(_namespaced(key) for key, value in config.items() if _has_secure(value))


def _namespaced(key: str) -> str:
    return key if ":" in key else f"{project_name()}:{key}"


def _collisions(config: Mapping[str, Any]) -> tuple[str, ...]:
    """A bare key and its namespaced spelling are one key to the CLI, which keeps either
    one without a word (Go map order): refuse the pair."""
    spelt: dict[str, list[str]] = {}
    for key in config:
        spelt.setdefault(_namespaced(key), []).append(key)
    return tuple(
        f"{key}: is set twice, as {' and as '.join(repr(k) for k in keys)}; keep one"
        for key, keys in sorted(spelt.items())
        if len(keys) > 1
    )


def _nulls(config: Mapping[str, Any]) -> tuple[str, ...]:
    """An empty key (`location:` with nothing after it) reaches the program as the text
    "null", which no key means: refuse it."""
    return tuple(
        f"{_namespaced(key)}: is empty (null); give it a value or leave the key out"
        for key, value in config.items()
        if value is None
    )


def _secret_ids(config: Mapping[str, Any]) -> tuple[str, ...]:
    """A storage account's name or id is part of every resource id on it, which Pulumi keeps
    in plain text: a secure one would be secret in name only."""
    storage = config.get(f"{NAMESPACE}:storage", config.get("storage"))
    entries = storage.items() if isinstance(storage, Mapping) else ()
    return tuple(
        f"{NAMESPACE}:storage.{key}.{field}: cannot be a secret: it is part of resource ids, "
        "which Pulumi keeps in plain text"
        for key, entry in entries
        if isinstance(entry, Mapping)
        for field in ("name", "id")
        if isinstance(entry.get(field), Secure)
    )


def _revealed(value: Any, field: str) -> Any:
    if isinstance(value, Secure):
        return stand_in(field, value.ciphertext)
    if isinstance(value, dict):
        return {k: _revealed(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_revealed(v, field) for v in value]
    return value


def stand_ins(config: Mapping[str, Any]) -> frozenset[str]:
    """The stand-ins `config_values` puts where a stack file's `config:` map has secure values."""
    found: set[str] = set()

    def walk(value: Any, field: str) -> None:
        if isinstance(value, Secure):
            found.add(stand_in(field, value.ciphertext))
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(item, key)
        elif isinstance(value, list):
            for item in value:
                walk(item, field)

    for key, value in config.items():
        walk(value, key.rpartition(":")[2])
    return frozenset(found)


def _has_secure(value: Any) -> bool:
    if isinstance(value, Secure):
        return True
    if isinstance(value, dict):
        return any(_has_secure(v) for v in value.values())
    return isinstance(value, list) and any(_has_secure(v) for v in value)


def project_dir(start: Path | None = None) -> Path:
    """Where stack files are, as the Pulumi CLI finds its project: the nearest directory
    from `start` (the working directory) up that holds a Pulumi.yaml; else this program's."""
    here = (start or Path.cwd()).resolve()
    return next((d for d in (here, *here.parents) if (d / "Pulumi.yaml").is_file()), PROJECT_DIR)


def stack_file_path(stack: str, start: Path | None = None) -> Path:
    return project_dir(start) / f"Pulumi.{stack}.yaml"


@functools.cache
def project_name() -> str:
    return str(yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())["name"])


def referenced_stacks(config: Mapping[str, str]) -> dict[str, list[str]]:
    """Stacks named by `from` in subscriptions, each with the subscriptions naming it: the
    stand-in backend must know them before the run starts (Pulumi's runtime state is
    global, so runs cannot nest)."""
    try:
        subscriptions = json.loads(config.get(f"{project_name()}:subscriptions", "{}"))
        named: dict[str, list[str]] = {}
        for key, entry in subscriptions.items():
            stack = entry.get("from", {}).get("stack")
            if isinstance(stack, str):
                named.setdefault(stack, []).append(key)
        return named
    except (ValueError, AttributeError, TypeError, RecursionError):
        return {}  # the program reports malformed config itself


def sibling_file(stack: str) -> Path | None:
    """The stack file of a stack of this project (`silo-a`, `federation/silo-a` or
    `org/federation/silo-a`) if it is here."""
    *_, project, name = ["", *stack.split("/")]
    path = stack_file_path(name)
    try:
        return path if project in ("", project_name()) and path.is_file() else None
    except OSError:  # a name too long for the file system is no file here
        return None
