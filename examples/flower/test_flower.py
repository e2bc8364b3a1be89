"""The Flower example over the project's test exchange: the strategy hook and the client Mod
driven with Flower's own messages and strategy loop, delivered by a grid in this process (no
simulation engine), and every payload moved by `federation` through Azurite and the fake
Resource Manager.

It runs in the example's virtualenv (flwr cannot share the project's), and starts the
exchange with the project's: `venv/bin/python -m tests.exchange_server`, whose commands run
as `venv/bin/python -m tests.exchange_cli STATE PARTY ...`, the example's `federation`."""

import hashlib
import io
import json
import socket
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from azure.core.credentials import AccessToken
from azure.storage.blob import ContainerClient
from flwr.app import Array, ArrayRecord, ConfigRecord, Context, Message, RecordDict
from flwr.clientapp import ClientApp
from flwr.common.config import validate_config
from flwr.common.constant import SUPERLINK_NODE_ID
from flwr.serverapp import Grid
from flwr.serverapp.strategy import FedAvg
from flwr.supercore.task_identity import TaskIdentity

import client_app
import server_app
import task
from client_app import exchange_mod
from exchange import GLOBAL_ROUND, GLOBAL_SHA256, UPDATE, ExchangeError, Federation, from_npz, to_npz
from server_app import ExchangeStrategy

REPO = Path(__file__).resolve().parents[2]
PROJECT_PYTHON = REPO / "venv" / "bin" / "python"
NODE = 7
PARTY = "hospital-a"
COORD, SILO = "stflcoord", "stflsilo"
NEVER = 4102444800  # the test token's expiry, 2100-01-01: no token is asked for twice


class Token:
    """The storage token the exchange's Azurite takes, as a credential: what `federation`
    signs in with there."""

    def __init__(self, token: str) -> None:
        self.token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self.token, NEVER)


@dataclass
class Exchange:
    state: dict[str, Any]
    path: Path

    def federation(self, party: str) -> Federation:
        """The example's `federation`, run as `party` of the test exchange."""
        return Federation(
            command=[str(PROJECT_PYTHON), "-m", "tests.exchange_cli", str(self.path), party],
            endpoints=self.state["blob_endpoints"],
            credential=Token(self.state["storage_token"]),
            connection_verify=self.state["ca_file"],
        )

    def container(self, account: str, name: str) -> ContainerClient:
        return ContainerClient(
            self.state["blob_endpoints"][account],
            name,
            credential=Token(self.state["storage_token"]),
            connection_verify=self.state["ca_file"],
        )

    def read(self, account: str, container: str, name: str) -> bytes:
        return self.container(account, container).download_blob(name).readall()

    def write(self, account: str, container: str, name: str, data: bytes) -> None:
        self.container(account, container).upload_blob(name, data, overwrite=True)


