"""The exchange as the Flower app sees it: a round's payload goes through the store, and only
a pointer to it (the round and its manifest's sha256) goes in Flower's messages.

`federation` runs as a program of its own (flwr and the federation program cannot share a
virtualenv): it publishes a directory as a round, and takes a snapshot and verifies a
received round. No command hands the files over, so a verified round's file is read here with
azure-storage-blob, signed in as `federation` signs in, and checked again against the
manifest: the blobs could change between the verify and the read."""

import hashlib
import io
import json
import os
import shlex
import subprocess
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError
from azure.storage.blob import ContainerClient
from flwr.app import Array, ArrayRecord

# Keys of the pointers in Flower's messages: in the server's train config, and the
# ConfigRecord of a client's reply (party, round, sha256).
GLOBAL_ROUND, GLOBAL_SHA256 = "global-round", "global-sha256"
UPDATE = "update"
MODEL = "model.npz"  # the one file of a round: the arrays, as npz
MANIFEST = "manifest.json"
MAX_MANIFEST = 16 * 1024 * 1024
OK = 0  # federation's exit code for done, or verified (the others: docs/rounds.md)


class ExchangeError(Exception):
    """A round that cannot be used, in one line; `code` is federation's exit code, if it
    said one."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Pointer:
    """What a message carries instead of the arrays: the round, and the sha256 of its
    manifest, which names each file's sha256."""

    round: str
    sha256: str


@dataclass
class Federation:
    """How this party runs `federation` and reads what arrives in its storage.

    `command` is the program (`federation`, or a path to it) and `words` are added to every
    command (`-s STACK`). `endpoints` maps each storage account rounds arrive in to its blob
    endpoint as Resource Manager gives it (`primaryEndpoints.blob`): an endpoint is never
    built from an account's name, which would be wrong for DNS-zone endpoints and sovereign
    clouds."""

    command: Sequence[str] = ("federation",)
    words: Sequence[str] = ()
    endpoints: Mapping[str, str] = field(default_factory=dict)
    credential: TokenCredential | None = None
    connection_verify: str | bool = True

    @classmethod
    def from_environment(cls) -> "Federation":
        """FEDERATION (the command, default `federation`), FEDERATION_STACK (its -s), and
        FEDERATION_BLOB_ENDPOINTS (JSON: storage account -> blob endpoint); signed in with
        DefaultAzureCredential, as `federation` is."""
        from azure.identity import DefaultAzureCredential

        stack = os.environ.get("FEDERATION_STACK")
        return cls(
            command=shlex.split(os.environ.get("FEDERATION", "federation")),
            words=("-s", stack) if stack else (),
            endpoints=json.loads(os.environ.get("FEDERATION_BLOB_ENDPOINTS", "{}")),
            credential=DefaultAzureCredential(),
        )

    def run(self, *argv: str) -> tuple[int, dict[str, Any] | None, str]:
        """`federation ARGV -o json`: its exit code, what it printed as JSON (None if
        nothing), and its last line on stderr."""
        try:
            done = subprocess.run(
                [*self.command, *argv, "-o", "json", *self.words], capture_output=True, text=True, check=False
            )
        except OSError as error:
            raise ExchangeError(f"cannot run {shlex.join(self.command)}: {error}") from None
        said = done.stderr.strip().splitlines()
        try:
            out = json.loads(done.stdout) if done.stdout.strip() else None
        except json.JSONDecodeError:
            out = None
        return done.returncode, out, said[-1] if said else ""

    def publish(self, share: str, round_name: str, arrays: ArrayRecord) -> Pointer:
        """Publish `arrays` as `round_name` of `share`; the pointer to put in a message."""
        with tempfile.TemporaryDirectory(prefix="round-") as directory:
            (Path(directory) / MODEL).write_bytes(to_npz(arrays))
            code, out, err = self.run("publish", share, round_name, "--from", directory)
        if code != OK or out is None:
            raise ExchangeError(f"publish {share} {round_name}: exit {code}: {err}", code)
        return Pointer(out["round"], out["manifest"]["sha256"])

    def receive(self, subscription: str, pointer: Pointer, snapshot: bool = True) -> ArrayRecord:
        """The arrays of a received round, once `federation` verified it and its manifest is
        the one `pointer` names. With `snapshot`, a snapshot is taken first (`sync --wait
        --verify`); without, the round must have arrived by the subscription's schedule."""
        if snapshot:
            code, out, err = self.run("sync", subscription, "--wait", "--verify", pointer.round)
            verdict = (out or {}).get("verify")
        else:
            code, out, err = self.run("verify", subscription, pointer.round)
            verdict = out
        if code != OK or not verdict or verdict.get("status") != "verified":
            problems = "; ".join((verdict or {}).get("problems", [])) or err
            status = (verdict or {}).get("status") or (out or {}).get("status") or "failed"
            raise ExchangeError(f"{subscription} {pointer.round}: {status} (exit {code}): {problems}", code)
        if verdict.get("manifestSha256") != pointer.sha256:
            raise ExchangeError(
                f"{subscription} {pointer.round}: the verified manifest is {verdict.get('manifestSha256')}, "
                f"not {pointer.sha256} as the message says"
            )
        return self.read(verdict["location"], pointer)

    def read(self, location: Mapping[str, str], pointer: Pointer) -> ArrayRecord:
        """The round's model file at `location` (as verify gives it), its manifest's sha256
        and its own checked again as they are read."""
        account = location["account"]
        if account not in self.endpoints:
            raise ExchangeError(f"no blob endpoint for storage account {account}: set it in FEDERATION_BLOB_ENDPOINTS")
        container = ContainerClient(
            self.endpoints[account],
            location["container"],
            credential=self.credential,
            connection_verify=self.connection_verify,
        )
        prefix = location["prefix"]
        try:
            manifest = _download(container, prefix + MANIFEST, MAX_MANIFEST)
            if hashlib.sha256(manifest).hexdigest() != pointer.sha256:
                raise ExchangeError(f"{pointer.round}: the manifest changed after it was verified")
            statement = json.loads(manifest)
            subjects = {s["name"]: s["digest"]["sha256"] for s in statement["subject"]}
            size = statement["predicate"]["files"][MODEL]["size"]
            data = _download(container, prefix + MODEL, size)
        except (KeyError, TypeError, ValueError):
            raise ExchangeError(f"{pointer.round}: the manifest names no {MODEL}") from None
        except AzureError as error:
            raise ExchangeError(f"{pointer.round}: cannot be read from {account}: {error}") from None
        if len(data) != size or hashlib.sha256(data).hexdigest() != subjects[MODEL]:
            raise ExchangeError(f"{pointer.round}: {MODEL} changed after it was verified")
        return from_npz(data)


