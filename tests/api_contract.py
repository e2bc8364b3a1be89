"""What the Microsoft.DataShare 2021-08-01 REST API accepts, per resource type: the path
parameters, the body properties it defines and requires, their enums and date-times, and
its name patterns. Facts from the public API specification, encoded for the tests."""

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

_ACCOUNT_PATH = ("resourceGroupName", "accountName")
_SHARE_PATH = (*_ACCOUNT_PATH, "shareName")
_SUBSCRIPTION_PATH = (*_ACCOUNT_PATH, "shareSubscriptionName")
_STORAGE = ("storageAccountName", "resourceGroup", "subscriptionId")
_RECURRENCE = {"recurrenceInterval": {"Hour", "Day"}}


@dataclass(frozen=True)
class Api:
    path: tuple[str, ...]  # URL parameters, the last being the resource's own name
    required: frozenset[str] = frozenset()
    optional: frozenset[str] = frozenset()
    enums: dict[str, set[str]] = field(default_factory=dict)
    times: frozenset[str] = frozenset()
    kind: str | None = None  # the discriminator value the body must carry

    @property
    def defined(self) -> frozenset[str]:
        return frozenset(self.path) | self.required | self.optional | ({"kind"} if self.kind else frozenset())


def _api(path: tuple[str, ...], required: tuple[str, ...] = (), optional: tuple[str, ...] = (), **rest: Any) -> Api:
    return Api(path, frozenset(required), frozenset(optional), **rest)


# Blob and ADLS Gen2 datasets and mappings: (type stem, kind, required properties).
_DATASET_KINDS = {
    "BlobContainer": ("Container", ("containerName",)),
    "BlobFolder": ("BlobFolder", ("containerName", "prefix")),
    "Blob": ("Blob", ("containerName", "filePath")),
    "ADLSGen2FileSystem": ("AdlsGen2FileSystem", ("fileSystem",)),
    "ADLSGen2Folder": ("AdlsGen2Folder", ("fileSystem", "folderPath")),
    "ADLSGen2File": ("AdlsGen2File", ("fileSystem", "filePath")),
}
# Only the file mappings define an output type (for SQL sources; unused here).
_OUTPUT_TYPE = {"Blob", "ADLSGen2File"}

DATASHARE: dict[str, Api] = {
    "Account": _api(_ACCOUNT_PATH, ("identity", "location"), ("tags",), enums={"identity.type": {"SystemAssigned"}}),
    "Share": _api(
        _SHARE_PATH, (), ("description", "shareKind", "terms"), enums={"shareKind": {"CopyBased", "InPlace"}}
    ),
    "Invitation": _api(
        (*_SHARE_PATH, "invitationName"),
        (),
        ("expirationDate", "targetActiveDirectoryId", "targetEmail", "targetObjectId"),
        times=frozenset({"expirationDate"}),
    ),
    "ScheduledSynchronizationSetting": _api(
        (*_SHARE_PATH, "synchronizationSettingName"),
        ("recurrenceInterval", "synchronizationTime"),
        enums=_RECURRENCE,
        times=frozenset({"synchronizationTime"}),
        kind="ScheduleBased",
    ),
    "ShareSubscription": _api(
        (*_SUBSCRIPTION_PATH,),
        ("invitationId", "sourceShareLocation"),
        ("expirationDate",),
        times=frozenset({"expirationDate"}),
    ),
    "ScheduledTrigger": _api(
        (*_SUBSCRIPTION_PATH, "triggerName"),
        ("recurrenceInterval", "synchronizationTime"),
        ("synchronizationMode",),
        enums=_RECURRENCE | {"synchronizationMode": {"Incremental", "FullSync"}},
        times=frozenset({"synchronizationTime"}),
        kind="ScheduleBased",
    ),
}
for _stem, (_kind, _props) in _DATASET_KINDS.items():
    DATASHARE[f"{_stem}DataSet"] = _api((*_SHARE_PATH, "dataSetName"), (*_props, *_STORAGE), kind=_kind)
    DATASHARE[f"{_stem}DataSetMapping"] = _api(
        (*_SUBSCRIPTION_PATH, "dataSetMappingName"),
        (*_props, *_STORAGE, "dataSetId"),
        ("outputType",) if _stem in _OUTPUT_TYPE else (),
        enums={"outputType": {"Csv", "Parquet"}},
        kind=_kind,
    )

# Name patterns Azure enforces (Data Share documents no pattern for settings and triggers;
# this one is the Terraform provider's).
NAMES = {
    "shareName": re.compile(r"^\w{2,90}$"),
    "dataSetName": re.compile(r"^[\w-]{2,90}$"),
    "invitationName": re.compile(r"^[\w-]{2,90}$"),
    "dataSetMappingName": re.compile(r"^[\w-]{2,90}$"),
    "synchronizationSettingName": re.compile(r"^[^&%#/]{1,90}$"),
    "triggerName": re.compile(r"^[^&%#/]{1,90}$"),
    "accountName": re.compile(r"^[^<>%&:\\?/#*$^();,.|+={}\[\]!~@]{3,90}$"),
}
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def violations(type_: str, inputs: dict[str, Any], known: bool = True) -> list[str]:
    """How a Data Share resource's inputs break the API; [] if they do not.

    With `known=False` (inputs from the model, where some values are references to other
    resources' outputs), only the presence of properties is checked for references."""
    api = DATASHARE[type_.rsplit(":", 1)[1]]
    found = []
    missing = (set(api.path) | api.required) - set(inputs)
    if missing:
        found.append(f"missing {sorted(missing)}")
    undefined = set(inputs) - api.defined
    if undefined:
        found.append(f"not defined by the API: {sorted(undefined)}")
    if api.kind is not None and inputs.get("kind") != api.kind:
        found.append(f"kind {inputs.get('kind')!r}, not {api.kind!r}")
    for path, allowed in api.enums.items():
        value = _at(inputs, path)
        if value is not None and _literal(value, known) and value not in allowed:
            found.append(f"{path} {value!r} not one of {sorted(allowed)}")
    for name in api.times:
        value = inputs.get(name)
        if value is not None and _literal(value, known) and not _is_time(value):
            found.append(f"{name} {value!r} is not an RFC 3339 date-time")
    for name, pattern in NAMES.items():
        value = inputs.get(name)
        if name == api.path[-1] and _literal(value, known) and not pattern.match(str(value)):
            found.append(f"{name} {value!r} does not match {pattern.pattern}")
    if type_.endswith(":Invitation"):
        by_email = "targetEmail" in inputs
        by_id = {"targetActiveDirectoryId", "targetObjectId"} & set(inputs)
        if by_email == bool(by_id) or (by_id and len(by_id) != 2):
            found.append("an invitation targets an email, or a tenant and object id, not both or neither")
    return found


def _at(inputs: dict[str, Any], path: str) -> Any:
    value: Any = inputs
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _literal(value: Any, known: bool) -> bool:
    return known or isinstance(value, str | int | float | bool)


def _is_time(value: str) -> bool:
    if not isinstance(value, str) or not _RFC3339.match(value):
        return False
    datetime.fromisoformat(value)
    return True
