"""Azure access as its users already have it: credential, cloud, subscription and the Data
Share client, with a deadline on everything; Azure's errors as one line each."""

import contextlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import partial
from typing import Any, TypeVar, cast
from urllib.parse import parse_qs, urlsplit

from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError as CoreAzureError
from azure.core.exceptions import (
    ClientAuthenticationError,
    DecodeError,
    DeserializationError,
    HttpResponseError,
    ServiceRequestError,
    ServiceResponseError,
    ServiceResponseTimeoutError,
)
from azure.core.paging import ItemPaged, PageIterator
from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import HTTPPolicy, RetryPolicy, SansIOHTTPPolicy
from azure.core.pipeline.transport import RequestsTransport
from azure.core.rest import HttpResponse
from azure.identity import (
    AzureAuthorityHosts,
    ChainedTokenCredential,
    ClientSecretCredential,
    CredentialUnavailableError,
    DefaultAzureCredential,
)
from azure.mgmt.datashare import DataShareManagementClient

# The API version the program deploys with; the client's own default is older (2020-09-01).
API_VERSION = "2021-08-01"
# requests' connection pool keeps 10 connections to a host: more threads would open and drop extra ones.
WORKERS = 10
# The stack file's provider settings the commands read, as azure-native reads them.
SUBSCRIPTION_KEY = "azure-native:subscriptionId"
ENVIRONMENT_KEY = "azure-native:environment"


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
# What to do when the sign-in service, or Azure, refused the credentials it was given.
REFUSED_HINT = "check the client id, tenant and secret (ARM_* or AZURE_*), or sign in again with `az login`"

# Data Share's list actions are POSTs that change nothing: retried as a GET is, after a
# connection reset too (azure-core retries a POST only on a 500, 503 or 504 answer).
READ_ONLY = frozenset({"HEAD", "GET", "PUT", "DELETE", "OPTIONS", "TRACE", "POST"})


@dataclass(frozen=True)
class Limits:
    """How long Azure gets. A request that opens no connection in `connect` seconds, sends
    nothing for `read` seconds, or has not sent its whole answer `answer` seconds after it
    was sent, fails; it is retried at most `retries` times (only `read_retries` of them once
    it was sent and no whole answer came), never after `operation` seconds, and never
    waiting more than `retry_after` for a throttled one, nor between looks at a revocation.
    Together: a server that never answers, or answers a byte at a time, is given up on in
    about a minute."""

    connect: float = 10
    read: float = 30
    answer: float = 30  # a wall clock: the read timeout starts again at every byte
    retries: int = 3
    read_retries: int = 1
    retry_after: float = 60  # within `operation`, so the retry after the wait can still be made
    operation: float = 90
    pages: int = 1000  # of one list: far more than Data Share's limits fill
    settle: float = 300  # for a revocation to end

    def worst_request(self) -> float:
        """The longest one request can take before it fails, Retry-After waits aside."""
        attempts = 1 + self.read_retries
        backoff = sum(0.8 * 2**i for i in range(self.read_retries))
        each = self.answer  # from sending to the last byte: connecting and silences included
        return float(min(attempts * each + backoff, self.operation + each))

    def client_options(self, transport: Mapping[str, Any] | None = None, **retry: Any) -> dict[str, Any]:
        """The client's settings for these limits; `transport` settings (connection_verify...)
        and `retry` settings (retry_backoff_factor...) over the limits' own."""
        settings = {"retry_total": self.retries, "retry_read": self.read_retries, "timeout": self.operation} | retry
        sending = {"connection_timeout": self.connect, "read_timeout": self.read} | dict(transport or {})
        return {
            "transport": Deadline(self.answer, **sending),
            "retry_policy": CappedRetry(self.retry_after, **settings),
        }


