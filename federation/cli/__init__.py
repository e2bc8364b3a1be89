"""The command line: `parser` (its words), `stacks` (what it reads), `reviewing` (the
offline commands), `operating` (the Azure commands, loaded only for them), `dispatch`
(runs one). This module stays light: Ctrl-C while the rest loads is an interruption too."""

import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from federation import exits

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

    from federation.operate.azure import Limits

__all__ = ["main"]


def main(
    argv: list[str] | None = None,
    credential: "TokenCredential | None" = None,
    options: Mapping[str, Any] | None = None,
    limits: "Limits | None" = None,
) -> int:
    """Run a command. Azure commands connect with `credential` when given (tests), else
    with DefaultAzureCredential; `options` are client transport settings, `limits` the
    deadlines (default: Limits())."""
    try:
        from federation.cli import dispatch

        return dispatch.run(argv, credential, options, limits)
    except KeyboardInterrupt:  # while loading, or reading the words
        print("interrupted", file=sys.stderr)
        return exits.INTERRUPTED