@pytest.fixture
def exchange(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Exchange]:
    """The project's test exchange in a process of its own, until the test ends."""
    if not PROJECT_PYTHON.exists():
        pytest.fail(
            f"the project's virtualenv is missing: {PROJECT_PYTHON} (make it as the README's Quickstart does)",
            pytrace=False,
        )
    state = tmp_path / "exchange.json"
    errors = tmp_path / "exchange.err"
    with errors.open("w") as stderr:
        server = subprocess.Popen(
            [str(PROJECT_PYTHON), "-m", "tests.exchange_server", str(state)],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    assert server.stdin is not None
    assert server.stdout is not None
    if server.stdout.readline().strip() != "ready":
        server.stdin.close()
        server.wait(30)
        pytest.fail(f"the test exchange did not start: {errors.read_text()[-2000:]}", pytrace=False)
    monkeypatch.setenv("PYTHONPATH", str(REPO))  # for `python -m tests.exchange_cli`
    try:
        yield Exchange(json.loads(state.read_text()), state)
    finally:
        server.stdin.close()
        code = server.wait(60)
    # The fakes refuse, at the end, a request the Data Share or Blob API does not accept.
    assert code == 0, errors.read_text()[-3000:]


@pytest.fixture(autouse=True)
def only_local(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every connection from the test to an address other than 127.0.0.1 refused (its
    `federation` commands refuse the same)."""
    connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        if isinstance(address, tuple) and address[0] != "127.0.0.1":
            raise ConnectionRefusedError(f"the test refused a connection to {address}")
        return connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(autouse=True)
def task_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    """The identity Flower's runtime gives a ServerApp's process, which Message needs to
    address a message; with no runtime here, set as Flower's own compat layer sets it."""
    monkeypatch.setattr(TaskIdentity, "_run_id", 1)
    monkeypatch.setattr(TaskIdentity, "_node_id", SUPERLINK_NODE_ID)
    monkeypatch.setattr(TaskIdentity, "_task_id", 1)


@dataclass
class LocalGrid(Grid):
    """Flower's Grid, handing each message to a ClientApp in this process, as SuperLink and
    SuperNodes would over the network. `crossed` keeps what each message and reply carried
    when it crossed, since a Mod may change a message after."""

    nodes: dict[int, tuple[ClientApp, Context]]
    crossed: list[dict[str, Any]] = field(default_factory=list)

    def set_run(self, run: Any) -> None:
        raise NotImplementedError

    @property
    def run(self) -> Any:
        raise NotImplementedError

    def create_message(
        self, content: RecordDict, message_type: str, dst_node_id: int, group_id: str, ttl: float | None = None
    ) -> Message:
        return Message(content, dst_node_id=dst_node_id, message_type=message_type, group_id=group_id, ttl=ttl)

    def get_node_ids(self) -> Iterable[int]:
        return list(self.nodes)

    def push_messages(self, messages: Iterable[Message]) -> Iterable[str]:
        raise NotImplementedError

    def pull_messages(self, message_ids: Iterable[str]) -> Iterable[Message]:
        raise NotImplementedError

    def send_and_receive(self, messages: Iterable[Message], *, timeout: float | None = None) -> Iterable[Message]:
        replies = []
        for message in messages:
            self.crossed.append(carried(message))
            app, context = self.nodes[message.metadata.dst_node_id]
            reply = app(message, context)
            self.crossed.append(carried(reply))
            replies.append(reply)
        return replies


def carried(message: Message) -> dict[str, Any]:
    if message.has_error():
        return {"error": message.error.reason}
    content = message.content
    return {
        "type": message.metadata.message_type,
        "arrays": {name: len(record) for name, record in content.array_records.items()},
        "configs": {name: dict(record) for name, record in content.config_records.items()},
    }


@dataclass
class Trainer:
    """The example's training code, recording what it was given."""

    given: list[dict[str, np.ndarray]] = field(default_factory=list)

    def __call__(self, msg: Message, context: Context) -> Message:
        self.given.append({n: a.numpy() for n, a in msg.content.array_records["arrays"].items()})
        return client_app.train(msg, context)


def participant(federation: Federation) -> tuple[ClientApp, Context, Trainer]:
    trainer = Trainer()
    app = ClientApp(mods=[exchange_mod(federation)])
    app.train()(trainer)
    context = Context(
        run_id=1, node_id=NODE, node_config={"party": PARTY, "seed": 1}, state=RecordDict(), run_config={}
    )
    return app, context, trainer


def arrays(model: dict[str, np.ndarray]) -> ArrayRecord:
    return ArrayRecord({name: Array(value) for name, value in model.items()})


def plain(record: ArrayRecord) -> dict[str, np.ndarray]:
    return {name: array.numpy() for name, array in record.items()}


def same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return list(a) == list(b) and all(np.array_equal(a[n], b[n]) for n in a)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_rounds_train_on_verified_global_models_and_aggregate_verified_updates(exchange: Exchange) -> None:
    app, context, trainer = participant(exchange.federation("silo"))
    grid = LocalGrid({NODE: (app, context)})
    run_config: dict[str, bool | float | int | str] = {"parties": PARTY, "num-server-rounds": 2}
    run = Context(run_id=1, node_id=SUPERLINK_NODE_ID, node_config={}, state=RecordDict(), run_config=run_config)

    result = server_app.run(grid, run, exchange.federation("coord"))

    # The hook published the initial model as round-1, and each round's aggregate as the next.
    published = {n: from_npz(exchange.read(COORD, "global-model", f"round-{n}/model.npz")) for n in (1, 2, 3)}
    assert same(plain(published[1]), task.initial())
    # Each message carried a pointer to its round's manifest, and no arrays.
    sent = [c for c in grid.crossed if c.get("type") == "train" and "update" not in c["configs"]]
    replies = [c for c in grid.crossed if c.get("configs", {}).get(UPDATE)]
    assert len(sent) == len(replies) == 2, grid.crossed
    for n, message in enumerate(sent, start=1):
        manifest = exchange.read(COORD, "global-model", f"round-{n}/manifest.json")
        assert message["arrays"] == {"arrays": 0}
        assert message["configs"]["config"][GLOBAL_ROUND] == f"round-{n}"
        assert message["configs"]["config"][GLOBAL_SHA256] == sha256(manifest)
    # The training code was given exactly the published weights, read back from the
    # participant's own storage where the snapshot put them.
    assert [same(given, plain(published[n])) for n, given in enumerate(trainer.given, start=1)] == [True, True]
    assert same(plain(from_npz(exchange.read(SILO, "incoming-model", "round-2/model.npz"))), plain(published[2]))
    # Each reply pointed at the update the participant published, which the coordinator
    # received and aggregated: with one participant, the next global model is its update.
    for n, reply in enumerate(replies, start=1):
        manifest = exchange.read(SILO, "updates", f"round/round-{n}/manifest.json")
        assert reply["arrays"] == {}
        assert reply["configs"][UPDATE] == {"party": PARTY, "round": f"round-{n}", "sha256": sha256(manifest)}
        update = from_npz(exchange.read(COORD, "updates", f"hospital-a/round-{n}/model.npz"))
        assert same(plain(update), plain(published[n + 1]))
    assert same(plain(result.arrays), plain(published[3]))
    x, y = task.local_data(1)
    assert task.loss(plain(published[3]), x, y) < task.loss(plain(published[2]), x, y) < task.loss(task.initial(), x, y)


@dataclass
class Watched(Federation):
    """The example's `federation`, with something done right after each `sync` ends."""

    after_sync: Callable[[], None] | None = None

    def run(self, *argv: str) -> tuple[int, dict[str, Any] | None, str]:
        done = super().run(*argv)
        if argv[0] == "sync" and self.after_sync is not None:
            self.after_sync()
        return done


def flip_last_byte(exchange: Exchange, account: str, container: str, name: str) -> None:
    """The last weight's last byte changed: the same size, another sha256."""
    data = bytearray(exchange.read(account, container, name))
    data[-1] ^= 0xFF
    exchange.write(account, container, name, bytes(data))


def tamper_with_the_checkpoint(exchange: Exchange, message: Message, silo: Watched) -> None:
    flip_last_byte(exchange, COORD, "global-model", "round-1/model.npz")


def name_another_manifest(exchange: Exchange, message: Message, silo: Watched) -> None:
    message.content.config_records["config"][GLOBAL_SHA256] = sha256(b"another manifest")


def change_it_once_verified(exchange: Exchange, message: Message, silo: Watched) -> None:
    silo.after_sync = lambda: flip_last_byte(exchange, SILO, "incoming-model", "round-1/model.npz")


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        (tamper_with_the_checkpoint, "global_model round-1: mismatch (exit 9): sha256 differs from the manifest's"),
        (name_another_manifest, "not " + sha256(b"another manifest") + " as the message says"),
        (change_it_once_verified, "round-1: model.npz changed after it was verified"),
    ],
)
def test_the_mod_refuses_a_checkpoint_that_is_not_the_one_sent(exchange: Exchange, change: Any, refusal: str) -> None:
    silo = Watched(**vars(exchange.federation("silo")))
    app, context, trainer = participant(silo)
    strategy = ExchangeStrategy(FedAvg(min_train_nodes=1, min_available_nodes=1), exchange.federation("coord"), {})
    strategy.publish_global(0, arrays(task.initial()))
    [message] = strategy.configure_train(1, ArrayRecord(), ConfigRecord(), LocalGrid({NODE: (app, context)}))
    change(exchange, message, silo)

    reply = app(message, context)

    assert reply.has_error()
    assert reply.error.reason.startswith("exchange_mod: refused to train: ")
    assert refusal in reply.error.reason
    assert trainer.given == []  # the training code never ran
    assert list(exchange.container(SILO, "updates").list_blobs()) == []  # and nothing was published


