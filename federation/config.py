"""Stack config: the one place raw `federation:*` keys become a frozen, typed model.

Everything is validated before any resource is registered. Every problem is reported
at once, each with its key path and value, as a `pulumi.RunError` (no traceback).
"""

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import pulumi
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from federation import naming

NAMESPACE = "federation"
LOCATION_KEY = "azure-native:location"
# Keys Pulumi hands over as JSON text.
_STRUCTURED = ("protect", "tags", "storage", "participants", "shares", "subscriptions")

# Azure Data Share service limits (learn.microsoft.com, azure-subscription-service-limits,
# "Azure Data Share limits").
MAX_SHARES = 200
MAX_DATASETS = 200
MAX_INVITATIONS = 200
MAX_RECEIVED_SHARES = 100


def _named(rule: naming.Rule) -> AfterValidator:
    def check(value: str) -> str:
        if not rule.accepts(value):
            raise PydanticCustomError("name", "must be {says}", {"says": rule.says})
        return value

    return AfterValidator(check)


def _rfc3339(value: Any) -> str:
    """A time as Azure stores it: in UTC, in one spelling, so the same time never diffs."""
    if not isinstance(value, str) or not naming.TIME.accepts(value):
        raise PydanticCustomError("time", "must be {says}", {"says": naming.TIME.says})
    try:
        utc = datetime.fromisoformat(value).astimezone(UTC)
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


ShareName = Annotated[str, _named(naming.SHARE)]
Key = Annotated[str, _named(naming.KEY)]
StorageName = Annotated[str, _named(naming.STORAGE_ACCOUNT)]
Container = Annotated[str, _named(naming.CONTAINER)]
Guid = Annotated[str, _named(naming.GUID), AfterValidator(str.lower)]
Time = Annotated[str, BeforeValidator(_rfc3339)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True)


@dataclass(frozen=True)
class _Known:
    """What the rest of the config declares, so references are checked in the same pass.
    None where that part is malformed (itself reported): references to it go unchecked."""

    storage: frozenset[str] | None = None
    containers: Mapping[str, frozenset[str]] = field(default_factory=dict)  # created storage with valid lists
    hns: Mapping[str, bool] = field(default_factory=dict)
    participants: frozenset[str] | None = None
    # Sender stack -> its outputs, where known before the run (offline); None under `pulumi up`.
    senders: Mapping[str, Any] | None = None

    @classmethod
    def of(cls, raw: Mapping[str, Any], senders: Mapping[str, Any] | None = None) -> "_Known":
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
        )


def _known(info: ValidationInfo) -> _Known:
    return info.context if isinstance(info.context, _Known) else _Known()


def _choices(values: Any) -> str:
    return ", ".join(sorted(str(v) for v in values)) if isinstance(values, Mapping | frozenset) and values else "none"


def _distinct(keys: list[str], what: str) -> None:
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


class Schedule(_Model):
    """When the sender snapshots a share (Data Share keeps one schedule per share)."""

    recurrence: Literal["Hour", "Day"]
    start: Time


class Trigger(Schedule):
    """When the receiver copies the latest snapshot."""

    mode: Literal["Incremental", "FullSync"] = "Incremental"


def _storage_known(storage: str, info: ValidationInfo) -> str:
    known = _known(info).storage
    if known is not None and storage not in known:
        raise PydanticCustomError(
            "unknown_storage", "is not a key of federation:storage (known: {known})", {"known": _choices(known)}
        )
    return storage


def _container_declared(container: str, info: ValidationInfo) -> str:
    declared = _known(info).containers.get(info.data.get("storage", ""))
    if declared is not None and container not in declared:
        raise PydanticCustomError(
            "unknown_container",
            "is not in that storage entry's containers (declared: {declared})",
            {"declared": _choices(declared)},
        )
    return container


def _segments(path: str, info: ValidationInfo) -> str:
    """Blob storage and ADLS Gen2 bound how deep a path goes, differently."""
    hns = _known(info).hns.get(info.data.get("storage", ""))
    limit = naming.HNS_SEGMENTS if hns else naming.BLOB_SEGMENTS
    if path.count("/") + 1 > limit:
        raise PydanticCustomError(
            "path_depth",
            "has {n} segments; at most {limit} on {kind}",
            {
                "n": path.count("/") + 1,
                "limit": limit,
                "kind": "hierarchical namespace storage (63 with account and container)" if hns else "blob storage",
            },
        )
    return path


Path = Annotated[str, _named(naming.PATH), AfterValidator(_segments)]


