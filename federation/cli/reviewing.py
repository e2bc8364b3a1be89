"""The offline commands, for review where no cloud access exists: `plan` (what a stack
config builds), `diff` (what a config change does), `handoff` (what a receiver pastes),
`schema` (of stack files), `check` (the policy pack)."""

import argparse
import dataclasses
import sys
from pathlib import Path

from federation import exits
from federation.cli import stacks
from federation.cli.errors import InvalidError, UnknownError
from federation.config import schema, stackfile
from federation.review import diff, handoff, offline, picture, plan


def plan_command(args: argparse.Namespace) -> int:
    shown, stack_file, stack = stacks.named(args)
    senders = stacks.senders(args.outputs)
    run = stacks.run(shown, stack_file, stack, senders)
    warn(run)
    if args.output in ("mermaid", "markdown"):
        flows = picture.mermaid(picture.of(stacks.parse(stack_file, stack)), stack)
        sys.stdout.write(flows if args.output == "mermaid" else markdown(plan.render_markdown(run, stack), run, flows))
    else:
        sys.stdout.write(plan.render_json(run) if args.output == "json" else plan.render_text(run, stack))
    return exits.OK


def diff_command(args: argparse.Namespace) -> int:
    base_file, head_file = stacks.read(args.base), stacks.read(args.head)
    # One stack name for both sides, so the same resource has the same URN in both: the
    # base's, the stack as it is deployed, unless named.
    stack = args.stack or base_file.stack
    senders = stacks.senders(args.outputs)
    for spec, stack_file in ((args.base, base_file), (args.head, head_file)):
        stacks.check(stackfile.show_name(spec), stack_file, stack, senders)
    base, head = (
        stacks.run(stackfile.show_name(s), f, stack, senders)
        for s, f in ((args.base, base_file), (args.head, head_file))
    )
    warn(head)
    change = diff.compare(base, head)
    if args.output == "markdown":
        base_flows, head_flows = (picture.of(stacks.parse(f, stack)) for f in (base_file, head_file))
        flows = picture.mermaid(picture.compare(base_flows, head_flows, change), stack)
        sys.stdout.write(markdown(diff.render_markdown(change, stack), head, flows))
    else:
        sys.stdout.write(diff.render_json(change) if args.output == "json" else diff.render_text(change, stack))
    if change.fail:
        return exits.PROBLEMS
    return exits.DESTRUCTIVE if args.fail_on_delete and change.destructive else exits.OK


def handoff_command(args: argparse.Namespace) -> int:
    shown, stack_file, stack = stacks.named(args)
    stacks.valid(shown, stack_file, stack)
    sender = stacks.parse(stack_file, stack)
    if args.participant not in sender.participants:
        known = ", ".join(sorted(sender.participants)) or "none"
        raise UnknownError(f"{args.participant} is not a participant of stack {stack} (known: {known})")
    if args.outputs is not None:
        # The ids are the file's: nothing runs, so the stacks this one receives from do not matter.
        text = sys.stdin.read() if args.outputs == "-" else stackfile.read_bytes(Path(args.outputs))
        ids = handoff.Ids(stacks.stack_outputs(stackfile.show_name(args.outputs), text), stand_ins=False)
    else:
        # Stand-in ids need this stack run offline, and that needs what its `from` reads.
        stacks.need_senders(
            stack_file,
            {},
            lambda name: (
                f"running stack {stack} offline for stand-in ids needs it: give stack {stack}'s own "
                f"outputs with --outputs FILE (what `pulumi stack output --json --stack {stack}` prints)"
            ),
        )
        ids = handoff.Ids(stacks.run(shown, stack_file, stack, {}).outputs, stand_ins=True)
    try:
        made = handoff.make(sender, stack, args.participant, ids)
    except handoff.HandoffError as error:
        raise UnknownError(str(error)) from None
    render = {"text": handoff.render_text, "markdown": handoff.render_markdown, "json": handoff.render_json}
    sys.stdout.write(render[args.output](made))
    return exits.OK


def schema_command(args: argparse.Namespace) -> int:
    sys.stdout.write(schema.render())
    return exits.OK


def check_command(args: argparse.Namespace) -> int:
    # The policy SDK and jsonschema only for this command.
    from federation.review import check

    shown, stack_file, stack = stacks.named(args)
    if args.config_json is not None:
        # The real values, as the engine judges them: nothing stands in for a secret.
        stacks.valid(shown, stack_file, stack)
        values, secret, _ = stacks.revealed(args.config_json, shown, stack_file, stack)
        stack_file = dataclasses.replace(stack_file, config=values, secret_keys=secret, stand_ins=frozenset())
    run = stacks.run(shown, stack_file, stack, stacks.senders(args.outputs))
    source = Path(args.policy_config) if args.policy_config else check.default_config()
    try:
        settings = check.read_config(source)
    except check.PolicyConfigError as error:
        where = stackfile.show_name(str(source))
        n = len(error.problems)
        raise InvalidError(
            f"{where}: {n} problem{'s' if n > 1 else ''} in policy config:\n"
            + "\n".join(f"  {p}" for p in error.problems)
        ) from None
    warn(run)
    for name in settings.unknown:
        print(f"warning: the policy config names {name}, which is no policy of the pack", file=sys.stderr)
    violations = check.evaluate(run, settings, stack_file.stand_ins)
    render = {"text": check.render_text, "markdown": check.render_markdown, "json": check.render_json}
    sys.stdout.write(render[args.output](violations, stack, settings))
    return exits.POLICY if check.mandatory(violations) else exits.OK


def warn(run: offline.Run) -> None:
    for message in run.warnings:
        print(f"warning: {message}", file=sys.stderr)


def markdown(body: str, run: offline.Run, flows: str) -> str:
    """A plan or diff for a pull request: the program's warnings first, where reviewers
    look, then the resources, then the picture of the data flows."""
    warnings = ["**Warnings**:", "", *(f"- {message}" for message in run.warnings), ""] if run.warnings else []
    return "\n".join([*warnings, body, "#### Data flows", "", picture.fenced(flows)])
