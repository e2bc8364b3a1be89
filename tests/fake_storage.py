"""The storage side of the exchange for tests: Azurite, the Azure Storage emulator, serving
the Blob API on 127.0.0.1 over HTTPS with Entra ID bearer tokens; and a fake Resource
Manager (`StorageArm`, the Data Share fake with storage added) that answers for storage
accounts with Azurite's endpoint, and whose snapshots copy the mapped blobs from the
sender's location to the receiver's, full or incremental, and can be stopped mid-copy."""

import base64
import json
import os
import queue
import re
import shutil
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from azure.core.credentials import AccessToken
from azure.storage.blob import BlobServiceClient, ContainerClient

from tests.fake_arm import FakeArm, Received, _error

PROJECT = Path(__file__).resolve().parent.parent
# Azurite 3.35 is the last release that runs on Node 20.
AZURITE_VERSION = "3.35.0"
AZURITE = PROJECT / ".azurite" / "node_modules" / ".bin" / "azurite-blob"
INSTALL = f"npm install --prefix .azurite azurite@{AZURITE_VERSION}"
# The Microsoft.Storage API version the program deploys storage accounts with.
STORAGE_API = "2024-01-01"
STORAGE = "https://storage.azure.com"
# A token's expiry no run reaches (2100-01-01); Azurite checks it against its own clock.
NEVER = 4102444800
# Data Share copies the files of a snapshot in no set order: the fake copies a round's
# manifest first, so a snapshot stopped mid-copy leaves a manifest naming files not there.
MANIFEST = "manifest.json"
# The thread a snapshot copies on: its requests are the fake's, never a command's.
COPY_THREAD = "snapshot-copy"


def storage_token(audience: str = STORAGE) -> str:
    """An unsigned JWT as Azurite's basic OAuth takes it: an Entra issuer, the storage
    audience (or one storage account's, `https://<account>.blob.core.windows.net`, which
    Azurite refuses with 403 on any other account)."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    claims = {"iss": "https://sts.windows.net/00000000-0000-0000-0000-000000000000/", "aud": audience}
    claims |= {"iat": 0, "nbf": 0, "exp": NEVER, "oid": "11111111-1111-1111-1111-111111111111"}
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


class Credential:
    """A credential as azure-identity's are: a storage token for storage scopes (for the
    audience `storage_audience`), a plain one for Resource Manager."""

    def __init__(self, storage_audience: str = STORAGE) -> None:
        self.storage_audience = storage_audience
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.scopes.append(scopes)
        if any(s.startswith(STORAGE) for s in scopes):
            return AccessToken(storage_token(self.storage_audience), NEVER)
        return AccessToken("fake-token", NEVER)


class AzuriteMissingError(Exception):
    pass


class Azurite:
    """Azurite's blob service on 127.0.0.1, a port it picks, over HTTPS, checking bearer
    tokens (`--oauth basic`), one account per name in `accounts`, its data under `workdir`.
    It never sends telemetry (`--disableTelemetry`)."""

    def __init__(self, accounts: list[str], cert: Path, key: Path, ca_file: Path, workdir: Path) -> None:
        self.accounts, self.ca_file, self.workdir = accounts, ca_file, workdir
        self.cert, self.key = cert, key
        self.process: subprocess.Popen[str] | None = None
        self.url = ""
        self.output: list[str] = []

    def start(self, wait: float = 60.0) -> "Azurite":
        if not AZURITE.exists():
            raise AzuriteMissingError(f"Azurite is not installed: run `{INSTALL}` in {PROJECT} (as .ci/run does)")
        if shutil.which("node") is None:
            raise AzuriteMissingError("Azurite needs Node.js (node), which is not on the PATH")
        key = base64.b64encode(b"azurite-test-key").decode()  # unused: only tokens are sent
        env = os.environ | {"AZURITE_ACCOUNTS": ";".join(f"{a}:{key}" for a in self.accounts)}
        command = [
            str(AZURITE),
            *("--blobHost", "127.0.0.1", "--blobPort", "0"),
            *("--cert", str(self.cert), "--key", str(self.key)),
            *("--oauth", "basic"),
            "--disableTelemetry",
            # azure-storage-blob asks for a newer service version than Azurite 3.35 knows.
            "--skipApiVersionCheck",
            *("--location", str(self.workdir)),
            "--silent",
        ]
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=self.workdir
        )
        lines: queue.SimpleQueue[str | None] = queue.SimpleQueue()

        output = self.process.stdout
        assert output is not None

        def read() -> None:
            for line in output:
                self.output.append(line)
                lines.put(line)
            lines.put(None)

        threading.Thread(target=read, name="azurite-output", daemon=True).start()
        deadline = time.monotonic() + wait
        while True:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                self.stop()
                raise AzuriteMissingError(f"Azurite did not start within {wait:g} s: {''.join(self.output)[-500:]}")
            found = re.search(r"listens on (https://127\.0\.0\.1:\d+)", line)
            if found:
                self.url = found[1]
                return self

    def stop(self) -> None:
        if self.process is None:
            return
        # Azurite closes on SIGTERM, but its process can outlive that: killed if it does.
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None

    def endpoint(self, account: str) -> str:
        """The account's blob endpoint, as Resource Manager gives primaryEndpoints.blob."""
        return f"{self.url}/{account}/"

    def service(self, account: str) -> BlobServiceClient:
        """A client for the test's own reads and writes, with a token every account takes."""
        return BlobServiceClient(
            self.endpoint(account), credential=Credential(), connection_verify=str(self.ca_file), retry_total=0
        )

    def container(self, account: str, name: str) -> ContainerClient:
        return self.service(account).get_container_client(name)