class Location(_Model):
    """Where data sits: a whole container, a folder in it, or one file."""

    storage: Annotated[str, AfterValidator(_storage_known)]
    container: Annotated[Container, AfterValidator(_container_declared)]
    folder: Path | None = None
    file: Path | None = None

    @model_validator(mode="after")
    def _one_form(self) -> "Location":
        if self.folder is not None and self.file is not None:
            raise PydanticCustomError("folder_and_file", "set at most one of folder and file")
        return self


def _storage_id(value: str) -> str:
    if not naming.STORAGE_ID.accepts(value):
        raise PydanticCustomError(
            "storage_id", "must be a storage account resource id: {says}", {"says": naming.STORAGE_ID.says}
        )
    return value


def _unique_containers(containers: tuple[str, ...]) -> tuple[str, ...]:
    if len(set(containers)) != len(containers):
        raise PydanticCustomError("duplicate", "lists a container twice")
    return containers


class Storage(_Model):
    """A storage account: created here (`name`) or existing and only referenced (`id`)."""

    name: StorageName | None = None
    id: Annotated[str, AfterValidator(_storage_id)] | None = None
    containers: Annotated[tuple[Container, ...], AfterValidator(_unique_containers)] = ()
    hns: bool = False

    @model_validator(mode="after")
    def _one_form(self) -> "Storage":
        if (self.name is None) == (self.id is None):
            raise PydanticCustomError(
                "storage_form", "set exactly one of name (created here) and id (existing account)"
            )
        if self.id is not None and self.containers:
            raise PydanticCustomError(
                "existing_containers", "containers are created only on storage made here; drop them or use name"
            )
        return self

    @property
    def created(self) -> bool:
        return self.name is not None

    @property
    def account_name(self) -> str:
        return self.name or self._id_part("name")

    @property
    def resource_group(self) -> str | None:
        """The existing account's resource group; None for created storage (the stack's own)."""
        return None if self.created else self._id_part("group")

    @property
    def subscription_id(self) -> str | None:
        """The existing account's subscription; None for created storage (the deploying one)."""
        return None if self.created else self._id_part("subscription")

    def _id_part(self, part: str) -> str:
        match = naming.STORAGE_ID.match(self.id or "")
        assert match is not None  # validated above
        return match[part]


class Participant(_Model):
    """An invited identity: an email sign-in, or a service principal in its own tenant."""

    email: EmailStr | None = None
    tenant_id: Guid | None = None
    object_id: Guid | None = None
    expires: Time | None = None

    @model_validator(mode="after")
    def _one_identity(self) -> "Participant":
        by_id = self.tenant_id is not None or self.object_id is not None
        if self.email is not None and by_id:
            raise PydanticCustomError("identity", "set either email, or tenantId and objectId, not both")
        if self.email is None and (self.tenant_id is None or self.object_id is None):
            raise PydanticCustomError("identity", "set either email, or both tenantId and objectId")
        return self


def _dataset_limit(datasets: dict[str, "Location"]) -> dict[str, "Location"]:
    if not datasets:
        raise PydanticCustomError("empty", "a share needs at least one dataset")
    _distinct(list(datasets), "dataset name")
    if len(datasets) > MAX_DATASETS:
        raise PydanticCustomError(
            "limit", "has {n} datasets; a share holds at most {max}", {"n": len(datasets), "max": MAX_DATASETS}
        )
    return datasets


