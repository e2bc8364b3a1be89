"""The command line. Offline, with no Pulumi CLI, backend or Azure access: `plan` (what a
stack config builds), `diff` (what a config change does), `handoff` (what a receiver
pastes), `schema` (of stack files). On the live Data Share account of a stack: `access`,
`reconcile`, `revoke` and `sync` (federation/live.py)."""

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from federation import config, diff, handoff, naming, offline, picture, plan, schema, stackfile

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

    from federation.azure import Limits

EXIT_UNREADABLE = 1  # also: Azure refused or could not be reached, no credentials
EXIT_INVALID_CONFIG = 2
EXIT_DESTRUCTIVE = 3
EXIT_WOULD_FAIL = 4  # diff: the deployment would fail
EXIT_PROBLEMS = 4  # access --check found problems; a snapshot failed or was canceled
EXIT_TIMEOUT = 5  # a snapshot still running at --timeout (then canceled)
EXIT_NO_SENDER_OUTPUTS = 6
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report it


class UsageError(Exception):
    """A stack file or outputs file that cannot be read; reported in one line, exit 1."""


class InvalidError(Exception):
    """Invalid stack config, one line per problem; exit 2."""


class MissingSendersError(Exception):
    """`from` names stacks whose outputs are not here: not invalid config, exit 6."""


class UnknownError(Exception):
    """A share, subscription or participant that config lacks; exit 2."""


def main(
    argv: list[str] | None = None,
    credential: "TokenCredential | None" = None,
    options: Mapping[str, Any] | None = None,
    limits: "Limits | None" = None,
) -> int:
    """Run a command. Azure commands connect with `credential` when given (tests), else
    with DefaultAzureCredential; `options` are client transport settings, `limits` the
    deadlines (default: azure.Limits())."""
    args = _parser().parse_args(argv)
    try:
        if not getattr(args, "online", False):
            return int(args.command(args))
        if args.command == "revoke":
            _stack_after_targets(args)
        stack_config, settings = _live(args)
        # The Azure SDK only for the commands that use it: offline commands start sooner.
        from federation import live

        return live.run(args, stack_config, settings, credential, options, limits)
    except (UsageError, stackfile.StackFileError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_UNREADABLE
    except InvalidError as error:
        print(error, file=sys.stderr)
        return EXIT_INVALID_CONFIG
    except UnknownError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID_CONFIG
    except MissingSendersError as error:
        print(error, file=sys.stderr)
        return EXIT_NO_SENDER_OUTPUTS
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`| head`): nothing more to say, and nothing left to flush.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_UNREADABLE


def _stack_after_targets(args: argparse.Namespace) -> None:
    """`revoke SHARE TARGET... [STACK]`: the last word is the stack when a stack file of
    that name is here and it is no target: not an email, not an id, and a participant of
    neither that stack nor the default one. Read wrongly, it would revoke on another
    account, so a word that could be either is refused: give --stack."""
    if args.stack or args.config or len(args.targets) < 2:
        return
    last = args.targets[-1]
    try:
        path = offline.stack_file_path(last)
        if "@" in last or naming.GUID.accepts(last) or not path.is_file():
            return
    except OSError:  # not a file name this system takes: a target
        return
    participants: set[str] = set()
    for stack in (last, "dev"):
        # An unreadable or invalid stack is reported later, as its own.
        with contextlib.suppress(UsageError, stackfile.StackFileError, config.ConfigError):
            stack_file = _read(str(offline.stack_file_path(stack)))
            participants |= set(_parse(stack_file, stack).participants)
    if last in participants:
        raise UnknownError(f"{last} is both a stack here and a participant: say which with --stack")
    args.stack, args.targets = last, args.targets[:-1]


def _stack(args: argparse.Namespace) -> tuple[str, offline.StackFile, str]:
    """The stack file a command reads, as shown in messages, and the stack's name:
    --config, or Pulumi.<STACK>.yaml (default dev) beside the nearest Pulumi.yaml."""
    path = Path(args.config) if args.config else offline.stack_file_path(args.stack or "dev")
    stack_file = _read(str(path))
    return stackfile.show_name(str(path)), stack_file, args.stack or stack_file.stack


