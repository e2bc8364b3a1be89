"""Stack config: the one place raw `federation:*` keys become a frozen, typed model.

Everything is validated before any resource is registered. Every problem is reported
at once, each with its key path and value, as a `pulumi.RunError` (no traceback).
"""

import difflib
import hashlib
import ipaddress
import json
import uuid
from collections.abc import Iterable, Mapping
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
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from federation import naming, stackfile

NAMESPACE = "federation"
PROVIDER = "azure-native"
LOCATION_KEY = f"{PROVIDER}:location"
# A namespace this close to the program's (edits of one character each) is taken for a
# misspelling of it: the program would otherwise ignore the key without a word.
TYPO_DISTANCE = 2
# Keys Pulumi hands over as JSON text.
_STRUCTURED = ("protect", "tags", "storage", "participants", "shares", "subscriptions", "monitoring")
# Keys whose value cannot be kept secret, and why.
NEVER_SECRET = {
    LOCATION_KEY: "it is in every resource's state and in Azure's own records, which Pulumi keeps in plain text",
    f"{NAMESPACE}:environment": "it is part of every default name and resource id, which Pulumi keeps in plain text",
    f"{NAMESPACE}:resourceGroup": "it is part of every resource id, which Pulumi keeps in plain text",
    f"{NAMESPACE}:accountName": "it is part of every Data Share resource id, which Pulumi keeps in plain text",
    f"{NAMESPACE}:tags": "tags are readable by anyone who can read the resources; keep secrets out of tags",
}
# Structured config more deeply nested than any stack needs.
MAX_DEPTH = stackfile.MAX_DEPTH

# Marks what `python -m federation handoff` leaves for the receiver to fill in.
PLACEHOLDER = "FILL IN:"

# Azure Data Share service limits (learn.microsoft.com, azure-subscription-service-limits,
# "Azure Data Share limits").
MAX_SHARES = 200
MAX_DATASETS = 200
MAX_INVITATIONS = 200
MAX_RECEIVED_SHARES = 100


@dataclass(frozen=True)
class _Named:
    """A string that must follow a naming rule; its JSON schema carries the rule as a pattern."""

    rule: naming.Rule

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return handler(schema) | {"pattern": self.rule.ecma}

    def _check(self, value: str) -> str:
        if not self.rule.accepts(value):
            raise PydanticCustomError("name", "must be {says}", {"says": self.rule.says})
        return value


@dataclass(frozen=True)
class _Limits:
    """Bounds a validator enforces with its own message, also said in the JSON schema
    (`minProperties`, `maxItems`...), so editors flag them while typing."""

    keywords: tuple[tuple[str, int], ...]  # hashable, as typing requires of Annotated metadata

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return handler(schema) | dict(self.keywords)


def _limits(**keywords: int) -> _Limits:
    return _Limits(tuple(keywords.items()))


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


ShareName = Annotated[str, _Named(naming.SHARE)]
Key = Annotated[str, _Named(naming.KEY)]
StorageName = Annotated[str, _Named(naming.STORAGE_ACCOUNT)]
Container = Annotated[str, _Named(naming.CONTAINER)]
Guid = Annotated[str, _Named(naming.GUID), AfterValidator(str.lower)]
Time = Annotated[str, BeforeValidator(_rfc3339), _Named(naming.TIME)]
IpRule = Annotated[str, BeforeValidator(_ip_rule)]
# true or false, as Pulumi's own Config.get_bool takes them: not 1, 0, "yes" or 1.0.
Flag = Annotated[bool, Field(strict=True)]
SubnetId = Annotated[str, _Named(naming.SUBNET_ID)]


class _Model(BaseModel):
    # Each field's docstring is its description in the JSON schema of stack files.
    model_config = ConfigDict(
        frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True, use_attribute_docstrings=True
    )


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
    """How often: every hour or every day."""
    start: Time
    """RFC 3339 time of the first run; later runs keep its time of day (or minute)."""


class Trigger(Schedule):
    """When the receiver copies the latest snapshot."""

    mode: Literal["Incremental", "FullSync"] = "Incremental"
    """Incremental copies what changed since the last snapshot; FullSync copies everything."""


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


Path = Annotated[str, _Named(naming.PATH), AfterValidator(_segments)]


