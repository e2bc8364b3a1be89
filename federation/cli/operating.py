"""The commands that read and act on the live Data Share account of a stack: `access`,
`reconcile`, `revoke` and `sync`; and those that move a training round through its storage:
`publish` and `verify`. The account and resource group are named as the program names them,
from the same stack config `plan` reads. Only this module loads the Azure SDK."""

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError as AzureSdkError
from azure.core.exceptions import DeserializationError

from federation import exits
from federation.cli.errors import UnknownError, UsageError
from federation.config import Config, naming, stackfile
from federation.operate import access, azure, blobs, operations, rounds, sync

Connect = Callable[[], azure.Connection]


def run(
    args: argparse.Namespace,
    config: Config,
    settings: Mapping[str, str],
    credential: TokenCredential | None,
    options: Mapping[str, Any] | None,
    limits: azure.Limits | None = None,
) -> int:
    """Run the command `args` names against the stack's account; Azure's refusals as one
    line. `settings` are the stack's provider settings (azure-native:subscriptionId...)."""
    # azure-identity and azure-core log each failure as a warning, and urllib3 a connection
    # given up on at its deadline that comes back late; Python would print them on stderr:
    # the command says what failed itself, once.
    for name in ("azure", "urllib3"):
        quiet = logging.getLogger(name)
        quiet.addHandler(logging.NullHandler())
        quiet.propagate = False

    def connect() -> azure.Connection:
        connection = azure.connect(
            os.environ, args.subscription, args.endpoint, credential, options, settings, limits or azure.Limits()
        )
        connection.sign_in()
        return connection

    commands: dict[str, Callable[[argparse.Namespace, Config, Connect], int]] = {
        "access": access_review,
        "reconcile": reconcile,
        "revoke": revoke,
        "sync": snapshot,
        "publish": publish,
        "verify": verify,
    }
    command = commands[args.command]
    try:
        return command(args, config, connect)
    except (rounds.RoundError, blobs.StorageError) as refused:
        print(f"error: {refused}", file=sys.stderr)
        return refused.code
    except operations.Interrupted as interrupted:
        for line in interrupted.report():
            print(line, flush=True)
        raise KeyboardInterrupt from None
    except (azure.AzureError, AzureSdkError, DeserializationError) as error:
        print(f"error: {azure.explain(error, config.account_name)}", file=sys.stderr)
    return exits.UNREADABLE


def access_review(args: argparse.Namespace, config: Config, connect: Connect) -> int:
    connection = connect()
    # Named where a problem says what to add to it.
    stack_file = stackfile.show_name(args.config or f"Pulumi.{args.stack or 'dev'}.yaml")
    result = access.review(connection.client(), config, limits=connection.limits, stack_file=stack_file)
    render = {"text": access.render_text, "markdown": access.render_markdown, "json": access.render_json}
    sys.stdout.write(render[args.output](result))
    return exits.PROBLEMS if args.check and result.problems else 0


def reconcile(args: argparse.Namespace, config: Config, connect: Connect) -> int:
    connection = connect()
    client = connection.client()
    plan = operations.reconcile(access.review(client, config, limits=connection.limits))
    nothing = "Nothing else to do." if plan.left else "Live access matches config: nothing to do."
    return _carry_out(args, client, config, plan, nothing, connection.limits)


def revoke(args: argparse.Namespace, config: Config, connect: Connect) -> int:
    if args.share not in config.shares:
        known = ", ".join(sorted(config.shares)) or "none"
        raise UnknownError(f"{args.share}: not a share of config (known: {known}){_stack_hint(args.targets)}")
    if not all(target.strip() for target in args.targets):
        raise UnknownError("a TARGET is empty: name a participant key, a consumer email or a subscription id")
    for target in args.targets:
        # Known before asking Azure: a participant of config, an email, or an id (a GUID).
        if target not in config.participants and "@" not in target and not naming.GUID.accepts(target):
            participants = ", ".join(sorted(config.participants)) or "none"
            raise UnknownError(
                f"{target}: not a participant of config (known: {participants}), nor a consumer email or "
                f"subscription id{_stack_hint(args.targets)}"
            )
    connection = connect()
    client = connection.client()
    share = access.review(client, config, shares=[args.share], limits=connection.limits).shares[args.share]
    if not share.found:
        raise azure.AzureError(f"share {args.share}: not in Data Share account {config.account_name}")
    try:
        plan = operations.revocations(config, share, args.targets)
    except operations.UnknownTargetError as error:
        raise UnknownError(f"{error}{_stack_hint(args.targets)}") from None
    nothing = "No active subscription is proven to be what you named: nothing to revoke."
    return _carry_out(args, client, config, plan, nothing, connection.limits)