@dataclass(frozen=True)
class Spot:
    """Where a dataset's blobs are: account, container, and a folder prefix ("" or
    "folder/") or one file's name (`file`)."""

    account: str
    container: str
    prefix: str = ""
    file: bool = False


@dataclass
class Link:
    """One dataset mapping of a received share: the sender's dataset and where it lands."""

    name: str
    source: Spot
    target: Spot
    copied: dict[str, str] = field(default_factory=dict)  # source blob -> its ETag when last copied


@dataclass
class Copy:
    """A snapshot's copying, on a thread of its own."""

    done: threading.Event = field(default_factory=threading.Event)
    files: dict[str, int] = field(default_factory=dict)  # per link: files written
    sizes: dict[str, int] = field(default_factory=dict)  # per link: bytes written


class FakeStorage:
    """Storage accounts as Resource Manager describes them, on Azurite, and the copying
    Data Share's snapshots do. `halt_after` = N stops the next snapshot after it copied N
    blobs: the blob it was copying is left at 0 bytes, as a copy in flight shows, and the
    snapshot stays InProgress until `resume()`, when the copy goes on to its end."""

    def __init__(self, azurite: Azurite) -> None:
        self.azurite = azurite
        self.accounts: dict[str, str] = {}  # resource id, lower case -> account name
        self.links: dict[tuple[int, str], list[Link]] = {}
        self.copies: dict[str, Copy] = {}
        self.halt_after: int | None = None
        self.halted = threading.Event()
        self.resumed = threading.Event()
        self.errors: list[str] = []
        self.violations: list[str] = []
        self.lock = threading.Lock()

    def add_account(self, subscription: str, resource_group: str, name: str) -> None:
        path = (
            f"/subscriptions/{subscription}/resourceGroups/{resource_group}"
            f"/providers/Microsoft.Storage/storageAccounts/{name}"
        )
        self.accounts[path.lower()] = name

    def link(self, arm: FakeArm, subscription: str, name: str, source: Spot, target: Spot) -> None:
        self.links.setdefault((id(arm), subscription), []).append(Link(name, source, target))

    def resume(self) -> None:
        self.halt_after = None
        self.resumed.set()

    def answer(self, method: str, path: str, query: dict[str, str]) -> tuple[int, dict[str, str], Any] | None:
        """Resource Manager's answer for a storage account, or None for any other path."""
        if "/providers/microsoft.storage/" not in path.lower():
            return None
        if query.get("api-version") != STORAGE_API:
            violation = f"{method} {path}: api-version {query.get('api-version')!r}, not {STORAGE_API}"
            self.violations.append(violation)
            return 400, {}, _error("InvalidApiVersionParameter", violation)
        name = self.accounts.get(path.rstrip("/").lower())
        if method != "GET" or name is None:
            return 404, {}, _error("ResourceNotFound", f"The Resource '{path}' was not found.")
        return (
            200,
            {},
            {
                "id": path,
                "name": name,
                "type": "Microsoft.Storage/storageAccounts",
                "kind": "StorageV2",
                "properties": {
                    "primaryEndpoints": {"blob": self.azurite.endpoint(name), "dfs": None},
                    "allowSharedKeyAccess": False,
                },
            },
        )

    def start(self, arm: FakeArm, subscription: str, sync_id: str, mode: str) -> None:
        copy = self.copies[sync_id] = Copy()
        links = self.links.get((id(arm), subscription), [])
        received = arm.received[subscription]

        def run() -> None:
            try:
                self._copy(links, mode, copy)
                received.details = [
                    {
                        "name": link.name,
                        "status": "Succeeded",
                        "dataSetType": "Blob",
                        "filesWritten": copy.files.get(link.name, 0),
                        "sizeWritten": copy.sizes.get(link.name, 0),
                    }
                    for link in links
                ]
            except Exception as error:  # fails the test at teardown
                self.errors.append(f"snapshot {sync_id}: {error!r}")
            finally:
                copy.done.set()

        threading.Thread(target=run, name=COPY_THREAD, daemon=True).start()

    def copying(self, sync_id: str) -> bool:
        copy = self.copies.get(sync_id)
        return copy is not None and not copy.done.is_set()

    def _copy(self, links: list[Link], mode: str, copy: Copy) -> None:
        count = 0
        for link in links:
            source = self.azurite.container(link.source.account, link.source.container)
            target = self.azurite.container(link.target.account, link.target.container)
            if not target.exists():  # Data Share creates the container it maps to
                target.create_container()
            blobs = {
                b.name: b
                for b in source.list_blobs(name_starts_with=link.source.prefix)
                if not link.source.file or b.name == link.source.prefix
            }
            # An incremental snapshot copies what is new or changed; neither kind deletes.
            names = [n for n in blobs if mode == "FullSync" or link.copied.get(n) != blobs[n].etag]
            for name in sorted(names, key=lambda n: (not n.endswith("/" + MANIFEST) and n != MANIFEST, n)):
                where = link.target.prefix if link.target.file else link.target.prefix + name[len(link.source.prefix) :]
                if self.halt_after is not None and count >= self.halt_after:
                    target.get_blob_client(where).upload_blob(b"", overwrite=True)  # in flight: 0 bytes
                    self.halted.set()
                    self.resumed.wait()
                data = source.get_blob_client(name).download_blob()
                target.get_blob_client(where).upload_blob(
                    data.chunks(), length=blobs[name].size, overwrite=True, max_concurrency=4
                )
                link.copied[name] = str(blobs[name].etag)
                copy.files[link.name] = copy.files.get(link.name, 0) + 1
                copy.sizes[link.name] = copy.sizes.get(link.name, 0) + int(blobs[name].size)
                count += 1


