"""Blob storage as the round commands use it: a storage account's blob endpoint read from
Resource Manager (never built from its name: accounts with Azure DNS zone endpoints and
sovereign clouds have other host names), a client signed in with the commands' own
credential (bearer tokens only: storage the program creates has shared keys off), and
files streamed up and down in blocks, side by side, each hashed as it goes, in bounded
memory whatever their size."""

import hashlib
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Generic, TypeVar

from azure.core import MatchConditions, PipelineClient
from azure.core.exceptions import AzureError as CoreAzureError
from azure.core.exceptions import (
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.core.pipeline.policies import BearerTokenCredentialPolicy
from azure.core.pipeline.transport import RequestsTransport
from azure.core.rest import HttpRequest, HttpResponse
from azure.storage.blob import BlobBlock, BlobPrefix, BlobServiceClient, ContainerClient, ContentSettings, LinearRetry

from federation import exits
from federation.operate import azure, manifest

# The Microsoft.Storage API version the program deploys storage accounts with.
STORAGE_API = "2024-01-01"
# Storage's Entra resource is the same in Azure's public, US Government and China clouds;
# the Azure CLI and the storage SDKs ask for it in each.
STORAGE_SCOPE = "https://storage.azure.com/.default"
# One block uploaded, or one range downloaded, per request: small enough that a slow link
# still sends it well within a request's deadline, and that a few in flight stay a few MiB.
BLOCK = 4 * 1024 * 1024
# Requests side by side: below the 10 connections requests keeps per host, so none is
# opened and dropped.
WORKERS = 8
# Blocks read ahead of the oldest one still in flight: the memory bound (AHEAD x BLOCK).
AHEAD = WORKERS + 4
# An answer's body is read in pieces of this size (azure-core's own default, 4 KiB, costs a
# Python call per 4 KiB; the storage client's default is this).
PIECE = 256 * 1024

# Roles, named in what a refusal says to do.
WRITER = "Storage Blob Data Contributor"
READER = "Storage Blob Data Reader"


class StorageError(Exception):
    """What storage or Resource Manager refused, in one line; `code` is the exit code."""

    def __init__(self, message: str, code: int = exits.UNREADABLE) -> None:
        super().__init__(message)
        self.code = code


class ContainerMissingError(StorageError):
    """The container is not there: nothing was deployed, or nothing has arrived yet."""


class TooLargeError(StorageError):
    """A blob larger than the command reads into memory."""


class RoundExistsError(StorageError):
    """A blob the command was to write is there already: someone published this round."""

    def __init__(self, message: str) -> None:
        super().__init__(message, exits.PROBLEMS)


@dataclass(frozen=True)
class Account:
    """A storage account, as Resource Manager names it."""

    subscription: str
    resource_group: str
    name: str

    @property
    def id(self) -> str:
        return (
            f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.Storage/storageAccounts/{self.name}"
        )


def endpoint(connection: azure.Connection, account: Account) -> str:
    """The account's blob endpoint, `properties.primaryEndpoints.blob`, read from Resource
    Manager through the same deadlines, retries and host check as every Azure command."""
    options = dict(connection.options)
    retry = {key: options.pop(key) for key in list(options) if key.startswith("retry_")}
    sending = {key: options[key] for key in options if key in azure.TRANSPORT_SETTINGS}
    settings = connection.limits.client_options(sending, **retry)
    policies = [
        settings["retry_policy"],
        azure.SameHost(connection.endpoint),  # before the token is attached
        BearerTokenCredentialPolicy(connection.credential, connection.scope),
    ]
    request = HttpRequest("GET", f"{connection.endpoint}{account.id}", params={"api-version": STORAGE_API})
    try:
        client: PipelineClient[HttpRequest, HttpResponse] = PipelineClient(
            connection.endpoint, policies=policies, transport=settings["transport"]
        )
        with client:
            response = client.send_request(request)
            response.read()
    except (azure.AzureError, CoreAzureError) as error:
        raise StorageError(azure.explain(error, account.name)) from None
    if response.status_code in (401, 403):
        raise StorageError(
            f"Resource Manager refused to read storage account {account.name} ({response.status_code}): the "
            f"signed-in identity needs Reader on it to find its blob endpoint",
            exits.NO_ACCESS,
        )
    if response.status_code == 404:
        raise StorageError(
            f"storage account {account.name} not found in resource group {account.resource_group} "
            f"(subscription {account.subscription})"
        )
    if response.status_code != 200:
        raise StorageError(
            f"Resource Manager answered {response.status_code} reading storage account {account.name}: "
            f"{azure.one_line(response.text())[:300]}"
        )
    try:
        found = response.json()["properties"]["primaryEndpoints"]["blob"]
    except (ValueError, KeyError, TypeError):
        found = None
    if not isinstance(found, str) or not found.lower().startswith("https://"):
        raise StorageError(f"storage account {account.name}: Resource Manager gave no https blob endpoint")
    return found


def container(connection: azure.Connection, account: str, url: str, name: str, role: str) -> "Container":
    """One container of the account at blob endpoint `url`, under the commands' deadlines.

    Two clients: one for listings, reads of single blobs and the writes that make a round
    (through the Deadline transport, as every Azure request), and one for the blocks and
    ranges that move files. The Deadline transport reads each answer whole on a thread of
    its own, which for 4 MiB ranges costs more than moving them; a file's blocks and ranges
    are instead each held to the same wall clock by `ordered`, which runs them."""
    options = dict(connection.options)
    sending = {"connection_data_block_size": PIECE}
    sending |= {key: options[key] for key in options if key in azure.TRANSPORT_SETTINGS}
    limits = connection.limits
    # Storage's own retry policy: it knows storage's hosts and body positions; as many
    # retries as the other commands make, soon after each failure.
    backoff = float(options.get("retry_backoff_factor", 0.8))

    def client(transport: Any) -> ContainerClient:
        retry = LinearRetry(
            backoff=round(2 * backoff),
            random_jitter_range=round(backoff),
            retry_total=limits.retries,
            retry_read=limits.read_retries,
        )
        service = BlobServiceClient(
            url,
            credential=connection.credential,
            audience=STORAGE_SCOPE.removesuffix("/.default"),
            transport=transport,
            retry_policy=retry,
            permit_redirects=False,  # a redirect could carry the token to another host
            max_single_put_size=BLOCK,
            max_block_size=BLOCK,
            max_single_get_size=BLOCK,
            max_chunk_get_size=BLOCK,
        )
        return service.get_container_client(name)

    bulk = RequestsTransport(connection_timeout=limits.connect, read_timeout=limits.read, **sending)
    return Container(
        client(limits.client_options(sending)["transport"]), client(bulk), account, name, role, limits.worst_request()
    )


@dataclass(frozen=True)
class Listed:
    """A blob as a listing gives it."""

    size: int
    etag: str


@dataclass(frozen=True)
class Local:
    """A file to publish: its name under the round and where it is on disk."""

    name: str
    path: Path
    size: int


@dataclass(frozen=True)
class Read:
    """What reading one blob through found: its sha256 and length, or why it could not."""

    sha256: str | None = None
    size: int = 0
    missing: bool = False
    changed: bool = False


class Container:
    """One container: its rounds, their files, and moving them. Every refusal of storage
    is a StorageError naming the account and the role that would allow it."""

    def __init__(
        self, client: ContainerClient, bulk: ContainerClient, account: str, name: str, role: str, deadline: float
    ) -> None:
        self.client, self.bulk, self.account, self.name, self.role = client, bulk, account, name, role
        self.deadline = deadline  # for one block or range, its retries included
        # Blobs whose writing began: after a failure, whether anything may be left behind.
        self.written = 0
        self.lock = threading.Lock()

    def rounds(self, prefix: str) -> dict[str, int]:
        """The round folders directly under `prefix` (name -> number); others are left alone."""
        found: dict[str, int] = {}
        with self._refusals("list"):
            for item in self.client.walk_blobs(name_starts_with=prefix, delimiter="/"):
                if isinstance(item, BlobPrefix):
                    name = str(item.name)[len(prefix) :].rstrip("/")
                    number = manifest.round_number(name)
                    if number is not None:
                        found[name] = number
        return found

    def files(self, prefix: str) -> dict[str, Listed]:
        """Every blob under `prefix` (name relative to it), folder markers of hierarchical
        namespace accounts left out."""
        found: dict[str, Listed] = {}
        with self._refusals("list"):
            for blob in self.client.list_blobs(name_starts_with=prefix, include=["metadata"]):
                if (blob.metadata or {}).get("hdi_isfolder") == "true":
                    continue
                found[str(blob.name)[len(prefix) :]] = Listed(int(blob.size or 0), str(blob.etag))
        return found

    def blob(self, name: str) -> Listed | None:
        """One blob's size and ETag, or None if it is not there."""
        with self._refusals("read"):
            try:
                found = self.client.get_blob_client(name).get_blob_properties()
            except ResourceNotFoundError as error:
                if _code(error) == "ContainerNotFound":
                    raise
                return None
        return Listed(int(found.size or 0), str(found.etag))

    def read(self, name: str, limit: int) -> bytes | None:
        """A small blob's bytes, or None if it is not there; TooLargeError past `limit`."""
        blob = self.client.get_blob_client(name)
        with self._refusals("read"):
            try:
                downloader = blob.download_blob(max_concurrency=1)
            except ResourceNotFoundError as error:
                if _code(error) == "ContainerNotFound":
                    raise
                return None
            data = bytearray()
            if downloader.size <= limit:
                for chunk in downloader.chunks():
                    data += chunk
            if downloader.size > limit or len(data) > limit:
                raise TooLargeError(f"{name} is more than {limit:,} bytes")
        return bytes(data)

    def put(self, name: str, data: bytes, content_type: str) -> None:
        """A blob written only if it is not there yet."""
        with self._refusals("write"):
            try:
                self.client.get_blob_client(name).upload_blob(
                    data, overwrite=False, content_settings=ContentSettings(content_type=content_type)
                )
            except ResourceExistsError:
                raise RoundExistsError(_taken(name)) from None

    def upload(self, prefix: str, files: list[Local]) -> list[manifest.File]:
        """Every file under `prefix`, hashed as it is read, WORKERS requests at a time:
        large files block by block, each committed once all its blocks are up, then small
        files whole, each read, hashed and sent by one worker. No blob is overwritten. A file
        that changed while it was read is an error."""
        done: list[manifest.File] = []
        large = [f for f in files if f.size > BLOCK]
        with self._refusals("write"):
            for result in ordered(self._send, _blocks(prefix, large), WORKERS, AHEAD, self.deadline):
                if result.last is None:
                    continue
                local, hasher = result.last
                ids = [BlobBlock(_block_id(i)) for i in range(result.count)]
                with self.lock:
                    self.written += 1
                try:
                    self.client.get_blob_client(result.blob).commit_block_list(
                        ids, match_condition=MatchConditions.IfMissing
                    )
                except ResourceExistsError:
                    raise RoundExistsError(_taken(result.blob)) from None
                done.append(manifest.File(local.name, hasher.hexdigest(), local.size))
            small = [f for f in files if f.size <= BLOCK]
            # Nothing is read ahead of its worker: any number may wait their turn.
            done += ordered(partial(self._put, prefix), small, WORKERS, len(small), self.deadline)
        return done

    def _put(self, prefix: str, local: Local) -> manifest.File:
        """A small file, read, hashed and sent whole."""
        data = local.path.read_bytes()
        if len(data) != local.size:
            raise _changed(local)
        with self.lock:
            self.written += 1
        try:
            self.bulk.get_blob_client(prefix + local.name).upload_blob(data, overwrite=False)
        except ResourceExistsError:
            raise RoundExistsError(_taken(prefix + local.name)) from None
        return manifest.File(local.name, hashlib.sha256(data).hexdigest(), local.size)

    def _send(self, piece: "_Piece") -> "_Piece":
        self.bulk.get_blob_client(piece.blob).stage_block(_block_id(piece.index), piece.data)
        piece.data = b""  # sent: nothing more to keep
        return piece

    def hashes(self, prefix: str, wanted: Mapping[str, Listed]) -> dict[str, Read]:
        """Each wanted blob read through and hashed, read only while its ETag is the listed
        one, WORKERS requests at a time: small blobs whole, each read and hashed by one
        worker; large ones range by range, each blob's ranges hashed in order."""
        found: dict[str, Read] = {}
        hashing: dict[str, Any] = {}
        small = [(prefix + name, listed) for name, listed in sorted(wanted.items()) if listed.size <= BLOCK]
        large = {name: listed for name, listed in wanted.items() if listed.size > BLOCK}
        with self._refusals("read"):
            for (name, _), read in zip(
                small, ordered(self._whole, small, WORKERS, len(small), self.deadline), strict=True
            ):
                found[name[len(prefix) :]] = read
            for piece in ordered(self._fetch, _ranges(prefix, large), WORKERS, AHEAD, self.deadline):
                name = piece.name
                if name in found:  # an earlier range already failed
                    continue
                if piece.outcome is not None:
                    found[name] = piece.outcome
                    continue
                hasher = hashing.setdefault(name, [hashlib.sha256(), 0])
                for chunk in piece.data:
                    hasher[0].update(chunk)
                    hasher[1] += len(chunk)
                if piece.last:
                    found[name] = Read(hasher[0].hexdigest(), hasher[1])
                    del hashing[name]
        return found

    def _whole(self, item: tuple[str, Listed]) -> Read:
        name, listed = item
        hasher, size = hashlib.sha256(), 0
        outcome = self._read(name, listed.etag, 0, listed.size)
        if isinstance(outcome, Read):
            return outcome
        for chunk in outcome:
            hasher.update(chunk)
            size += len(chunk)
        return Read(hasher.hexdigest(), size)

    def _fetch(self, piece: "_Range") -> "_Range":
        outcome = self._read(piece.prefix + piece.name, piece.etag, piece.offset, piece.length)
        if isinstance(outcome, Read):
            piece.outcome = outcome
        else:
            piece.data = outcome
        return piece

    def _read(self, name: str, etag: str, offset: int, length: int) -> "list[bytes] | Read":
        """One range of a blob in one request (its pieces, unjoined), while it has `etag`;
        or why not."""
        if length == 0:
            return []
        try:
            downloader = self.bulk.get_blob_client(name).download_blob(
                offset=offset,
                length=length,
                etag=etag,
                match_condition=MatchConditions.IfNotModified,
                max_concurrency=1,
            )
            return list(downloader.chunks())
        except ResourceNotFoundError:
            return Read(missing=True)
        except ResourceModifiedError:
            return Read(changed=True)
        except HttpResponseError as error:
            if error.status_code == 416:  # the blob shrank after it was listed
                return Read(changed=True)
            raise

    def _refusals(self, doing: str) -> "_Refusals":
        return _Refusals(self, doing)


class _Refusals:
    """Storage's errors as one line: 401 and 403 as no access, naming the role needed."""

    def __init__(self, container: Container, doing: str) -> None:
        self.container, self.doing = container, doing

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, error: BaseException | None, trace: Any) -> None:
        where = f"storage account {self.container.account}, container {self.container.name}"
        if isinstance(error, SlowError):
            raise StorageError(f"{where} sent {error}") from None
        if error is None or isinstance(error, StorageError) or not isinstance(error, Exception):
            return
        if isinstance(error, HttpResponseError) and error.status_code in (401, 403):
            raise StorageError(
                f"{where} refused to {self.doing} ({error.status_code} {_code(error)}): the signed-in identity "
                f"needs {self.container.role} on it",
                exits.NO_ACCESS,
            ) from None
        if isinstance(error, ResourceNotFoundError) and _code(error) == "ContainerNotFound":
            raise ContainerMissingError(f"{where}: the container does not exist") from None
        if isinstance(error, HttpResponseError):
            message = str(error.message or "").strip().splitlines()
            said = f": {azure.one_line(message[0])}" if message else ""
            raise StorageError(f"{where} answered {error.status_code} {_code(error)}{said}") from None
        if isinstance(error, ServiceRequestError | ServiceResponseError):
            raise StorageError(f"cannot reach {where}: {azure.one_line(getattr(error, 'message', error))}") from None
        if isinstance(error, OSError):
            raise StorageError(f"cannot read {error.filename or 'a file'}: {error.strerror or error}") from None


