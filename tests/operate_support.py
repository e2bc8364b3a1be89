"""The day-2 commands' test rig: a fake Resource Manager over HTTPS with a certificate made
here, a credential handed to the client, a guard that no socket leaves 127.0.0.1, and a
stack file whose account the fake serves."""

import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
import yaml
from azure.core.credentials import AccessToken

from federation import cli
from federation.operate import azure
from tests.fake_arm import FakeArm
from tests.support import base

SUB = "0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d"
RG, ACCOUNT = "rg-fl-test", "dsa-fl-test"
UPDATES = "updates_hospital_a"


# A token's expiry that no run reaches (2100-01-01), so the client never asks for another
# one and no test reads the wall clock to make it.
NEVER = 4102444800


class Token:
    """A credential as azure-identity's are: get_token(scopes) -> AccessToken."""

    def __init__(self) -> None:
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken("fake-token", NEVER)


def stack_config() -> dict[str, Any]:
    config = base()
    config["federation:shares"]["training_plan"] = {
        "datasets": {"plan": {"storage": "models", "container": "eval", "file": "plan.json"}},
        "participants": ["hospital-b"],
    }
    config["federation:subscriptions"] = {
        UPDATES: {
            "invitationId": "0d9e4c3b-7a61-4f2e-9b58-3c1a2e7f6d40",
            "sourceLocation": "northeurope",
            "datasets": {"5a1f7e92-3c4d-4b6a-8e0f-9d2c1b7a6e35": {"storage": "models", "container": "eval"}},
        }
    }
    return config


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture(autouse=True)
def outside(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every connection attempt to an address other than 127.0.0.1, refused and recorded
    (DefaultAzureCredential would try 169.254.169.254, the managed-identity endpoint)."""
    attempts: list[Any] = []
    connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        if isinstance(address, tuple) and address[0] != "127.0.0.1":
            attempts.append(address)
            raise ConnectionRefusedError(f"test refused a connection to {address}")
        return connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    return attempts


@pytest.fixture
def arm(ca: trustme.CA) -> Iterator[FakeArm]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with FakeArm(context, SUB, RG, ACCOUNT) as fake:
        yield fake
    assert fake.violations == [], "requests the 2021-08-01 API does not accept"


@pytest.fixture
def stack(tmp_path: Path) -> Path:
    path = tmp_path / "Pulumi.test.yaml"
    path.write_text(yaml.safe_dump({"config": stack_config()}))
    return path


def options(ca_file: Path) -> dict[str, Any]:
    return {
        "connection_verify": str(ca_file),
        "polling_interval": 0,
        "retry_total": 2,
        "retry_backoff_factor": 0,
    }


class Cli:
    """`python -m federation` against the fake, with a credential given directly."""

    def __init__(self, arm: FakeArm, stack: Path, ca_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.arm, self.stack, self.ca_file, self.capsys = arm, stack, ca_file, capsys
        self.credential: Any = Token()
        # Failing tests end sooner than with the production deadlines.
        self.limits = azure.Limits(connect=5, read=5)

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        where = ["--config", str(self.stack), "--subscription", SUB, "--endpoint", self.arm.url]
        code = cli.main([*argv, *where], self.credential, options(self.ca_file), self.limits)
        out, err = self.capsys.readouterr()
        return code, out, err


@pytest.fixture
def federation(arm: FakeArm, stack: Path, ca_file: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(arm, stack, ca_file, capsys)
