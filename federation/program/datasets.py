"""Dataset kinds: where data sits (container, folder, file) on blob or ADLS Gen2 storage.

Shares (datasets) and share subscriptions (dataset mappings) use the same kinds and
the same storage properties; only the resource type's suffix and the parent differ.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_azure_native import datashare

from federation.config import Location

# replace_on_changes for resources Azure cannot update at all.
ALL = ["*"]


def kind(location: Location, hns: bool) -> tuple[str, str]:
    """The type token (without module) and Data Share `kind` for a location."""
    return _kind(location.folder is not None, location.file is not None, hns)


def _kind(folder: bool, file: bool, hns: bool) -> tuple[str, str]:
    if file:
        return ("ADLSGen2FileDataSet", "AdlsGen2File") if hns else ("BlobDataSet", "Blob")
    if folder:
        return ("ADLSGen2FolderDataSet", "AdlsGen2Folder") if hns else ("BlobFolderDataSet", "BlobFolder")
    return ("ADLSGen2FileSystemDataSet", "AdlsGen2FileSystem") if hns else ("BlobContainerDataSet", "Container")


@dataclass
class LocationArgs:
    """Where a dataset's data sits, or where a mapping writes it: a container (file system,
    with `hns`), a folder in it or a file, on a storage account; and the ids of what must
    exist first (the grant, its wait, a container made here)."""

    container: pulumi.Input[str]
    storage_account_name: pulumi.Input[str]
    resource_group: pulumi.Input[str]
    subscription_id: pulumi.Input[str]
    hns: bool = False
    folder: pulumi.Input[str] | None = None
    file: pulumi.Input[str] | None = None
    prerequisites: Sequence[pulumi.Input[str]] = ()


def options(location: LocationArgs, parent: pulumi.Resource) -> pulumi.ResourceOptions:
    """Under `parent`, after what the location needs, replaced old one first on any change
    (Azure updates neither datasets nor mappings)."""
    return pulumi.ResourceOptions(
        parent=parent,
        depends_on=[_after(i) for i in location.prerequisites],
        replace_on_changes=ALL,
        delete_before_replace=True,
    )


def _after(id_: pulumi.Input[str]) -> Any:
    """A dependency on the resources an id comes from, as `depends_on` takes it."""
    return pulumi.Output.from_input(id_).apply(lambda _: None)


def dataset(
    name: str,
    data_set_name: str,
    account_name: pulumi.Input[str],
    resource_group_name: pulumi.Input[str],
    share_name: pulumi.Input[str],
    location: LocationArgs,
    parent: pulumi.Resource,
) -> pulumi.CustomResource:
    """A share's dataset at `location`, of the kind its form and storage make it."""
    stem, _ = _kind(location.folder is not None, location.file is not None, location.hns)
    opts = options(location, parent)
    if stem == "BlobContainerDataSet":
        return datashare.BlobContainerDataSet(
            name,
            account_name=account_name,
            resource_group_name=resource_group_name,
            share_name=share_name,
            data_set_name=data_set_name,
            kind="Container",
            container_name=location.container,
            storage_account_name=location.storage_account_name,
            resource_group=location.resource_group,
            subscription_id=location.subscription_id,
            opts=opts,
        )
    if stem == "BlobFolderDataSet":
        return datashare.BlobFolderDataSet(
            name,
            account_name=account_name,
            resource_group_name=resource_group_name,
            share_name=share_name,
            data_set_name=data_set_name,
            kind="BlobFolder",
            container_name=location.container,
            prefix=location.folder,
            storage_account_name=location.storage_account_name,
            resource_group=location.resource_group,
            subscription_id=location.subscription_id,
            opts=opts,
        )
    if stem == "BlobDataSet":
        return datashare.BlobDataSet(
            name,
            account_name=account_name,
            resource_group_name=resource_group_name,
            share_name=share_name,
            data_set_name=data_set_name,
            kind="Blob",
            container_name=location.container,
            file_path=location.file,
            storage_account_name=location.storage_account_name,
            resource_group=location.resource_group,
            subscription_id=location.subscription_id,
            opts=opts,
        )
    if stem == "ADLSGen2FileSystemDataSet":
        return datashare.ADLSGen2FileSystemDataSet(
            name,
            account_name=account_name,
            resource_group_name=resource_group_name,
            share_name=share_name,
            data_set_name=data_set_name,
            kind="AdlsGen2FileSystem",
            file_system=location.container,
            storage_account_name=location.storage_account_name,
            resource_group=location.resource_group,
            subscription_id=location.subscription_id,
            opts=opts,
        )
    if stem == "ADLSGen2FolderDataSet":
        return datashare.ADLSGen2FolderDataSet(
            name,
            account_name=account_name,
            resource_group_name=resource_group_name,
            share_name=share_name,
            data_set_name=data_set_name,
            kind="AdlsGen2Folder",
            file_system=location.container,
            folder_path=location.folder,
            storage_account_name=location.storage_account_name,
            resource_group=location.resource_group,
            subscription_id=location.subscription_id,
            opts=opts,
        )
    if stem == "ADLSGen2FileDataSet":
        return datashare.ADLSGen2FileDataSet(
            name,
            account_name=account_name,
            resource_group_name=resource_group_name,
            share_name=share_name,
            data_set_name=data_set_name,
            kind="AdlsGen2File",
            file_system=location.container,
            file_path=location.file,
            storage_account_name=location.storage_account_name,
            resource_group=location.resource_group,
            subscription_id=location.subscription_id,
            opts=opts,
        )
    raise ValueError(stem)


