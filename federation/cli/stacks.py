"""The stacks a command reads: a stack file by name or path (or from git), its config
checked whole, the outputs of the stacks it receives from, and for the Azure commands and
`check` its real config with secrets (`pulumi config --json --show-secrets`)."""

import argparse
import dataclasses
import json
import shlex
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from federation import config
from federation.cli.errors import InvalidError, MissingSendersError, UnknownError, UsageError
from federation.config import stackfile
from federation.review import offline


def named(args: argparse.Namespace) -> tuple[str, stackfile.StackFile, str]:
    """The stack file a command reads, as shown in messages, and the stack's name:
    --config, or Pulumi.<STACK>.yaml (default dev) beside the nearest Pulumi.yaml."""
    if args.config:
        path = Path(args.config)
    else:
        path = stackfile.stack_file_path(args.stack or "dev")
        _refuse_missing(path, args.stack or "dev")
    stack_file = read(str(path))
    return stackfile.show_name(str(path)), stack_file, args.stack or stack_file.stack


def _refuse_missing(path: Path, stack: str) -> None:
    """A stack name with no stack file, refused with what was likely meant: a file name
    given where a stack name goes (--config takes it), or one of the stacks that are here."""
    try:
        if path.is_file():
            return
    except OSError:
        return  # read() says why in one line
    word = stackfile.show_name(stack)
    if stack.lower().endswith((".yaml", ".yml")):
        name = Path(stack).name
        named = name.removeprefix("Pulumi.").removesuffix(".yaml").removesuffix(".yml")
        other = f", or the stack's name ({named})" if name != named and stackfile.sibling_file(named) else ""
        hint = f"give the file with --config {shlex.quote(word)}{other}"
        raise UsageError(f"{word} is a file name where a stack name goes: {hint}")
    stacks = sorted(f.name.removeprefix("Pulumi.").removesuffix(".yaml") for f in path.parent.glob("Pulumi.*.yaml"))
    listed = ", ".join(stacks[:20]) + (f" and {len(stacks) - 20} more" if len(stacks) > 20 else "")
    raise UsageError(
        f"no stack file {stackfile.show_name(str(path))} for stack {word}; "
        + (f"the stacks there are {listed}" if stacks else "there are no stack files there")
        + " (a stack file elsewhere: --config FILE)"
    )


# What the Azure commands read of a stack's config besides names: who is invited to what,
# and until when. Stand-ins for secrets there would match, revoke and adjust wrongly.
_ACCESS_KEYS = (f"{config.NAMESPACE}:participants", f"{config.NAMESPACE}:shares")
# What the other Azure commands read: sync only names; publish where a share's data sits,
# verify where a received share's data lands.
_READS = {
    "sync": (),
    "publish": (f"{config.NAMESPACE}:shares", f"{config.NAMESPACE}:storage"),
    "verify": (f"{config.NAMESPACE}:subscriptions", f"{config.NAMESPACE}:storage"),
}
SUBSCRIPTION_KEY = f"{config.PROVIDER}:subscriptionId"
_PROVIDER_SETTINGS = (SUBSCRIPTION_KEY, f"{config.PROVIDER}:environment")


def live(args: argparse.Namespace) -> tuple[config.Config, dict[str, str]]:
    """The stack's validated config for an Azure command, and the provider settings it
    reads (azure-native:subscriptionId, azure-native:environment). Nothing runs, so the
    stacks its `from` names need no outputs here. Secrets come from --config-json, what
    `pulumi config --json --show-secrets` prints: a stack file holds only ciphertext, and
    the commands never act on stand-ins for it."""
    shown, stack_file, stack = named(args)
    valid(shown, stack_file, stack)
    if args.config_json is not None:
        values, _, real = revealed(args.config_json, shown, stack_file, stack)
        return real, {k: values[k] for k in _PROVIDER_SETTINGS if k in values}
    reads = "verify" if getattr(args, "verify", False) is not False else args.command  # sync --verify verifies
    needed = list(_READS.get(reads, _ACCESS_KEYS))
    if not args.subscription:
        needed.append(SUBSCRIPTION_KEY)
    hidden = sorted(set(needed) & stack_file.secret_keys)
    if hidden:
        raise UnknownError(
            f"{', '.join(hidden)} {'is a secret' if len(hidden) == 1 else 'are secrets'} in {shown}, which holds only "
            f"ciphertext, and {args.command} acts on no stand-in: pass the real config with "
            f"`pulumi config --json --show-secrets --stack {stack} | "
            f"federation {_words(args)} -s {stack} --config-json -`"
        )
    settings = {k: stack_file.config[k] for k in _PROVIDER_SETTINGS if k in stack_file.config}
    return parse(stack_file, stack), settings


