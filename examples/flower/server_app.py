"""The coordinator's ServerApp. `ExchangeStrategy` wraps a Flower strategy (FedAvg here) as
Flower's differential-privacy wrappers do, and pairs with the client's `exchange_mod`:

- its hook, run as Flower's `evaluate_fn` (before round 1 and after each round, with the
  global arrays), publishes the global model as the next round (`federation publish
  global_model round-N`);
- each train message carries the pointer to that round, `global-round` and
  `global-sha256` in its config, and no arrays;
- each reply carries a pointer to the participant's update; before aggregating, the server
  takes a snapshot of that participant's updates subscription and verifies the round
  (`federation sync updates_<party> --wait --verify round-N`), reads the update from its own
  storage, and drops it if anything fails.

Federated evaluation would send the arrays in the evaluate messages, so this app leaves it
off (fraction_evaluate=0.0); evaluate centrally in `evaluate_fn` instead."""

from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from logging import INFO, WARNING

from flwr.app import Array, ArrayRecord, ConfigRecord, Context, Message, MetricRecord, RecordDict
from flwr.common import log
from flwr.serverapp import Grid, ServerApp
from flwr.serverapp.strategy import FedAvg, Result, Strategy

import task
from exchange import GLOBAL_ROUND, GLOBAL_SHA256, UPDATE, ExchangeError, Federation, Pointer

EvaluateFn = Callable[[int, ArrayRecord], MetricRecord | None]