def mapping(
    name: str,
    data_set_mapping_name: str,
    data_set_id: pulumi.Input[str],
    account_name: pulumi.Input[str],
    resource_group_name: pulumi.Input[str],
    share_subscription_name: pulumi.Input[str],
    location: LocationArgs,
    parent: pulumi.Resource,
) -> pulumi.CustomResource:
    """A received dataset's mapping to `location`, of the kind its form and storage make it."""
    stem, _ = _kind(location.folder is not None, location.file is not None, location.hns)
    opts = options(location, parent)
    if stem == "BlobContainerDataSet":
        return datashare.BlobContainerDataSetMapping(
            name,
            account_name=account_name,
            resource_group_name=resource_group_name,
            share_subscription_name=share_subscription_name,
            data_set_mapping_name=data_set_mapping_name,
            data_set_id=data_set_id,
            kind="Container",
            container_name=location.container,
            storage_account_name=location.storage_account_name,
            resource_group=location.resource_group,
            subscription_id=location.subscription_id,
            opts=opts,
        )
    if stem == "BlobFolderDataSet":
        return datashare.BlobFolderDataSetMapping(
            name,
            account_name=account_name,
            resource_group_name=resource_group_name,
            share_subscription_name=share_subscription_name,
            data_set_mapping_name=data_set_mapping_name,
            data_set_id=data_set_id,
            kind="BlobFolder",
            container_name=location.container,
            prefix=location.folder,
            storage_account_name=location.storage_account_name,
            resource_group=location.resource_group,
            subscription_id=location.subscription_id,
            opts=opts,
        )
    if stem == "BlobDataSet":
        return datashare.BlobDataSetMapping(
            name,
            account_name=account_name,
            resource_group_name=resource_group_name,
            share_subscription_name=share_subscription_name,
            data_set_mapping_name=data_set_mapping_name,
            data_set_id=data_set_id,
            kind="Blob",
            container_name=location.container,
            file_path=location.file,
            storage_account_name=location.storage_account_name,
            resource_group=location.resource_group,
            subscription_id=location.subscription_id,
            opts=opts,
        )
    if stem == "ADLSGen2FileSystemDataSet":
        return datashare.ADLSGen2FileSystemDataSetMapping(
            name,
            account_name=account_name,
            resource_group_name=resource_group_name,
            share_subscription_name=share_subscription_name,
            data_set_mapping_name=data_set_mapping_name,
            data_set_id=data_set_id,
            kind="AdlsGen2FileSystem",
            file_system=location.container,
            storage_account_name=location.storage_account_name,
            resource_group=location.resource_group,
            subscription_id=location.subscription_id,
            opts=opts,
        )
    if stem == "ADLSGen2FolderDataSet":
        return datashare.ADLSGen2FolderDataSetMapping(
            name,
            account_name=account_name,
            resource_group_name=resource_group_name,
            share_subscription_name=share_subscription_name,
            data_set_mapping_name=data_set_mapping_name,
            data_set_id=data_set_id,
            kind="AdlsGen2Folder",
            file_system=location.container,
            folder_path=location.folder,
            storage_account_name=location.storage_account_name,
            resource_group=location.resource_group,
            subscription_id=location.subscription_id,
            opts=opts,
        )
    if stem == "ADLSGen2FileDataSet":
        return datashare.ADLSGen2FileDataSetMapping(
            name,
            account_name=account_name,
            resource_group_name=resource_group_name,
            share_subscription_name=share_subscription_name,
            data_set_mapping_name=data_set_mapping_name,
            data_set_id=data_set_id,
            kind="AdlsGen2File",
            file_system=location.container,
            file_path=location.file,
            storage_account_name=location.storage_account_name,
            resource_group=location.resource_group,
            subscription_id=location.subscription_id,
            opts=opts,
        )
    raise ValueError(stem)
