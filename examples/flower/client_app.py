"""A participant's ClientApp. Its Mod, `exchange_mod`, stands between Flower's train message
and the training code, as Flower's own fixedclipping_mod does:

- the message carries a pointer, the global model's round and its manifest's sha256;
- the Mod takes a snapshot of the global model's subscription and verifies that round
  (`federation sync global_model --wait --verify round-N`), checks that the verified manifest
  is the one the message names, and reads the weights from its own storage;
- only then does the training code run, on those weights;
- the Mod publishes what it trained on its own share (`federation publish model_updates
  round-N`) and replies with a pointer to it, not the arrays.

Anything that does not verify gets an error reply, and the training code never runs.

The party's key (as the coordinator's stack names it under federation:participants) comes
from the node's config: `flower-supernode --node-config 'party="hospital-a" seed=1'`."""

from flwr.app import Array, ArrayRecord, ConfigRecord, Context, Error, Message, MessageType, MetricRecord, RecordDict
from flwr.clientapp import ClientApp
from flwr.clientapp.typing import ClientAppCallable, Mod
from flwr.common.constant import ErrorCode

import task
from exchange import GLOBAL_ROUND, GLOBAL_SHA256, UPDATE, ExchangeError, Federation, Pointer


def exchange_mod(
    federation: Federation | None = None,
    subscription: str = "global_model",
    share: str = "model_updates",
) -> Mod:
    """The Mod, for ClientApp(mods=[...]). `subscription` receives the global model and
    `share` sends the updates back (the names in this party's stack file). Without
    `federation`, it is read from the environment when the first message comes."""
    found: list[Federation] = [federation] if federation else []

    def mod(msg: Message, context: Context, call_next: ClientAppCallable) -> Message:
        if msg.metadata.message_type.split(".")[0] != MessageType.TRAIN:
            return call_next(msg, context)
        if not found:
            found.append(Federation.from_environment())
        exchange = found[0]
        configs = [c for c in msg.content.config_records.values() if GLOBAL_ROUND in c]
        round_name = configs[0].get(GLOBAL_ROUND) if len(configs) == 1 else None
        sha256 = configs[0].get(GLOBAL_SHA256) if len(configs) == 1 else None
        if not isinstance(round_name, str) or not isinstance(sha256, str):
            return _refuse(msg, f"the train config has no {GLOBAL_ROUND} and {GLOBAL_SHA256}: the model's round")
        party = context.node_config.get("party")
        if not isinstance(party, str) or not party:
            return _refuse(msg, "this node has no party in its node config (--node-config 'party=\"...\"')")
        try:
            arrays = exchange.receive(subscription, Pointer(round_name, sha256))
        except ExchangeError as error:
            return _refuse(msg, f"refused to train: {error}")
        # The training code sees the verified weights, whatever the message carried.
        sent = list(msg.content.array_records)
        msg.content = RecordDict({**msg.content, (sent[0] if len(sent) == 1 else "arrays"): arrays})
        reply = call_next(msg, context)
        if reply.has_error():
            return reply
        trained = list(reply.content.array_records.values())
        if len(trained) != 1:
            return _refuse(msg, f"the training code replied with {len(trained)} ArrayRecords, not 1")
        try:
            update = exchange.publish(share, round_name, trained[0])
        except ExchangeError as error:
            return _refuse(msg, f"trained, but the update was not published: {error}")
        kept = {name: record for name, record in reply.content.items() if not isinstance(record, ArrayRecord)}
        pointer = ConfigRecord({"party": party, "round": update.round, "sha256": update.sha256})
        reply.content = RecordDict({**kept, UPDATE: pointer})
        return reply

    return mod


def _refuse(msg: Message, reason: str) -> Message:
    return Message(Error(code=ErrorCode.MOD_FAILED_PRECONDITION, reason=f"exchange_mod: {reason}"), reply_to=msg)


def train(msg: Message, context: Context) -> Message:
    """Train the global model on this party's own data: plain Flower training code, which
    knows nothing of the exchange."""
    model = {name: array.numpy() for name, array in msg.content.array_records["arrays"].items()}
    x, y = task.local_data(int(context.node_config.get("seed", 0)))
    trained = task.train(model, x, y)
    metrics = MetricRecord({"num-examples": len(y), "loss": task.loss(trained, x, y)})
    arrays = ArrayRecord({name: Array(value) for name, value in trained.items()})
    return Message(RecordDict({"arrays": arrays, "metrics": metrics}), reply_to=msg)


def client_app(federation: Federation | None = None) -> ClientApp:
    app = ClientApp(mods=[exchange_mod(federation)])
    app.train()(train)
    return app


app = client_app()
