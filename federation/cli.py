"""The command line. Offline, with no Pulumi CLI, backend or Azure access: `plan` (what a
stack config builds), `diff` (what a config change does), `handoff` (what a receiver
pastes), `schema` (of stack files). Online, on the live Data Share account of a stack:
`access` (who holds access), `reconcile` and `revoke` (put access right), `sync` (a
snapshot now)."""

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml
from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError as AzureSdkError

from federation import access, azure, config, diff, handoff, offline, operations, picture, plan, schema, sync
from federation.config import Config, ConfigError, parse

EXIT_INVALID_CONFIG = 2
EXIT_DESTRUCTIVE = 3
EXIT_WOULD_FAIL = 4  # diff: the deployment would fail
EXIT_PROBLEMS = 4  # access --check found problems; a snapshot failed or was canceled
EXIT_TIMEOUT = 5  # a snapshot still running at --timeout (then canceled)

Connect = Callable[[], azure.Connection]


class UsageError(Exception):
    """A stack file that cannot be read; reported in one line, exit 1."""


def main(
    argv: list[str] | None = None,
    credential: TokenCredential | None = None,
    options: Mapping[str, Any] | None = None,
) -> int:
    """Run a command. Azure commands connect with `credential` when given (tests), else
    with DefaultAzureCredential; `options` are client transport settings."""
    args = _parser().parse_args(argv)
    try:
        if not getattr(args, "online", False):
            return int(args.command(args))

        def connect() -> azure.Connection:
            connection = azure.connect(os.environ, args.subscription, args.endpoint, credential, options)
            connection.sign_in()
            return connection

        return int(args.command(args, connect))
    except (UsageError, azure.AzureError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except _InvalidError as error:
        print(error, file=sys.stderr)
        return EXIT_INVALID_CONFIG
    except _UnknownError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID_CONFIG
    except AzureSdkError as error:
        print(f"error: {azure.explain(error, getattr(args, 'account', '?'))}", file=sys.stderr)
        return 1


class _UnknownError(Exception):
    """A share, subscription or participant that config lacks; exit 2."""


def _config(args: argparse.Namespace) -> Config:
    """The stack's validated config, read as `plan` reads it."""
    path = Path(args.config) if args.config else offline.PROJECT_DIR / f"Pulumi.{args.stack or 'dev'}.yaml"
    stack_file = _read(str(path))
    try:
        config = parse(stack_file.config, args.stack or stack_file.stack)
    except ConfigError as error:
        raise _InvalidError(f"{path.name}: {error}") from None
    args.account = config.account_name
    return config


class _InvalidError(Exception):
    """Invalid stack config, printed as `plan` prints it; exit 2."""


def _access(args: argparse.Namespace, connect: Connect) -> int:
    config = _config(args)
    result = access.review(connect().client(), config)
    render = {"text": access.render_text, "markdown": access.render_markdown, "json": access.render_json}
    sys.stdout.write(render[args.format](result))
    return EXIT_PROBLEMS if args.check and result.problems else 0


def _reconcile(args: argparse.Namespace, connect: Connect) -> int:
    config = _config(args)
    client = connect().client()
    actions = operations.reconcile(access.review(client, config))
    return _act(args, client, config, actions, "Live access matches config: nothing to do.")


def _revoke(args: argparse.Namespace, connect: Connect) -> int:
    config = _config(args)
    if args.share not in config.shares:
        known = ", ".join(sorted(config.shares)) or "none"
        raise _UnknownError(f"{args.share}: not a share of config (known: {known})")
    client = connect().client()
    share = access.review(client, config, shares=[args.share]).shares[args.share]
    if not share.found:
        raise azure.AzureError(f"share {args.share}: not in Data Share account {config.account_name}")
    try:
        actions = operations.revocations(config, share, args.targets)
    except operations.UnknownTargetError as error:
        raise _UnknownError(str(error)) from None
    return _act(args, client, config, actions, "No active subscription matches: nothing to revoke.")


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
    return input(f"Apply these {count} changes? Type yes to continue: ").strip().lower() == "yes"


def _sync(args: argparse.Namespace, connect: Connect) -> int:
    config = _config(args)
    if args.subscription_name not in config.subscriptions:
        known = ", ".join(sorted(config.subscriptions)) or "none"
        raise _UnknownError(f"{args.subscription_name}: not a subscription of config (known: {known})")
    try:
        timeout = sync.duration(args.timeout)
    except ValueError as error:
        raise UsageError(f"--timeout: {error}") from None
    connection = connect()
    client = connection.client()
    where = (config.resource_group, config.account_name)
    snapshot = sync.start(client, *where, args.subscription_name, args.mode)
    if args.wait:
        follow = sync.Follow(
            timeout, connection.poll_every, progress=lambda line: print(line, file=sys.stderr, flush=True)
        )
        snapshot = sync.wait(client, *where, snapshot, follow)
    sys.stdout.write(sync.render_json(snapshot) if args.format == "json" else sync.render_text(snapshot))
    if snapshot.timed_out:
        return EXIT_TIMEOUT
    if snapshot.finished and not snapshot.succeeded:
        return EXIT_PROBLEMS
    return 0


def _stack(args: argparse.Namespace) -> tuple[Path, offline.StackFile, str]:
    """The stack file a command reads: --config, or Pulumi.<STACK>.yaml (default dev)."""
    path = Path(args.config) if args.config else offline.PROJECT_DIR / f"Pulumi.{args.stack or 'dev'}.yaml"
    stack_file = _read(str(path))
    return path, stack_file, args.stack or stack_file.stack


def _plan(args: argparse.Namespace) -> int:
    path, stack_file, stack = _stack(args)
    run = offline.run(stack_file.config, stack)
    if run.error is not None:
        return _invalid(path.name, run)
    _warn(run)
    if args.format in ("mermaid", "markdown"):
        flows = picture.mermaid(picture.of(config.parse(stack_file.config, stack)), stack)
        sys.stdout.write(flows if args.format == "mermaid" else _markdown(plan.render_markdown(run, stack), run, flows))
    else:
        sys.stdout.write(plan.render_json(run) if args.format == "json" else plan.render_text(run, stack))
    return 0


def _diff(args: argparse.Namespace) -> int:
    base_file, head_file = _read(args.base), _read(args.head)
    # One stack name for both sides, so the same resource has the same URN in both.
    stack = head_file.stack
    base, head = offline.run(base_file.config, stack), offline.run(head_file.config, stack)
    for spec, run in ((args.base, base), (args.head, head)):
        if run.error is not None:
            return _invalid(spec, run)
    _warn(head)
    change = diff.compare(base, head)
    if args.format == "markdown":
        base_flows, head_flows = (picture.of(config.parse(f.config, stack)) for f in (base_file, head_file))
        flows = picture.mermaid(picture.compare(base_flows, head_flows, change), stack)
        sys.stdout.write(_markdown(diff.render_markdown(change, stack), head, flows))
    else:
        sys.stdout.write(diff.render_json(change) if args.format == "json" else diff.render_text(change, stack))
    if change.fail:
        return EXIT_WOULD_FAIL
    return EXIT_DESTRUCTIVE if args.fail_on_delete and change.destructive else 0


def _handoff(args: argparse.Namespace) -> int:
    path, stack_file, stack = _stack(args)
    run = offline.run(stack_file.config, stack)
    if run.error is not None:
        return _invalid(path.name, run)
    sender = config.parse(stack_file.config, stack)
    if args.participant not in sender.participants:
        known = ", ".join(sorted(sender.participants)) or "none"
        print(f"error: {args.participant} is not a participant of stack {stack} (known: {known})", file=sys.stderr)
        return EXIT_INVALID_CONFIG
    ids = (
        handoff.Ids(run.outputs, stand_ins=True) if args.outputs is None else handoff.Ids(_outputs(args.outputs), False)
    )
    try:
        sys.stdout.write(handoff.render(sender, stack, args.participant, ids))
    except handoff.HandoffError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID_CONFIG
    return 0


def _outputs(spec: str) -> dict[str, Any]:
    """A sender's `pulumi stack output --json`, from a file or stdin (-)."""
    try:
        text = sys.stdin.read() if spec == "-" else Path(spec).read_text()
    except OSError as error:
        raise UsageError(f"cannot read {spec}: {error.strerror}") from None
    try:
        outputs = json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(f"{spec} is not JSON (`pulumi stack output --json`): {error.msg}") from None
    if not isinstance(outputs, dict):
        raise UsageError(f"{spec} is not a map of stack outputs (`pulumi stack output --json`)")
    return outputs


def _schema(args: argparse.Namespace) -> int:
    sys.stdout.write(schema.render())
    return 0


def _warn(run: offline.Run) -> None:
    for message in run.warnings:
        print(f"warning: {message}", file=sys.stderr)


def _markdown(body: str, run: offline.Run, flows: str) -> str:
    """A plan or diff for a pull request: the program's warnings first, where reviewers
    look, then the resources, then the picture of the data flows."""
    warnings = ["**Warnings**:", "", *(f"- {message}" for message in run.warnings), ""] if run.warnings else []
    return "\n".join([*warnings, body, "#### Data flows", "", picture.fenced(flows)])


def _invalid(source: str, run: offline.Run) -> int:
    print(f"{source}: {run.error}", file=sys.stderr)
    return EXIT_INVALID_CONFIG


def _read(spec: str) -> offline.StackFile:
    """A stack file from disk, or `REV:PATH` from git (`origin/main:Pulumi.prod.yaml`)."""
    path = Path(spec)
    if path.is_file():
        text = path.read_text()
    else:
        rev, colon, name = spec.partition(":")
        if not colon:
            raise UsageError(f"no stack file {spec}")
        shown = subprocess.run(["git", "show", f"{rev}:{name}"], capture_output=True, text=True, check=False)
        if shown.returncode != 0:
            raise UsageError(f"cannot read {spec} from git: {shown.stderr.strip()}")
        path, text = Path(name), shown.stdout
    try:
        return offline.read_stack_file(path, text)
    except yaml.YAMLError as error:
        raise UsageError(f"{spec} is not valid YAML: {error}") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m federation", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="{plan,diff,handoff,schema,access,reconcile,revoke,sync}")
    formats = {"choices": ("text", "markdown", "json"), "default": "text", "help": "output format (default: text)"}
    plan_formats = formats | {"choices": ("text", "markdown", "json", "mermaid")}

    plan_parser = commands.add_parser("plan", help="what a stack config would create")
    plan_parser.add_argument("stack", nargs="?", help="stack name: reads Pulumi.<STACK>.yaml (default: dev)")
    plan_parser.add_argument("--config", metavar="FILE", help="a stack file to read instead")
    plan_parser.add_argument("--format", **plan_formats)  # type: ignore[arg-type]
    plan_parser.set_defaults(command=_plan)

    diff_parser = commands.add_parser(
        "diff", help=f"what changing BASE into HEAD would do (exit {EXIT_WOULD_FAIL} if the deployment would fail)"
    )
    diff_parser.add_argument("base", help="stack file, or REV:PATH read with git")
    diff_parser.add_argument("head", help="stack file, or REV:PATH read with git")
    diff_parser.add_argument("--format", **formats)  # type: ignore[arg-type]
    diff_parser.add_argument(
        "--fail-on-delete",
        action="store_true",
        help=f"exit {EXIT_DESTRUCTIVE} if anything would be deleted or replaced",
    )
    diff_parser.set_defaults(command=_diff)

    handoff_parser = commands.add_parser(
        "handoff", help="the federation:subscriptions a participant pastes to receive this stack's shares"
    )
    handoff_parser.add_argument("participant", help="key of the participant under federation:participants")
    handoff_parser.add_argument("stack", nargs="?", help="the sender's stack: reads Pulumi.<STACK>.yaml (default: dev)")
    handoff_parser.add_argument("--config", metavar="FILE", help="the sender's stack file, to read instead")
    handoff_parser.add_argument(
        "--outputs",
        metavar="FILE",
        help="the sender's `pulumi stack output --json` (- for stdin); without it, stand-in ids from an offline run",
    )
    handoff_parser.set_defaults(command=_handoff)

    schema_parser = commands.add_parser("schema", help="the JSON Schema of stack files, for editors")
    schema_parser.set_defaults(command=_schema)

    def online(name: str, help: str, command: Callable[[argparse.Namespace, Connect], int]) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help)
        sub.set_defaults(command=command, online=True)
        return sub

    def stack_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("stack", nargs="?", help="stack name: reads Pulumi.<STACK>.yaml (default: dev)")
        sub.add_argument("--config", metavar="FILE", help="a stack file to read instead")
        sub.add_argument(
            "--subscription", help="Azure subscription id (default: ARM_SUBSCRIPTION_ID, AZURE_SUBSCRIPTION_ID)"
        )
        sub.add_argument("--endpoint", metavar="URL", help="Resource Manager endpoint (default: from ARM_ENVIRONMENT)")

    def confirm_option(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--yes", action="store_true", help="apply without asking")

    access_parser = online("access", "review who holds access to the stack's shares", _access)
    stack_options(access_parser)
    access_parser.add_argument("--format", **formats)  # type: ignore[arg-type]
    access_parser.add_argument("--check", action="store_true", help=f"exit {EXIT_PROBLEMS} when there are problems")

    reconcile_parser = online("reconcile", "revoke unaccounted subscriptions, adjust expiries to config", _reconcile)
    stack_options(reconcile_parser)
    confirm_option(reconcile_parser)

    revoke_parser = online("revoke", "revoke a share's subscriptions now", _revoke)
    revoke_parser.add_argument("share", help="a share of config")
    revoke_parser.add_argument(
        "targets", nargs="+", metavar="TARGET", help="participant key, consumer email or subscription id"
    )
    revoke_parser.add_argument("--stack", help="stack name: reads Pulumi.<STACK>.yaml (default: dev)")
    revoke_parser.add_argument("--config", metavar="FILE", help="a stack file to read instead")
    revoke_parser.add_argument("--subscription", help="Azure subscription id")
    revoke_parser.add_argument("--endpoint", metavar="URL", help="Resource Manager endpoint")
    confirm_option(revoke_parser)

    sync_parser = online("sync", "start a snapshot of a received share now", _sync)
    sync_parser.add_argument("subscription_name", metavar="SUBSCRIPTION", help="a subscription of config")
    stack_options(sync_parser)
    sync_parser.add_argument("--mode", choices=("Incremental", "FullSync"), help="default: Incremental")
    sync_parser.add_argument("--wait", action="store_true", help="follow the snapshot to its end")
    sync_parser.add_argument(
        "--timeout", default="2h", metavar="DURATION", help="with --wait: 90s, 30m, 2h (default 2h)"
    )
    sync_parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    return parser
