"""Test helpers: a small valid coordinator config, and running the program on a config."""

import copy
from pathlib import Path
from typing import Any

from federation.config import stackfile
from federation.review import offline

PROJECT = Path(__file__).resolve().parent.parent
SUB = "6f1c2a4e-8d3b-4c9a-9e71-0a5b3c2d1e4f"
LAKE_ID = f"/subscriptions/{SUB}/resourceGroups/rg-lake/providers/Microsoft.Storage/storageAccounts/stlake"
TENANT = "3b7d9c1e-5a2f-4e8b-b6d4-2c9f0e1a7b53"
OBJECT = "8e4a6f20-1c3d-4b5e-9f7a-6d2c0b8e1f94"

_BASE: dict[str, Any] = {
    "azure-native:location": "westeurope",
    "federation:storage": {
        "models": {"name": "stmodels", "containers": ["global-model", "eval"]},
        "lake": {"id": LAKE_ID, "hns": True},
    },
    "federation:participants": {
        "hospital-a": {"email": "mlops@hospital-a.example"},
        "hospital-b": {"tenantId": TENANT, "objectId": OBJECT, "expires": "2027-03-31T00:00:00Z"},
    },
    "federation:shares": {
        "global_model": {
            "datasets": {
                "checkpoints": {"storage": "models", "container": "global-model"},
                "holdout": {"storage": "models", "container": "eval", "folder": "holdout/v3"},
                "labels": {"storage": "models", "container": "eval", "file": "holdout/labels.csv"},
            },
            "schedule": {"recurrence": "Day", "start": "2026-12-01T02:00:00Z"},
            "expires": "2027-06-30T00:00:00Z",
        },
    },
}


# Location forms on blob storage (models) and ADLS Gen2 (lake, hns): (storage key,
# location, type stem, the properties Data Share gets for it).
KINDS: list[tuple[str, dict[str, str], str, dict[str, str]]] = [
    ("models", {"container": "eval"}, "BlobContainer", {"kind": "Container", "containerName": "eval"}),
    (
        "models",
        {"container": "eval", "folder": "a/b"},
        "BlobFolder",
        {"kind": "BlobFolder", "containerName": "eval", "prefix": "a/b"},
    ),
    (
        "models",
        {"container": "eval", "file": "a/b.csv"},
        "Blob",
        {"kind": "Blob", "containerName": "eval", "filePath": "a/b.csv"},
    ),
    ("lake", {"container": "inbox"}, "ADLSGen2FileSystem", {"kind": "AdlsGen2FileSystem", "fileSystem": "inbox"}),
    (
        "lake",
        {"container": "inbox", "folder": "x"},
        "ADLSGen2Folder",
        {"kind": "AdlsGen2Folder", "fileSystem": "inbox", "folderPath": "x"},
    ),
    (
        "lake",
        {"container": "inbox", "file": "x/y.parquet"},
        "ADLSGen2File",
        {"kind": "AdlsGen2File", "fileSystem": "inbox", "filePath": "x/y.parquet"},
    ),
]


def base() -> dict[str, Any]:
    """A fresh copy of the small valid config, in stack-file form, for a test to edit."""
    return copy.deepcopy(_BASE)


def received_from(stack: str, share: str, participant: str, datasets: dict[str, str]) -> dict[str, Any]:
    """A subscription that reads ids from a sender stack; `datasets` maps the sender's
    dataset names to containers of `models`."""
    return {
        "from": {"stack": stack, "share": share, "participant": participant},
        "sourceLocation": "northeurope",
        "datasets": {name: {"storage": "models", "container": c} for name, c in datasets.items()},
    }


def run(config: dict[str, Any], stack: str = "test") -> offline.Run:
    return offline.run(stackfile.config_values(config), stack)


def run_ok(config: dict[str, Any], stack: str = "test") -> offline.Run:
    result = run(config, stack)
    assert result.error is None, str(result.error)
    return result


def state(result: offline.Run) -> dict[str, tuple[Any, ...]]:
    """What `pulumi up` would compare: per URN, inputs, parent, dependencies and options."""
    return {r.urn: (r.inputs, r.parent, r.depends_on, r.protect, r.delete_before_replace) for r in result.resources}
