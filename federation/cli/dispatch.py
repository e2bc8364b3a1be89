"""`federation`: read the command line, run the command, and turn what it refuses into one
line and its exit code, never a traceback."""

import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from federation import exits
from federation.cli import parser, reviewing, stacks
from federation.cli.errors import InvalidError, MissingSendersError, UnknownError, UsageError
from federation.config import stackfile

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

    from federation.operate.azure import Limits

COMMANDS = {
    "plan": reviewing.plan_command,
    "diff": reviewing.diff_command,
    "handoff": reviewing.handoff_command,
    "schema": reviewing.schema_command,
    "check": reviewing.check_command,
}


def run(
    argv: list[str] | None,
    credential: "TokenCredential | None",
    options: Mapping[str, Any] | None,
    limits: "Limits | None",
) -> int:
    """Run a command, as `federation.cli.main` says."""
    words = parser.build(dict(COMMANDS))
    args = words.parse_args(argv)
    parser.settle(words, args)
    try:
        if not args.online:
            return int(args.command(args))
        stack_config, settings = stacks.live(args)
        # The Azure SDK only for the commands that use it: offline commands start sooner.
        from federation.cli import operating

        return operating.run(args, stack_config, settings, credential, options, limits)
    except (UsageError, stackfile.StackFileError) as error:
        print(f"error: {error}", file=sys.stderr)
        return exits.UNREADABLE
    except InvalidError as error:
        print(error, file=sys.stderr)
        return exits.INVALID_CONFIG
    except UnknownError as error:
        print(f"error: {error}", file=sys.stderr)
        return exits.INVALID_CONFIG
    except MissingSendersError as error:
        print(error, file=sys.stderr)
        return exits.NO_SENDER_OUTPUTS
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return exits.INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`| head`): nothing more to say, and nothing left to flush.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return exits.UNREADABLE
