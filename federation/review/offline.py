"""Run the Pulumi program with no cloud: a stack file becomes Pulumi config, mocks answer
as Azure would, and every registration is recorded with its dependencies and options.

This is the one runner behind `python -m federation plan|diff|handoff` and the tests.
"""

import asyncio
import contextlib
import contextvars
import copy
import logging
import runpy
import string
import sys
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks, rpc
from pulumi.runtime.stack import run_pulumi_func

from federation import config as config_module
from federation.config import stackfile

PROGRAM = stackfile.PROJECT_DIR / "__main__.py"

# What the mocks answer for the deploying identity.
SUBSCRIPTION_ID = "00000000-0000-4000-8000-000000000001"
TENANT_ID = "00000000-0000-4000-8000-000000000002"
CLIENT_OBJECT_ID = "00000000-0000-4000-8000-000000000003"


@dataclass(frozen=True)
class Secret:
    """A value Pulumi keeps secret: encrypted in state, `[secret]` wherever it is shown."""

    value: Any


@dataclass(frozen=True)
class Registration:
    """One resource as the engine would see it: what was asked and what came back."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str | None
    depends_on: tuple[str, ...]
    protect: bool
    replace_on_changes: tuple[str, ...]
    delete_before_replace: bool | None  # None: as the provider decides
    inputs: Mapping[str, Any]
    ignore_changes: tuple[str, ...] = ()
    id: str | None = None
    outputs: Mapping[str, Any] = field(default_factory=dict)
    read: bool = False  # read from elsewhere (a stack reference), not created
    aliases: tuple[str, ...] = ()  # former URNs this resource answers to
    # Per input, the resources its value came from: what the engine makes unknown when
    # one of them is replaced old one first.
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Run:
    """A whole program run: registrations in order, stack outputs, or the error it raised."""

    resources: tuple[Registration, ...]
    outputs: Mapping[str, Any]
    error: pulumi.RunError | None = None
    project: str = "federation"
    warnings: tuple[str, ...] = ()  # what the program logged with pulumi.log.warn

    def by_urn(self) -> dict[str, Registration]:
        return {r.urn: r for r in self.resources}

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.resources if r.type == type_]

    def named(self, type_: str, name: str) -> Registration:
        found = [r for r in self.resources if r.type == type_ and r.name == name]
        if len(found) != 1:
            raise LookupError(f"{len(found)} resources of type {type_} named {name!r}")
        return found[0]


def run(
    config: Mapping[str, str],
    stack: str = "dev",
    program: Path = PROGRAM,
    stacks: Mapping[str, Mapping[str, Any]] | None = None,
    secret_keys: frozenset[str] = frozenset(),
) -> Run:
    """Evaluate the program for this config under mocks, isolated from any other run.

    A stack reference gets the outputs given for it in `stacks`; otherwise, if it names a
    stack of this project with a stack file here, that stack file's outputs under mocks.
    """
    known = {name: _sibling_outputs(name) for name in stackfile.referenced_stacks(config) if name not in (stacks or {})}
    senders = known | dict(stacks or {})
    if senders:
        # The senders' outputs are known before the run: what a `from` names is checked
        # with the rest of the config, before anything is registered.
        try:
            config_module.parse(config, stack, secret_keys, senders)
        except config_module.ConfigError as error:
            return Run((), {}, error)
    return contextvars.Context().run(_run, dict(config), stack, program, senders, secret_keys)


def run_stack_file(path: Path | str) -> Run:
    stack_file = stackfile.read_stack_file(path)
    return run(stack_file.config, stack_file.stack, secret_keys=stack_file.secret_keys)


def _run(
    config: dict[str, str],
    stack: str,
    program: Path,
    stacks: Mapping[str, Mapping[str, Any]],
    secret_keys: frozenset[str],
) -> Run:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    monitor = Recorder(AzureMocks(stacks))
    try:
        pulumi.runtime.set_all_config(config, sorted(secret_keys))
        log = _Log()
        pulumi.runtime.set_mocks(
            monitor.mocks,
            project=stackfile.project_name(),
            stack=stack,
            preview=False,
            logger=log.logger,
            monitor=monitor,
        )
        # Mock settings leave the pending-output set to a process-wide default; a failed run
        # would leave its tasks there for the next run to wait on.
        pulumi.runtime.settings.SETTINGS.outputs = set()
        pulumi.runtime.register_stack_transformation(_without_version_aliases)
        if str(program.parent) not in sys.path:
            sys.path.insert(0, str(program.parent))

        def evaluate() -> None:
            runpy.run_path(str(program), run_name="__main__")

        try:
            loop.run_until_complete(run_pulumi_func(evaluate))
        except pulumi.RunError as error:
            return Run(tuple(monitor.registrations), {}, error, warnings=tuple(log.warnings))
        root = pulumi.runtime.settings.get_root_resource()
        outputs = loop.run_until_complete(_stack_outputs(getattr(root, "outputs", {})))
        return Run(tuple(monitor.registrations), outputs, warnings=tuple(log.warnings))
    finally:
        # A failed run leaves outputs waiting on each other; end them before the loop.
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_default_executor())  # its threads done with their loops
        loop.close()
        monitor.close_loops()
        asyncio.set_event_loop(None)


class _Log(logging.Handler):
    """Where the mock engine sends the program's log messages: kept with the run, not
    printed, so the command line decides how to show them."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.warnings: list[str] = []
        self.logger = logging.Logger("federation.offline", logging.WARNING)
        self.logger.propagate = False
        self.logger.addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno == logging.WARNING:
            self.warnings.append(record.getMessage())


