"""An exchange for tests of a training round: a coordinator and a participant, each with its
own stack file, fake Resource Manager (Data Share and storage accounts) and storage account
on one Azurite, and a share each way:

- the coordinator's share `global_model` (dataset `checkpoints`: container global-model of
  stflcoord) lands in the participant's subscription `global_model` (container
  incoming-model of stflsilo);
- the participant's share `model_updates` (dataset `update`: folder round of container
  updates of stflsilo) lands in the coordinator's subscription `updates_hospital_a`
  (folder hospital-a of container updates of stflcoord).

A test (of this project or of an example built on it) takes the `exchange` fixture, with
`azurite`, `ca`, `ca_file` and `outside` imported beside it, and runs commands as either
party: `exchange.coordinator.cli("publish", "global_model", "round-1", "--from", DIR)`,
`exchange.participant.cli("sync", "global_model", "--verify", "round-1")`. Each returns
(exit code, stdout, stderr). Azurite must be installed (`.ci/run` installs it); without it
the tests fail, saying how to install it."""

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import trustme
import yaml
from azure.storage.blob import ContainerClient

from federation import cli
from federation.operate import azure, rounds
from tests.clock import CLOCK
from tests.fake_arm import Received
from tests.fake_storage import Azurite, AzuriteMissingError, Credential, FakeStorage, Spot, StorageArm
from tests.operate_support import ca, ca_file, options, outside

__all__ = ["Exchange", "Party", "azurite", "ca", "ca_file", "exchange", "outside"]

COORDINATOR_SUB = "0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d"
PARTICIPANT_SUB = "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b"
COORDINATOR_STORAGE, PARTICIPANT_STORAGE = "stflcoord", "stflsilo"
# The sender's dataset ids, as a handoff gives them to the receiver.
CHECKPOINTS_ID = "1c6e8a4f-2b3d-4f5e-9a7c-8e0d1b2c3f46"
UPDATE_ID = "5a1f7e92-3c4d-4b6a-8e0f-9d2c1b7a6e35"


def coordinator_config() -> dict[str, Any]:
    return {
        "azure-native:location": "westeurope",
        "federation:environment": "coord",
        "federation:storage": {"models": {"name": COORDINATOR_STORAGE, "containers": ["global-model", "updates"]}},
        "federation:participants": {"hospital-a": {"email": "mlops@hospital-a.example"}},
        "federation:shares": {
            "global_model": {"datasets": {"checkpoints": {"storage": "models", "container": "global-model"}}}
        },
        "federation:subscriptions": {
            "updates_hospital_a": {
                "invitationId": "0d9e4c3b-7a61-4f2e-9b58-3c1a2e7f6d40",
                "sourceLocation": "northeurope",
                "datasets": {UPDATE_ID: {"storage": "models", "container": "updates", "folder": "hospital-a"}},
            }
        },
    }


def participant_config() -> dict[str, Any]:
    return {
        "azure-native:location": "northeurope",
        "federation:environment": "silo",
        "federation:storage": {"silo": {"name": PARTICIPANT_STORAGE, "containers": ["incoming-model", "updates"]}},
        "federation:participants": {
            "coordinator": {
                "tenantId": "9c2e4f61-0b3a-4d8e-a7c5-1f6b2d9e3a70",
                "objectId": "4b8f1d2a-6c3e-4a9b-8d7f-0e5c2b1a9f63",
            }
        },
        "federation:shares": {
            "model_updates": {
                "datasets": {"update": {"storage": "silo", "container": "updates", "folder": "round"}},
            }
        },
        "federation:subscriptions": {
            "global_model": {
                "invitationId": "7f3a9c2e-1b4d-4e8f-a6c5-2d9b0e1f3a84",
                "sourceLocation": "westeurope",
                "datasets": {CHECKPOINTS_ID: {"storage": "silo", "container": "incoming-model"}},
            }
        },
    }


@dataclass
class Party:
    """One side of the exchange: its stack file, its fake Resource Manager, its storage
    account, and the credential its commands sign in with (`credential.storage_audience`
    set to another account's, `https://x.blob.core.windows.net`, makes storage answer 403)."""

    name: str
    subscription: str
    config: dict[str, Any]
    stack: Path
    arm: StorageArm
    account: str
    credential: Credential
    ca_file: Path
    azurite: Azurite
    capsys: pytest.CaptureFixture[str] | None = None

    def words(self, *argv: str) -> list[str]:
        """ARGV with this party's stack file, Azure subscription and Resource Manager."""
        return [*argv, "--config", str(self.stack), "--subscription", self.subscription, "--endpoint", self.arm.url]

    def cli(self, *argv: str) -> tuple[int, str, str]:
        """`federation ARGV` as this party, against its fake Resource Manager and Azurite."""
        assert self.capsys is not None, "cli() reads the output through the exchange fixture's capsys"
        try:
            code = cli.main(self.words(*argv), self.credential, options(self.ca_file), azure.Limits(connect=5, read=5))
        except SystemExit as usage:  # argparse's usage errors
            code = int(usage.code or 0)
        out, err = self.capsys.readouterr()
        return code, out, err

    def container(self, name: str) -> ContainerClient:
        """A container of this party's storage account, for a test's own reads and writes."""
        return self.azurite.container(self.account, name)


