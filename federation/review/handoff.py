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

from federation.config import NAMESPACE, PLACEHOLDER, Config, Location, Share, naming
from federation.program import datasets, exports


class HandoffError(Exception):
    """The handoff cannot be made: a participant invited to nothing, or outputs lacking an
    id, holding something else than an id, or of another stack."""


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


def render(config: Config, stack: str, participant: str, ids: Ids) -> str:
    """The YAML to paste, with comments saying where each id comes from and what to fill in."""
    ids.check(config, stack)
    shares = invited_to(config, participant)
    if not shares:
        raise HandoffError(f"{participant} is invited to no share of stack {stack}")
    lines = [
        f"# Shares stack {stack} sends to {participant}. Paste under `config:` in {participant}'s stack file",
        f'# (merged with any {NAMESPACE}:subscriptions there), and replace each "{PLACEHOLDER} ..." with where',
        "# the data lands: a storage key and container (and folder or file) of that stack.",
    ]
    if ids.stand_ins:
        lines += [
            "# The ids are STAND-INS from an offline run under mocks, not the sender's: pass --outputs",
            "# with the sender's `pulumi stack output --json` for the real ones.",
        ]
    lines.append(f"{NAMESPACE}:subscriptions:")
    for name in shares:
        share = config.shares[name]
        stand_in = "  # stand-in" if ids.stand_ins else ""
        lines += [
            f"  {name}:",
            f"    invitationId: {_quote(ids.get(name, 'invitations', participant))}{stand_in}",
            f"    sourceLocation: {_quote(config.location)}",
        ]
        expires = share.expiry_for(config.participants[participant])
        if expires is not None:
            lines.append(f"    expires: {_quote(expires)}")
        lines.append("    datasets:")
        for key, location in sorted(share.datasets.items()):
            lines.append(f"      # {_describe(config, key, location)}")
            lines.append(f"      {_quote(ids.get(name, 'datasets', key))}: {_target(location)}{stand_in}")
        lines += _schedule(share)
    return "\n".join(lines) + "\n"


def _describe(config: Config, key: str, location: Location) -> str:
    """The sender's dataset: its name, kind and where it sits there."""
    stem, kind = datasets.kind(location, config.storage[location.storage].hns)
    return f"{key}: {kind} ({stem}), {location.path} in the sender's storage {location.storage}"


def _target(location: Location) -> str:
    """Placeholders of the same form as the sender's dataset: a folder lands in a folder."""
    fields = {"storage": f"{PLACEHOLDER} a storage key", "container": f"{PLACEHOLDER} a container"}
    if location.folder is not None:
        fields["folder"] = f"{PLACEHOLDER} a folder"
    if location.file is not None:
        fields["file"] = f"{PLACEHOLDER} a file path"
    return "{" + ", ".join(f"{k}: {_quote(v)}" for k, v in fields.items()) + "}"


def _schedule(share: Share) -> list[str]:
    if share.schedule is None:
        return []
    every = share.schedule.recurrence
    return [
        f"    # The sender snapshots every {every.lower()} from {share.schedule.start}; to copy each in:",
        f"    # schedule: {{recurrence: {every}, start: <a time after the snapshot>, mode: Incremental}}",
    ]


def _quote(value: str) -> str:
    """A YAML string: JSON's double-quoted form is valid YAML."""
    return json.dumps(value)