class Location(_Model):
    """Where data sits: a whole container, a folder in it, or one file."""

    storage: Annotated[str, AfterValidator(_storage_known)]
    """Key of a federation:storage entry."""
    container: Annotated[Container, AfterValidator(_container_declared)]
    """Container (file system, on hns storage); on created storage, one of its containers."""
    folder: Path | None = None
    """A folder in the container: only it is shared or written."""
    file: Path | None = None
    """One file in the container (not with folder)."""

    @field_validator("storage", "container", "folder", "file", mode="before")
    @classmethod
    def _filled_in(cls, value: Any) -> Any:
        if isinstance(value, str) and value.startswith(PLACEHOLDER):
            raise PydanticCustomError(
                "placeholder", "is a placeholder from the handoff: set it to where the data lands in this stack"
            )
        return value

    @model_validator(mode="after")
    def _one_form(self) -> "Location":
        if self.folder is not None and self.file is not None:
            raise PydanticCustomError("folder_and_file", "set at most one of folder and file")
        return self

    @property
    def path(self) -> str:
        """Where in the account: container/folder, container/file, or the container alone."""
        return "/".join(p for p in (self.container, self.folder or self.file) if p)


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


class Network(_Model):
    """Where a created storage account takes data-plane traffic from, besides the Data
    Share account: public addresses and virtual network subnets."""

    allow: tuple[IpRule, ...] = ()
    """Public IPv4 addresses or CIDR ranges let through (not private ranges, not /31 or /32)."""
    subnets: tuple[SubnetId, ...] = ()
    """Resource ids of virtual network subnets let through."""

    @field_validator("allow", "subnets")
    @classmethod
    def _unique(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        if len({v.lower() for v in values}) != len(values):
            raise PydanticCustomError("duplicate", "lists an entry twice")
        return values


class Storage(_Model):
    """A storage account: created here (`name`) or existing and only referenced (`id`)."""

    name: StorageName | None = None
    """Name of a storage account to create here (globally unique)."""
    id: (
        Annotated[
            str, AfterValidator(_storage_id), WithJsonSchema({"type": "string", "pattern": naming.STORAGE_ID.ecma})
        ]
        | None
    ) = None
    """Resource id of an existing storage account, only referenced (not with name)."""
    containers: Annotated[tuple[Container, ...], AfterValidator(_unique_containers)] = ()
    """Containers to create in a created account."""
    hns: Flag = False
    """Hierarchical namespace (ADLS Gen2): datasets become ADLS Gen2 kinds. Fixed at creation."""
    network: Network | None = None
    """Networks let through the created account's firewall besides trusted Azure services."""
    # Off by default: Data Share authenticates with its managed identity, never a key.
    shared_key_access: Flag | None = None
    """Allow shared-key (account key, SAS) access to a created account; default off."""

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
        if self.id is not None and (self.network is not None or self.shared_key_access is not None):
            raise PydanticCustomError(
                "existing_network",
                "network and sharedKeyAccess apply only to storage made here: existing storage is never modified",
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
    """Email of the user who accepts the invitation (not with tenantId and objectId)."""
    tenant_id: Guid | None = None
    """Tenant of the invited service principal."""
    object_id: Guid | None = None
    """Object id of the invited service principal (Enterprise application), not its application (client) id."""
    expires: Time | None = None
    """RFC 3339; this participant's invitations expire no later."""

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
    """Shown to participants."""
    terms: str | None = None
    """Terms of use participants accept."""
    datasets: Annotated[
        dict[Key, Location], AfterValidator(_dataset_limit), _limits(minProperties=1, maxProperties=MAX_DATASETS)
    ]
    """Dataset name -> where its data sits. At least one, at most 200."""
    schedule: Schedule | None = None
    """When snapshots are taken; without it, only on demand."""
    participants: (
        Annotated[tuple[str, ...], AfterValidator(_participants_known), _limits(maxItems=MAX_INVITATIONS)] | None
    ) = None
    """Keys of participants to invite; default every participant."""
    expires: Time | None = None
    """RFC 3339; each invitation expires at the earlier of this and its participant's expires."""

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

    stack: Annotated[str, _Named(naming.STACK)]
    """The sender's stack, such as org/federation/coordinator-prod."""
    share: Annotated[ShareName, AfterValidator(_sent_share)]
    """The share's name in the sender's stack."""
    participant: Annotated[Key, AfterValidator(_invited)]
    """This party's participant key in the sender's stack."""


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
    """The sender's invitation id (not with from)."""
    from_: Source | None = Field(None, alias="from")
    """Read the invitation and dataset ids from a sender stack under the same Pulumi backend."""
    source_location: Annotated[str, _Named(naming.REGION)]
    """Region of the sender's Data Share account."""
    expires: Time | None = None
    """RFC 3339; bounds the subscription."""
    datasets: Annotated[
        dict[Annotated[str, AfterValidator(_received_dataset)], Location],
        AfterValidator(_mappings),
        _limits(minProperties=1, maxProperties=MAX_DATASETS),
    ]
    """The sender's dataSetId (a GUID), or with from its dataset name -> where it lands."""
    schedule: Trigger | None = None
    """When snapshots are copied in; without it, only on demand."""

    @model_validator(mode="after")
    def _one_source(self) -> "Subscription":
        if (self.invitation_id is None) == (self.from_ is None):
            raise PydanticCustomError(
                "source", "set exactly one of invitationId (the sender's invitation GUID) and from (its stack)"
            )
        return self


class Workspace(_Model):
    """The Log Analytics workspace logs go to: created here (`name`, or the default name)
    or an existing one (`id`)."""

    name: Annotated[str, _Named(naming.WORKSPACE)] | None = None
    """Name of a workspace to create here; default log-fl-<environment>."""
    id: Annotated[str, _Named(naming.WORKSPACE_ID)] | None = None
    """Resource id of an existing workspace (not with name)."""

    @model_validator(mode="after")
    def _one_form(self) -> "Workspace":
        if self.name is not None and self.id is not None:
            raise PydanticCustomError("workspace_form", "set at most one of name (created here) and id (existing)")
        return self


class Monitoring(_Model):
    """Logs of the Data Share account and of created storage, and an alert on failed snapshots."""

    workspace: Workspace = Workspace()
    """Where logs go: {name} creates a workspace, {id} uses an existing one."""
    # Log Analytics' own bounds for interactive retention on the PerGB2018 tier.
    retention_days: Annotated[int, Field(strict=True, ge=30, le=730)] = 90
    """Days a created workspace keeps logs: 30-730."""
    emails: Annotated[tuple[EmailStr, ...], _limits(minItems=1)]
    """Addresses told of failed snapshots."""

    @field_validator("emails")
    @classmethod
    def _unique(cls, emails: tuple[str, ...]) -> tuple[str, ...]:
        if not emails:
            raise PydanticCustomError("empty", "needs at least one address to tell of failed snapshots")
        if len({e.lower() for e in emails}) != len(emails):
            raise PydanticCustomError("duplicate", "lists an address twice")
        return emails

    @model_validator(mode="after")
    def _retention_on_created(self) -> "Monitoring":
        if self.workspace.id is not None and "retention_days" in self.model_fields_set:
            raise PydanticCustomError(
                "existing_workspace",
                "retentionDays applies only to a workspace made here; its owner sets it on one by id",
            )
        return self


class Config(_Model):
    """The whole stack config."""

    location: Annotated[str, _Named(naming.REGION)] = Field(alias=LOCATION_KEY)
    """Azure region of the resource group and the Data Share account."""
    environment: Annotated[str, _Named(naming.ENVIRONMENT)] = Field(alias=f"{NAMESPACE}:environment")
    """Names the resources (rg-fl-<environment>, dsa-fl-<environment>); default the stack name."""
    protect: Flag = Field(alias=f"{NAMESPACE}:protect")
    """Pulumi protect on what deleting would lose (group, account, shares, subscriptions, storage); on in prod."""
    tags: dict[Annotated[str, _Named(naming.TAG_NAME)], Annotated[str, Field(max_length=256)]] = Field(
        default_factory=dict, alias=f"{NAMESPACE}:tags", max_length=48
    )
    """Tags on every taggable resource, over environment and managedBy."""
    resource_group: Annotated[str, _Named(naming.RESOURCE_GROUP)] = Field(alias=f"{NAMESPACE}:resourceGroup")
    """Resource group name; default rg-fl-<environment>."""
    account_name: Annotated[str, _Named(naming.ACCOUNT)] = Field(alias=f"{NAMESPACE}:accountName")
    """Data Share account name; default dsa-fl-<environment>."""
    storage: dict[Key, Storage] = Field(default_factory=dict, alias=f"{NAMESPACE}:storage")
    """Storage accounts, created here or existing, by key."""
    participants: dict[Key, Participant] = Field(default_factory=dict, alias=f"{NAMESPACE}:participants")
    """Parties invited to shares, by key (the invitation's name)."""
    shares: Annotated[dict[ShareName, Share], _limits(maxProperties=MAX_SHARES)] = Field(
        default_factory=dict, alias=f"{NAMESPACE}:shares"
    )
    """Shares this stack sends, by name. At most 200."""
    subscriptions: Annotated[dict[ShareName, Subscription], _limits(maxProperties=MAX_RECEIVED_SHARES)] = Field(
        default_factory=dict, alias=f"{NAMESPACE}:subscriptions"
    )
    """Shares this stack receives, by name."""
    monitoring: Monitoring | None = Field(None, alias=f"{NAMESPACE}:monitoring")
    """Log Analytics workspace, diagnostic settings and the failed-snapshot alert; none without it."""

    # Keys set with `pulumi config set --secret` (Pulumi says which keys, not which values).
    _secret_keys: frozenset[str] = PrivateAttr(default=frozenset())

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any) -> Any:
        """Names and protection default from the environment; protection is on in prod."""
        if not isinstance(data, dict):
            return data
        env = data.get(f"{NAMESPACE}:environment")
        # An invalid environment is reported on its own key; the placeholder only fills the rest.
        env = env if isinstance(env, str) and naming.ENVIRONMENT.accepts(env) else "unset"
        return defaults(env) | data

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
        # A subscription is matched to its participant by email: two with one email could
        # not be told apart, and revoking one would revoke the other.
        seen: dict[str, str] = {}
        for key, participant in participants.items():
            email = (participant.email or "").lower()
            if email in seen:
                raise PydanticCustomError(
                    "duplicate",
                    "{a} and {b} have the same email (case aside): their subscriptions could not be told apart",
                    {"a": seen[email], "b": key},
                )
            if email:
                seen[email] = key
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
    def workspace_name(self) -> str:
        """The Azure name of the workspace created here (monitoring with no workspace id)."""
        chosen = self.monitoring.workspace.name if self.monitoring else None
        return chosen or naming.workspace(self.environment)

    def is_secret(self, path: str) -> bool:
        """Whether the value at a key path (`federation:participants.lab.expires`) was set
        with --secret: Pulumi marks a whole top-level key secret."""
        return path.partition(".")[0] in self._secret_keys

    def secret_texts(self) -> frozenset[str]:
        """The texts only secret keys hold: an input carrying one of them must be a secret.
        A text that plain config holds too (a region, a schedule's `Day`, a key used as a
        folder) is no secret, and marking it would make unrelated inputs secret."""
        fields = {(f.alias or n): n for n, f in type(self).model_fields.items()}
        secret = {text for key in self._secret_keys if key in fields for text in _texts(getattr(self, fields[key]))}
        if not secret:
            return frozenset()
        plain = {self.location, self.environment, self.resource_group, self.account_name}
        # Storage names and ids are parts of resource ids, which Pulumi keeps in plain text.
        plain |= {part for entry in self.storage.values() for part in (entry.account_name, entry.id) if part}
        plain |= {
            t
            for key, name in fields.items()
            if key not in self._secret_keys
            for t in _texts(getattr(self, name), keys=True)
        }
        return frozenset(secret - plain)

    @property
    def resource_tags(self) -> dict[str, str]:
        """Tags for every taggable resource: the config's tags over the defaults."""
        return {"environment": self.environment, "managedBy": "pulumi"} | self.tags


def defaults(environment: str) -> dict[str, Any]:
    """Keys a stack file may leave out, with what they default to for an environment (which
    itself defaults to the stack name)."""
    return {
        f"{NAMESPACE}:resourceGroup": naming.resource_group(environment),
        f"{NAMESPACE}:accountName": naming.account(environment),
        f"{NAMESPACE}:protect": environment == "prod",
    }


class ConfigError(pulumi.RunError):
    """Every problem of a stack config, each as `key path: message; got value`."""

    def __init__(self, problems: list[str]) -> None:
        # A control character in a key or value would break the one-line-per-problem form.
        self.problems = ["".join(c if c.isprintable() else repr(c)[1:-1] for c in p) for p in problems]
        problems = self.problems
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(f"{len(problems)} {noun} in stack config:\n" + "\n".join(f"  {p}" for p in problems))


def parse(
    values: Mapping[str, str],
    stack: str,
    secret_keys: frozenset[str] = frozenset(),
    senders: Mapping[str, Any] | None = None,
) -> Config:
    """Validate raw Pulumi config values (strings, structured ones as JSON) for a stack;
    `secret_keys` are those Pulumi reports as secret. `senders` maps stacks named by `from`
    to their outputs, where they are known before the run: what a `from` names is then
    checked with everything else."""
    raw: dict[str, Any] = {}
    problems: list[str] = []
    for key, text in values.items():
        namespace, _, name = key.partition(":")
        if key == LOCATION_KEY or namespace == NAMESPACE:
            shown = "[secret]" if key in secret_keys else _show(text)
            try:
                raw[key] = json.loads(text) if name in _STRUCTURED else text
            except json.JSONDecodeError as error:
                problems.append(f"{key}: is not valid structured config ({error.msg}); got {shown}")
            except ValueError:  # a number past Python's 4,300-digit limit
                problems.append(f"{key}: holds a number too long to read; got {shown}")
            except RecursionError:
                problems.append(f"{key}: is nested deeper than {MAX_DEPTH} levels")
            else:
                if _depth(raw[key]) > MAX_DEPTH:
                    problems.append(f"{key}: is nested deeper than {MAX_DEPTH} levels")
                    del raw[key]
        elif namespace.lower() in (NAMESPACE, PROVIDER) and namespace not in (NAMESPACE, PROVIDER):
            # Pulumi matches namespaces exactly: this key would be ignored without a word.
            # Other keys of the provider's own namespace (subscriptionId, useOidc...) and of
            # any other are the engine's and the provider's, passed on unread.
            right = f"{namespace.lower()}:{name}"
            problems.append(f"{key}: is not a known key (namespaces are case-sensitive: did you mean {right!r}?)")
    problems += [f"{key}: cannot be a secret: {why}" for key, why in NEVER_SECRET.items() if key in secret_keys]
    raw.setdefault(f"{NAMESPACE}:environment", stack)
    try:
        config = Config.model_validate(_as_text(raw, Config), context=_Known.of(raw, senders))
    except ValidationError as error:
        problems.extend(_describe(e, secret_keys) for e in error.errors(include_url=False))
    if problems:
        raise ConfigError(problems)
    config._secret_keys = frozenset(secret_keys)
    return config


def load() -> Config:
    """Read and validate this stack's config from the Pulumi runtime; warn, as `pulumi
    preview` shows warnings, of keys the program would ignore for a misspelt namespace."""
    # Every key, to catch typos: the engine passes config in the environment, tests and
    # the offline runner with set_all_config.
    keys = {**pulumi.runtime.get_config_env(), **pulumi.runtime.config.CONFIG.get()}
    values = {key: pulumi.runtime.get_config(key) for key in keys}
    # The engine names secret keys in the environment; set_all_config in the runtime.
    secret = set(pulumi.runtime.get_config_secret_keys_env()) | {k for k in keys if pulumi.runtime.is_config_secret(k)}
    config = parse({k: v for k, v in values.items() if v is not None}, pulumi.get_stack(), frozenset(secret))
    for message in ignored(keys):
        pulumi.log.warn(message)
    return config


def ignored(keys: Iterable[str]) -> list[str]:
    """A warning for each key whose namespace looks like a misspelling of the program's:
    Pulumi hands the key over, and the program, reading only its own namespace, would
    drop it without a word (`federaton:shares` sends no share)."""
    return [
        f"{key}: is ignored: its namespace {namespace!r} is not {NAMESPACE!r}; did you mean {NAMESPACE + ':' + name!r}?"
        for key in sorted(keys)
        for namespace, _, name in [key.partition(":")]
        if namespace.lower() != NAMESPACE and misspelt(namespace)
    ]


def misspelt(namespace: str) -> bool:
    """Whether a namespace is within `TYPO_DISTANCE` edits (insert, delete, replace one
    character, case aside) of the program's own, without being it."""
    return namespace != NAMESPACE and _distance(namespace.lower(), NAMESPACE) <= TYPO_DISTANCE


def _distance(a: str, b: str) -> int:
    """Levenshtein distance, row by row."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def stand_in(field: str, ciphertext: str) -> str:
    """A value standing in for a secret that cannot be decrypted here (offline): valid for
    the field it sits in, and one per ciphertext, so a changed secret shows as a change."""
    digest = hashlib.sha256(ciphertext.encode()).hexdigest()
    guid = str(uuid.UUID(digest[:32]))
    text = f"s{digest[:12]}"  # a valid name, key, container, region and path
    return {
        "email": f"secret-{digest[:12]}@secret.example",
        "tenantId": guid,
        "objectId": guid,
        "invitationId": guid,
        "id": f"/subscriptions/{guid}/resourceGroups/rg-{text}/providers/Microsoft.Storage/storageAccounts/{text}",
        "expires": "2099-12-31T00:00:00Z",
        "start": "2099-12-31T00:00:00Z",
    }.get(field, text)


def _texts(value: Any, keys: bool = False) -> list[str]:
    """Every text in a model value (and map keys, with `keys`), with what an existing
    storage id is made of."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, Storage):
        parts = [value.account_name, value.resource_group, value.subscription_id]
        return [p for p in parts if p] + _texts(value.model_dump(), keys)
    if isinstance(value, BaseModel):
        return _texts(value.model_dump(), keys)
    if isinstance(value, Mapping):
        return [t for k, v in value.items() for t in ([str(k)] if keys else []) + _texts(v, keys)]
    if isinstance(value, list | tuple):
        return [t for v in value for t in _texts(v, keys)]
    return []


def _depth(value: Any) -> int:
    """How deeply lists and maps nest in a value (without recursing, for hostile input)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if level <= MAX_DEPTH:
                stack.extend((v, level + 1) for v in (item.values() if isinstance(item, dict) else item))
    return deepest


def _as_text(value: Any, shape: Any) -> Any:
    """Numbers and booleans where the model wants text, as text: `pulumi config set --path`
    stores `1234` and `true` as a number and a boolean (a tag `costCenter: 1234`)."""
    shape = _unwrap(shape)
    if get_origin(shape) is Annotated:
        shape = _unwrap(get_args(shape)[0])
    if shape is str and isinstance(value, bool | int | float):
        return json.dumps(value)
    if isinstance(shape, type) and issubclass(shape, BaseModel) and isinstance(value, dict):
        fields = {(f.alias or n): f.annotation for n, f in shape.model_fields.items()}
        fields |= {n: f.annotation for n, f in shape.model_fields.items()}
        return {k: _as_text(v, fields[k]) if k in fields else v for k, v in value.items()}
    if get_origin(shape) is dict and isinstance(value, dict):
        return {k: _as_text(v, get_args(shape)[1]) for k, v in value.items()}
    if get_origin(shape) is tuple and isinstance(value, list):
        return [_as_text(v, get_args(shape)[0]) for v in value]
    return value


def _describe(error: Any, secret_keys: frozenset[str] = frozenset()) -> str:
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
    got = "[secret]" if secret else _show(error["input"])
    if error["type"] == "extra_forbidden":
        return f"{path}: is not a known key{_suggest(loc)}; got {got}"
    message = error["msg"].removeprefix("Value error, ")
    if secret and error["type"] == "value_error":
        message = message.partition(":")[0]
    if is_key:
        # Keys are plain text in the stack file even under a secret key.
        return f"{path}: key {message}; got {_show(loc[-1])}"
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


def _show(value: Any, limit: int = 200) -> str:
    shown = repr(value) if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    # One line a person can read, whatever was pasted into the value.
    return shown if len(shown) <= limit else f"{shown[: limit - 30]}…{shown[-20:]} ({len(shown):,} characters)"


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
