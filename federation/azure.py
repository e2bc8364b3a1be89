"""Azure access as its users already have it: credential, cloud, subscription, the Data
Share client, and Azure's errors as one line each."""

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast
from urllib.parse import parse_qs, urlsplit

from azure.core.credentials import TokenCredential
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.core.paging import ItemPaged, PageIterator
from azure.identity import AzureAuthorityHosts, ClientSecretCredential, DefaultAzureCredential
from azure.mgmt.datashare import DataShareManagementClient

# The API version the program deploys with; the client's own default is older (2020-09-01).
API_VERSION = "2021-08-01"
# requests' connection pool keeps 10 connections to a host: more threads would open and drop extra ones.
WORKERS = 10


@dataclass(frozen=True)
class Cloud:
    endpoint: str
    scope: str
    authority: str


# ARM_ENVIRONMENT values, as azure-native and Terraform read them.
CLOUDS = {
    "public": Cloud(
        "https://management.azure.com", "https://management.azure.com/.default", AzureAuthorityHosts.AZURE_PUBLIC_CLOUD
    ),
    "usgovernment": Cloud(
        "https://management.usgovcloudapi.net",
        "https://management.core.usgovcloudapi.net/.default",
        AzureAuthorityHosts.AZURE_GOVERNMENT,
    ),
    "china": Cloud(
        "https://management.chinacloudapi.cn",
        "https://management.chinacloudapi.cn/.default",
        AzureAuthorityHosts.AZURE_CHINA,
    ),
}

SIGN_IN = (
    "no Azure credentials: sign in with `az login`, or set AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET "
    "(or ARM_CLIENT_ID, ARM_TENANT_ID, ARM_CLIENT_SECRET), or run where a managed identity is available"
)


class AzureError(Exception):
    """Something Azure or the caller's setup refused; reported in one line, exit 1."""


@dataclass(frozen=True)
class Connection:
    """Where requests go and as whom. `options` are transport settings for the client
    (tests: the fake's certificate, no polling delay, few retries)."""

    credential: TokenCredential
    subscription: str
    endpoint: str
    scope: str
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def poll_every(self) -> float:
        """Seconds between looks at something running: the client's LRO polling interval."""
        return float(self.options.get("polling_interval", 15))

    def client(self) -> DataShareManagementClient:
        return DataShareManagementClient(
            self.credential,
            self.subscription,
            base_url=self.endpoint,
            credential_scopes=[self.scope],
            api_version=API_VERSION,
            **self.options,
        )

    def sign_in(self) -> None:
        """Get a token before any request, so missing credentials fail once, with nothing sent."""
        try:
            self.credential.get_token(self.scope)
        except ClientAuthenticationError:
            raise AzureError(SIGN_IN) from None


def cloud(environ: Mapping[str, str]) -> Cloud:
    name = environ.get("ARM_ENVIRONMENT", "").strip().lower() or "public"
    if name not in CLOUDS:
        raise AzureError(f"ARM_ENVIRONMENT: must be one of {', '.join(CLOUDS)}; got {name!r}")
    return CLOUDS[name]


def connect(
    environ: Mapping[str, str],
    subscription: str | None,
    endpoint: str | None,
    credential: TokenCredential | None = None,
    options: Mapping[str, Any] | None = None,
) -> Connection:
    """A connection from the command line and the environment; the credential is made here
    only when none is given."""
    subscription = subscription or environ.get("ARM_SUBSCRIPTION_ID") or environ.get("AZURE_SUBSCRIPTION_ID")
    if not subscription:
        raise AzureError(
            "no Azure subscription: pass --subscription, or set ARM_SUBSCRIPTION_ID or AZURE_SUBSCRIPTION_ID"
        )
    where = cloud(environ)
    if endpoint:
        endpoint = endpoint.rstrip("/")
        where = Cloud(endpoint, f"{endpoint}/.default", where.authority)
    return Connection(
        credential or default_credential(environ, where.authority),
        subscription,
        where.endpoint,
        where.scope,
        options or {},
    )


def default_credential(environ: Mapping[str, str], authority: str) -> TokenCredential:
    """The ARM_* service principal azure-native users already set, else DefaultAzureCredential
    (AZURE_* environment, workload or managed identity, `az login`, ...)."""
    arm = [environ.get(f"ARM_{name}") for name in ("TENANT_ID", "CLIENT_ID", "CLIENT_SECRET")]
    if all(arm) and not environ.get("AZURE_CLIENT_ID"):
        tenant, client, secret = (str(value) for value in arm)
        return ClientSecretCredential(tenant, client, secret, authority=authority)
    return DefaultAzureCredential(authority=authority)


def explain(error: Exception, account: str) -> str:
    """One line for an Azure failure: what to do about it, never a traceback."""
    if isinstance(error, ClientAuthenticationError):
        return SIGN_IN
    if isinstance(error, HttpResponseError) and error.status_code == 403:
        action = re.search(r"action '([^']+)'", str(error.message))
        wanted = f" ({action[1]})" if action else ""
        return (
            f"permission denied{wanted}: the signed-in identity needs the Contributor role on Data Share account "
            f"{account} (Reader cannot run Data Share's list and revoke actions)"
        )
    if isinstance(error, HttpResponseError) and error.status_code == 429:
        after = getattr(error.response, "headers", {}).get("Retry-After")
        return f"Azure Resource Manager is throttling requests (429) after retries; try again in {after or 'a few'} s"
    if isinstance(error, HttpResponseError):
        code = error.error.code if error.error is not None else error.reason
        message = error.error.message if error.error is not None else error.message
        return f"Azure answered {error.status_code} {code}: {' '.join(str(message).split())}"
    if isinstance(error, ServiceRequestError | ServiceResponseError):
        return f"cannot reach Azure Resource Manager: {error.message}"
    return str(error)


T = TypeVar("T")


def every(first: Callable[[str | None], ItemPaged[T]]) -> Iterator[T]:
    """All items of a POST list: each next page asked for by POST with its `$skipToken`, as
    the API defines it (the SDK would GET the nextLink, which Data Share does not document)."""
    token: str | None = None
    while True:
        pages = cast(PageIterator[T], first(token).by_page())
        yield from next(pages, ())
        link = pages.continuation_token
        if not link:
            return
        tokens = parse_qs(urlsplit(link).query).get("$skipToken")
        if not tokens:  # a link without a token: follow it as the SDK does
            for page in pages:
                yield from page
            return
        token = tokens[0]