class CappedRetry(RetryPolicy[Any, Any]):
    """azure-core's retries, waiting no longer than `cap` seconds for a `Retry-After`."""

    def __init__(self, cap: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cap = cap

    def get_retry_after(self, response: Any) -> float | None:
        try:
            asked = super().get_retry_after(response)
        except ValueError:  # neither seconds nor an HTTP date: wait as for no Retry-After
            return None
        return None if asked is None else min(asked, self.cap)

    def is_retry(self, settings: dict[str, Any], response: Any) -> bool:
        # A 429 with a readable Retry-After comes back only once `Throttle` ran out of time
        # waiting it out: retrying it here could only run past the request's deadline.
        if response.http_response.status_code == 429 and self.get_retry_after(response) is not None:
            return False
        return bool(super().is_retry(settings, response))


class Throttle(HTTPPolicy[Any, Any]):
    """Resource Manager throttles each principal with token buckets, one for reads (GET),
    one for deletes, one for writes (any other method, POST actions too), and answers 429
    with Retry-After once one is empty. A client's requests share its buckets, so one 429
    holds back every request of that kind until its Retry-After has passed: sent sooner,
    they would only be refused too. The throttled request is sent again after exactly that
    wait, as often as it takes within `budget` seconds of its first sending: a 429 says
    when to come back, so it spends none of the retries kept for failures."""

    def __init__(self, cap: float, budget: float) -> None:
        super().__init__()
        self.retry_after = CappedRetry(cap).get_retry_after
        self.budget = budget
        self.lock = threading.Lock()
        self.until: dict[str, float] = {}  # each bucket's time (monotonic) it may be used again

    def send(self, request: PipelineRequest[Any]) -> Any:
        method = request.http_request.method.upper()
        kind = {"GET": "reads", "HEAD": "reads", "DELETE": "deletes"}.get(method, "writes")
        deadline = time.monotonic() + self.budget
        while True:
            with self.lock:
                until = self.until.get(kind, 0.0)
            pause = min(until, deadline) - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            response = self.next.send(request)
            if response.http_response.status_code != 429:
                return response
            after = self.retry_after(response)
            if after is None:  # no time given: the retry policy's backoff decides
                return response
            with self.lock:
                until = self.until[kind] = max(self.until.get(kind, 0.0), time.monotonic() + after)
            if until >= deadline:
                return response


# The headers an answer asks a wait with, as azure-core reads them, and their unit in seconds.
WAIT_HEADERS = (("retry-after", 1.0), ("retry-after-ms", 0.001), ("x-ms-retry-after-ms", 0.001))


class CapRetryAfter(SansIOHTTPPolicy[Any, Any]):
    """Caps the wait an answer asks for (Retry-After, retry-after-ms, x-ms-retry-after-ms)
    at `cap` seconds, and drops one that is no time, before anything waits on it: retries
    and the pollers that follow a revocation alike. A wait of 99999999999 s, inf or until
    year 9999 would otherwise overflow the poller's sleep and end the command."""

    def __init__(self, cap: float) -> None:
        self.cap = cap

    def on_response(self, request: PipelineRequest[Any], response: PipelineResponse[Any, Any]) -> None:
        headers = response.http_response.headers
        for name, unit in WAIT_HEADERS:
            value = headers.get(name)
            if value is None:
                continue
            asked = _seconds(value)
            if asked is None:
                del headers[name]  # waited as for none
            elif asked * unit > self.cap:
                headers[name] = f"{self.cap / unit:g}"


def _seconds(value: str) -> float | None:
    """A Retry-After as seconds (a number, or an HTTP date from now), or None if it is neither."""
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    when = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    return (when - datetime.now(UTC)).total_seconds()


class SameHost(SansIOHTTPPolicy[Any, Any]):
    """Sends a request only to the Resource Manager endpoint's host. It runs before the
    token is attached, so a page link, polling URL or redirect pointing elsewhere never
    carries it."""

    def __init__(self, endpoint: str) -> None:
        self.host = _host(endpoint)

    def on_request(self, request: PipelineRequest[Any]) -> None:
        url = request.http_request.url
        if _host(url) != self.host:
            raise AzureError(f"Azure's answer pointed to another host ({one_line(urlsplit(url).netloc)}): not followed")


def _host(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return (parts.hostname or "").lower(), parts.port or 443


class AzureError(Exception):
    """Something Azure or the caller's setup refused; reported in one line, exit 1."""


# What one call to Azure can fail with: azure-core's errors, this module's (a page or
# host refused), and what the client raises on an answer of the wrong shape, its
# deserializer and pollers reading bodies as they expect them to be.
FAILED_CALL = (CoreAzureError, AzureError, ValueError, TypeError, AttributeError)


class SlowAnswerError(ServiceResponseTimeoutError):
    """An answer that had not arrived whole when its deadline passed."""

    def __init__(self, seconds: float) -> None:
        self.seconds = max(seconds, 0.0)
        super().__init__(f"no whole answer within {round(self.seconds, 1):g} s")


class Deadline(RequestsTransport):  # type: ignore[misc]  # the package exports it untyped
    """azure-core's transport, with one wall-clock deadline for each exchange: `answer`
    seconds from sending a request to the last byte of its answer, or less when the request
    carries `answer_by` (a time.monotonic() instant). The read timeout alone starts again at
    every byte, so an answer sent a byte at a time would hold a request for ever.

    The exchange runs on a daemon thread of its own and the caller waits for it until the
    deadline; then the caller fails, and the thread is left to end, its answer closed."""

    def __init__(self, answer: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.answer = answer
        self.read_timeout = float(kwargs.get("read_timeout", answer))

    def send(self, request: Any, **kwargs: Any) -> Any:
        answer_by = kwargs.pop("answer_by", None)
        seconds = self.answer if answer_by is None else min(self.answer, answer_by - time.monotonic())
        if seconds <= 0:
            raise SlowAnswerError(seconds)
        # No single read outlasts the deadline, so the thread left behind ends soon too.
        kwargs["read_timeout"] = min(kwargs.get("read_timeout", self.read_timeout), seconds)
        stream = kwargs.pop("stream", False)
        self.open()  # the session, made once, before threads share it
        exchange = _Exchange(partial(super().send, request, stream=True, **kwargs), stream)
        threading.Thread(target=exchange.run, name="azure-request", daemon=True).start()
        if not exchange.done.wait(seconds):
            exchange.abandon()
            raise SlowAnswerError(seconds)
        if exchange.error is not None:
            raise exchange.error
        return exchange.response


class _Exchange:
    """One request and its whole answer, read on a thread of its own."""

    def __init__(self, send: Callable[[], Any], stream: bool) -> None:
        self.send, self.stream = send, stream
        self.done = threading.Event()
        self.lock = threading.Lock()
        self.abandoned = False
        self.response: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            response = self.send()
            with self.lock:
                self.response = response
                if self.abandoned:
                    _close(response)
                    return
            _read_whole(response, self.stream)
        except BaseException as error:  # handed to the caller, if it still waits
            self.error = error
        finally:
            self.done.set()

    def abandon(self) -> None:
        with self.lock:
            self.abandoned = True
            if self.response is not None:
                _close(self.response)


def _read_whole(response: Any, stream: bool) -> None:
    """The answer's body into memory, where requests keeps it for whoever reads it as a
    stream: an answer the client reads later, as a long-running operation's first answer,
    is bounded too. One not asked for as a stream is read as azure-core reads it."""
    try:
        response.internal_response.content  # noqa: B018  # read for its effect: the body, kept
    except Exception as error:  # the connection failed mid-body
        raise ServiceResponseError(error, error=error) from error
    if not stream and isinstance(response, HttpResponse):
        response.read()


def _close(response: Any) -> None:
    with contextlib.suppress(Exception):  # a connection already gone needs no closing
        response.internal_response.close()


class SignInWatch(Deadline):
    """The transport a credential made here uses: notes a request to the sign-in service
    that got no answer, and a refusal the sign-in service answered, so that "cannot reach"
    and "credentials refused" are told apart from "no credentials" (DefaultAzureCredential
    reports all three as one ClientAuthenticationError)."""

    def __init__(self, authority: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.authority = urlsplit(f"https://{authority}" if "://" not in authority else authority).hostname
        self.unreachable: Exception | None = None
        self.refused: str | None = None

    def send(self, request: Any, **kwargs: Any) -> Any:
        ours = urlsplit(request.url).hostname == self.authority
        try:
            response = super().send(request, **kwargs)
        except (ServiceRequestError, ServiceResponseError) as error:
            if ours:
                self.unreachable = error
            raise
        if ours and response.status_code in (400, 401) and self.refused is None:
            self.refused = _refusal(response)
        return response


def _refusal(response: Any) -> str:
    """Entra's reason for refusing a token request: the first line of its error_description
    (`AADSTS7000215: Invalid client secret provided. ...`); trace ids and times follow it."""
    try:
        body = json.loads(response.text())
        reason = (body.get("error_description") or body.get("error")) if isinstance(body, dict) else None
    except (ValueError, TypeError, AttributeError):
        reason = None
    return _first_line(reason) if reason else f"answered {response.status_code}"


@dataclass(frozen=True)
class Connection:
    """Where requests go and as whom. `options` are transport settings for the client
    (tests: the fake's certificate, no polling delay); `limits` bound every request."""

    credential: TokenCredential
    subscription: str
    endpoint: str
    scope: str
    options: Mapping[str, Any] = field(default_factory=dict)
    limits: Limits = Limits()
    watch: SignInWatch | None = None

    @property
    def poll_every(self) -> float:
        """Seconds between looks at something running: the client's LRO polling interval."""
        return float(self.options.get("polling_interval", 15))

    def client(self) -> DataShareManagementClient:
        options = dict(self.options)
        retry = {key: options.pop(key) for key in list(options) if key.startswith("retry_")}
        sending = {key: options.pop(key) for key in list(options) if key in TRANSPORT_SETTINGS}
        return DataShareManagementClient(
            self.credential,
            self.subscription,
            base_url=self.endpoint,
            credential_scopes=[self.scope],
            api_version=API_VERSION,
            per_retry_policies=[
                SameHost(self.endpoint),
                Throttle(self.limits.retry_after, self.limits.operation),
                CapRetryAfter(self.limits.retry_after),
            ],
            **(self.limits.client_options(sending, **retry) | options),
        )

    def sign_in(self) -> None:
        """Get a token before any request, so missing credentials fail once, with nothing sent."""
        try:
            self.credential.get_token(self.scope)
        except ClientAuthenticationError as error:
            raise AzureError(self._sign_in_failed(error)) from None

    def _sign_in_failed(self, error: ClientAuthenticationError) -> str:
        """Why signing in failed: the sign-in service out of reach, the credentials refused,
        or none found. azure-identity's credentials raise CredentialUnavailableError when
        they find nothing to sign in with and ClientAuthenticationError when refused; a chain
        of them (DefaultAzureCredential) raises the latter for both, so there the sign-in
        service's own answer, seen by the watch, tells a refusal."""
        unavailable = isinstance(error, CredentialUnavailableError)
        unreachable = (self.watch.unreachable if self.watch else None) or _network_cause(error)
        if unreachable is not None and not unavailable:
            host = self.watch.authority if self.watch else "the sign-in service"
            reason = " ".join(str(getattr(unreachable, "message", unreachable)).split())
            return f"cannot reach the sign-in service ({host}): {reason}"
        if self.watch is not None and self.watch.refused is not None:
            where = f"the sign-in service ({self.watch.authority})"
            return f"credentials refused by {where}: {self.watch.refused} ({REFUSED_HINT})"
        if self.watch is None and not unavailable and not isinstance(self.credential, ChainedTokenCredential):
            return f"credentials refused: {_first_line(error.message)} ({REFUSED_HINT})"
        return SIGN_IN


# The client's settings that belong to the transport: where and how requests are sent.
TRANSPORT_SETTINGS = frozenset(
    {"connection_verify", "connection_cert", "connection_timeout", "read_timeout", "connection_data_block_size"}
)


def _network_cause(error: BaseException) -> BaseException | None:
    """The connection failure behind a credential's error, if that is what it was."""
    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, ServiceRequestError | ServiceResponseError | ConnectionError | TimeoutError):
            return cause
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return None


def cloud(name: str, source: str = "ARM_ENVIRONMENT") -> Cloud:
    """The cloud an environment name (`source` says where it was set) stands for."""
    name = name.strip().lower() or "public"
    if name not in CLOUDS:
        raise AzureError(f"{source}: must be one of {', '.join(CLOUDS)}; got {name!r}")
    return CLOUDS[name]


def connect(
    environ: Mapping[str, str],
    subscription: str | None,
    endpoint: str | None,
    credential: TokenCredential | None = None,
    options: Mapping[str, Any] | None = None,
    settings: Mapping[str, str] | None = None,
    limits: Limits | None = None,
) -> Connection:
    """A connection from the command line, the stack's provider `settings`
    (azure-native:subscriptionId, azure-native:environment) and the environment, in that
    order, as azure-native reads them; the credential is made here only when none is given."""
    settings = settings or {}
    subscription = (
        subscription
        or settings.get(SUBSCRIPTION_KEY)
        or environ.get("ARM_SUBSCRIPTION_ID")
        or environ.get("AZURE_SUBSCRIPTION_ID")
    )
    if not subscription:
        raise AzureError(
            f"no Azure subscription: pass --subscription, set {SUBSCRIPTION_KEY} in the stack file, "
            "or set ARM_SUBSCRIPTION_ID or AZURE_SUBSCRIPTION_ID"
        )
    if settings.get(ENVIRONMENT_KEY):
        where = cloud(settings[ENVIRONMENT_KEY], ENVIRONMENT_KEY)
    else:
        where = cloud(environ.get("ARM_ENVIRONMENT", ""))
    if endpoint:
        endpoint = endpoint.rstrip("/")
        where = Cloud(endpoint, f"{endpoint}/.default", where.authority)
    watch, limits = None, limits or Limits()
    if credential is None:
        watch = SignInWatch(
            where.authority, answer=limits.answer, connection_timeout=limits.connect, read_timeout=limits.read
        )
        credential = default_credential(environ, where.authority, watch)
    return Connection(credential, subscription, where.endpoint, where.scope, options or {}, limits, watch)


def default_credential(environ: Mapping[str, str], authority: str, transport: Any = None) -> TokenCredential:
    """The ARM_* service principal azure-native users already set, else DefaultAzureCredential
    (AZURE_* environment, workload or managed identity, `az login`, ...)."""
    extra = {"transport": transport} if transport is not None else {}
    arm = [environ.get(f"ARM_{name}") for name in ("TENANT_ID", "CLIENT_ID", "CLIENT_SECRET")]
    if all(arm) and not environ.get("AZURE_CLIENT_ID"):
        tenant, client, secret = (str(value) for value in arm)
        return ClientSecretCredential(tenant, client, secret, authority=authority, **extra)
    return DefaultAzureCredential(authority=authority, **extra)


def explain(error: Exception, account: str) -> str:
    """One line for an Azure failure: what to do about it, never a traceback."""
    if isinstance(error, AzureError):
        return str(error)
    if isinstance(error, CredentialUnavailableError):
        return SIGN_IN
    if isinstance(error, ClientAuthenticationError) and error.status_code == 401:
        code = error.error.code if error.error is not None else error.reason
        message = error.error.message if error.error is not None else error.message
        return f"credentials refused by Azure Resource Manager (401 {one_line(code)}): {one_line(message)}"
    if isinstance(error, ClientAuthenticationError):
        return f"credentials refused: {_first_line(error.message)} ({REFUSED_HINT})"
    if isinstance(error, DecodeError | DeserializationError | TypeError | AttributeError):
        return f"Azure's answer could not be read: {one_line(error)}"
    if isinstance(error, HttpResponseError) and error.status_code == 403:
        action = re.search(r"action '([^']+)'", str(error.message))
        wanted = f" ({one_line(action[1])})" if action else ""
        return (
            f"permission denied{wanted}: the signed-in identity needs the Contributor role on Data Share account "
            f"{account} (Reader cannot run Data Share's list and revoke actions)"
        )
    if isinstance(error, HttpResponseError) and error.status_code == 429:
        after = getattr(error.response, "headers", {}).get("Retry-After")
        after = one_line(after or "a few")
        return f"Azure Resource Manager is throttling requests (429) after retries; try again in {after} s"
    if isinstance(error, HttpResponseError):
        code = error.error.code if error.error is not None else error.reason
        message = error.error.message if error.error is not None else error.message
        return f"Azure answered {error.status_code} {code}: {one_line(message)}"
    if isinstance(error, ServiceRequestError | ServiceResponseError):
        return f"cannot reach Azure Resource Manager: {one_line(error.message)}"
    return one_line(error)


def one_line(text: object) -> str:
    """Text from outside as one printable line: control characters and line breaks become spaces."""
    return " ".join("".join(c if c.isprintable() else " " for c in str(text)).split())


def _first_line(text: object) -> str:
    """A sign-in message up to its first line break: what follows is trace ids and times."""
    lines = str(text).strip().splitlines()
    return one_line(lines[0] if lines else text)[:300]


T = TypeVar("T")


def every(first: Callable[..., ItemPaged[T]], limits: Limits = Limits()) -> Iterator[T]:
    """All items of a list, each next page asked for with its `$skipToken` as the API
    defines it (for a POST list, by POST: the SDK would GET the nextLink, which Data Share
    does not document); a link without a token is followed as the SDK follows it. A
    read-only POST is retried as a GET is. A page link seen before, more pages than
    `limits.pages`, or a page that is no list of items ends the list with an error."""
    token: str | None = None
    seen: set[str] = set()
    read = 0
    while True:
        pages = cast(PageIterator[T], first(token, retry_on_methods=READ_ONLY).by_page())
        while True:
            try:
                page = list(next(pages, ()))
            except TypeError as error:  # a `value` that is null: the SDK iterates it
                raise AzureError(f"Azure's answer could not be read: a list's value is not a list ({error})") from None
            except AttributeError:  # a body that is empty or null: the SDK reads its `value`
                raise AzureError("Azure's answer could not be read: a list's answer is empty or null") from None
            if any(item is None for item in page):
                raise AzureError("Azure's answer could not be read: an item of a list is null")
            yield from page
            read += 1
            link = pages.continuation_token
            if not link:
                return
            if read >= limits.pages:
                raise AzureError(f"a list ran past {limits.pages:,} pages: Azure keeps sending next-page links")
            tokens = parse_qs(urlsplit(link).query).get("$skipToken")
            key = tokens[0] if tokens else str(link)
            if key in seen:
                raise AzureError(f"Azure sent the same next-page link twice: {one_line(link)}")
            seen.add(key)
            if tokens:
                token = tokens[0]
                break