def revealed(
    source: str, shown: str, stack_file: stackfile.StackFile, stack: str
) -> tuple[dict[str, str], frozenset[str], config.Config]:
    """The stack's real config from `--config-json source`: its values as the engine hands
    them to the program, its secret keys, and the config they make; refused unless it is
    valid and names the stack file's own Data Share account."""
    return _revealed(*config_json(source), shown, stack_file, stack)


def _revealed(
    values: dict[str, str], secret: frozenset[str], shown: str, stack_file: stackfile.StackFile, stack: str
) -> tuple[dict[str, str], frozenset[str], config.Config]:
    try:
        real = config.parse(values, stack, secret)
    except config.ConfigError as error:
        n = len(error.problems)
        raise InvalidError(
            f"--config-json: {n} problem{'s' if n > 1 else ''} in stack config:\n"
            + "\n".join(f"  {p}" for p in error.problems)
        ) from None
    from_file = parse(stack_file, stack)
    here = (from_file.resource_group, from_file.account_name)
    if (real.resource_group, real.account_name) != here:
        raise UnknownError(
            f"--config-json names account {real.account_name} in {real.resource_group}, {shown} names "
            f"{here[1]} in {here[0]}: is it another stack's config? (`pulumi config --json --show-secrets "
            f"--stack {stack}`)"
        )
    return values, secret, real


def _words(args: argparse.Namespace) -> str:
    """The command as it was given, for a hint to give it again."""
    if args.command == "revoke":
        return " ".join(["revoke", args.share, *args.targets, *(["--yes"] if args.yes else [])])
    if args.command == "publish":
        return shlex.join(["publish", args.share, args.round, "--from", args.source])
    if args.command == "verify":
        return shlex.join(["verify", args.share_subscription, *([args.round] if args.round else [])])
    return str(args.command) + (" --yes" if getattr(args, "yes", False) else "")


def config_json(source: str) -> tuple[dict[str, str], frozenset[str]]:
    """A stack's config as `pulumi config --json --show-secrets` prints it: per key its
    value (structured ones also as objectValue) and whether it is a secret; as the engine
    hands config to a program (text, structured values as JSON) and the secret keys."""
    shown = "--config-json " + stackfile.show_name(source)
    data = sys.stdin.read() if source == "-" else stackfile.read_bytes(Path(source))
    document = _json_map(shown, data, "config keys", "pulumi config --json --show-secrets")
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


def parse(stack_file: stackfile.StackFile, stack: str) -> config.Config:
    return config.parse(stack_file.config, stack, stack_file.secret_keys)


def run(shown: str, stack_file: stackfile.StackFile, stack: str, senders: Mapping[str, Any]) -> offline.Run:
    """The program under mocks, after the whole config is checked. Imported environments
    that were not read come first among its warnings, since they make the run incomplete."""
    check(shown, stack_file, stack, senders)
    run = offline.run(stack_file.config, stack, stacks=senders, secret_keys=stack_file.secret_keys)
    if run.error is not None:
        raise InvalidError(f"{shown}: {run.error}")
    if stack_file.environments:
        unread = stackfile.unread_environments(shown, stack_file.environments)
        run = dataclasses.replace(run, warnings=(unread, *run.warnings))
    return run


def with_config_json(
    source: str | None, shown: str, stack_file: stackfile.StackFile, stack: str
) -> stackfile.StackFile:
    """The stack file with the real values of `--config-json` when given: secrets and what
    imported environments give, as `pulumi config --json --show-secrets` prints them."""
    if source is None:
        return stack_file
    values, secret = config_json(source)
    # A file that imports environments is judged with what they give; alone it may lack it.
    [own] = _with_imported(values, secret, stack_file, [stack_file]) if stack_file.environments else [stack_file]
    valid(shown, own, stack)
    values, secret, _ = _revealed(values, secret, shown, own, stack)
    return dataclasses.replace(stack_file, config=values, secret_keys=secret, stand_ins=frozenset(), environments=())


def with_environments(
    head_source: str | None, base_source: str | None, base: stackfile.StackFile, head: stackfile.StackFile
) -> tuple[stackfile.StackFile, stackfile.StackFile]:
    """Both sides of a diff with what their environments give: HEAD's from `--config-json`,
    BASE's from `--base-config-json`, else from HEAD's (the environments did not change)."""
    if head_source is None and base_source is None:
        return base, head
    if head_source == base_source == "-":
        raise UsageError("--config-json and --base-config-json cannot both read stdin: give one as a file")
    opened_head = config_json(head_source) if head_source is not None else None
    if base_source is not None:
        [base] = _with_imported(*config_json(base_source), base, [base])
    elif opened_head is not None:
        [base] = _with_imported(*opened_head, head, [base])
    if opened_head is not None:
        [head] = _with_imported(*opened_head, head, [head])
    return base, head