# What the Azure commands read of a stack's config besides names: who is invited to what,
# and until when. Stand-ins for secrets there would match, revoke and adjust wrongly.
_ACCESS_KEYS = (f"{config.NAMESPACE}:participants", f"{config.NAMESPACE}:shares")
SUBSCRIPTION_KEY = f"{config.PROVIDER}:subscriptionId"
_PROVIDER_SETTINGS = (SUBSCRIPTION_KEY, f"{config.PROVIDER}:environment")


def _live(args: argparse.Namespace) -> tuple[config.Config, dict[str, str]]:
    """The stack's validated config for an Azure command, and the provider settings it
    reads (azure-native:subscriptionId, azure-native:environment). Nothing runs, so the
    stacks its `from` names need no outputs here. Secrets come from --config-json, what
    `pulumi config --json --show-secrets` prints: a stack file holds only ciphertext, and
    the commands never act on stand-ins for it."""
    shown, stack_file, stack = _stack(args)
    _valid(shown, stack_file, stack)
    from_file = _parse(stack_file, stack)
    if args.config_json is not None:
        values, secret = _config_json(args.config_json)
        try:
            real = config.parse(values, stack, secret)
        except config.ConfigError as error:
            n = len(error.problems)
            raise InvalidError(
                f"--config-json: {n} problem{'s' if n > 1 else ''} in stack config:\n"
                + "\n".join(f"  {p}" for p in error.problems)
            ) from None
        here = (from_file.resource_group, from_file.account_name)
        if (real.resource_group, real.account_name) != here:
            raise UnknownError(
                f"--config-json names account {real.account_name} in {real.resource_group}, {shown} names "
                f"{here[1]} in {here[0]}: is it another stack's config? (`pulumi config --json --show-secrets "
                f"--stack {stack}`)"
            )
        settings = {k: values[k] for k in _PROVIDER_SETTINGS if k in values}
        return real, settings
    needed = [k for k in _ACCESS_KEYS if args.command != "sync"]
    if not args.subscription:
        needed.append(SUBSCRIPTION_KEY)
    hidden = sorted(set(needed) & stack_file.secret_keys)
    if hidden:
        raise UnknownError(
            f"{', '.join(hidden)} {'is a secret' if len(hidden) == 1 else 'are secrets'} in {shown}, which holds only "
            f"ciphertext, and {args.command} acts on no stand-in: pass the real config with "
            f"`pulumi config --json --show-secrets --stack {stack} | federation {args.command} {stack} --config-json -`"
        )
    settings = {k: stack_file.config[k] for k in _PROVIDER_SETTINGS if k in stack_file.config}
    return from_file, settings


def _config_json(source: str) -> tuple[dict[str, str], frozenset[str]]:
    """A stack's config as `pulumi config --json --show-secrets` prints it: per key its
    value (structured ones also as objectValue) and whether it is a secret; as the engine
    hands config to a program (text, structured values as JSON) and the secret keys."""
    shown = "--config-json " + stackfile.show_name(source)
    data = sys.stdin.read() if source == "-" else stackfile.read_bytes(Path(source))
    try:
        document = json.loads(data)
    except (ValueError, RecursionError):
        raise UsageError(f"{shown} is not JSON (what `pulumi config --json --show-secrets` prints)") from None
    if not isinstance(document, dict):
        raise UsageError(f"{shown} is not a map of config keys (what `pulumi config --json --show-secrets` prints)")
    values: dict[str, str] = {}
    secret: set[str] = set()
    for key, entry in document.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("secret", False), bool):
            raise UsageError(f"{shown}: {key} is not a config entry ({{value, secret}})")
        value = entry.get("value")
        if entry.get("secret") and (value is None or value == "[secret]"):
            raise UsageError(f"{shown}: {key} is a secret without its value: run `pulumi config --json --show-secrets`")
        if value is None and "objectValue" in entry:  # `value` is the same, as JSON text
            value = json.dumps(entry["objectValue"])
        if value is None:
            continue
        if not isinstance(value, str):
            raise UsageError(f"{shown}: {key} has a value that is not text")
        values[key] = value
        if entry.get("secret"):
            secret.add(key)
    return values, frozenset(secret)


def _plan(args: argparse.Namespace) -> int:
    shown, stack_file, stack = _stack(args)
    senders = _senders(args.outputs)
    run = _run(shown, stack_file, stack, senders)
    _warn(run)
    if args.format in ("mermaid", "markdown"):
        flows = picture.mermaid(picture.of(_parse(stack_file, stack)), stack)
        sys.stdout.write(flows if args.format == "mermaid" else _markdown(plan.render_markdown(run, stack), run, flows))
    else:
        sys.stdout.write(plan.render_json(run) if args.format == "json" else plan.render_text(run, stack))
    return 0


