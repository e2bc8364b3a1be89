"""`federation` as one party of a running test exchange (tests/exchange_server.py):

    venv/bin/python -m tests.exchange_cli STATE PARTY ARGS...

runs `federation ARGS` as PARTY (coord or silo) with that party's stack file and fake
Resource Manager, and the credential the tests give directly, as `Party.cli` does in
process; so a program in another virtualenv can run it as its `federation` command. No
connection leaves 127.0.0.1, and a manifest's time is the tests' clock."""

import json
import socket
import sys
from pathlib import Path
from typing import Any

from federation import cli
from federation.config import expiry
from federation.operate import azure, rounds
from tests.clock import CLOCK
from tests.fake_storage import Credential
from tests.operate_support import options


def only_local() -> None:
    """Every connection to an address other than 127.0.0.1 refused, as the tests' `outside`
    fixture does (a credential that was not injected would try 169.254.169.254)."""
    connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        if isinstance(address, tuple) and address[0] != "127.0.0.1":
            raise ConnectionRefusedError(f"the test exchange refused a connection to {address}")
        return connect(self, address)

    socket.socket.connect = guarded  # type: ignore[method-assign,assignment]


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print("usage: python -m tests.exchange_cli STATE PARTY ARGS...", file=sys.stderr)
        return 2
    state = json.loads(Path(argv[0]).read_text())
    words = state["parties"][argv[1]]
    only_local()
    rounds.now = lambda: CLOCK
    expiry.now = lambda: CLOCK
    ca_file = Path(state["ca_file"])
    return cli.main([*argv[2:], *words], Credential(), options(ca_file), azure.Limits(connect=5, read=5))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
