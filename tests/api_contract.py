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


# Azure Monitor and Log Analytics, per type token: what the API versions azure-native 3.x
# uses accept (Microsoft.Insights diagnostic settings 2021-05-01-preview, action groups
# 2024-10-01-preview, scheduled query rules 2025-01-01-preview; Microsoft.OperationalInsights
# workspaces 2023-09-01). azure-native flattens `properties` into the inputs, beside the
# path parameters, location and tags. Nested objects: path with [] for list items ->
# (required, defined).
@dataclass(frozen=True)
class Shape:
    path: tuple[str, ...]
    required: frozenset[str]
    optional: frozenset[str]
    nested: dict[str, tuple[frozenset[str], frozenset[str]]] = field(default_factory=dict)
    enums: dict[str, set[Any]] = field(default_factory=dict)
    max_length: dict[str, int] = field(default_factory=dict)
    name: re.Pattern[str] | None = None


def _f(*names: str) -> frozenset[str]:
    return frozenset(names)


_LOG_SETTINGS = (_f("enabled"), _f("category", "categoryGroup", "enabled", "retentionPolicy"))
_CONDITION = _f(
    "criterionType",
    "query",
    "timeAggregation",
    "metricMeasureColumn",
    "resourceIdColumn",
    "dimensions",
    "operator",
    "threshold",
    "alertSensitivity",
    "ignoreDataBefore",
    "failingPeriods",
    "metricName",
    "minRecurrenceCount",
)
_RECEIVER_LISTS = (
    "emailReceivers",
    "smsReceivers",
    "webhookReceivers",
    "itsmReceivers",
    "azureAppPushReceivers",
    "automationRunbookReceivers",
    "voiceReceivers",
    "logicAppReceivers",
    "azureFunctionReceivers",
    "armRoleReceivers",
    "eventHubReceivers",
    "incidentReceivers",
)

MONITOR: dict[str, Shape] = {
    "azure-native:operationalinsights:Workspace": Shape(
        ("resourceGroupName", "workspaceName"),
        _f("location"),  # a tracked resource
        _f(
            "tags",
            "identity",
            "sku",
            "retentionInDays",
            "workspaceCapping",
            "publicNetworkAccessForIngestion",
            "publicNetworkAccessForQuery",
            "forceCmkForQuery",
            "features",
            "defaultDataCollectionRuleResourceId",
        ),
        nested={
            "sku": (_f("name"), _f("name", "capacityReservationLevel")),
            "features": (
                frozenset(),
                _f(
                    "enableDataExport",
                    "immediatePurgeDataOn30Days",
                    "enableLogAccessUsingOnlyResourcePermissions",
                    "clusterResourceId",
                    "disableLocalAuth",
                ),
            ),
        },
        enums={
            "sku.name": {
                "Free",
                "Standard",
                "Premium",
                "PerNode",
                "PerGB2018",
                "Standalone",
                "CapacityReservation",
                "LACluster",
            }
        },
        name=re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{2,61}[A-Za-z0-9]$"),
    ),
    "azure-native:monitor:DiagnosticSetting": Shape(
        ("resourceUri", "name"),
        frozenset(),
        _f(
            "storageAccountId",
            "serviceBusRuleId",
            "eventHubAuthorizationRuleId",
            "eventHubName",
            "metrics",
            "logs",
            "workspaceId",
            "marketplacePartnerId",
            "logAnalyticsDestinationType",
        ),
        nested={"logs[]": _LOG_SETTINGS, "metrics[]": (_f("enabled"), _f("timeGrain", *_LOG_SETTINGS[1]))},
        # "Possible values are: Dedicated and null (null is default.)"
        enums={"logAnalyticsDestinationType": {"Dedicated"}},
    ),
    "azure-native:monitor:ActionGroup": Shape(
        ("resourceGroupName", "actionGroupName"),
        _f("location", "groupShortName", "enabled"),
        _f("tags", "identity", *_RECEIVER_LISTS),
        nested={"emailReceivers[]": (_f("name", "emailAddress"), _f("name", "emailAddress", "useCommonAlertSchema"))},
        max_length={"groupShortName": 12},
    ),
    "azure-native:monitor:ScheduledQueryRule": Shape(
        ("resourceGroupName", "ruleName"),
        # location is required; severity, the schedule and criteria are "required only for
        # rules of the kind LogAlert", the only kind built here.
        _f("location", "severity", "evaluationFrequency", "windowSize", "criteria"),
        _f(
            "tags",
            "identity",
            "kind",
            "description",
            "displayName",
            "enabled",
            "scopes",
            "overrideQueryTimeRange",
            "targetResourceTypes",
            "muteActionsDuration",
            "actions",
            "checkWorkspaceAlertsStorageConfigured",
            "skipQueryValidation",
            "autoMitigate",
            "resolveConfiguration",
        ),
        nested={
            "criteria": (frozenset(), _f("allOf")),
            "criteria.allOf[]": (frozenset(), _CONDITION),
            "criteria.allOf[].dimensions[]": (_f("name", "operator", "values"), _f("name", "operator", "values")),
            "criteria.allOf[].failingPeriods": (
                frozenset(),
                _f("numberOfEvaluationPeriods", "minFailingPeriodsToAlert"),
            ),
            "actions": (frozenset(), _f("actionGroups", "customProperties", "actionProperties")),
        },
        enums={
            "kind": {"LogAlert", "SimpleLogAlert", "LogToMetric"},
            "severity": {0, 1, 2, 3, 4},
            "criteria.allOf[].criterionType": {"StaticThresholdCriterion", "DynamicThresholdCriterion"},
            "criteria.allOf[].timeAggregation": {"Count", "Average", "Minimum", "Maximum", "Total"},
            "criteria.allOf[].operator": {
                "Equals",
                "GreaterThan",
                "GreaterThanOrEqual",
                "LessThan",
                "LessThanOrEqual",
                "GreaterOrLessThan",
            },
            "criteria.allOf[].dimensions[].operator": {"Include", "Exclude"},
        },
        name=re.compile(r"^[^#<>%&:\\?/{}*]{1,260}$"),
    ),
}