def _diff(args: argparse.Namespace) -> int:
    base_file, head_file = _read(args.base), _read(args.head)
    # One stack name for both sides, so the same resource has the same URN in both: the
    # base's, the stack as it is deployed.
    stack = base_file.stack
    senders = _senders(args.outputs)
    for spec, stack_file in ((args.base, base_file), (args.head, head_file)):
        _check(stackfile.show_name(spec), stack_file, stack, senders)
    base, head = (
        _run(stackfile.show_name(s), f, stack, senders) for s, f in ((args.base, base_file), (args.head, head_file))
    )
    _warn(head)
    change = diff.compare(base, head)
    if args.format == "markdown":
        base_flows, head_flows = (picture.of(_parse(f, stack)) for f in (base_file, head_file))
        flows = picture.mermaid(picture.compare(base_flows, head_flows, change), stack)
        sys.stdout.write(_markdown(diff.render_markdown(change, stack), head, flows))
    else:
        sys.stdout.write(diff.render_json(change) if args.format == "json" else diff.render_text(change, stack))
    if change.fail:
        return EXIT_WOULD_FAIL
    return EXIT_DESTRUCTIVE if args.fail_on_delete and change.destructive else 0


def _handoff(args: argparse.Namespace) -> int:
    shown, stack_file, stack = _stack(args)
    _valid(shown, stack_file, stack)
    sender = _parse(stack_file, stack)
    if args.participant not in sender.participants:
        known = ", ".join(sorted(sender.participants)) or "none"
        raise UnknownError(f"{args.participant} is not a participant of stack {stack} (known: {known})")
    if args.outputs is not None:
        # The ids are the file's: nothing runs, so the stacks this one receives from do not matter.
        text = sys.stdin.read() if args.outputs == "-" else stackfile.read_bytes(Path(args.outputs))
        ids = handoff.Ids(_stack_outputs(stackfile.show_name(args.outputs), text), stand_ins=False)
    else:
        # Stand-in ids need this stack run offline, and that needs what its `from` reads.
        _need_senders(
            stack_file,
            {},
            lambda name: (
                f"running stack {stack} offline for stand-in ids needs it: give stack {stack}'s own "
                f"outputs with --outputs FILE (what `pulumi stack output --json --stack {stack}` prints)"
            ),
        )
        ids = handoff.Ids(_run(shown, stack_file, stack, {}).outputs, stand_ins=True)
    try:
        sys.stdout.write(handoff.render(sender, stack, args.participant, ids))
    except handoff.HandoffError as error:
        raise UnknownError(str(error)) from None
    return 0


def _schema(args: argparse.Namespace) -> int:
    sys.stdout.write(schema.render())
    return 0


def _parse(stack_file: offline.StackFile, stack: str) -> config.Config:
    return config.parse(stack_file.config, stack, stack_file.secret_keys)


def _run(shown: str, stack_file: offline.StackFile, stack: str, senders: Mapping[str, Any]) -> offline.Run:
    """The program under mocks, after the whole config is checked."""
    _check(shown, stack_file, stack, senders)
    run = offline.run(stack_file.config, stack, stacks=senders, secret_keys=stack_file.secret_keys)
    if run.error is not None:
        raise InvalidError(f"{shown}: {run.error}")
    return run


def _check(shown: str, stack_file: offline.StackFile, stack: str, senders: Mapping[str, Any]) -> None:
    """Everything wrong with a stack file's config, all at once, before anything runs;
    then, if nothing is, senders whose outputs are missing."""
    _valid(shown, stack_file, stack)
    _need_senders(
        stack_file,
        senders,
        lambda name: f"give its outputs with --outputs {name}=FILE (what `pulumi stack output --json` prints for it)",
    )


def _valid(shown: str, stack_file: offline.StackFile, stack: str) -> None:
    """Everything wrong with a stack file's config, all at once."""
    problems = list(stack_file.problems)
    try:
        _parse(stack_file, stack)
    except config.ConfigError as error:
        problems += error.problems
    if problems:
        n = len(problems)
        raise InvalidError(
            f"{shown}: {n} problem{'s' if n > 1 else ''} in stack config:\n" + "\n".join(f"  {p}" for p in problems)
        )