def snapshot(args: argparse.Namespace, config: Config, connect: Connect) -> int:
    if args.share_subscription not in config.subscriptions:
        known = ", ".join(sorted(config.subscriptions)) or "none"
        raise UnknownError(f"{args.share_subscription}: not a share subscription of config (known: {known})")
    checking = args.verify is not False
    if checking:  # where the round lands, known before a snapshot starts
        place = rounds.receiving_place(config, args.share_subscription, args.dataset)
        args.wait = True
    connection = connect()
    client = connection.client()
    where = (config.resource_group, config.account_name)
    follow = sync.Follow(
        args.timeout,
        connection.poll_every,
        progress=lambda line: print(line, file=sys.stderr, flush=True),
        limits=connection.limits,
    )
    try:
        started = sync.start(client, *where, args.share_subscription, args.mode, follow)
    except sync.UnansweredError as error:
        print(f"error: {error}", file=sys.stderr)
        return exits.TIMEOUT if args.wait and follow.left() <= 0 else exits.UNREADABLE
    try:
        if args.wait:
            started = sync.wait(client, *where, started, follow)
    except KeyboardInterrupt:
        print(
            f"interrupted: snapshot {started.id} of subscription {started.subscription} was not canceled; "
            "it goes on in Azure",
            file=sys.stderr,
        )
        raise
    if checking and started.succeeded and not started.timed_out:
        round_name = None if args.verify is True else args.verify
        verdict = _verdict(args, config, connection, client, place, round_name)
        if args.output == "json":
            sys.stdout.write(json.dumps(sync.to_json(started) | {"verify": rounds.to_json(verdict)}, indent=2) + "\n")
        else:
            said = {"text": sync.render_text, "markdown": sync.render_markdown}[args.output](started)
            sys.stdout.write(said + ("\n" if args.output == "markdown" else ""))
            if verdict.status != "no-access":  # said on stderr
                sys.stdout.write(rounds.RENDER[args.output](verdict))
        return verdict.code
    render = {"text": sync.render_text, "markdown": sync.render_markdown, "json": sync.render_json}
    sys.stdout.write(render[args.output](started))
    if started.timed_out:
        return exits.TIMEOUT
    if started.finished and not started.succeeded:
        return exits.PROBLEMS
    return 0


def publish(args: argparse.Namespace, config: Config, connect: Connect) -> int:
    """Upload a directory as a round of a share's dataset, its manifest last."""
    files = rounds.local_files(Path(args.source))
    place = rounds.sending_place(config, args.share, args.dataset)
    connection = connect()
    published = rounds.publish(connection, config, args.share, args.round, place, files)
    sys.stdout.write(rounds.render_published(published, args.output))
    return 0


def verify(args: argparse.Namespace, config: Config, connect: Connect) -> int:
    """Check a received round against its manifest; the exit code says what to do next."""
    place = rounds.receiving_place(config, args.share_subscription, args.dataset)
    connection = connect()
    verdict = _verdict(args, config, connection, connection.client(), place, args.round)
    if verdict.status != "no-access" or args.output == "json":  # else said on stderr
        sys.stdout.write(rounds.RENDER[args.output](verdict))
    return verdict.code


def _verdict(
    args: argparse.Namespace,
    config: Config,
    connection: azure.Connection,
    client: Any,
    place: rounds.Place,
    round_name: str | None,
) -> rounds.Verdict:
    """The round verified, or, where storage or Resource Manager refused the identity, a
    verdict saying so (its json too, for scripts that read it), the refusal on stderr."""
    try:
        return rounds.verify(connection, client, config, args.share_subscription, place, round_name)
    except (rounds.RoundError, blobs.StorageError) as refused:
        if refused.code != exits.NO_ACCESS:
            raise
        print(f"error: {refused}", file=sys.stderr)
        return rounds.no_access(args.share_subscription, place, round_name, str(refused))


def _carry_out(
    args: argparse.Namespace, client: Any, config: Config, plan: operations.Plan, nothing: str, limits: azure.Limits
) -> int:
    """The plan's changes, once confirmed, then what it leaves to a person: access config
    does not account for is still there, so a scheduled job must not pass (exit 4)."""
    code = _act(args, client, config, plan.actions, nothing, limits)
    for line in plan.left:
        print(line)
    return code or (exits.PROBLEMS if plan.left else 0)


def _act(
    args: argparse.Namespace,
    client: Any,
    config: Config,
    actions: list[operations.Action],
    nothing: str,
    limits: azure.Limits,
) -> int:
    if not actions:
        print(nothing)
        return 0
    print(f"Changes to Data Share account {config.account_name}:")
    for action in actions:
        print(f"  {action.describe()}")
    if not args.yes and not sys.stdin.isatty():
        # As `az` does: off a terminal, nobody can answer; only --yes applies.
        raise UsageError("not applied: no terminal to confirm on; pass --yes to apply these changes")
    if not _confirmed(args.yes, len(actions)):
        print("Nothing changed.")
        return 0
    outcomes = operations.apply(client, config, actions, progress=lambda line: print(line, flush=True), limits=limits)
    return 0 if all(o.done and o.confirmed for o in outcomes) else 1


def _stack_hint(targets: list[str]) -> str:
    """For `revoke SHARE TARGET STACK`, as revoke once read a last word naming a stack."""
    last = targets[-1]
    try:
        is_stack = len(targets) > 1 and stackfile.stack_file_path(last).is_file()
    except OSError:
        is_stack = False
    return f" (if {last} is a stack, name it with --stack {last})" if is_stack else ""


def _confirmed(yes: bool, count: int) -> bool:
    """--yes, or a yes typed on a terminal; never a default."""
    if yes:
        return True
    if not sys.stdin.isatty():
        return False
    try:
        return input(f"Apply these {count} changes? Type yes to continue: ").strip().lower() == "yes"
    except EOFError:  # Ctrl-D at the prompt: a no
        print()
        return False
    except KeyboardInterrupt:  # Ctrl-C: interrupted, as anywhere else, with nothing changed
        print()
        raise
