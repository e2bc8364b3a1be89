"""The resource classes a graph may hold, by type token, each imported on first use from
its own module.

Touching an azure-native subpackage imports every module in it (authorization and
datashare have 73 each, storage 49, resources 40): about a quarter of an offline plan.
azure-native's top package leaves each subpackage as a lazy module. Before that loads, it
becomes here a plain module whose submodules import alone and whose `__init__` runs the
first time it is asked for a name it lacks (PEP 562), so other code still sees the whole
package, the same module object.
"""

import functools
import importlib
import sys
import threading
from importlib.abc import Loader
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any, cast

# Type token -> module that defines its class, for every resource type the graph may hold.
MODULES = {
    "azure-native:resources:ResourceGroup": "pulumi_azure_native.resources.resource_group",
    "azure-native:authorization:RoleAssignment": "pulumi_azure_native.authorization.role_assignment",
    "azure-native:storage:StorageAccount": "pulumi_azure_native.storage.storage_account",
    "azure-native:storage:BlobServiceProperties": "pulumi_azure_native.storage.blob_service_properties",
    "azure-native:storage:BlobContainer": "pulumi_azure_native.storage.blob_container",
    "azure-native:datashare:Account": "pulumi_azure_native.datashare.account",
    "azure-native:datashare:Share": "pulumi_azure_native.datashare.share",
    "azure-native:datashare:BlobContainerDataSet": "pulumi_azure_native.datashare.blob_container_data_set",
    "azure-native:datashare:BlobFolderDataSet": "pulumi_azure_native.datashare.blob_folder_data_set",
    "azure-native:datashare:BlobDataSet": "pulumi_azure_native.datashare.blob_data_set",
    "azure-native:datashare:ADLSGen2FileSystemDataSet": "pulumi_azure_native.datashare.adls_gen2_file_system_data_set",
    "azure-native:datashare:ADLSGen2FolderDataSet": "pulumi_azure_native.datashare.adls_gen2_folder_data_set",
    "azure-native:datashare:ADLSGen2FileDataSet": "pulumi_azure_native.datashare.adls_gen2_file_data_set",
    "azure-native:datashare:ScheduledSynchronizationSetting": (
        "pulumi_azure_native.datashare.scheduled_synchronization_setting"
    ),
    "azure-native:datashare:Invitation": "pulumi_azure_native.datashare.invitation",
    "azure-native:datashare:ShareSubscription": "pulumi_azure_native.datashare.share_subscription",
    "azure-native:datashare:BlobContainerDataSetMapping": (
        "pulumi_azure_native.datashare.blob_container_data_set_mapping"
    ),
    "azure-native:datashare:BlobFolderDataSetMapping": "pulumi_azure_native.datashare.blob_folder_data_set_mapping",
    "azure-native:datashare:BlobDataSetMapping": "pulumi_azure_native.datashare.blob_data_set_mapping",
    "azure-native:datashare:ADLSGen2FileSystemDataSetMapping": (
        "pulumi_azure_native.datashare.adls_gen2_file_system_data_set_mapping"
    ),
    "azure-native:datashare:ADLSGen2FolderDataSetMapping": (
        "pulumi_azure_native.datashare.adls_gen2_folder_data_set_mapping"
    ),
    "azure-native:datashare:ADLSGen2FileDataSetMapping": (
        "pulumi_azure_native.datashare.adls_gen2_file_data_set_mapping"
    ),
    "azure-native:datashare:ScheduledTrigger": "pulumi_azure_native.datashare.scheduled_trigger",
    "time:index/sleep:Sleep": "pulumiverse_time.sleep",
}

_INIT_LOCK = threading.RLock()


def resource_class(token: str) -> Any:
    """The class that registers resources of this type token."""
    return _attribute(MODULES[token], token.rsplit(":", 1)[1])


def get_client_config_output() -> Any:
    """azure-native's `authorization.get_client_config_output()`: the deploying identity."""
    return _attribute("pulumi_azure_native.authorization.get_client_config", "get_client_config_output")()


@functools.cache
def _attribute(module: str, name: str) -> Any:
    return getattr(_module(module), name)


def _module(name: str) -> ModuleType:
    package_name, _, child = name.rpartition(".")
    package = _unrun_package(package_name)
    module = importlib.import_module(name)
    if package is not None and "__getattr__" in vars(package) and hasattr(module, child):
        # Importing set the package's `child` to the module; its __init__ sets it to what
        # the module exports under that name (get_client_config: a function). Until then,
        # leave the name to __getattr__, which runs the __init__.
        vars(package).pop(child, None)
    return module


def _unrun_package(name: str) -> ModuleType | None:
    """Package `name`, if azure-native's top package left it lazy and nothing has loaded it
    yet: made a plain module whose submodules import alone, its __init__ run on the first
    name asked of it that it lacks (PEP 562 __getattr__ and __dir__)."""
    parent, _, _ = name.rpartition(".")
    if not parent:
        return None  # a top-level package: imported as usual
    importlib.import_module(parent)
    package = sys.modules.get(name)
    if package is None or type(package) is ModuleType:
        return package  # imported as usual, or already loaded or made unrun
    # Pulumi's lazy module (a copy of importlib's LazyLoader module) loads on any attribute
    # asked of it; becoming a plain module is the first step of its own load.
    package.__class__ = ModuleType
    # The real loader, which the lazy one put in the spec it kept.
    loader = cast(Loader, cast(ModuleSpec, package.__spec__).loader)
    running = False

    def run_init() -> None:
        nonlocal running
        with _INIT_LOCK:  # another thread waits for the whole package
            if running or "__getattr__" not in vars(package):
                return  # names asked for while __init__ runs are looked up as they stand
            running = True
            try:
                loader.exec_module(package)
            finally:
                running = False
            del vars(package)["__getattr__"], vars(package)["__dir__"]

    def missing(attr: str) -> Any:
        if attr == "outputs":  # `from . import outputs` in every class's module
            return importlib.import_module(f"{name}.outputs")
        run_init()
        try:
            return vars(package)[attr]
        except KeyError:
            raise AttributeError(f"module {name!r} has no attribute {attr!r}") from None

    def names() -> list[str]:
        run_init()
        return list(vars(package))

    vars(package).update(__getattr__=missing, __dir__=names)
    return package
