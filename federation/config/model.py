"""The whole stack config: the one place raw `federation:*` keys become a frozen, typed
model, read from the Pulumi runtime or a stack file.

Everything is validated before any resource is registered. Every problem is reported
at once, each with its key path and value, as a `pulumi.RunError` (no traceback)."""

import json
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, get_args, get_origin

import pulumi
from pydantic import (
    BaseModel,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from federation.config import naming, stackfile
from federation.config.errors import ConfigError, describe, show
from federation.config.fields import (
    LOCATION_KEY,
    NAMESPACE,
    PROVIDER,
    Flag,
    Key,
    Known,
    Model,
    Named,
    ShareName,
    distinct,
    limits,
    unwrap,
)
from federation.config.monitoring import Monitoring
from federation.config.receiving import Subscription
from federation.config.sharing import Participant, Share
from federation.config.storage import Storage

# A namespace this close to the program's, the provider's or the engine's (edits of one
# character each) is taken for a misspelling of it: no one would read the key, without a word.
TYPO_DISTANCE = 2
# The engine's own namespace (`pulumi:tags`, `pulumi:disable-default-providers`).
ENGINE = "pulumi"
# The namespaces whose misspellings are caught, in order of precedence.
WATCHED = (NAMESPACE, PROVIDER, ENGINE)
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

# Azure Data Share service limits (learn.microsoft.com, azure-subscription-service-limits,
# "Azure Data Share limits").
MAX_SHARES = 200
MAX_RECEIVED_SHARES = 100


class Config(Model):
    """The whole stack config."""

    location: Annotated[str, Named(naming.REGION)] = Field(alias=LOCATION_KEY)
    """Azure region of the resource group and the Data Share account."""
    environment: Annotated[str, Named(naming.ENVIRONMENT)] = Field(alias=f"{NAMESPACE}:environment")
    """Names the resources (rg-fl-<environment>, dsa-fl-<environment>); default the stack name."""
    protect: Flag = Field(alias=f"{NAMESPACE}:protect")
    """Pulumi protect on what deleting would lose (group, account, shares, subscriptions, storage); on in prod."""
    tags: dict[Annotated[str, Named(naming.TAG_NAME)], Annotated[str, Field(max_length=256)]] = Field(
        default_factory=dict, alias=f"{NAMESPACE}:tags", max_length=48
    )
    """Tags on every taggable resource, over environment and managedBy."""
    resource_group: Annotated[str, Named(naming.RESOURCE_GROUP)] = Field(alias=f"{NAMESPACE}:resourceGroup")
    """Resource group name; default rg-fl-<environment>."""
    account_name: Annotated[str, Named(naming.ACCOUNT)] = Field(alias=f"{NAMESPACE}:accountName")
    """Data Share account name; default dsa-fl-<environment>."""
    storage: dict[Key, Storage] = Field(default_factory=dict, alias=f"{NAMESPACE}:storage")
    """Storage accounts, created here or existing, by key."""
    participants: dict[Key, Participant] = Field(default_factory=dict, alias=f"{NAMESPACE}:participants")
    """Parties invited to shares, by key (the invitation's name)."""
    shares: Annotated[dict[ShareName, Share], limits(maxProperties=MAX_SHARES)] = Field(
        default_factory=dict, alias=f"{NAMESPACE}:shares"
    )
    """Shares this stack sends, by name. At most 200."""
    subscriptions: Annotated[dict[ShareName, Subscription], limits(maxProperties=MAX_RECEIVED_SHARES)] = Field(
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
        distinct(list(shares), "share name")
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
        distinct(list(subscriptions), "share subscription name")
        return subscriptions

    @field_validator("participants")
    @classmethod
    def _participants_distinct(cls, participants: dict[str, Participant]) -> dict[str, Participant]:
        distinct(list(participants), "invitation name")
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

    def invited(self, share: Share) -> list[str]:
        """Keys of the participants a share invites, sorted: its list, or every participant."""
        return sorted(share.participants if share.participants is not None else self.participants)

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
            shown = "[secret]" if key in secret_keys else show(text)
            try:
                raw[key] = json.loads(text) if name in _STRUCTURED else text
            except json.JSONDecodeError as error:
                if text.lstrip()[:1] in ("{", "[", '"'):
                    problems.append(f"{key}: is not valid structured config ({error.msg}); got {shown}")
                else:
                    # Plain text where a map or flag belongs (`federation:storage: models`): the
                    # model says what belongs there, in its own words.
                    raw[key] = text
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
    known = Known.of(raw, senders, misspellings(values))
    try:
        config = Config.model_validate(_as_text(raw, Config), context=known)
    except ValidationError as error:
        problems.extend(describe(e, Config, secret_keys, known) for e in error.errors(include_url=False))
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
    # Warned of first: a misspelt namespace may be why the config is invalid.
    for message in ignored(keys):
        pulumi.log.warn(message)
    return parse({k: v for k, v in values.items() if v is not None}, pulumi.get_stack(), frozenset(secret))


def ignored(keys: Iterable[str]) -> list[str]:
    """A warning for each key whose namespace looks like a misspelling of the program's,
    the provider's or the engine's: Pulumi hands the key over, and no one reads it, without
    a word (`federaton:shares` sends no share, `azure-nativ:location` sets no region).
    A namespace differing only in case from the program's or the provider's is a config
    problem instead (`parse`)."""
    return [
        f"{key}: is ignored: its namespace {namespace!r} is not {right!r}; did you mean {right + ':' + name!r}?"
        for key in sorted(keys)
        for namespace, _, name in [key.partition(":")]
        if (right := meant(namespace)) and namespace.lower() not in (NAMESPACE, PROVIDER)
    ]


def misspellings(keys: Iterable[str]) -> dict[str, str]:
    """Key meant -> key written, for each key of the program's or the provider's namespace
    misspelt (`federation:storage` -> `federaton:storage`): an error the missing key causes
    then points at the misspelling."""
    found: dict[str, str] = {}
    for key in sorted(keys):
        namespace, _, name = key.partition(":")
        right = meant(namespace)
        if right in (NAMESPACE, PROVIDER):
            found.setdefault(f"{right}:{name}", key)
    return found


def meant(namespace: str) -> str | None:
    """The namespace of `WATCHED` that a namespace is a misspelling of: within
    `TYPO_DISTANCE` edits (insert, delete, replace one character, case aside), without
    being it; None for any other."""
    return next(
        (w for w in WATCHED if namespace != w and _distance(namespace.lower(), w) <= TYPO_DISTANCE),
        None,
    )


def misspelt(namespace: str) -> bool:
    """Whether a namespace is a misspelling of the program's, the provider's or the engine's."""
    return meant(namespace) is not None


def _distance(a: str, b: str) -> int:
    """Levenshtein distance, row by row."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


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
    shape = unwrap(shape)
    if get_origin(shape) is Annotated:
        shape = unwrap(get_args(shape)[0])
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
