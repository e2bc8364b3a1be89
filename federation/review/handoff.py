"""What a receiver pastes into its stack file to accept a sender's shares: one
`federation:subscriptions` entry per share it is invited to, with the sender's invitation
and dataset ids, and placeholders for where the data lands there.

Used where the receiver cannot read the sender's stack (another Pulumi backend); under one
backend, a subscription's `from` reads the same ids itself.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from federation.config import NAMESPACE, PLACEHOLDER, Config, Location, naming
from federation.program import datasets, exports


class HandoffError(Exception):
    """The handoff cannot be made: a participant invited to nothing, or outputs lacking an
    id, holding something else than an id, giving two datasets one id, holding a dataset
    config lacks, or of another stack."""


@dataclass(frozen=True)
class Ids:
    """The sender's ids, from its stack outputs; stand-ins when those come from an offline run."""

    outputs: Mapping[str, Any]
    stand_ins: bool

    def get(self, *path: str) -> str:
        """The GUID at `shares.<path>`: an invitation's or a dataset's id, as Data Share gives it."""
        where = ".".join((exports.SHARES, *path))
        value: Any = self.outputs.get(exports.SHARES)
        for key in path:
            if not isinstance(value, Mapping) or key not in value:
                raise HandoffError(f"the sender's outputs have no {where}")
            value = value[key]
        if not isinstance(value, str) or not naming.GUID.accepts(value):
            shown = json.dumps(value, default=str)
            shown = shown if len(shown) <= 80 else f"{shown[:60]}… ({len(shown):,} characters)"
            raise HandoffError(f"the sender's outputs at {where}: must be {naming.GUID.says}; got {shown}")
        return value

    def names(self, *path: str) -> list[str]:
        """The keys at `shares.<path>` (a share's dataset names), none where there is no map."""
        value: Any = self.outputs.get(exports.SHARES)
        for key in path:
            value = value.get(key) if isinstance(value, Mapping) else None
        return sorted(str(key) for key in value) if isinstance(value, Mapping) else []

    def check(self, sender: Config, stack: str) -> None:
        """Refuse outputs whose Data Share account is not the sender's: another stack's ids
        would subscribe the receiver to shares it was never meant to see."""
        account = self.outputs.get(exports.ACCOUNT_NAME, sender.account_name)
        # Azure resource names are case-insensitive.
        if not isinstance(account, str) or account.lower() != sender.account_name.lower():
            raise HandoffError(
                f"the outputs are another stack's: their {exports.ACCOUNT_NAME} is {json.dumps(account, default=str)}, "
                f"stack {stack}'s is {json.dumps(sender.account_name)}"
            )


def invited_to(config: Config, participant: str) -> list[str]:
    return [name for name in sorted(config.shares) if participant in config.invited(config.shares[name])]


@dataclass(frozen=True)
class Handoff:
    """What a receiver pastes: per share it is invited to, its subscription entry; and for
    the comments, what each dataset is and when the sender snapshots."""

    stack: str
    participant: str
    stand_ins: bool
    subscriptions: Mapping[str, Mapping[str, Any]]
    datasets: Mapping[str, str]  # dataset id -> what it is at the sender
    snapshots: Mapping[str, tuple[str, str]]  # share -> (recurrence, start)


def make(config: Config, stack: str, participant: str, ids: Ids) -> Handoff:
    ids.check(config, stack)
    shares = invited_to(config, participant)
    if not shares:
        raise HandoffError(f"{participant} is invited to no share of stack {stack}")
    subscriptions: dict[str, dict[str, Any]] = {}
    described: dict[str, str] = {}
    seen: dict[str, str] = {}  # dataset id, case aside -> where the outputs give it
    for name in shares:
        share = config.shares[name]
        entry: dict[str, Any] = {
            "invitationId": ids.get(name, "invitations", participant),
            "sourceLocation": config.location,
        }
        expires = share.expiry_for(config.participants[participant])
        if expires is not None:
            entry["expires"] = expires
        entry["datasets"] = {}
        for key, location in sorted(share.datasets.items()):
            dataset = ids.get(name, "datasets", key)
            # One id for two datasets would leave one of them unmapped at the receiver.
            where = f"{exports.SHARES}.{name}.datasets.{key}"
            if dataset.lower() in seen:
                raise HandoffError(
                    f"the sender's outputs give {seen[dataset.lower()]} and {where} the same id, {dataset}: "
                    "Data Share gives each dataset its own"
                )
            seen[dataset.lower()] = where
            entry["datasets"][dataset] = _target(location)
            described[dataset] = _describe(config, key, location)
        # A dataset the deployed share holds and this config lacks would never be mapped,
        # and the receiver would never get its data: the two are of different versions.
        lacking = [key for key in ids.names(name, "datasets") if key not in share.datasets]
        if lacking:
            # Names as a key path shows them; others (from a hand-edited file) quoted, and only the first few.
            shown = [key if naming.KEY.accepts(key) else json.dumps(key)[:40] for key in lacking[:10]]
            more = f" and {len(lacking) - 10:,} more" if len(lacking) > 10 else ""
            raise HandoffError(
                f"the sender's outputs have datasets of share {name} that stack {stack}'s config lacks: "
                f"{', '.join(shown)}{more}; they are of another version of the stack file: deploy this one "
                "(pulumi up), then hand off with its outputs"
            )
        subscriptions[name] = entry
    snapshots = {
        name: (schedule.recurrence, schedule.start)
        for name in shares
        if (schedule := config.shares[name].schedule) is not None
    }
    return Handoff(stack, participant, ids.stand_ins, subscriptions, described, snapshots)


