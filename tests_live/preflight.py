"""What the live suite needs before it starts, said in one line when anything is missing: it
fails, never skips, so a run without credentials cannot pass for a green one."""

import importlib.util
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping

# The oldest Pulumi CLI the suite runs with: the Pulumi SDK the program declares
# (requirements.txt, pulumi>=3.200) is run by the language host the CLI brings, and
# pulumi.automation itself asks for 3.1.0 or later. The CLI reports engine events through
# a socket after 3.205 and through a file before; the suite reads either.
MINIMUM_PULUMI = (3, 200, 0)
FLAG = "FEDERATION_LIVE"


def pulumi_version(command: str) -> tuple[int, int, int] | None:
    """`pulumi version` as numbers, or None when it cannot be read."""
    try:
        shown = subprocess.run(
            [command, "version"],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "true"},
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.match(r"v?(\d+)\.(\d+)\.(\d+)", shown.strip())
    return (int(found[1]), int(found[2]), int(found[3])) if found else None


def has_credentials(environ: Mapping[str, str], which: Callable[[str], str | None]) -> bool:
    """Whether some way to sign in to Azure is set up: a service principal through ARM_*
    (secret or OIDC) or AZURE_* (secret or a federated token file), or the Azure CLI."""
    for prefix in ("ARM", "AZURE"):
        identity = environ.get(f"{prefix}_CLIENT_ID") and environ.get(f"{prefix}_TENANT_ID")
        proof = (
            environ.get(f"{prefix}_CLIENT_SECRET")
            or environ.get("AZURE_FEDERATED_TOKEN_FILE")
            or (prefix == "ARM" and environ.get("ARM_USE_OIDC", "").lower() == "true")
        )
        if identity and proof:
            return True
    return which("az") is not None


def missing(
    environ: Mapping[str, str] = os.environ,
    which: Callable[[str], str | None] = shutil.which,
    version: Callable[[str], tuple[int, int, int] | None] = pulumi_version,
) -> list[str]:
    """Everything the suite lacks, in words a person acts on; empty when it can run."""
    lacking = []
    if environ.get(FLAG) != "1":
        lacking.append(f"{FLAG}=1 (the suite creates Azure resources, which cost money: set it to mean it)")
    needed = ".".join(map(str, MINIMUM_PULUMI))
    command = which("pulumi")
    if command is None:
        lacking.append(f"a Pulumi CLI {needed} or later on PATH")
    else:
        found = version(command)
        if found is None or found < MINIMUM_PULUMI:
            shown = "unreadable" if found is None else ".".join(map(str, found))
            lacking.append(f"a Pulumi CLI {needed} or later on PATH (found {shown})")
    if not has_credentials(environ, which):
        lacking.append(
            "Azure credentials (ARM_CLIENT_ID, ARM_TENANT_ID and ARM_CLIENT_SECRET or ARM_USE_OIDC=true, "
            "AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET or AZURE_FEDERATED_TOKEN_FILE, or `az login`)"
        )
    if not (environ.get("ARM_SUBSCRIPTION_ID") or environ.get("AZURE_SUBSCRIPTION_ID")):
        lacking.append("ARM_SUBSCRIPTION_ID (the one subscription the run creates its resources in)")
    for module, package in (("vcr", "vcrpy (requirements-dev.txt)"), ("azure.mgmt.resource", "azure-mgmt-resource")):
        if importlib.util.find_spec(module.split(".")[0]) is None or _absent(module):
            lacking.append(f"{package} (pip install -r requirements-dev.txt -r tests_live/requirements.txt)")
    return lacking


def _absent(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is None
    except ModuleNotFoundError:
        return True


def sentence(lacking: list[str]) -> str:
    """The one line the suite fails with."""
    return "the live suite cannot run: missing " + "; ".join(lacking)