def _need_senders(stack_file: offline.StackFile, senders: Mapping[str, Any], remedy: Callable[[str], str]) -> None:
    """Refuse (exit 6) when stacks `from` names have neither given outputs nor a stack file
    here: one line per subscription naming one, with `remedy` for that stack."""
    missing = [
        (stackfile.show_name(name), keys)
        for name, keys in sorted(offline.referenced_stacks(stack_file.config).items())
        if name not in senders and offline.sibling_file(name) is None
    ]
    if missing:
        raise MissingSendersError(
            "\n".join(
                f"{config.NAMESPACE}:subscriptions.{key}.from.stack: sender stack {name} has no stack file here; "
                + remedy(name)
                for name, keys in missing
                for key in keys
            )
        )


def _warn(run: offline.Run) -> None:
    for message in run.warnings:
        print(f"warning: {message}", file=sys.stderr)


def _markdown(body: str, run: offline.Run, flows: str) -> str:
    """A plan or diff for a pull request: the program's warnings first, where reviewers
    look, then the resources, then the picture of the data flows."""
    warnings = ["**Warnings**:", "", *(f"- {message}" for message in run.warnings), ""] if run.warnings else []
    return "\n".join([*warnings, body, "#### Data flows", "", picture.fenced(flows)])


def _read(spec: str) -> offline.StackFile:
    """A stack file from disk, or `REV:PATH` from git (`origin/main:Pulumi.prod.yaml`)."""
    path, shown = Path(spec), stackfile.show_name(spec)
    try:
        exists = path.is_file()
    except OSError as error:  # a name longer than the file system allows
        raise UsageError(f"cannot read {shown}: {error.strerror}") from None
    if exists:
        return offline.read_stack_file(path)
    rev, colon, name = spec.partition(":")
    if not colon:
        raise UsageError(f"no stack file {shown}")
    try:
        shown_git = subprocess.run(["git", "show", f"{rev}:{name}"], capture_output=True, check=False)
    except OSError as error:  # no git here
        raise UsageError(f"cannot read {shown} from git: {error.strerror}") from None
    if shown_git.returncode != 0:
        reason = " ".join(shown_git.stderr.decode(errors="replace").split())
        raise UsageError(f"cannot read {shown} from git: {stackfile.show_name(reason, 300)}")
    return offline.read_stack_file(Path(name), shown_git.stdout)


def _senders(given: list[str]) -> dict[str, Mapping[str, Any]]:
    """Stand-in outputs of sender stacks, `STACK=FILE` each."""
    senders: dict[str, Mapping[str, Any]] = {}
    for entry in given:
        name, equals, file = entry.partition("=")
        if not equals or not name or not file:
            raise UsageError(f"--outputs {stackfile.show_name(entry)}: expected STACK=FILE")
        source = f"--outputs {stackfile.show_name(entry)}: {stackfile.show_name(file)}"
        senders[name] = _stack_outputs(source, stackfile.read_bytes(Path(file)))
    return senders


def _stack_outputs(source: str, data: bytes | str) -> dict[str, Any]:
    """A stack's outputs as `pulumi stack output --json` prints them; `source` names where
    they came from in messages."""
    try:
        outputs = json.loads(data)
    except (ValueError, RecursionError):
        raise UsageError(f"{source} is not JSON (what `pulumi stack output --json` prints)") from None
    if not isinstance(outputs, dict):
        raise UsageError(f"{source} is not a map of stack outputs (what `pulumi stack output --json` prints)")
    return outputs


_DURATION = re.compile(r"(\d+)([smh])")
_SECONDS = {"s": 1, "m": 60, "h": 3600}