def render_text(handoff: Handoff) -> str:
    """The YAML to paste, with comments saying where each id comes from and what to fill in."""
    stack, participant = handoff.stack, handoff.participant
    lines = [
        f"# Shares stack {stack} sends to {participant}. Paste under `config:` in {participant}'s stack file",
        f'# (merged with any {NAMESPACE}:subscriptions there), and replace each "{PLACEHOLDER} ..." with where',
        "# the data lands: a storage key and container (and folder or file) of that stack.",
    ]
    if handoff.stand_ins:
        lines += [
            "# The ids are STAND-INS from an offline run under mocks, not the sender's: pass --outputs",
            "# with the sender's `pulumi stack output --json` for the real ones.",
        ]
    lines.append(f"{NAMESPACE}:subscriptions:")
    stand_in = "  # stand-in" if handoff.stand_ins else ""
    for name, entry in handoff.subscriptions.items():
        lines += [
            f"  {name}:",
            f"    invitationId: {_quote(entry['invitationId'])}{stand_in}",
            f"    sourceLocation: {_quote(entry['sourceLocation'])}",
        ]
        if "expires" in entry:
            lines.append(f"    expires: {_quote(entry['expires'])}")
        lines.append("    datasets:")
        for dataset, target in entry["datasets"].items():
            lines.append(f"      # {handoff.datasets[dataset]}")
            fields = ", ".join(f"{k}: {_quote(v)}" for k, v in target.items())
            lines.append(f"      {_quote(dataset)}: {{{fields}}}{stand_in}")
        if name in handoff.snapshots:
            every, start = handoff.snapshots[name]
            lines += [
                f"    # The sender snapshots every {every.lower()} from {start}; to copy each in:",
                f"    # schedule: {{recurrence: {every}, start: <a time after the snapshot>, mode: Incremental}}",
            ]
    return "\n".join(lines) + "\n"


def render_markdown(handoff: Handoff) -> str:
    """For a message or an issue to the receiver: what to do, then the YAML."""
    head = (
        f"**Handoff from `{handoff.stack}` to `{handoff.participant}`**: paste the block under `config:` in "
        f"{handoff.participant}'s stack file and fill in each `{PLACEHOLDER}` with where the data lands there."
    )
    if handoff.stand_ins:
        head += " **The ids are stand-ins** from an offline run: make it again with `--outputs` for the real ones."
    return f"{head}\n\n```yaml\n{render_text(handoff)}```\n"


def render_json(handoff: Handoff) -> str:
    """The same as data: `config` is what the receiver's stack file gets under `config:`."""
    document = {
        "stack": handoff.stack,
        "participant": handoff.participant,
        "standIns": handoff.stand_ins,
        "config": {f"{NAMESPACE}:subscriptions": handoff.subscriptions},
        "datasets": handoff.datasets,
        "senderSnapshots": {k: {"recurrence": r, "start": t} for k, (r, t) in handoff.snapshots.items()},
    }
    return json.dumps(document, indent=2) + "\n"


def _describe(config: Config, key: str, location: Location) -> str:
    """The sender's dataset: its name, kind and where it sits there."""
    stem, kind = datasets.kind(location, config.storage[location.storage].hns)
    return f"{key}: {kind} ({stem}), {location.path} in the sender's storage {location.storage}"


def _target(location: Location) -> dict[str, str]:
    """Placeholders of the same form as the sender's dataset: a folder lands in a folder."""
    fields = {"storage": f"{PLACEHOLDER} a storage key", "container": f"{PLACEHOLDER} a container"}
    if location.folder is not None:
        fields["folder"] = f"{PLACEHOLDER} a folder"
    if location.file is not None:
        fields["file"] = f"{PLACEHOLDER} a file path"
    return fields


def _quote(value: str) -> str:
    """A YAML string: JSON's double-quoted form is valid YAML."""
    return json.dumps(value)