async def _stack_outputs(exported: Mapping[str, Any]) -> dict[str, Any]:
    """Stack outputs as `pulumi stack output` shows them: a secret one as a Secret."""
    outputs = {}
    for name, value in exported.items():
        output = pulumi.Output.from_input(value)
        resolved = await output.future()
        outputs[name] = Secret(resolved) if await output.is_secret() else resolved
    return outputs


def _without_version_aliases(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
    """azure-native aliases every resource to its own type in older API versions, to match
    state that those versions left. Offline there is no state for them to match, and their
    URNs are most of what a registration costs under mocks: leave them out here. Every
    other alias is kept: the program's own, and azure-native's between kinds of a type
    family (a dataset's kind changed under the same name is the same resource)."""
    aliases = args.opts.aliases or []
    kept = [a for a in aliases if not _older_version_of(a, args.type_)]
    if len(kept) == len(aliases):
        return None
    opts = copy.copy(args.opts)
    opts.aliases = kept
    return pulumi.ResourceTransformationResult(args.props, opts)


def _older_version_of(alias: Any, type_: str) -> bool:
    """Whether an alias names only a type, and that type is `type_` in an API version
    module (`azure-native:datashare/v20210801:Share` for `azure-native:datashare:Share`)."""
    if not isinstance(alias, pulumi.Alias) or not isinstance(alias.type_, str):
        return False
    others: tuple[Any, ...] = (alias.name, alias.parent, alias.stack, alias.project)
    if any(value is not ... for value in others):
        return False
    package, module, name = ([*type_.split(":"), "", ""])[:3]
    other_package, other_module, other_name = ([*alias.type_.split(":"), "", ""])[:3]
    base, slash, version = other_module.partition("/")
    return (other_package, base, other_name) == (package, module, name) and bool(slash and version)


class Recorder(mocks.MockMonitor):
    """The mock monitor, keeping what the engine receives: parent, dependencies, options."""

    def __init__(self, azure: mocks.Mocks) -> None:
        super().__init__(azure)
        self.registrations: list[Registration] = []
        # The mocks answer in the SDK's worker threads, each with an event loop of its own
        # that nothing closes: the run closes them, not the garbage collector at any time.
        self.loops: set[asyncio.AbstractEventLoop] = set()

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # As the engine does: the root stack is not part of a resource's type chain.
        if parent and parent.split("::")[2] == "pulumi:pulumi:Stack":
            parent = ""
        return super().make_urn(parent, type_, name)

    def Invoke(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        response = super().Invoke(request)  # type: ignore[no-untyped-call]
        self._keep_loop()
        return response

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        self._keep_loop()
        if request.type != "pulumi:pulumi:Stack":
            self._record(request, response.urn, response.id, request.object)
        return response

    def ReadResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        response = super().ReadResource(request)  # type: ignore[no-untyped-call]
        self._keep_loop()
        self._record(request, response.urn, request.id, request.properties, read=True)
        return response

    def _keep_loop(self) -> None:
        with contextlib.suppress(RuntimeError):  # this call made none (the stack's own registration)
            self.loops.add(asyncio.get_event_loop())

    def close_loops(self) -> None:
        for loop in self.loops:
            if not loop.is_running():
                loop.close()

    def _record(self, request: Any, urn: str, id_: str, inputs: Any, read: bool = False) -> None:
        parent = request.parent or None
        self.registrations.append(
            Registration(
                urn=urn,
                type=request.type,
                name=request.name,
                custom=read or request.custom,
                parent=None if parent and parent.split("::")[2] == "pulumi:pulumi:Stack" else parent,
                depends_on=tuple(sorted(set(request.dependencies))),
                protect=bool(getattr(request, "protect", False)),
                replace_on_changes=tuple(getattr(request, "replaceOnChanges", ())),
                delete_before_replace=(
                    bool(request.deleteBeforeReplace) if getattr(request, "deleteBeforeReplaceDefined", False) else None
                ),
                inputs=_secrets_marked(rpc.deserialize_properties(inputs)),
                ignore_changes=tuple(getattr(request, "ignoreChanges", ())),
                id=id_ or None,
                outputs=self.resources[urn].state,
                read=read,
                aliases=tuple(self._alias_urn(request, a) for a in getattr(request, "aliases", ())),
                property_dependencies={
                    key: tuple(sorted(deps.urns))
                    for key, deps in getattr(request, "propertyDependencies", {}).items()
                    if deps.urns
                },
            )
        )

    def _alias_urn(self, request: Any, alias: Any) -> str:
        """An alias as the engine resolves it: a URN, or a spec whose unset parts are the
        resource's own."""
        if alias.WhichOneof("alias") == "urn":
            return str(alias.urn)
        spec = alias.spec
        parent = "" if spec.noParent else spec.parentUrn or request.parent
        urn = self.make_urn(parent, spec.type or request.type, spec.name or request.name)
        stack, project, rest = urn.removeprefix("urn:pulumi:").split("::", 2)
        return f"urn:pulumi:{spec.stack or stack}::{spec.project or project}::{rest}"


def _secrets_marked(value: Any) -> Any:
    """What the engine received, with each secret-wrapped value as a Secret."""
    if rpc.is_rpc_secret(value):
        return Secret(_secrets_marked(value["value"]))
    if isinstance(value, dict):
        return {k: _secrets_marked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_secrets_marked(v) for v in value]
    return value


def plain(value: Any) -> Any:
    """A value with secrets unwrapped: what Azure would receive, decrypted."""
    if rpc.is_rpc_secret(value):
        return plain(value["value"])
    if isinstance(value, Secret):
        return plain(value.value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def _guid(*parts: str) -> str:
    """A stable GUID standing in for one Azure assigns (ids, principal ids)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)))


_RG = "/subscriptions/{subscription}/resourceGroups/{resourceGroupName}"
_DSA = _RG + "/providers/Microsoft.DataShare/accounts/{accountName}"
_SHARE = _DSA + "/shares/{shareName}"
_SUBSCRIPTION = _DSA + "/shareSubscriptions/{shareSubscriptionName}"
_STORAGE = _RG + "/providers/Microsoft.Storage/storageAccounts/{accountName}"

# type token -> (ARM id template over the inputs, input holding the Azure name)
_AZURE: dict[str, tuple[str, str]] = {
    "azure-native:resources:ResourceGroup": (_RG, "resourceGroupName"),
    "azure-native:storage:StorageAccount": (_STORAGE, "accountName"),
    "azure-native:storage:BlobServiceProperties": (_STORAGE + "/blobServices/{blobServicesName}", "blobServicesName"),
    "azure-native:storage:BlobContainer": (
        _STORAGE + "/blobServices/default/containers/{containerName}",
        "containerName",
    ),
    "azure-native:authorization:RoleAssignment": (
        "{scope}/providers/Microsoft.Authorization/roleAssignments/{roleAssignmentName}",
        "roleAssignmentName",
    ),
    "azure-native:operationalinsights:Workspace": (
        _RG + "/providers/Microsoft.OperationalInsights/workspaces/{workspaceName}",
        "workspaceName",
    ),
    "azure-native:monitor:ActionGroup": (
        _RG + "/providers/Microsoft.Insights/actionGroups/{actionGroupName}",
        "actionGroupName",
    ),
    "azure-native:monitor:ScheduledQueryRule": (
        _RG + "/providers/Microsoft.Insights/scheduledQueryRules/{ruleName}",
        "ruleName",
    ),
    "azure-native:monitor:DiagnosticSetting": (
        "{resourceUri}/providers/Microsoft.Insights/diagnosticSettings/{name}",
        "name",
    ),
    "azure-native:datashare:Account": (_DSA, "accountName"),
    "azure-native:datashare:Share": (_SHARE, "shareName"),
    "azure-native:datashare:Invitation": (_SHARE + "/invitations/{invitationName}", "invitationName"),
    "azure-native:datashare:ScheduledSynchronizationSetting": (
        _SHARE + "/synchronizationSettings/{synchronizationSettingName}",
        "synchronizationSettingName",
    ),
    "azure-native:datashare:ShareSubscription": (_SUBSCRIPTION, "shareSubscriptionName"),
    "azure-native:datashare:ScheduledTrigger": (_SUBSCRIPTION + "/triggers/{triggerName}", "triggerName"),
}
# Not Azure: a wait in the deployment, whose id is its creation time.
_SLEEP = "time:index/sleep:Sleep"
for _stem in ("BlobContainer", "BlobFolder", "Blob", "ADLSGen2FileSystem", "ADLSGen2Folder", "ADLSGen2File"):
    _AZURE[f"azure-native:datashare:{_stem}DataSet"] = (_SHARE + "/dataSets/{dataSetName}", "dataSetName")
    _AZURE[f"azure-native:datashare:{_stem}DataSetMapping"] = (
        _SUBSCRIPTION + "/dataSetMappings/{dataSetMappingName}",
        "dataSetMappingName",
    )


def name_input(type_: str) -> str | None:
    """The input that holds a resource type's own Azure name."""
    return _AZURE[type_][1] if type_ in _AZURE else None


def id_inputs(type_: str) -> set[str]:
    """The inputs a resource's id is made of: changing one means another resource."""
    template = _AZURE.get(type_, ("", ""))[0]
    return {name for _, name, _, _ in string.Formatter().parse(template) if name and name != "subscription"}


# Outputs Azure computes that the program reads, by type token, from the resource id.
_COMPUTED: dict[str, Callable[[str], dict[str, Any]]] = {
    "azure-native:datashare:Account": lambda id_: {
        "identity": {"type": "SystemAssigned", "principalId": _guid(id_, "principal"), "tenantId": TENANT_ID}
    },
    "azure-native:datashare:Invitation": lambda id_: {"invitationId": _guid(id_), "invitationStatus": "Pending"},
    "azure-native:datashare:ShareSubscription": lambda id_: {"shareSubscriptionStatus": "Active"},
}


class AzureMocks(mocks.Mocks):
    """Answers as Azure Resource Manager does: resource ids built from the inputs, the
    Azure name as `name`, and the computed outputs the program reads (principal ids,
    dataset ids, invitation ids). A type it does not know fails the run."""

    def __init__(self, stacks: Mapping[str, Mapping[str, Any]]) -> None:
        self.stacks = stacks

    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        if args.typ == "pulumi:pulumi:StackReference":
            name = args.inputs["name"]
            outputs = self.stacks[name] if name in self.stacks else _sibling_outputs(name)
            secret = sorted(k for k, v in outputs.items() if isinstance(v, Secret))
            return name, {"name": name, "outputs": plain(outputs), "secretOutputNames": secret}
        if not args.custom:
            return None, {}
        inputs = plain(args.inputs)
        if args.typ == _SLEEP:
            return "2026-01-01T00:00:00Z", inputs
        if args.typ not in _AZURE:
            raise NotImplementedError(f"no Azure mock for {args.typ}")
        template, name_input = _AZURE[args.typ]
        id_ = template.format(subscription=SUBSCRIPTION_ID, **inputs)
        state = inputs | {"id": id_, "name": inputs[name_input], "type": args.typ}
        if args.typ.endswith("DataSet"):
            state["dataSetId"] = _guid(id_)
        computed = _COMPUTED.get(args.typ)
        return id_, state | (computed(id_) if computed else {})

    def call(self, args: mocks.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        if args.token == "azure-native:authorization:getClientConfig":
            return {
                "clientId": CLIENT_OBJECT_ID,
                "objectId": CLIENT_OBJECT_ID,
                "subscriptionId": SUBSCRIPTION_ID,
                "tenantId": TENANT_ID,
            }
        raise NotImplementedError(f"no Azure mock for the function {args.token}")


def _sibling_outputs(stack: str) -> Mapping[str, Any]:
    """Outputs of another stack of this project, from its stack file run under mocks; none
    for a stack that is not here (the program then says which output it lacks)."""
    path = stackfile.sibling_file(stack)
    return run_stack_file(path).outputs if path else {}
