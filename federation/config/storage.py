"""Storage entries, and where data sits in them (`Location`): created here or existing."""

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from federation.config import naming
from federation.config.fields import Container, Flag, IpRule, Model, Named, StorageName, SubnetId, choices, context

# Marks what `python -m federation handoff` leaves for the receiver to fill in.
PLACEHOLDER = "FILL IN:"


def _storage_known(storage: str, info: ValidationInfo) -> str:
    known = context(info).storage
    if known is not None and storage not in known:
        pointer = context(info).pointer("federation:storage")
        raise PydanticCustomError(
            "unknown_storage", "is not a key of federation:storage (known: {known})", {"known": choices(known, pointer)}
        )
    return storage


def _container_declared(container: str, info: ValidationInfo) -> str:
    declared = context(info).containers.get(info.data.get("storage", ""))
    if declared is not None and container not in declared:
        raise PydanticCustomError(
            "unknown_container",
            "is not in that storage entry's containers (declared: {declared})",
            {"declared": choices(declared)},
        )
    return container


def _segments(path: str, info: ValidationInfo) -> str:
    """Blob storage and ADLS Gen2 bound how deep a path goes, differently."""
    hns = context(info).hns.get(info.data.get("storage", ""))
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


Path = Annotated[str, Named(naming.PATH), AfterValidator(_segments)]


class Location(Model):
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


class Network(Model):
    """Where a created storage account takes data-plane traffic from, besides the Data
    Share account: public addresses and virtual network subnets."""

    allow: tuple[IpRule, ...] = Field((), examples=[["81.2.69.0/24"]])
    """Public IPv4 addresses or CIDR ranges let through (not private ranges, not /31 or /32)."""
    subnets: tuple[SubnetId, ...] = Field(
        (),
        examples=[
            [
                "/subscriptions/6f1c2a4e-8d3b-4c9a-9e71-0a5b3c2d1e4f/resourceGroups/rg-net/providers"
                "/Microsoft.Network/virtualNetworks/vnet-fl/subnets/pipelines"
            ]
        ],
    )
    """Resource ids of virtual network subnets let through."""

    @field_validator("allow", "subnets")
    @classmethod
    def _unique(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        if len({v.lower() for v in values}) != len(values):
            raise PydanticCustomError("duplicate", "lists an entry twice")
        return values


class Storage(Model):
    """A storage account: created here (`name`) or existing and only referenced (`id`)."""

    name: StorageName | None = None
    """Name of a storage account to create here (globally unique)."""
    id: (
        Annotated[
            str,
            AfterValidator(_storage_id),
            WithJsonSchema(
                {
                    "type": "string",
                    "pattern": naming.STORAGE_ID.ecma,
                    "patternErrorMessage": f"must be a storage account resource id: {naming.STORAGE_ID.says}",
                }
            ),
        ]
        | None
    ) = None
    """Resource id of an existing storage account, only referenced (not with name)."""
    containers: Annotated[tuple[Container, ...], AfterValidator(_unique_containers)] = Field(
        (), examples=[["global-model", "eval"]]
    )
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
