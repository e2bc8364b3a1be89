"""The live suite's own Azure calls, outside the commands it tests: who is signed in, the
address the runner's requests come from, data-plane role grants for the run, and the
resource groups the janitor deletes."""

import base64
import json
import os
import time
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.request import urlopen

from azure.core.credentials import TokenCredential
from azure.identity import ClientAssertionCredential, ClientSecretCredential, DefaultAzureCredential

# Built-in role definitions (learn.microsoft.com, role-based-access-control/built-in-roles).
BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
BLOB_DATA_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
ROLE_ASSIGNMENTS_API = "2022-04-01"
ARM_SCOPE = "https://management.azure.com/.default"


def _oidc_token(environ: Mapping[str, str]) -> str:
    """The OIDC token azure-native would use with ARM_USE_OIDC: given, in a file, or asked
    of GitHub Actions."""
    if environ.get("ARM_OIDC_TOKEN"):
        return environ["ARM_OIDC_TOKEN"]
    if environ.get("ARM_OIDC_TOKEN_FILE_PATH"):
        with open(environ["ARM_OIDC_TOKEN_FILE_PATH"], encoding="utf-8") as file:
            return file.read().strip()
    url = environ.get("ARM_OIDC_REQUEST_URL") or environ.get("ACTIONS_ID_TOKEN_REQUEST_URL", "")
    bearer = environ.get("ARM_OIDC_REQUEST_TOKEN") or environ.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "")
    from urllib.request import Request

    asked = Request(f"{url}&audience=api://AzureADTokenExchange", headers={"Authorization": f"Bearer {bearer}"})
    with urlopen(asked, timeout=30) as answer:
        return str(json.load(answer)["value"])


def credential(environ: Mapping[str, str] = os.environ) -> TokenCredential:
    """The identity that runs the suite, as azure-native finds it: an ARM_* service
    principal (secret or OIDC), else azure-identity's chain (AZURE_*, workload identity,
    `az login`)."""
    tenant, client = environ.get("ARM_TENANT_ID"), environ.get("ARM_CLIENT_ID")
    if tenant and client and environ.get("ARM_CLIENT_SECRET"):
        return ClientSecretCredential(tenant, client, environ["ARM_CLIENT_SECRET"])
    if tenant and client and environ.get("ARM_USE_OIDC", "").lower() == "true":
        return ClientAssertionCredential(tenant, client, lambda: _oidc_token(environ))
    return DefaultAzureCredential()


def claims(signed_in: TokenCredential) -> dict[str, Any]:
    """The claims of a Resource Manager token: `oid` (object id), `tid` (tenant), `idtyp`.
    Read, not verified: Azure verifies the token; the suite only learns who it is."""
    token = signed_in.get_token(ARM_SCOPE).token
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def principal_type(found: Mapping[str, Any]) -> str:
    return "User" if found.get("idtyp") == "user" else "ServicePrincipal"


def client_ip(environ: Mapping[str, str] = os.environ) -> str:
    """The public address the runner's requests to storage come from: let through the
    storage firewalls the program builds (default deny)."""
    if environ.get("FEDERATION_LIVE_CLIENT_IP"):
        return environ["FEDERATION_LIVE_CLIENT_IP"]
    with urlopen("https://api.ipify.org", timeout=30) as answer:
        return str(answer.read().decode().strip())


def resources(signed_in: TokenCredential, subscription: str) -> Any:
    from azure.mgmt.resource.resources import ResourceManagementClient

    return ResourceManagementClient(signed_in, subscription)


def grant(client: Any, scope: str, principal: str, role: str, kind: str, subscription: str) -> None:
    """A role on `scope` for `principal`, through the generic resource API (the program's
    grants are for the Data Share identity; the run's own uploads and reads need these).
    Its name is derived from what it grants, so a second run of a step makes no second one."""
    from azure.mgmt.resource.resources.models import GenericResource

    name = uuid.uuid5(uuid.NAMESPACE_URL, f"{scope}|{principal}|{role}")
    # By keyword: azure-mgmt-resource 26 takes api_version only so, earlier ones by position too.
    client.resources.begin_create_or_update_by_id(
        resource_id=f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}",
        api_version=ROLE_ASSIGNMENTS_API,
        parameters=GenericResource(
            properties={
                "roleDefinitionId": f"/subscriptions/{subscription}/providers/Microsoft.Authorization"
                f"/roleDefinitions/{role}",
                "principalId": principal,
                "principalType": kind,
            }
        ),
    ).result()


def eventually(attempt: Any, done: Any, seconds: float, every: float = 15.0) -> Any:
    """`attempt()` again until `done(result)` or `seconds` pass (a role grant takes minutes
    to reach storage); the last result either way."""
    deadline = time.monotonic() + seconds
    while True:
        result = attempt()
        if done(result) or time.monotonic() >= deadline:
            return result
        time.sleep(every)