def duration(text: str) -> float:
    """`90s`, `30m`, `2h` as seconds (an argparse type: a ValueError is a usage error)."""
    found = _DURATION.fullmatch(text.strip())
    if found is None or int(found[1]) == 0:
        raise ValueError(f"not a duration such as 90s, 30m or 2h: {text!r}")
    return int(found[1]) * _SECONDS[found[2]]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m federation", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="{plan,diff,handoff,schema,access,reconcile,revoke,sync}")
    formats = {"choices": ("text", "markdown", "json"), "default": "text", "help": "output format (default: text)"}
    stack_help = "stack name: reads Pulumi.<STACK>.yaml beside the nearest Pulumi.yaml from here up (default: dev)"
    senders = {
        "action": "append",
        "default": [],
        "metavar": "STACK=FILE",
        "help": "stand-in outputs of a sender stack that `from` names and that has no stack file here: FILE "
        "is what `pulumi stack output --json --stack STACK` prints (repeatable; one per sender stack)",
    }

    def stack_file(sub: argparse.ArgumentParser, positional: bool = True) -> None:
        if positional:
            sub.add_argument("stack", nargs="?", help=stack_help)
        sub.add_argument("--config", metavar="FILE", help="a stack file to read instead")

    plan_parser = commands.add_parser("plan", help="what a stack config would create")
    stack_file(plan_parser)
    plan_formats = formats | {"choices": ("text", "markdown", "json", "mermaid")}
    plan_parser.add_argument("--format", **plan_formats)  # type: ignore[arg-type]
    plan_parser.add_argument("--outputs", **senders)  # type: ignore[arg-type]
    plan_parser.set_defaults(command=_plan)

    diff_parser = commands.add_parser(
        "diff", help=f"what changing BASE into HEAD would do (exit {EXIT_WOULD_FAIL} if the deployment would fail)"
    )
    diff_parser.add_argument("base", help="stack file, or REV:PATH read with git; names the stack")
    diff_parser.add_argument("head", help="stack file, or REV:PATH read with git")
    diff_parser.add_argument("--format", **formats)  # type: ignore[arg-type]
    diff_parser.add_argument("--outputs", **senders)  # type: ignore[arg-type]
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
    stack_file(handoff_parser)
    handoff_parser.add_argument(
        "--outputs",
        metavar="FILE",
        help="this (the sender's) stack's `pulumi stack output --json` (- for stdin); without it, stand-in ids "
        "from an offline run",
    )
    handoff_parser.set_defaults(command=_handoff)

    schema_parser = commands.add_parser("schema", help="the JSON Schema of stack files, for editors")
    schema_parser.set_defaults(command=_schema)

    def online(name: str, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help)
        sub.set_defaults(command=name, online=True)  # a command of federation/live.py
        return sub

    def azure_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--subscription",
            help=f"Azure subscription id (default: the stack file's {SUBSCRIPTION_KEY}, then ARM_SUBSCRIPTION_ID, "
            "AZURE_SUBSCRIPTION_ID)",
        )
        sub.add_argument(
            "--endpoint",
            metavar="URL",
            help="Resource Manager endpoint (default: from azure-native:environment or ARM_ENVIRONMENT)",
        )
        sub.add_argument(
            "--config-json",
            metavar="FILE",
            help="the stack's config with its secrets, as `pulumi config --json --show-secrets` prints it (- for "
            "stdin); needed when participants or shares are secrets",
        )

    def confirm_option(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--yes", action="store_true", help="apply without asking")

    access_parser = online("access", "review who holds access to the stack's shares")
    stack_file(access_parser)
    azure_options(access_parser)
    access_parser.add_argument("--format", **formats)  # type: ignore[arg-type]
    access_parser.add_argument("--check", action="store_true", help=f"exit {EXIT_PROBLEMS} when there are problems")

    reconcile_parser = online("reconcile", "revoke unaccounted subscriptions, adjust expiries to config")
    stack_file(reconcile_parser)
    azure_options(reconcile_parser)
    confirm_option(reconcile_parser)

    revoke_parser = online("revoke", "revoke a share's subscriptions now")
    revoke_parser.add_argument("share", help="a share of config")
    revoke_parser.add_argument(
        "targets", nargs="+", metavar="TARGET", help="participant key, consumer email or subscription id; then STACK"
    )
    # A positional STACK is the last TARGET when it names a stack file here (see _stack_after_targets).
    revoke_parser.add_argument("--stack", help=f"{stack_help}; or give STACK after the targets")
    stack_file(revoke_parser, positional=False)
    azure_options(revoke_parser)
    confirm_option(revoke_parser)

    sync_parser = online("sync", "start a snapshot of a received share now")
    sync_parser.add_argument("subscription_name", metavar="SUBSCRIPTION", help="a subscription of config")
    stack_file(sync_parser)
    azure_options(sync_parser)
    sync_parser.add_argument("--mode", choices=("Incremental", "FullSync"), help="default: Incremental")
    sync_parser.add_argument("--wait", action="store_true", help="follow the snapshot to its end")
    sync_parser.add_argument(
        "--timeout", type=duration, default="2h", metavar="DURATION", help="with --wait: 90s, 30m, 2h (default 2h)"
    )
    sync_parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    return parser