@dataclass
class _Piece:
    """One block of a large file."""

    blob: str
    index: int
    count: int
    data: bytes
    last: tuple[Local, Any] | None = None  # on a file's last block: the file and its hash


def _blocks(prefix: str, files: list[Local]) -> Iterator[_Piece]:
    """Each file read once, in order, block by block, and hashed as it is read."""
    for local in files:
        hasher = hashlib.sha256()
        count = max(1, -(-local.size // BLOCK))
        with local.path.open("rb") as source:
            for index in range(count):
                data = source.read(BLOCK)
                hasher.update(data)
                if len(data) != min(BLOCK, local.size - index * BLOCK) or (index == count - 1 and source.read(1)):
                    raise _changed(local)
                last = (local, hasher) if index == count - 1 else None
                yield _Piece(prefix + local.name, index, count, data, last)


def _changed(local: Local) -> StorageError:
    return StorageError(f"{local.path}: changed while it was read; publish it again under a new round")


def _taken(blob: str) -> str:
    return f"{blob} is there already: someone else is publishing this round"


@dataclass
class _Range:
    prefix: str
    name: str
    etag: str
    offset: int
    length: int
    last: bool
    data: list[bytes] = field(default_factory=list)
    outcome: Read | None = None


def _ranges(prefix: str, wanted: Mapping[str, Listed]) -> Iterator[_Range]:
    for name in sorted(wanted):
        listed = wanted[name]
        for offset in range(0, listed.size, BLOCK):
            length = min(BLOCK, listed.size - offset)
            yield _Range(prefix, name, listed.etag, offset, length, offset + BLOCK >= listed.size)


def _code(error: HttpResponseError) -> str:
    """Storage's error code (BlobNotFound, AuthorizationPermissionMismatch...), else the reason."""
    code = getattr(error, "error_code", None)
    return azure.one_line(getattr(code, "value", code) or error.reason or "")


def _block_id(index: int) -> str:
    """Block ids of one blob must all be as long: the block's index, zero-padded."""
    return f"{index:08d}"


T = TypeVar("T")
R = TypeVar("R")


@dataclass
class _Slot(Generic[R]):
    done: threading.Event = field(default_factory=threading.Event)
    started: float | None = None  # time.monotonic() when a worker took it
    result: R | None = None
    error: BaseException | None = None


class SlowError(StorageError):
    """A block or range that had not moved whole by its deadline."""


def ordered(function: Callable[[T], R], items: Iterable[T], workers: int, ahead: int, deadline: float) -> Iterator[R]:
    """`function` over `items` on `workers` daemon threads, results in the items' order.
    Items are taken from `items` only while fewer than `ahead` wait to be handed back, so
    a generator reading a file is read no further ahead than that. Each item must be done
    within `deadline` seconds of a worker taking it (a wall clock: an answer sent a byte at
    a time is given up on). The first error ends it: nothing more starts, and it is raised
    to the caller. Ctrl-C reaches the caller at once; a request under way is not waited for."""
    tasks: queue.SimpleQueue[tuple[_Slot[R], T] | None] = queue.SimpleQueue()

    def work() -> None:
        while (task := tasks.get()) is not None:
            slot, item = task
            slot.started = time.monotonic()
            try:
                slot.result = function(item)
            except BaseException as error:  # handed to the caller, who raises it
                slot.error = error
            slot.done.set()

    threads = [threading.Thread(target=work, name="blobs", daemon=True) for _ in range(workers)]
    for thread in threads:
        thread.start()
    pending: deque[_Slot[R]] = deque()
    source = iter(items)
    try:
        while True:
            while len(pending) < ahead:
                try:
                    item = next(source)
                except StopIteration:
                    break
                slot: _Slot[R] = _Slot()
                pending.append(slot)
                tasks.put((slot, item))
            if not pending:
                return
            slot = pending.popleft()
            _wait(slot, deadline)
            if slot.error is not None:
                raise slot.error
            yield slot.result  # type: ignore[misc]  # set when done without an error
    finally:
        while True:  # what has not started will not: each worker ends at its None
            try:
                tasks.get_nowait()
            except queue.Empty:
                break
        for _ in threads:
            tasks.put(None)


def _wait(slot: "_Slot[Any]", deadline: float) -> None:
    """Until the slot is done, or `deadline` seconds after a worker took it."""
    while True:
        started = slot.started
        left = 1.0 if started is None else started + deadline - time.monotonic()
        if slot.done.wait(max(left, 0.0)):
            return
        if started is not None and time.monotonic() >= started + deadline:
            raise SlowError(f"no whole answer within {deadline:g} s")


def walk(directory: Path) -> tuple[list[Local], list[str]]:
    """Every file under `directory` with its name under the round (/ between folders), and
    one problem per file that cannot be published: a name the manifest refuses, a symbolic
    link (what it points to could be anywhere), anything that is not a regular file."""
    files: list[Local] = []
    problems: list[str] = []
    for root, dirs, names in os.walk(directory, onerror=_raise):
        dirs.sort()
        for entry in sorted(names) + [d for d in dirs if (Path(root) / d).is_symlink()]:
            path = Path(root) / entry
            name = path.relative_to(directory).as_posix()
            if path.is_symlink():
                problems.append(f"{manifest.shown(name)} is a symbolic link: publish the file itself")
                continue
            if not path.is_file():
                problems.append(f"{manifest.shown(name)} is not a regular file")
                continue
            if problem := manifest.name_problem(name):
                problems.append(f"{manifest.shown(name)} {problem}")
                continue
            files.append(Local(name, path, path.stat().st_size))
    return files, problems


def _raise(error: OSError) -> None:
    raise error
