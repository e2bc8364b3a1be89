"""The command line's words, one convention for every command as `pulumi` and `az` users
expect: `-s/--stack`, `-o/--output`, `-y/--yes`, `--version`. Earlier spellings
(`--format`, a positional STACK) still work where they cannot be misread."""

import argparse
import re
import sys
from importlib import metadata
from pathlib import Path

from federation import exits

DESCRIPTION = """The data-exchange layer of a federated-learning consortium on Azure Data Share.
Offline, with no Pulumi CLI, backend or Azure access: plan, diff, handoff, schema, check.
On the live Data Share account of a stack: access, reconcile, revoke, sync.
A training round over the exchange: publish, verify."""

OFFLINE = ("plan", "diff", "handoff", "schema", "check")
ONLINE = ("access", "reconcile", "revoke", "sync", "publish", "verify")

_DURATION = re.compile(r"(\d+)([smh])")
_SECONDS = {"s": 1, "m": 60, "h": 3600}


def duration(text: str) -> float:
    """`90s`, `30m`, `2h` as seconds (an argparse type: a ValueError is a usage error)."""
    found = _DURATION.fullmatch(text.strip())
    if found is None or int(found[1]) == 0:
        raise ValueError(f"not a duration such as 90s, 30m or 2h: {text!r}")
    return int(found[1]) * _SECONDS[found[2]]


def round_name(text: str) -> str:
    """A round's name, round-N (an argparse type: its message is the usage error)."""
    from federation.operate.manifest import round_problem  # light: no Azure SDK

    if problem := round_problem(text):
        raise argparse.ArgumentTypeError(problem)
    return text


def program_name() -> str:
    """`federation` when run as the installed command, else how Python runs the package."""
    return "federation" if Path(sys.argv[0]).name == "federation" else "python -m federation"


