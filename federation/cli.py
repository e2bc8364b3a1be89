"""`python -m federation plan|diff|handoff|schema`: what a stack config builds, what a
config change does, what a receiver pastes, and the schema of stack files, with no Pulumi
CLI, backend or Azure access."""

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from federation import config, diff, handoff, offline, picture, plan, schema

EXIT_INVALID_CONFIG = 2
EXIT_DESTRUCTIVE = 3
EXIT_WOULD_FAIL = 4


class UsageError(Exception):
    """A stack file that cannot be read; reported in one line, exit 1."""


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.command(args))
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


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
    commands = parser.add_subparsers(required=True, metavar="{plan,diff,handoff,schema}")
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
    return parser
