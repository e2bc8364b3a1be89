"""`python -m federation plan|diff`: what a stack config builds, and what a config change
does, with no Pulumi CLI, backend or Azure access."""

import argparse
import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from federation import config, diff, offline, plan, stackfile

EXIT_UNREADABLE = 1
EXIT_INVALID_CONFIG = 2
EXIT_DESTRUCTIVE = 3
EXIT_NO_SENDER_OUTPUTS = 4


class UsageError(Exception):
    """A stack file that cannot be read; reported in one line, exit 1."""


class MissingSendersError(Exception):
    """`from` names stacks whose outputs are not here: not invalid config, exit 4."""


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.command(args))
    except (UsageError, stackfile.StackFileError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_UNREADABLE
    except MissingSendersError as error:
        print(error, file=sys.stderr)
        return EXIT_NO_SENDER_OUTPUTS


def _plan(args: argparse.Namespace) -> int:
    path = Path(args.config) if args.config else offline.stack_file_path(args.stack or "dev")
    stack_file = _read(str(path))
    stack = args.stack or stack_file.stack
    senders = _outputs(args.outputs)
    problems = _problems(stack_file, stack, senders)
    if problems:
        return _invalid(stackfile.show_name(str(path)), problems)
    run = offline.run(stack_file.config, stack, stacks=senders, secret_keys=stack_file.secret_keys)
    if run.error is not None:
        return _invalid(stackfile.show_name(str(path)), [str(run.error)])
    render = {"text": plan.render_text, "markdown": plan.render_markdown}
    sys.stdout.write(plan.render_json(run) if args.format == "json" else render[args.format](run, stack))
    return 0


def _diff(args: argparse.Namespace) -> int:
    base_file, head_file = _read(args.base), _read(args.head)
    # One stack name for both sides, so the same resource has the same URN in both: the
    # base's, the stack as it is deployed.
    stack = base_file.stack
    senders = _outputs(args.outputs)
    for spec, stack_file in ((args.base, base_file), (args.head, head_file)):
        problems = _problems(stack_file, stack, senders)
        if problems:
            return _invalid(stackfile.show_name(spec), problems)
    base, head = (
        offline.run(f.config, stack, stacks=senders, secret_keys=f.secret_keys) for f in (base_file, head_file)
    )
    for spec, run in ((args.base, base), (args.head, head)):
        if run.error is not None:
            return _invalid(stackfile.show_name(spec), [str(run.error)])
    change = diff.compare(base, head)
    render = {"text": diff.render_text, "markdown": diff.render_markdown}
    sys.stdout.write(diff.render_json(change) if args.format == "json" else render[args.format](change, stack))
    return EXIT_DESTRUCTIVE if args.fail_on_delete and change.destructive else 0


def _problems(stack_file: offline.StackFile, stack: str, senders: Mapping[str, Any]) -> list[str]:
    """Everything wrong with a stack file's config, all at once, before anything runs;
    then, if nothing is, senders whose outputs are missing."""
    problems = list(stack_file.problems)
    try:
        config.parse(stack_file.config, stack, stack_file.secret_keys)
    except config.ConfigError as error:
        problems += error.problems
    if problems:
        n = len(problems)
        return [f"{n} problem{'s' if n > 1 else ''} in stack config:\n" + "\n".join(f"  {p}" for p in problems)]
    missing = {
        name: keys
        for name, keys in offline.referenced_stacks(stack_file.config).items()
        if name not in senders and offline.sibling_file(name) is None
    }
    if missing:
        raise MissingSendersError(
            "\n".join(
                f"{config.NAMESPACE}:subscriptions.{key}.from.stack: sender stack {stackfile.show_name(name)} has no "
                f"stack file here; give its outputs with --outputs {stackfile.show_name(name)}=FILE "
                "(what `pulumi stack output --json` prints for it)"
                for name, keys in sorted(missing.items())
                for key in keys
            )
        )
    return []


def _invalid(source: str, messages: list[str]) -> int:
    for message in messages:
        print(f"{source}: {message}", file=sys.stderr)
    return EXIT_INVALID_CONFIG


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
    shown_git = subprocess.run(["git", "show", f"{rev}:{name}"], capture_output=True, check=False)
    if shown_git.returncode != 0:
        reason = " ".join(shown_git.stderr.decode(errors="replace").split())
        raise UsageError(f"cannot read {shown} from git: {stackfile.show_name(reason, 300)}")
    return offline.read_stack_file(Path(name), shown_git.stdout)


def _outputs(given: list[str]) -> dict[str, Mapping[str, Any]]:
    """Stand-in outputs of sender stacks, `STACK=FILE` each, FILE as `pulumi stack output
    --json` prints it."""
    senders: dict[str, Mapping[str, Any]] = {}
    for entry in given:
        name, equals, file = entry.partition("=")
        if not equals or not name or not file:
            raise UsageError(f"--outputs {stackfile.show_name(entry)}: expected STACK=FILE")
        data = stackfile.read_bytes(Path(file))
        try:
            outputs = json.loads(data)
        except (ValueError, RecursionError):
            shown = stackfile.show_name(file)
            raise UsageError(f"--outputs {stackfile.show_name(entry)}: {shown} is not JSON") from None
        if not isinstance(outputs, dict):
            raise UsageError(f"--outputs {stackfile.show_name(entry)}: expected a JSON object of stack outputs")
        senders[name] = outputs
    return senders


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m federation", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="{plan,diff}")
    formats = {"choices": ("text", "markdown", "json"), "default": "text", "help": "output format (default: text)"}
    outputs = {
        "action": "append",
        "default": [],
        "metavar": "STACK=FILE",
        "help": "stand-in outputs of a sender stack that `from` names and that has no stack file here: FILE "
        "is what `pulumi stack output --json --stack STACK` prints (repeatable; one per sender stack)",
    }

    plan_parser = commands.add_parser("plan", help="what a stack config would create")
    plan_parser.add_argument(
        "stack",
        nargs="?",
        help="stack name: reads Pulumi.<STACK>.yaml next to the nearest Pulumi.yaml from here up (default: dev)",
    )
    plan_parser.add_argument("--config", metavar="FILE", help="a stack file to read instead")
    plan_parser.add_argument("--format", **formats)  # type: ignore[arg-type]
    plan_parser.add_argument("--outputs", **outputs)  # type: ignore[arg-type]
    plan_parser.set_defaults(command=_plan)

    diff_parser = commands.add_parser("diff", help="what changing BASE into HEAD would do")
    diff_parser.add_argument("base", help="stack file, or REV:PATH read with git; names the stack")
    diff_parser.add_argument("head", help="stack file, or REV:PATH read with git")
    diff_parser.add_argument("--format", **formats)  # type: ignore[arg-type]
    diff_parser.add_argument("--outputs", **outputs)  # type: ignore[arg-type]
    diff_parser.add_argument(
        "--fail-on-delete",
        action="store_true",
        help=f"exit {EXIT_DESTRUCTIVE} if anything would be deleted or replaced",
    )
    diff_parser.set_defaults(command=_diff)
    return parser
