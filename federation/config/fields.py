"""The building blocks of the config model: text types that follow Azure's naming rules,
times and addresses as Azure takes them, the base model, and what the rest of the config
declares (the validation context), so references are checked in the same pass."""

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    ValidationInfo,
)
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from federation.config import naming

NAMESPACE = "federation"
PROVIDER = "azure-native"
LOCATION_KEY = f"{PROVIDER}:location"


@dataclass(frozen=True)
class Named:
    """A string that must follow a naming rule; its JSON schema carries the rule as a pattern,
    and in words for editors to show instead of the pattern (`patternErrorMessage`, which
    VS Code and the YAML language server read)."""

    rule: naming.Rule

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return handler(schema) | {"pattern": self.rule.ecma, "patternErrorMessage": f"must be {self.rule.says}"}

    def _check(self, value: str) -> str:
        if not self.rule.accepts(value):
            raise PydanticCustomError("name", "must be {says}", {"says": self.rule.says})
        return value


@dataclass(frozen=True)
class Limits:
    """Bounds a validator enforces with its own message, also said in the JSON schema
    (`minProperties`, `maxItems`...), so editors flag them while typing."""

    keywords: tuple[tuple[str, int], ...]  # hashable, as typing requires of Annotated metadata

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return handler(schema) | dict(self.keywords)


def limits(**keywords: int) -> Limits:
    return Limits(tuple(keywords.items()))


def _rfc3339(value: Any) -> str:
    """A time as Azure stores it: in UTC, in one spelling, so the same time never diffs."""
    if not isinstance(value, str) or not naming.TIME.accepts(value):
        raise PydanticCustomError("time", "must be {says}", {"says": naming.TIME.says})
    try:
        # RFC 3339 allows a lower-case t and z; Python reads only upper case.
        utc = datetime.fromisoformat(value.upper()).astimezone(UTC)
    except ValueError as error:  # a date that does not exist, such as 2026-02-30
        raise PydanticCustomError("time", "is not a real time: {error}", {"error": str(error)}) from None
    except OverflowError:  # past year 9999 or before year 1 once in UTC
        utc = None
    if utc is None or not naming.FIRST_YEAR <= utc.year <= naming.LAST_YEAR:
        raise PydanticCustomError(
            "time",
            "must be in UTC between {first}-01-01T00:00:00Z and {last}-12-31T23:59:59Z",
            {"first": naming.FIRST_YEAR, "last": naming.LAST_YEAR},
        )
    # isoformat, not strftime: %Y is not zero-padded on every platform.
    return utc.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def _ip_rule(value: Any) -> str:
    """An address or range as Azure storage takes it in an IP rule: public IPv4 only, and
    a /31 or /32 range only as its single addresses (Azure refuses those prefixes)."""
    try:
        network = ipaddress.ip_network(value, strict=True) if isinstance(value, str) else None
    except ValueError as error:
        raise PydanticCustomError(
            "ip", "is not an IPv4 address or CIDR range: {error}", {"error": str(error)}
        ) from None
    if network is None or network.version != 4:
        raise PydanticCustomError("ip", "must be an IPv4 address or CIDR range such as 81.2.69.0/24 (no IPv6)")
    if "/" in value and network.prefixlen > 30:
        raise PydanticCustomError("ip", "Azure refuses /31 and /32 ranges: list the single addresses instead")
    if not network.is_global:
        raise PydanticCustomError(
            "ip", "is not a public internet address: Azure storage IP rules take only public ones (use subnets)"
        )
    return str(value)


ShareName = Annotated[str, Named(naming.SHARE)]
Key = Annotated[str, Named(naming.KEY)]
StorageName = Annotated[str, Named(naming.STORAGE_ACCOUNT)]
Container = Annotated[str, Named(naming.CONTAINER)]
Guid = Annotated[str, Named(naming.GUID), AfterValidator(str.lower)]
Time = Annotated[str, BeforeValidator(_rfc3339), Named(naming.TIME)]
IpRule = Annotated[str, BeforeValidator(_ip_rule)]
# true or false, as Pulumi's own Config.get_bool takes them: not 1, 0, "yes" or 1.0.
Flag = Annotated[bool, Field(strict=True)]
SubnetId = Annotated[str, Named(naming.SUBNET_ID)]


class Model(BaseModel):
    # Each field's docstring is its description in the JSON schema of stack files.
    model_config = ConfigDict(
        frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True, use_attribute_docstrings=True
    )


@dataclass(frozen=True)
class Known:
    """What the rest of the config declares, so references are checked in the same pass.
    None where that part is malformed (itself reported): references to it go unchecked."""

    storage: frozenset[str] | None = None
    containers: Mapping[str, frozenset[str]] = field(default_factory=dict)  # created storage with valid lists
    hns: Mapping[str, bool] = field(default_factory=dict)
    participants: frozenset[str] | None = None
    # Sender stack -> its outputs, where known before the run (offline); None under `pulumi up`.
    senders: Mapping[str, Any] | None = None
    # Key meant -> the key written, where a misspelt namespace leaves the meant key unset
    # (`federaton:storage` for federation:storage).
    misspelt: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(
        cls, raw: Mapping[str, Any], senders: Mapping[str, Any] | None = None, misspelt: Mapping[str, str] | None = None
    ) -> "Known":
        storage = raw.get(f"{NAMESPACE}:storage", {})
        participants = raw.get(f"{NAMESPACE}:participants", {})
        entries = storage if isinstance(storage, Mapping) else {}
        containers = {
            key: frozenset(c for c in entry.get("containers", []) if isinstance(c, str))
            for key, entry in entries.items()
            if isinstance(entry, Mapping) and "id" not in entry and isinstance(entry.get("containers", []), list)
        }
        hns = {
            key: entry.get("hns", False)
            for key, entry in entries.items()
            if isinstance(entry, Mapping) and isinstance(entry.get("hns", False), bool)
        }
        return cls(
            frozenset(entries) if isinstance(storage, Mapping) else None,
            containers,
            hns,
            frozenset(participants) if isinstance(participants, Mapping) else None,
            senders,
            {meant: written for meant, written in (misspelt or {}).items() if meant not in raw},
        )

    def pointer(self, key: str) -> str:
        """Where an error on a key is only the result of its namespace being misspelt,
        what was written instead: the problem to fix is that one."""
        written = self.misspelt.get(key)
        return f"{written} is ignored: did you mean {key}?" if written else ""


def context(info: ValidationInfo) -> Known:
    return info.context if isinstance(info.context, Known) else Known()


def choices(values: Any, pointer: str = "") -> str:
    """The keys a reference may name; with nothing declared, and a `pointer` saying why,
    the pointer too (`none; federaton:storage is ignored: did you mean federation:storage?`)."""
    if isinstance(values, Mapping | frozenset) and values:
        return ", ".join(sorted(str(v) for v in values))
    return f"none; {pointer}" if pointer else "none"


def distinct(keys: list[str], what: str) -> None:
    """Azure names are case-insensitive: two keys that differ only in case would clash."""
    seen: dict[str, str] = {}
    for key in keys:
        if key.lower() in seen:
            raise PydanticCustomError(
                "duplicate",
                "{a} and {b} are the same {what} to Azure",
                {"a": seen[key.lower()], "b": key, "what": what},
            )
        seen[key.lower()] = key


def unwrap(shape: Any) -> Any:
    """`X | None` -> X; anything else as it is."""
    args = [a for a in get_args(shape) if a is not type(None)]
    return args[0] if get_origin(shape) in (Union, UnionType) and len(args) == 1 else shape