def test_a_message_with_no_pointer_is_refused_before_anything_runs() -> None:
    never = Federation(command=[sys.executable, "-c", "raise SystemExit('federation must not run')"])
    app, context, trainer = participant(never)
    content = RecordDict({"arrays": arrays(task.initial()), "config": ConfigRecord({"server-round": 1})})
    message = Message(content, dst_node_id=NODE, message_type="train")

    reply = app(message, context)

    assert reply.has_error()
    assert reply.error.reason == (
        f"exchange_mod: the train config has no {GLOBAL_ROUND} and {GLOBAL_SHA256}: the model's round"
    )
    assert trainer.given == []


def test_the_server_drops_an_update_that_does_not_verify(exchange: Exchange) -> None:
    """Here the server only verifies (`federation verify`), as where the subscription's own
    schedule brings the updates; the test takes that snapshot."""
    app, context, _ = participant(exchange.federation("silo"))
    grid = LocalGrid({NODE: (app, context)})
    fedavg = FedAvg(fraction_evaluate=0.0, min_train_nodes=1, min_available_nodes=1)
    coordinator = exchange.federation("coord")
    strategy = ExchangeStrategy(fedavg, coordinator, {PARTY: "updates_hospital_a"}, snapshot=False)
    strategy.publish_global(0, arrays(task.initial()))
    [message] = strategy.configure_train(1, ArrayRecord(), ConfigRecord(), grid)
    [reply] = grid.send_and_receive([message])
    assert not reply.has_error(), reply.error.reason
    # The update is changed in the participant's storage after it was published.
    flip_last_byte(exchange, SILO, "updates", "round/round-1/model.npz")
    assert coordinator.run("sync", "updates_hospital_a", "--wait")[0] == 0
    # And a second reply names a participant the server does not know.
    claim = ConfigRecord({**reply.content.config_records[UPDATE], "party": "hospital-b"})
    forged = Message(RecordDict({**reply.content, UPDATE: claim}), reply_to=message)

    aggregated, metrics = strategy.aggregate_train(1, [reply, forged])

    assert (aggregated, metrics) == (None, None)
    dropped = strategy.dropped[1]
    assert len(dropped) == 2, dropped
    assert dropped[0] == f"node {NODE}: an update for 'hospital-b' 'round-1'"
    assert dropped[1].startswith("hospital-a: updates_hospital_a round-1: mismatch (exit 9): ")
    assert "sha256 differs from the manifest's" in dropped[1]


