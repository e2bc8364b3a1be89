"""The resource classes a graph may hold, by type token, each imported on first use from
its own module.

Touching an azure-native subpackage imports every module in it (authorization and
datashare have 73 each, storage 49, resources 40), which was about a quarter of an offline
plan. Here a class comes from its own module while its package stays the real package
object, not yet run: the first thing asked of it that is not there yet runs its
`__init__` (PEP 562), so any other code still sees the whole package.
"""

import functools
import importlib
import importlib.machinery
import importlib.util
import sys
from types import ModuleType
from typing import Any

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


@functools.cache
def resource_class(token: str) -> Any:
    """The class that registers resources of this type token."""
    return getattr(_module(MODULES[token]), token.rsplit(":", 1)[1])


def get_client_config_output() -> Any:
    """azure-native's `authorization.get_client_config_output()`: the deploying identity."""
    return _module("pulumi_azure_native.authorization.get_client_config").get_client_config_output()


def _module(name: str) -> ModuleType:
    package, _, _ = name.rpartition(".")
    if "." in package:  # a subpackage; a top-level package's __init__ always runs
        _enter_unrun(package)
    return importlib.import_module(name)


def _enter_unrun(name: str) -> None:
    """Make package `name` importable from without running its `__init__` yet."""
    if type(sys.modules.get(name)) is ModuleType:
        return  # already imported (or entered): nothing to save
    # Any attribute of a module that azure-native left to load lazily (importlib's
    # LazyLoader) would load it whole, `__spec__` included: find the spec from the parent.
    parent_name, _, child = name.rpartition(".")
    parent = importlib.import_module(parent_name)
    spec = importlib.machinery.PathFinder.find_spec(name, parent.__path__)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"no package {name}", name=name)
    package = importlib.util.module_from_spec(spec)
    loader = spec.loader

    def missing(attr: str) -> Any:
        # `from . import outputs` in a class's module asks for a submodule: import just that.
        if importlib.machinery.PathFinder.find_spec(f"{name}.{attr}", package.__path__) is not None:
            return importlib.import_module(f"{name}.{attr}")
        del package.__dict__["__getattr__"]
        loader.exec_module(package)
        return getattr(package, attr)

    package.__dict__["__getattr__"] = missing
    sys.modules[name] = package
    setattr(parent, child, package)
