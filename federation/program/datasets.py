"""Dataset kinds: where data sits (container, folder, file) on blob or ADLS Gen2 storage.

Shares (datasets) and share subscriptions (dataset mappings) use the same kinds and
the same storage properties; only the type token's suffix and the parent differ.
"""

from federation.config import Location
from federation.program.graph import ALL, Node, Value
from federation.program.storage import Role, Target


def kind(location: Location, hns: bool) -> tuple[str, str]:
    """The type token (without module) and Data Share `kind` for a location."""
    if location.file is not None:
        return ("ADLSGen2FileDataSet", "AdlsGen2File") if hns else ("BlobDataSet", "Blob")
    if location.folder is not None:
        return ("ADLSGen2FolderDataSet", "AdlsGen2Folder") if hns else ("BlobFolderDataSet", "BlobFolder")
    return ("ADLSGen2FileSystemDataSet", "AdlsGen2FileSystem") if hns else ("BlobContainerDataSet", "Container")


def _inputs(location: Location, target: Target, data_share_kind: str) -> dict[str, Value]:
    """The storage-side inputs of a dataset or mapping of this location."""
    container, folder = ("file_system", "folder_path") if target.hns else ("container_name", "prefix")
    found: dict[str, Value] = {
        "kind": data_share_kind,
        container: location.container,
        "storage_account_name": target.account_name,
        "resource_group": target.resource_group,
        "subscription_id": target.subscription_id,
    }
    if location.folder is not None:
        found[folder] = location.folder
    if location.file is not None:
        found["file_path"] = location.file
    return found


def node(
    suffix: str, name: str, fields: dict[str, Value], location: Location, target: Target, role: Role, parent: Node
) -> Node:
    """A dataset (suffix "", `role` to read) or a dataset mapping (suffix "Mapping", to
    write) at `location`: its type from the location's form, waiting for the grant and
    container it needs, replaced old one first on any change (Azure updates neither)."""
    stem, data_share_kind = kind(location, target.hns)
    return Node(
        f"azure-native:datashare:{stem}{suffix}",
        name,
        fields | _inputs(location, target, data_share_kind),
        parent=parent,
        depends_on=target.prerequisites(role, location.container),
        replace_on_changes=ALL,
        delete_before_replace=True,
    )
