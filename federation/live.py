"""The commands that read and act on the live Data Share account of a stack: `access`,
`reconcile`, `revoke` and `sync`. The account and resource group are named as the program
names them, from the same stack file `plan` reads."""

import argparse
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any

from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError as AzureSdkError

from federation import access, azure, operations, sync
from federation.cli import EXIT_PROBLEMS, EXIT_TIMEOUT, EXIT_UNREADABLE, UnknownError
from federation.config import Config

Connect = Callable[[], azure.Connection]


def run(
    args: argparse.Namespace, config: Config, credential: TokenCredential | None, options: Mapping[str, Any] | None
) -> int:
    """Run the command `args` names against the stack's account; Azure's refusals as one line."""

    def connect() -> azure.Connection:
        connection = azure.connect(os.environ, args.subscription, args.endpoint, credential, options)
        connection.sign_in()
        return connection

    command = {"access": access_review, "reconcile": reconcile, "revoke": revoke, "sync": snapshot}[args.command]
    try:
        return command(args, config, connect)
    except azure.AzureError as error:
        print(f"error: {error}", file=sys.stderr)
    except AzureSdkError as error:
        print(f"error: {azure.explain(error, config.account_name)}", file=sys.stderr)
    return EXIT_UNREADABLE


def access_review(args: argparse.Namespace, config: Config, connect: Connect) -> int:
    result = access.review(connect().client(), config)
    render = {"text": access.render_text, "markdown": access.render_markdown, "json": access.render_json}
    sys.stdout.write(render[args.format](result))
    return EXIT_PROBLEMS if args.check and result.problems else 0


def reconcile(args: argparse.Namespace, config: Config, connect: Connect) -> int:
    client = connect().client()
    review = access.review(client, config)
    left = operations.left_alone(review)
    actions = operations.reconcile(review)
    nothing = "Nothing else to do." if left else "Live access matches config: nothing to do."
    code = _act(args, client, config, actions, nothing)
    for line in left:
        print(line)
    # Access config does not account for is still there: a scheduled job must not pass.
    return code or (EXIT_PROBLEMS if left else 0)


def revoke(args: argparse.Namespace, config: Config, connect: Connect) -> int:
    if args.share not in config.shares:
        known = ", ".join(sorted(config.shares)) or "none"
        raise UnknownError(f"{args.share}: not a share of config (known: {known})")
    client = connect().client()
    share = access.review(client, config, shares=[args.share]).shares[args.share]
    if not share.found:
        raise azure.AzureError(f"share {args.share}: not in Data Share account {config.account_name}")
    try:
        actions = operations.revocations(config, share, args.targets)
    except operations.UnknownTargetError as error:
        raise UnknownError(str(error)) from None
    return _act(args, client, config, actions, "No active subscription matches: nothing to revoke.")


def snapshot(args: argparse.Namespace, config: Config, connect: Connect) -> int:
    if args.subscription_name not in config.subscriptions:
        known = ", ".join(sorted(config.subscriptions)) or "none"
        raise UnknownError(f"{args.subscription_name}: not a subscription of config (known: {known})")
    connection = connect()
    client = connection.client()
    where = (config.resource_group, config.account_name)
    started = sync.start(client, *where, args.subscription_name, args.mode)
    if args.wait:
        follow = sync.Follow(
            args.timeout, connection.poll_every, progress=lambda line: print(line, file=sys.stderr, flush=True)
        )
        started = sync.wait(client, *where, started, follow)
    sys.stdout.write(sync.render_json(started) if args.format == "json" else sync.render_text(started))
    if started.timed_out:
        return EXIT_TIMEOUT
    if started.finished and not started.succeeded:
        return EXIT_PROBLEMS
    return 0


def _act(args: argparse.Namespace, client: Any, config: Config, actions: list[operations.Action], nothing: str) -> int:
    if not actions:
        print(nothing)
        return 0
    print(f"Changes to Data Share account {config.account_name}:")
    for action in actions:
        print(f"  {action.describe()}")
    if not _confirmed(args.yes, len(actions)):
        print("Nothing changed: pass --yes to apply.")
        return 0
    outcomes = operations.apply(client, config, actions)
    for outcome in outcomes:
        mark = "done" if outcome.done else "FAILED"
        print(
            f"  {mark}: {outcome.action.kind} {outcome.action.share} {outcome.action.subscription.id}: {outcome.detail}"
        )
    return 0 if all(o.done for o in outcomes) else 1


def _confirmed(yes: bool, count: int) -> bool:
    """--yes, or a yes typed on a terminal; never a default."""
    if yes:
        return True
    if not sys.stdin.isatty():
        return False
    try:
        return input(f"Apply these {count} changes? Type yes to continue: ").strip().lower() == "yes"
    except (EOFError, KeyboardInterrupt):  # Ctrl-D or Ctrl-C at the prompt: a no
        print()
        return False