def test_weights_cross_as_npz_that_loads_no_code() -> None:
    model = {"weights": np.arange(4.0), "layer/bias": np.ones((2, 3), dtype=np.float32)}
    data = to_npz(arrays(model))
    assert data == to_npz(arrays(model))  # the same arrays, the same bytes, the same digest
    assert same(plain(from_npz(data)), model)
    # numpy writes an array of Python objects as a pickle: refused on load.
    pickled = io.BytesIO()
    np.savez(pickled, weights=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ExchangeError, match="not an npz of arrays"):
        from_npz(pickled.getvalue())
    # A compressed entry could unpack to far more than was sent: refused.
    compressed = io.BytesIO()
    np.savez_compressed(compressed, weights=np.zeros(1000))
    with pytest.raises(ExchangeError, match="compressed entries are refused"):
        from_npz(compressed.getvalue())


def test_the_app_is_one_flwr_run_takes_with_the_requirements_ci_installs() -> None:
    here = Path(__file__).parent
    project = tomllib.loads((here / "pyproject.toml").read_text())
    assert validate_config(project, check_module=True, project_dir=here) == (True, [], [])
    lines = (here / "requirements.txt").read_text().splitlines()
    assert project["project"]["dependencies"] == [line for line in lines if line and not line.startswith("#")]