class StorageArm(FakeArm):
    """The fake Data Share Resource Manager with storage: it answers for storage accounts,
    and its snapshots copy blobs, staying InProgress until the copy is done."""

    def __init__(
        self, context: ssl.SSLContext, subscription: str, resource_group: str, account: str, storage: FakeStorage
    ) -> None:
        super().__init__(context, subscription, resource_group, account)
        self.storage = storage

    def answer(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, dict[str, str], Any]:
        if "/providers/microsoft.storage/" in path.lower() and (fault := self.fault(method, path)) is not None:
            return (
                fault.status,
                fault.headers,
                fault.body if fault.body is not None else _error(fault.code, fault.message),
            )
        found = self.storage.answer(method, path, query)
        return found if found is not None else super().answer(method, path, query, body)

    def _synchronize(self, name: str, body: Any) -> tuple[int, dict[str, str], Any]:
        status, headers, first = super()._synchronize(name, body)
        if status == 202:
            self.storage.start(self, name, first["synchronizationId"], first["synchronizationMode"])
        return status, headers, first

    def _progress(self, received: Received) -> None:
        # A snapshot still copying is InProgress, however often it is looked at.
        held = {s: received.reads.pop(s) for s in list(received.reads) if self.storage.copying(s)}
        for sync in received.synchronizations:
            if sync["synchronizationId"] in held:
                sync["status"] = "InProgress"
        super()._progress(received)
        received.reads.update(held)