def _with_imported(
    values: dict[str, str], secret: frozenset[str], opened: stackfile.StackFile, sides: list[stackfile.StackFile]
) -> list[stackfile.StackFile]:
    """Each side with what the environments gave the `opened` stack file (the keys of its
    opened config that its own file does not set), under the side's own keys: a stack
    file's values win over its environments'."""
    imported = {k: v for k, v in values.items() if k not in opened.config}
    return [
        dataclasses.replace(
            side,
            config=imported | side.config,
            secret_keys=side.secret_keys | (secret & imported.keys()),
            environments=(),
        )
        for side in sides
    ]


def check(shown: str, stack_file: stackfile.StackFile, stack: str, senders: Mapping[str, Any]) -> None:
    """Everything wrong with a stack file's config, all at once, before anything runs;
    then, if nothing is, senders whose outputs are missing."""
    valid(shown, stack_file, stack)
    need_senders(
        stack_file,
        senders,
        lambda name: f"give its outputs with --outputs {name}=FILE (what `pulumi stack output --json` prints for it)",
    )


def valid(shown: str, stack_file: stackfile.StackFile, stack: str) -> None:
    """Everything wrong with a stack file's config, all at once, after the warnings of
    misspelt namespaces: a misspelling is often what the problems come from."""
    problems = list(stack_file.problems)
    try:
        parse(stack_file, stack)
    except config.ConfigError as error:
        problems += error.problems
    if problems:
        n = len(problems)
        unread = [stackfile.unread_environments(shown, stack_file.environments)] if stack_file.environments else []
        raise InvalidError(
            "".join(f"warning: {message}\n" for message in [*unread, *config.ignored(stack_file.config)])
            + f"{shown}: {n} problem{'s' if n > 1 else ''} in stack config:\n"
            + "\n".join(f"  {p}" for p in problems)
        )


def need_senders(stack_file: stackfile.StackFile, senders: Mapping[str, Any], remedy: Callable[[str], str]) -> None:
    """Refuse (exit 6) when stacks `from` names have neither given outputs nor a stack file
    here: one line per subscription naming one, with `remedy` for that stack."""
    missing = [
        (stackfile.show_name(name), keys)
        for name, keys in sorted(stackfile.referenced_stacks(stack_file.config).items())
        if name not in senders and stackfile.sibling_file(name) is None
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


def read(spec: str) -> stackfile.StackFile:
    """A stack file from disk, or `REV:PATH` from git (`origin/main:Pulumi.prod.yaml`)."""
    path, shown = Path(spec), stackfile.show_name(spec)
    try:
        exists = path.is_file()
    except OSError as error:  # a name longer than the file system allows
        raise UsageError(f"cannot read {shown}: {error.strerror}") from None
    if exists:
        return stackfile.read_stack_file(path)
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
    return stackfile.read_stack_file(Path(name), shown_git.stdout)


def senders(given: list[str]) -> dict[str, Mapping[str, Any]]:
    """Stand-in outputs of sender stacks, `STACK=FILE` each."""
    senders: dict[str, Mapping[str, Any]] = {}
    for entry in given:
        name, equals, file = entry.partition("=")
        if not equals or not name or not file:
            raise UsageError(f"--outputs {stackfile.show_name(entry)}: expected STACK=FILE")
        source = f"--outputs {stackfile.show_name(entry)}: {stackfile.show_name(file)}"
        senders[name] = stack_outputs(source, stackfile.read_bytes(Path(file)))
    return senders


def stack_outputs(source: str, data: bytes | str) -> dict[str, Any]:
    """A stack's outputs as `pulumi stack output --json` prints them; `source` names where
    they came from in messages."""
    return _json_map(source, data, "stack outputs", "pulumi stack output --json")


def _json_map(source: str, data: bytes | str, what: str, command: str) -> dict[str, Any]:
    """A JSON object that `command` prints, or one line saying it is not one."""
    try:
        found = json.loads(data)
    except (ValueError, RecursionError):
        raise UsageError(f"{source} is not JSON (what `{command}` prints)") from None
    if not isinstance(found, dict):
        raise UsageError(f"{source} is not a map of {what} (what `{command}` prints)")
    return found