class ExchangeStrategy(Strategy):
    """`strategy`, with its payloads moved through the exchange.

    `updates` maps each participant's key (as its node config names it) to the share
    subscription its updates arrive by. Exchange rounds are numbered from `first_round`
    (Flower's round N trains on round first_round + N - 1), since a round is published once:
    a later run goes on from where the last one ended. With `snapshot` the server takes a
    snapshot of each update's subscription before verifying it; without, it verifies what
    the subscription's schedule brought."""

    def __init__(
        self,
        strategy: Strategy,
        federation: Federation,
        updates: Mapping[str, str],
        share: str = "global_model",
        first_round: int = 1,
        snapshot: bool = True,
    ) -> None:
        self.strategy, self.federation, self.updates = strategy, federation, dict(updates)
        self.share, self.first_round, self.snapshot = share, first_round, snapshot
        self.published: dict[int, Pointer] = {}  # Flower's round -> the model it trains on
        self.global_arrays: dict[int, ArrayRecord] = {}
        self.dropped: dict[int, list[str]] = {}  # Flower's round -> why each update was dropped

    def round_name(self, server_round: int) -> str:
        return f"round-{self.first_round + server_round - 1}"

    def publish_global(self, server_round: int, arrays: ArrayRecord) -> None:
        """The hook: `arrays` after Flower's round `server_round` (0: the initial model)
        become the model round server_round + 1 trains on."""
        following = server_round + 1
        self.published[following] = self.federation.publish(self.share, self.round_name(following), arrays)
        self.global_arrays[following] = arrays
        log(INFO, "exchange: published %s, manifest %s", self.round_name(following), self.published[following].sha256)

    def hook(self, evaluate_fn: EvaluateFn | None = None) -> EvaluateFn:
        """An `evaluate_fn` that publishes, then runs `evaluate_fn`, if given."""

        def evaluate(server_round: int, arrays: ArrayRecord) -> MetricRecord | None:
            self.publish_global(server_round, arrays)
            return evaluate_fn(server_round, arrays) if evaluate_fn else None

        return evaluate

    def start(  # type: ignore[override]
        self,
        grid: Grid,
        initial_arrays: ArrayRecord,
        num_rounds: int = 3,
        timeout: float = 3600,
        train_config: ConfigRecord | None = None,
        evaluate_config: ConfigRecord | None = None,
        evaluate_fn: EvaluateFn | None = None,
    ) -> Result:
        """Flower's loop, with the hook always in it."""
        return super().start(
            grid, initial_arrays, num_rounds, timeout, train_config, evaluate_config, self.hook(evaluate_fn)
        )

    def configure_train(
        self, server_round: int, arrays: ArrayRecord, config: ConfigRecord, grid: Grid
    ) -> Iterable[Message]:
        pointer = self.published.get(server_round)
        if pointer is None:
            raise RuntimeError(f"round {server_round}: no global model published for it (was the hook run?)")
        config[GLOBAL_ROUND], config[GLOBAL_SHA256] = pointer.round, pointer.sha256
        return self.strategy.configure_train(server_round, ArrayRecord(), config, grid)

    def aggregate_train(
        self, server_round: int, replies: Iterable[Message]
    ) -> tuple[ArrayRecord | None, MetricRecord | None]:
        """Each update received and verified, then aggregated by the wrapped strategy; an
        update that is not is dropped, and why is logged and kept in `dropped`."""
        replies = list(replies)
        dropped = self.dropped.setdefault(server_round, [])
        wanted, seen = self.round_name(server_round), set()
        claims: list[tuple[Message, str]] = []
        for reply in replies:
            if reply.has_error():
                continue
            pointer = reply.content.config_records.get(UPDATE, ConfigRecord())
            party = pointer.get("party")
            if party not in self.updates or party in seen or pointer.get("round") != wanted:
                dropped.append(f"node {reply.metadata.src_node_id}: an update for {party!r} {pointer.get('round')!r}")
                continue
            seen.add(party)
            claims.append((reply, str(party)))

        def receive(claim: tuple[Message, str]) -> tuple[Message, ArrayRecord | None]:
            reply, party = claim
            pointer = reply.content.config_records[UPDATE]
            try:
                arrays = self.federation.receive(
                    self.updates[party], Pointer(wanted, str(pointer.get("sha256"))), self.snapshot
                )
            except ExchangeError as error:
                dropped.append(f"{party}: {error}")
                return reply, None
            if not _same_shapes(arrays, self.global_arrays.get(server_round)):
                dropped.append(f"{party}: its arrays are not the global model's names, shapes and types")
                return reply, None
            return reply, arrays

        kept = []
        with ThreadPoolExecutor(max_workers=8) as pool:  # each a snapshot, waited on
            for reply, arrays in pool.map(receive, claims):
                if arrays is not None:
                    records = {k: v for k, v in reply.content.items() if k != UPDATE}
                    reply.content = RecordDict({**records, "arrays": arrays})
                    kept.append(reply)
        for why in dropped:
            log(WARNING, "exchange: dropped %s", why)
        errors = [reply for reply in replies if reply.has_error()]
        return self.strategy.aggregate_train(server_round, [*kept, *errors])

    def configure_evaluate(
        self, server_round: int, arrays: ArrayRecord, config: ConfigRecord, grid: Grid
    ) -> Iterable[Message]:
        return self.strategy.configure_evaluate(server_round, arrays, config, grid)

    def aggregate_evaluate(self, server_round: int, replies: Iterable[Message]) -> MetricRecord | None:
        return self.strategy.aggregate_evaluate(server_round, replies)

    def summary(self) -> None:
        log(INFO, "\t├──> The exchange: global model by %s, updates by %s", self.share, ", ".join(self.updates))
        self.strategy.summary()


def _same_shapes(arrays: ArrayRecord, model: ArrayRecord | None) -> bool:
    """An update must match the model it was trained from, or averaging fails for all."""
    if model is None:
        return True
    shape = {name: (a.shape, a.dtype) for name, a in model.items()}
    return list(arrays.keys()) == list(shape) and all((a.shape, a.dtype) == shape[n] for n, a in arrays.items())


def run(grid: Grid, context: Context, federation: Federation) -> Result:
    """The run, from the app's config: `parties` (their keys, comma separated; each
    sends its updates by the subscription updates_<party>, dashes as underscores, as
    the example stacks name it), `num-server-rounds` and `first-round`."""
    parties = [p.strip() for p in str(context.run_config["parties"]).split(",") if p.strip()]
    fedavg = FedAvg(fraction_evaluate=0.0, min_train_nodes=len(parties), min_available_nodes=len(parties))
    strategy = ExchangeStrategy(
        fedavg,
        federation,
        {party: "updates_" + party.replace("-", "_") for party in parties},
        first_round=int(context.run_config.get("first-round", 1)),
    )
    initial = ArrayRecord({name: Array(value) for name, value in task.initial().items()})
    return strategy.start(grid, initial, num_rounds=int(context.run_config.get("num-server-rounds", 3)))


app = ServerApp()


@app.main()
def main(grid: Grid, context: Context) -> None:
    run(grid, context, Federation.from_environment())
