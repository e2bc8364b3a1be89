"""The command line: `parser` (its words), `stacks` (what it reads), `reviewing` (the
offline commands), `operating` (the Azure commands, loaded only for them), `main`."""

from federation.cli.main import main

__all__ = ["main"]