def _download(container: ContainerClient, name: str, limit: int) -> bytes:
    """A blob's bytes, refused past `limit` (read as it streams, so a larger blob never sits
    in memory)."""
    got = bytearray()
    for chunk in container.download_blob(name).chunks():
        got += chunk
        if len(got) > limit:
            raise ExchangeError(f"{name}: more than {limit:,} bytes")
    return bytes(got)


def to_npz(arrays: ArrayRecord) -> bytes:
    """The arrays as an npz (numpy's zip of .npy files), in order, with no pickled object:
    loading it runs no code. Written here rather than with np.savez so that any array name
    works and the same arrays give the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            entry = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            with archive.open(entry, "w") as out:
                np.lib.format.write_array(out, array.numpy(), allow_pickle=False)
    return buffer.getvalue()


def from_npz(data: bytes) -> ArrayRecord:
    """Arrays from an npz that `to_npz` wrote. Pickled objects are refused (allow_pickle
    False), and so are compressed entries, which could unpack to far more than was sent."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if any(info.compress_type != zipfile.ZIP_STORED for info in archive.infolist()):
                raise ExchangeError(f"{MODEL}: compressed entries are refused")
        with np.load(io.BytesIO(data), allow_pickle=False) as loaded:
            return ArrayRecord({name: Array(np.asarray(loaded[name])) for name in loaded.files})
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise ExchangeError(f"{MODEL}: not an npz of arrays ({error})") from None