@dataclass
class Exchange:
    azurite: Azurite
    storage: FakeStorage
    coordinator: Party
    participant: Party


@pytest.fixture(scope="session")
def azurite(ca: trustme.CA, ca_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    """One Azurite for the session, with the coordinator's and the participant's accounts."""
    server = azurite_for(ca, ca_file, tmp_path_factory.mktemp("azurite"))
    try:
        server.start()
        missing = None
    except AzuriteMissingError as error:
        missing = str(error)
    if missing is not None:
        pytest.fail(missing, pytrace=False)
    yield server
    server.stop()


def azurite_for(ca: trustme.CA, ca_file: Path, where: Path) -> Azurite:
    """Azurite (not started) with the exchange's two accounts, its certificate from `ca`,
    its files under `where`."""
    issued = ca.issue_cert("127.0.0.1")
    cert, key = where / "cert.pem", where / "key.pem"
    issued.cert_chain_pems[0].write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    (where / "data").mkdir()
    return Azurite([COORDINATOR_STORAGE, PARTICIPANT_STORAGE], cert, key, ca_file, where / "data")


@pytest.fixture
def exchange(
    azurite: Azurite,
    ca: trustme.CA,
    ca_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Exchange]:
    """Both parties, their storage emptied, and publish's clock at the tests' one instant."""
    monkeypatch.setattr(rounds, "now", lambda: CLOCK)
    with opened(azurite, ca, ca_file, tmp_path) as found:
        for party in (found.coordinator, found.participant):
            party.capsys = capsys
        yield found


@contextmanager
def opened(azurite: Azurite, ca: trustme.CA, ca_file: Path, workdir: Path) -> Iterator[Exchange]:
    """The exchange on a running Azurite, its stack files in `workdir`; what the fakes
    refused fails it at the end. The benchmark runs it as the tests do."""
    storage = FakeStorage(azurite)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    coordinator_arm = StorageArm(context, COORDINATOR_SUB, "rg-fl-coord", "dsa-fl-coord", storage)
    participant_arm = StorageArm(context, PARTICIPANT_SUB, "rg-fl-silo", "dsa-fl-silo", storage)
    coordinator_arm.received["updates_hospital_a"] = Received()
    participant_arm.received["global_model"] = Received()
    storage.add_account(COORDINATOR_SUB, "rg-fl-coord", COORDINATOR_STORAGE)
    storage.add_account(PARTICIPANT_SUB, "rg-fl-silo", PARTICIPANT_STORAGE)
    storage.link(
        participant_arm,
        "global_model",
        "checkpoints",
        Spot(COORDINATOR_STORAGE, "global-model"),
        Spot(PARTICIPANT_STORAGE, "incoming-model"),
    )
    storage.link(
        coordinator_arm,
        "updates_hospital_a",
        "update",
        Spot(PARTICIPANT_STORAGE, "updates", "round/"),
        Spot(COORDINATOR_STORAGE, "updates", "hospital-a/"),
    )
    _empty(azurite, COORDINATOR_STORAGE, ["global-model", "updates"])
    _empty(azurite, PARTICIPANT_STORAGE, ["incoming-model", "updates"])
    parties = []
    for name, sub, config, arm, account in (
        ("coord", COORDINATOR_SUB, coordinator_config(), coordinator_arm, COORDINATOR_STORAGE),
        ("silo", PARTICIPANT_SUB, participant_config(), participant_arm, PARTICIPANT_STORAGE),
    ):
        stack = workdir / f"Pulumi.{name}.yaml"
        stack.write_text(yaml.safe_dump({"config": config}))
        parties.append(Party(name, sub, config, stack, arm, account, Credential(), ca_file, azurite))
    with coordinator_arm, participant_arm:
        yield Exchange(azurite, storage, parties[0], parties[1])
        storage.resume()  # a snapshot held mid-copy ends
    assert coordinator_arm.violations == participant_arm.violations == [], "requests the APIs do not accept"
    assert storage.violations == [], "storage requests the API does not accept"
    assert storage.errors == [], "snapshots whose copy failed"


def _empty(azurite: Azurite, account: str, containers: list[str]) -> None:
    """The containers the program would create, there and empty (containers other tests
    made are dropped)."""
    service = azurite.service(account)
    for found in service.list_containers():
        if found.name not in containers:
            service.delete_container(found.name)
    for name in containers:
        client = service.get_container_client(name)
        if not client.exists():
            client.create_container()
            continue
        for blob in client.list_blobs():
            client.delete_blob(blob.name)