def _participants_known(listed: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
    known = _known(info).participants
    unknown = sorted(set(listed) - known) if known is not None else []
    if unknown:
        raise PydanticCustomError(
            "unknown_participant",
            "names {unknown}, not keys of federation:participants (known: {known})",
            {"unknown": ", ".join(unknown), "known": _choices(known)},
        )
    if len(set(listed)) != len(listed):
        raise PydanticCustomError("duplicate", "lists a participant twice")
    return listed


class Share(_Model):
    """A CopyBased share: its datasets, schedule and invited participants."""

    description: str | None = None
    terms: str | None = None
    datasets: Annotated[dict[Key, Location], AfterValidator(_dataset_limit)]
    schedule: Schedule | None = None
    participants: Annotated[tuple[str, ...], AfterValidator(_participants_known)] | None = None
    expires: Time | None = None

    @field_validator("participants", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # An empty `participants:` in YAML is null: never read as "every participant".
        if value is None:
            raise PydanticCustomError("null", "must be a list of participant keys; leave it out to invite everyone")
        return value

    @model_validator(mode="after")
    def _invitation_limit(self, info: ValidationInfo) -> "Share":
        known = _known(info).participants
        count = len(self.participants) if self.participants is not None else len(known or ())
        if count > MAX_INVITATIONS:
            raise PydanticCustomError(
                "limit",
                "invites {n} participants; a share sends at most {max} invitations",
                {"n": count, "max": MAX_INVITATIONS},
            )
        return self


def lacks(
    outputs: Any, stack: str, share: str, participant: str | None = None, dataset: str | None = None
) -> str | None:
    """What a sender stack's outputs lack of what a `from` names (its share, the invitation
    of its participant, a dataset): a problem message, or None. Offline the sender's
    outputs are known before the run and checked with the config; under `pulumi up`, once read."""
    shares = outputs.get("shares") if isinstance(outputs, Mapping) else None
    sent = shares.get(share) if isinstance(shares, Mapping) else None
    if not isinstance(sent, Mapping):
        return f"is not a share of stack {stack} (it has: {_choices(shares)})"
    for part, key, what in (("invitations", participant, "invited"), ("datasets", dataset, "datasets")):
        found = sent.get(part)
        if key is not None and (not isinstance(found, Mapping) or key not in found):
            return f"is not in share {share} of stack {stack} ({what}: {_choices(found)})"
    return None


def unsent(
    subscription: str, stack: str, outputs: Any, share: str, participant: str | None, dataset: str | None
) -> str | None:
    """The problem line, as `parse` reports it, for a `from` of `subscription` (its key
    path) naming what the sender's outputs lack; None if they have it all."""
    if problem := lacks(outputs, stack, share):
        return f"{subscription}.from.share: {problem}; got {share!r}"
    if participant is not None and (problem := lacks(outputs, stack, share, participant=participant)):
        return f"{subscription}.from.participant: {problem}; got {participant!r}"
    if dataset is not None and (problem := lacks(outputs, stack, share, dataset=dataset)):
        return f"{subscription}.datasets.{dataset}: key {problem}; got {dataset!r}"
    return None


def _sender(info: ValidationInfo, stack: Any) -> Any:
    """A sender stack's outputs if known now, else None (nothing to check against)."""
    senders = _known(info).senders
    return senders[stack] if senders is not None and isinstance(stack, str) and stack in senders else None


def _sent_share(share: str, info: ValidationInfo) -> str:
    stack = info.data.get("stack", "")
    outputs = _sender(info, stack)
    problem = None if outputs is None else lacks(outputs, stack, share)
    if problem:
        raise PydanticCustomError("not_sent", problem)
    return share


def _invited(participant: str, info: ValidationInfo) -> str:
    stack, share = info.data.get("stack", ""), info.data.get("share")
    outputs = _sender(info, stack)
    problem = None if outputs is None or share is None else lacks(outputs, stack, share, participant=participant)
    if problem:
        raise PydanticCustomError("not_sent", problem)
    return participant


class Source(_Model):
    """A share sent by a stack under the same Pulumi backend, found through its outputs."""

    stack: Annotated[str, _named(naming.STACK)]
    share: Annotated[ShareName, AfterValidator(_sent_share)]
    participant: Annotated[Key, AfterValidator(_invited)]


def _received_dataset(key: str, info: ValidationInfo) -> str:
    """With `from`, a key is the sender's dataset name: it must be one the sender has."""
    source = info.data.get("from_")
    only_from = "invitation_id" in info.data and info.data["invitation_id"] is None
    if isinstance(source, Source) and only_from and naming.KEY.accepts(key):
        outputs = _sender(info, source.stack)
        problem = None if outputs is None else lacks(outputs, source.stack, source.share, dataset=key)
        if problem:
            raise PydanticCustomError("not_sent", problem)
    return key


def _mappings(datasets: dict[str, Location], info: ValidationInfo) -> dict[str, Location]:
    if not datasets:
        raise PydanticCustomError("empty", "a subscription needs at least one dataset mapping")
    if len(datasets) > MAX_DATASETS:
        raise PydanticCustomError(
            "limit", "maps {n} datasets; a share holds at most {max}", {"n": len(datasets), "max": MAX_DATASETS}
        )
    if "from_" not in info.data or "invitation_id" not in info.data:
        return datasets  # the source is invalid (reported there): which key form applies is unknown
    by_name = info.data["from_"] is not None
    rule, what = (naming.KEY, "the sender's dataset names") if by_name else (naming.GUID, "the sender's dataSetIds")
    wrong = sorted(key for key in datasets if not rule.accepts(key))
    if wrong:
        raise PydanticCustomError(
            "dataset_key",
            "keys must be {what} ({says}); not: {wrong}",
            {"what": what, "says": rule.says, "wrong": ", ".join(wrong)},
        )
    _distinct(list(datasets), "dataset")
    return {key if by_name else key.lower(): location for key, location in datasets.items()}


class Subscription(_Model):
    """A received share: the sender's invitation, where each dataset lands, and when."""

    invitation_id: Guid | None = None
    from_: Source | None = Field(None, alias="from")
    source_location: Annotated[str, _named(naming.REGION)]
    expires: Time | None = None
    # The sender's dataSetId (a GUID) -> where it lands; the sender's dataset names with `from`.
    datasets: Annotated[dict[Annotated[str, AfterValidator(_received_dataset)], Location], AfterValidator(_mappings)]
    schedule: Trigger | None = None

    @model_validator(mode="after")
    def _one_source(self) -> "Subscription":
        if (self.invitation_id is None) == (self.from_ is None):
            raise PydanticCustomError(
                "source", "set exactly one of invitationId (the sender's invitation GUID) and from (its stack)"
            )
        return self


class Config(_Model):
    """The whole stack config."""

    location: Annotated[str, _named(naming.REGION)] = Field(alias=LOCATION_KEY)
    environment: Annotated[str, _named(naming.ENVIRONMENT)] = Field(alias=f"{NAMESPACE}:environment")
    protect: bool = Field(alias=f"{NAMESPACE}:protect")
    tags: dict[Annotated[str, _named(naming.TAG_NAME)], Annotated[str, Field(max_length=256)]] = Field(
        default_factory=dict, alias=f"{NAMESPACE}:tags", max_length=48
    )
    resource_group: Annotated[str, _named(naming.RESOURCE_GROUP)] = Field(alias=f"{NAMESPACE}:resourceGroup")
    account_name: Annotated[str, _named(naming.ACCOUNT)] = Field(alias=f"{NAMESPACE}:accountName")
    storage: dict[Key, Storage] = Field(default_factory=dict, alias=f"{NAMESPACE}:storage")
    participants: dict[Key, Participant] = Field(default_factory=dict, alias=f"{NAMESPACE}:participants")
    shares: dict[ShareName, Share] = Field(default_factory=dict, alias=f"{NAMESPACE}:shares")
    subscriptions: dict[ShareName, Subscription] = Field(default_factory=dict, alias=f"{NAMESPACE}:subscriptions")

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any) -> Any:
        """Names and protection default from the environment; protection is on in prod."""
        if not isinstance(data, dict):
            return data
        env = data.get(f"{NAMESPACE}:environment")
        # An invalid environment is reported on its own key; the placeholder only fills the rest.
        env = env if isinstance(env, str) and naming.ENVIRONMENT.accepts(env) else "unset"
        defaults = {
            f"{NAMESPACE}:resourceGroup": naming.resource_group(env),
            f"{NAMESPACE}:accountName": naming.account(env),
            f"{NAMESPACE}:protect": env == "prod",
        }
        return defaults | data

    @field_validator("shares")
    @classmethod
    def _share_limit(cls, shares: dict[str, Share]) -> dict[str, Share]:
        if len(shares) > MAX_SHARES:
            raise PydanticCustomError(
                "limit", "has {n} shares; an account holds at most {max}", {"n": len(shares), "max": MAX_SHARES}
            )
        _distinct(list(shares), "share name")
        return shares

    @field_validator("subscriptions")
    @classmethod
    def _subscriptions_distinct(cls, subscriptions: dict[str, Subscription]) -> dict[str, Subscription]:
        if len(subscriptions) > MAX_RECEIVED_SHARES:
            raise PydanticCustomError(
                "limit",
                "has {n} received shares; an account holds at most {max}",
                {"n": len(subscriptions), "max": MAX_RECEIVED_SHARES},
            )
        _distinct(list(subscriptions), "share subscription name")
        return subscriptions

    @field_validator("participants")
    @classmethod
    def _participants_distinct(cls, participants: dict[str, Participant]) -> dict[str, Participant]:
        _distinct(list(participants), "invitation name")
        return participants

    @field_validator("storage")
    @classmethod
    def _one_entry_per_account(cls, storage: dict[str, Storage]) -> dict[str, Storage]:
        # Storage account names are globally unique: two entries with one name are one
        # account, which would be built twice or granted twice under one assignment name.
        seen: dict[str, str] = {}
        for key, entry in storage.items():
            if entry.account_name in seen:
                raise PydanticCustomError(
                    "duplicate", "{a} and {b} are the same storage account", {"a": seen[entry.account_name], "b": key}
                )
            seen[entry.account_name] = key
        return storage

    @property
    def resource_tags(self) -> dict[str, str]:
        """Tags for every taggable resource: the config's tags over the defaults."""
        return {"environment": self.environment, "managedBy": "pulumi"} | self.tags


class ConfigError(pulumi.RunError):
    """Every problem of a stack config, each as `key path: message; got value`."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(f"{len(problems)} {noun} in stack config:\n" + "\n".join(f"  {p}" for p in problems))


def parse(values: Mapping[str, str], stack: str, senders: Mapping[str, Any] | None = None) -> Config:
    """Validate raw Pulumi config values (strings, structured ones as JSON) for a stack.

    `senders` maps stacks named by `from` to their outputs, where they are known before
    the run: what a `from` names is then checked with everything else."""
    raw: dict[str, Any] = {}
    problems: list[str] = []
    for key, text in values.items():
        namespace, _, name = key.partition(":")
        if key == LOCATION_KEY or namespace == NAMESPACE:
            try:
                raw[key] = json.loads(text) if name in _STRUCTURED else text
            except json.JSONDecodeError as error:
                problems.append(f"{key}: is not valid structured config ({error.msg}); got {text!r}")
    raw.setdefault(f"{NAMESPACE}:environment", stack)
    try:
        config = Config.model_validate(raw, context=_Known.of(raw, senders))
    except ValidationError as error:
        problems.extend(_describe(e) for e in error.errors(include_url=False))
    if problems:
        raise ConfigError(problems)
    return config


def load() -> Config:
    """Read and validate this stack's config from the Pulumi runtime."""
    # Every key, to catch typos: the engine passes config in the environment, tests and
    # the offline runner with set_all_config.
    keys = {**pulumi.runtime.get_config_env(), **pulumi.runtime.config.CONFIG.get()}
    values = {key: pulumi.runtime.get_config(key) for key in keys}
    return parse({k: v for k, v in values.items() if v is not None}, pulumi.get_stack())


def _describe(error: Any) -> str:
    """One line per problem: key path, what is wrong, and the value found there."""
    loc = list(error["loc"])
    is_key = bool(loc) and loc[-1] == "[key]"  # pydantic marks a bad map key this way
    if is_key:
        loc.pop()
    path = _path(loc)
    if error["type"] == "missing":
        return f"{path}: is required but not set"
    if error["type"] == "extra_forbidden":
        return f"{path}: is not a known key{_suggest(loc)}; got {_show(error['input'])}"
    message = error["msg"].removeprefix("Value error, ")
    if is_key:
        return f"{path}: key {message}; got {_show(loc[-1])}"
    return f"{path}: {message}; got {_show(error['input'])}"


def _path(loc: list[Any]) -> str:
    if not loc:
        return "stack config"
    head, *rest = loc
    return str(head) + "".join(f"[{part}]" if isinstance(part, int) else f".{_key(str(part))}" for part in rest)


def _key(part: str) -> str:
    """A key as written, or quoted with escapes if it holds what would break the line or hide
    itself (newlines, control and format characters)."""
    return part if part.isprintable() else json.dumps(part)


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    return json.dumps(value, sort_keys=True, default=str)


def _suggest(loc: list[Any]) -> str:
    """' (did you mean X?)' for a misspelt key, from the model's own field names."""
    known = _keys_at(loc[:-1])
    close = difflib.get_close_matches(str(loc[-1]), known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(sorted(known))})" if known else ""


def _keys_at(loc: list[Any]) -> list[str]:
    """The keys the model accepts at a location, following fields, maps and optionals."""
    shape: Any = Config
    for part in loc:
        shape = _unwrap(shape)
        if isinstance(shape, type) and issubclass(shape, BaseModel):
            field = next((f for n, f in shape.model_fields.items() if (f.alias or n) == part), None)
            if field is None:
                return []
            shape = field.annotation
        elif get_origin(shape) is dict:
            shape = get_args(shape)[1]
        else:
            return []
    shape = _unwrap(shape)
    if isinstance(shape, type) and issubclass(shape, BaseModel):
        return [f.alias or n for n, f in shape.model_fields.items()]
    return []


def _unwrap(shape: Any) -> Any:
    """`X | None` -> X; anything else as it is."""
    args = [a for a in get_args(shape) if a is not type(None)]
    return args[0] if get_origin(shape) in (Union, UnionType) and len(args) == 1 else shape
