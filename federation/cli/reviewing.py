"""The offline commands, for review where no cloud access exists: `plan` (what a stack
config builds), `diff` (what a config change does), `handoff` (what a receiver pastes),
`schema` (of stack files), `check` (the policy pack)."""

import argparse
import shlex
import sys
from pathlib import Path

from federation import exits
from federation.cli import parser, stacks
from federation.cli.errors import InvalidError, UnknownError
from federation.config import schema, stackfile
from federation.review import comment, diff, handoff, offline, picture, plan


def plan_command(args: argparse.Namespace) -> int:
    shown, stack_file, stack = stacks.named(args)
    stack_file = stacks.with_config_json(args.config_json, shown, stack_file, stack)
    senders = stacks.senders(args.outputs)
    run = stacks.run(shown, stack_file, stack, senders)
    warn(run)
    if args.output in ("mermaid", "markdown"):
        flows = picture.mermaid(picture.of(stacks.parse(stack_file, stack)), stack)
        if args.output == "mermaid":
            sys.stdout.write(flows)
        else:
            words = f"{parser.program_name()} plan {_stack_words(args, stack)}"
            whole = f"`{words} -o text` prints the whole plan, never cut: a pull-request job keeps it as an artifact."
            mermaid = comment.mermaid(flows, f"`{words} -o mermaid` prints it.")
            sys.stdout.write(markdown(plan.markdown_parts(run, stack), run, mermaid, whole))
    else:
        sys.stdout.write(plan.render_json(run) if args.output == "json" else plan.render_text(run, stack))
    return exits.OK


def diff_command(args: argparse.Namespace) -> int:
    base_file, head_file = stacks.read(args.base), stacks.read(args.head)
    # One stack name for both sides, so the same resource has the same URN in both: the
    # base's, the stack as it is deployed, unless named.
    stack = args.stack or base_file.stack
    base_file, head_file = stacks.with_environments(args.config_json, args.base_config_json, base_file, head_file)
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
        words = f"{parser.program_name()} diff {_quoted(args.base)} {_quoted(args.head)}"
        if args.stack:
            words += f" -s {_quoted(args.stack)}"
        whole = f"`{words} -o text` prints the whole diff, never cut: a pull-request job keeps it as an artifact."
        sys.stdout.write(markdown(diff.markdown_parts(change, stack), head, comment.mermaid(flows), whole))
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
    # The real values, as the engine judges them: nothing stands in for a secret.
    stack_file = stacks.with_config_json(args.config_json, shown, stack_file, stack)
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
    if args.output == "markdown":
        words = f"{parser.program_name()} check {_stack_words(args, stack)}"
        whole = f"`{words} -o text` prints the whole check, never cut: a pull-request job keeps it as an artifact."
        sys.stdout.write(check.render_markdown(violations, stack, settings, whole, run.warnings))
    else:
        sys.stdout.write(
            {"text": check.render_text, "json": check.render_json}[args.output](violations, stack, settings)
        )
    return exits.POLICY if check.mandatory(violations) else exits.OK


def warn(run: offline.Run) -> None:
    for message in run.warnings:
        print(f"warning: {message}", file=sys.stderr)


def markdown(
    parts: tuple[list[comment.Part], list[comment.Part]], run: offline.Run, flows: comment.Block, whole: str
) -> str:
    """A plan or diff as one pull-request comment: its summary (and what would fail), the
    program's warnings, the picture of the data flows, then the details folded; cut to
    what GitHub takes, saying what was left out and where the whole is."""
    summary, details = parts
    warnings = comment.items("Warnings", run.warnings, "warnings")
    return comment.fit([*summary, warnings, flows, *details], whole)


def _stack_words(args: argparse.Namespace, stack: str) -> str:
    """How the command named its stack, to name it again."""
    return f"--config {_quoted(args.config)}" if args.config else _quoted(stack)


def _quoted(word: str) -> str:
    """A word as a shell reads it back, shortened if very long."""
    return shlex.quote(stackfile.show_name(word, 200))