def monitor_violations(type_: str, inputs: dict[str, Any], known: bool = True) -> list[str]:
    """How a monitoring resource's inputs break its API; [] if they do not."""
    shape = MONITOR[type_]
    found = []
    missing = (set(shape.path) | shape.required) - set(inputs)
    if missing:
        found.append(f"missing {sorted(missing)}")
    undefined = set(inputs) - set(shape.path) - shape.required - shape.optional
    if undefined:
        found.append(f"not defined by the API: {sorted(undefined)}")
    for path, (required, defined) in shape.nested.items():
        for value in _all_at(inputs, path):
            if not isinstance(value, dict):
                continue
            if required - set(value):
                found.append(f"{path} missing {sorted(required - set(value))}")
            if set(value) - defined:
                found.append(f"{path} not defined by the API: {sorted(set(value) - defined)}")
    for path, allowed in shape.enums.items():
        for value in _all_at(inputs, path):
            if _literal(value, known) and value not in allowed:
                found.append(f"{path} {value!r} not one of {sorted(allowed, key=str)}")
    for name, limit in shape.max_length.items():
        value = inputs.get(name)
        if isinstance(value, str) and len(value) > limit:
            found.append(f"{name} {value!r} is longer than {limit}")
    own_name = inputs.get(shape.path[-1])
    if shape.name is not None and isinstance(own_name, str) and not shape.name.match(own_name):
        found.append(f"{shape.path[-1]} {own_name!r} does not match {shape.name.pattern}")
    return found


def _all_at(value: Any, path: str) -> list[Any]:
    """Every value at a dotted path, `[]` stepping into each item of a list."""
    values = [value]
    for part in path.split("."):
        key, into_list = part.removesuffix("[]"), part.endswith("[]")
        values = [v.get(key) for v in values if isinstance(v, dict) and v.get(key) is not None]
        if into_list:
            values = [item for v in values if isinstance(v, list) for item in v]
    return values
