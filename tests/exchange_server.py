"""The test exchange (tests/exchange.py) as a process of its own, for a test that runs in
another virtualenv: the Flower example's, whose flwr cannot share this project's.

    venv/bin/python -m tests.exchange_server STATE

starts Azurite and both parties' fake Resource Managers, writes STATE (JSON: the CA file,
each party's words for `federation`, each storage account's blob endpoint and a storage
token Azurite takes), prints `ready`, and runs until its standard input closes. It exits
non-zero if Azurite is missing or the fakes saw a request the APIs do not accept. Commands
run against it with `python -m tests.exchange_cli STATE PARTY ARGS...`."""

import json
import sys
import tempfile
from pathlib import Path

import trustme

from tests.exchange import COORDINATOR_STORAGE, PARTICIPANT_STORAGE, azurite_for, opened
from tests.exchange_cli import only_local
from tests.fake_storage import AzuriteMissingError, storage_token


def main(state: Path) -> int:
    only_local()
    ca = trustme.CA()
    with tempfile.TemporaryDirectory(prefix="exchange-") as tmp:
        root = Path(tmp)
        ca_file = root / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        (root / "work").mkdir()
        accounts = [COORDINATOR_STORAGE, PARTICIPANT_STORAGE]
        azurite = azurite_for(ca, ca_file, root)
        try:
            azurite.start()
        except AzuriteMissingError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        try:
            with opened(azurite, ca, ca_file, root / "work") as exchange:
                parties = {"coord": exchange.coordinator, "silo": exchange.participant}
                written = {
                    "ca_file": str(ca_file),
                    "parties": {name: party.words() for name, party in parties.items()},
                    "blob_endpoints": {account: azurite.endpoint(account) for account in accounts},
                    "storage_token": storage_token(),
                }
                # Written whole, then renamed: a reader never sees half a file.
                partial = state.with_name(state.name + ".partial")
                partial.write_text(json.dumps(written, indent=2))
                partial.replace(state)
                print("ready", flush=True)
                sys.stdin.read()  # until the test closes it, or ends
        finally:
            azurite.stop()
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m tests.exchange_server STATE")
    sys.exit(main(Path(sys.argv[1])))