def version() -> str:
    try:
        return metadata.version("federation")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def build(commands: dict[str, object]) -> argparse.ArgumentParser:
    """The parser; `commands` maps each command's name to what runs it (set as `command`)."""
    parser = argparse.ArgumentParser(prog=program_name(), description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    sub = parser.add_subparsers(required=True, metavar="{" + ",".join((*OFFLINE, *ONLINE)) + "}")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        found = sub.add_parser(name, help=help, description=help)
        # `words` lets settle() answer a usage error with this command's own usage line
        found.set_defaults(command=commands.get(name, name), online=name in ONLINE, words=found)
        return found

    p = command("plan", "what a stack config would create")
    _stack(p, positional=True)
    _output(p, ("text", "markdown", "json", "mermaid"))
    _senders(p)
    _config_json(p, "the real values of secrets and of imported Pulumi ESC environments")

    p = command("diff", f"what changing BASE into HEAD would do (exit {exits.PROBLEMS} if the deployment would fail)")
    p.add_argument("base", help="stack file, or REV:PATH read with git; names the stack")
    p.add_argument("head", help="stack file, or REV:PATH read with git")
    p.add_argument("-s", "--stack", help="the stack both sides are of (default: as BASE names it)")
    _output(p)
    _senders(p)
    _config_json(p, "HEAD's: what its imported Pulumi ESC environments give (also BASE's, unless given apart)")
    p.add_argument(
        "--base-config-json",
        metavar="FILE",
        help="BASE's config as `pulumi config --json --show-secrets` prints it, where its environments differ",
    )
    p.add_argument(
        "--fail-on-delete",
        action="store_true",
        help=f"exit {exits.DESTRUCTIVE} if anything would be deleted or replaced",
    )

    p = command("handoff", "the federation:subscriptions a participant pastes to receive this stack's shares")
    p.add_argument("participant", help="key of the participant under federation:participants")
    _stack(p, positional=True)
    p.add_argument(
        "--outputs",
        metavar="FILE",
        help="this (the sender's) stack's `pulumi stack output --json` (- for stdin); without it, stand-in ids "
        "from an offline run",
    )
    _output(p)

    p = command("schema", "the JSON Schema of stack files, for editors")
    p.add_argument("-s", "--stack", help="as on every command; every stack file has this one schema")
    _output(p, ("json",))

    p = command(
        "check",
        f"the consortium's policy pack over what a stack config builds (exit {exits.POLICY} if mandatory fails)",
    )
    _stack(p, positional=True)
    _output(p)
    _senders(p)
    p.add_argument(
        "--policy-config",
        metavar="FILE",
        help="policy config, as `--policy-pack-config` takes it (default: policy.json beside the Pulumi.yaml the "
        "stack file is read from, else the program's own)",
    )
    _config_json(p, "to judge secrets as the engine does; without it a rule that reads one is advisory")

    p = command("access", "review who holds access to the stack's shares")
    _stack(p, positional=True)
    _azure(p)
    _output(p)
    p.add_argument("--check", action="store_true", help=f"exit {exits.PROBLEMS} when there are problems")

    p = command("reconcile", "revoke what config does not invite, adjust expiries to config")
    _stack(p, positional=True)
    _azure(p)
    _yes(p)

    p = command("revoke", "revoke a share's subscriptions now")
    p.add_argument("share", help="a share of config")
    p.add_argument("targets", nargs="+", metavar="TARGET", help="participant key, consumer email or subscription id")
    _stack(p, positional=False)
    _azure(p)
    _yes(p)

    p = command("sync", "start a snapshot of a received share now")
    p.add_argument("share_subscription", nargs="?", metavar="SHARE_SUBSCRIPTION", help="a subscription of config")
    _stack(p, positional=True)
    p.add_argument(
        "--share-subscription",
        dest="share_subscription_option",
        metavar="NAME",
        help="the received share (a key of federation:subscriptions), instead of the first word",
    )
    _azure(p)
    _output(p)
    p.add_argument("--mode", choices=("Incremental", "FullSync"), help="default: Incremental")
    p.add_argument("--wait", action="store_true", help="follow the snapshot to its end")
    p.add_argument(
        "--timeout", type=duration, default="2h", metavar="DURATION", help="with --wait: 90s, 30m, 2h (default 2h)"
    )
    p.add_argument(
        "--verify",
        nargs="?",
        const=True,
        default=False,
        type=round_name,
        metavar="ROUND",
        help="once the snapshot succeeded, verify ROUND as `verify` does (default: the newest round with a "
        "manifest), and exit as it does; implies --wait",
    )
    _dataset(p, "with --verify: the dataset mapping (its key under datasets) where the subscription has several")

    p = command(
        "publish",
        f"upload a directory as a round of a share, its manifest last (exit {exits.PROBLEMS} if the round, or a newer "
        "one, is there)",
    )
    p.add_argument("share", help="a share of config")
    p.add_argument("round", type=round_name, metavar="ROUND", help="round-N, N a number: rounds are ordered by it")
    p.add_argument(
        "--from", dest="source", required=True, metavar="DIR", help="the directory whose files make the round"
    )
    _dataset(p, "the share's dataset to publish to, where it has several container or folder datasets")
    _stack(p, positional=False)
    _azure(p)
    _output(p, ("text", "json"))

    p = command(
        "verify",
        f"check a received round against its manifest (exit {exits.INCOMPLETE}: incomplete, {exits.MISMATCH}: "
        f"mismatch, {exits.NO_ACCESS}: no access)",
    )
    p.add_argument("share_subscription", metavar="SHARE_SUBSCRIPTION", help="a subscription of config")
    p.add_argument(
        "round", nargs="?", type=round_name, metavar="ROUND", help="default: the newest round with a manifest"
    )
    _dataset(p, "the dataset mapping (its key under datasets) where the subscription has several")
    _stack(p, positional=False)
    _azure(p)
    _output(p)
    return parser


def settle(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """What the words leave to be worked out: sync's received share comes from its first
    word or from --share-subscription (then a word is the stack), and a positional STACK
    agrees with --stack."""
    parser = getattr(args, "words", parser)
    if hasattr(args, "share_subscription_option"):
        option = args.share_subscription_option
        if option is not None and args.share_subscription is not None:
            if args.stack_word is not None:
                parser.error(f"the received share is named twice: {args.share_subscription} and {option}")
            args.stack_word, args.share_subscription = args.share_subscription, None
        args.share_subscription = option or args.share_subscription
        if args.share_subscription is None:
            parser.error("name the received share: sync SHARE_SUBSCRIPTION, or --share-subscription NAME")
    word = getattr(args, "stack_word", None)
    if word is not None:
        if args.stack is not None and args.stack != word:
            parser.error(f"the stack is named twice: {word} and --stack {args.stack}")
        args.stack = word


def _stack(p: argparse.ArgumentParser, positional: bool) -> None:
    help = "stack name: reads Pulumi.<STACK>.yaml beside the nearest Pulumi.yaml from here up (default: dev)"
    if positional:
        p.add_argument("stack_word", nargs="?", metavar="STACK", help=f"{help}; as -s")
    p.add_argument("-s", "--stack", help=help)
    p.add_argument("--config", metavar="FILE", help="a stack file to read instead")


def _output(p: argparse.ArgumentParser, formats: tuple[str, ...] = ("text", "markdown", "json")) -> None:
    p.add_argument("-o", "--output", choices=formats, default=formats[0], help=f"output format (default: {formats[0]})")
    p.add_argument("--format", dest="output", choices=formats, help=argparse.SUPPRESS)  # the earlier spelling


def _senders(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--outputs",
        action="append",
        default=[],
        metavar="STACK=FILE",
        help="stand-in outputs of a sender stack that `from` names and that has no stack file here: FILE is what "
        "`pulumi stack output --json --stack STACK` prints (repeatable; one per sender stack)",
    )


def _azure(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--subscription",
        help="Azure subscription id (default: the stack file's azure-native:subscriptionId, then "
        "ARM_SUBSCRIPTION_ID, AZURE_SUBSCRIPTION_ID)",
    )
    p.add_argument(
        "--endpoint",
        metavar="URL",
        help="Resource Manager endpoint (default: from azure-native:environment or ARM_ENVIRONMENT)",
    )
    _config_json(p, "needed when participants or shares are secrets")


def _config_json(p: argparse.ArgumentParser, why: str) -> None:
    p.add_argument(
        "--config-json",
        metavar="FILE",
        help=f"the stack's config with its secrets, as `pulumi config --json --show-secrets` prints it (- for stdin); "
        f"{why}",
    )


def _dataset(p: argparse.ArgumentParser, help: str) -> None:
    p.add_argument("--dataset", metavar="NAME", help=help)


def _yes(p: argparse.ArgumentParser) -> None:
    p.add_argument("-y", "--yes", action="store_true", help="apply without asking (needed off a terminal)")
