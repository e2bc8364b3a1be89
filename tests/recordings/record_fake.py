"""Record each Azure command against tests/fake_arm.py into tests/recordings/, and a
training round's commands (publish, sync --verify, verify) against the test exchange
(tests/exchange.py: the fake Resource Manager with storage accounts, and Azurite).

These recordings come from the fakes and the emulator, not from Azure: each says so in its
metadata (`source`). They prove the record-and-replay machinery end to end until a live run
(`FEDERATION_LIVE=1 pytest tests_live`, docs/live.md) records the same commands against
Azure. The round scenarios need Azurite (`.ci/run` installs it). Run from the project
directory:

    venv/bin/python -m tests.recordings.record_fake [NAME ...]
"""

import ssl
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import trustme
import yaml

from federation import cli
from federation.operate import azure
from tests import exchange, recording
from tests.clock import CLOCK
from tests.fake_arm import FakeArm, Received
from tests.fake_storage import COPY_THREAD, Azurite
from tests.operate_support import ACCOUNT, RG, SUB, UPDATES, Token, options, stack_config

HERE = Path(__file__).resolve().parent
SOURCE = (
    "tests/fake_arm.py (the project's fake Resource Manager), not Azure: recorded by tests/recordings/record_fake.py"
)
EXCHANGE_SOURCE = (
    "tests/exchange.py (the project's fake Resource Manager with storage accounts, and Azurite, the Azure "
    "Storage emulator), not Azure: recorded by tests/recordings/record_fake.py"
)
LIMITS = azure.Limits(connect=5, read=5)


def _drift(arm: FakeArm) -> None:
    """hospital-b matched by its invitation, hospital-a by email with an expiry config does
    not give, a stranger config does not invite, a past snapshot; a received subscription."""
    arm.share("training_plan")
    arm.received[UPDATES] = Received()
    arm.invite("global_model", "hospital-a", email="mlops@hospital-a.example", sentAt="2026-11-01T00:00:00Z")
    sent = arm.invite("global_model", "hospital-b", sentAt="2026-11-02T00:00:00Z")
    arm.subscribe("global_model", shared_at=sent, consumerName="fl-automation", consumerTenantName="Hospital B")
    arm.subscribe(
        "global_model",
        email="mlops@hospital-a.example",
        shared_at="2026-11-01T00:00:00Z",
        expirationDate="2028-01-01T00:00:00Z",
        consumerName="ML Ops",
        consumerTenantName="Hospital A",
    )
    arm.subscribe(
        "global_model",
        email="former@lab-x.example",
        shared_at="2026-11-25T00:00:00Z",
        consumerName="Former",
        consumerTenantName="Lab X",
    )
    arm.share("global_model").synchronizations.append(
        {
            "synchronizationId": "2f6e2a3f-5181-4ac1-a0ae-da211438a363",
            "status": "Succeeded",
            "startTime": "2026-12-02T02:00:05Z",
            "endTime": "2026-12-02T02:03:01Z",
            "consumerEmail": "mlops@hospital-a.example",
        }
    )


def _snapshot(outcome: str, message: str | None = None) -> Callable[[FakeArm], None]:
    def setup(arm: FakeArm) -> None:
        arm.share("training_plan")
        arm.received[UPDATES] = Received(outcome=outcome, polls=2, message=message)
        arm.received[UPDATES].details = [
            {"name": "update", "status": outcome, "filesWritten": 12, "sizeWritten": 48211968, "dataSetType": "Blob"}
        ]

    return setup


@dataclass(frozen=True)
class Scenario:
    """One command against a fake account set up by `setup`."""

    name: str
    command: tuple[str, ...]
    setup: Callable[[FakeArm], None]


SCENARIOS = (
    Scenario("access-check", ("access", "--check"), _drift),
    Scenario("access-json", ("access", "-o", "json"), _drift),
    Scenario("reconcile-yes", ("reconcile", "--yes"), _drift),
    Scenario("revoke-participant", ("revoke", "global_model", "hospital-a", "--yes"), _drift),
    Scenario("sync-wait", ("sync", UPDATES, "--wait"), _snapshot("Succeeded")),
    Scenario("sync-wait-failed", ("sync", UPDATES, "--wait"), _snapshot("Failed", "5006 missing permissions")),
)


# A training round: three tiny text files. Storage's traffic is recorded with its bodies,
# and a replay hashes the files it reads again, so a recorded round is text (binary bodies
# are not recorded).
ROUND = "round-1"
ROUND_FILES = {
    f"{ROUND}/config.json": '{"layers": 2, "hidden": 8}\n',
    f"{ROUND}/weights.txt": "0.125 -0.5 0.25 0.75\n",
    f"{ROUND}/tokenizer/vocab.txt": "a\nb\nc\n",
}
PUBLISH = ("publish", "global_model", ROUND, "--from", f"{recording.FILES}/{ROUND}")
SYNC_VERIFY = ("sync", "global_model", "--verify", ROUND)
COORDINATOR, PARTICIPANT = "coordinator", "participant"


@dataclass(frozen=True)
class RoundScenario:
    """One command of a training round, run as `party` of a fresh exchange once the steps
    `before` (each party and command) have run, unrecorded."""

    name: str
    party: str
    command: tuple[str, ...]
    before: tuple[tuple[str, tuple[str, ...]], ...] = ()


ROUND_SCENARIOS = (
    RoundScenario("publish", COORDINATOR, PUBLISH),
    RoundScenario("sync-verify", PARTICIPANT, SYNC_VERIFY, ((COORDINATOR, PUBLISH),)),
    RoundScenario(
        "verify", PARTICIPANT, ("verify", "global_model", ROUND), ((COORDINATOR, PUBLISH), (PARTICIPANT, SYNC_VERIFY))
    ),
)


def clock() -> AbstractContextManager[None]:
    """The tests' clock for expiry warnings and a round's publishedAt, as the suite reads it:
    recordings replay on any date."""
    return recording.clock_at(CLOCK)


@contextmanager
def fake(ca: trustme.CA) -> Iterator[FakeArm]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with FakeArm(context, SUB, RG, ACCOUNT) as arm:
        yield arm


def record_scenario(
    scenario: Scenario, cassette: Path, arm: FakeArm, ca_file: Path, work: Path
) -> tuple[recording.Outcome, recording.Sanitizer]:
    """Run one scenario's command against a running fake, recording into `cassette`; the
    raw outcome (not sanitized) and the sanitizer, which knows the placeholders."""
    scenario.setup(arm)
    values = stack_config()
    stack_file = work / "Pulumi.test.yaml"
    stack_file.write_text(yaml.safe_dump({"config": values}))
    parsed = recording.stack_config(stack_file)
    sanitizer = recording.Sanitizer(arm.url)
    sanitizer.seed(parsed)
    sanitizer.learn("guid", SUB)
    argv = [*scenario.command, "--config", str(stack_file), "--subscription", SUB, "--endpoint", arm.url]
    with clock(), recording.record(cassette, sanitizer) as kept:
        outcome = recording.run_cli(lambda: cli.main(argv, Token(), options(ca_file), LIMITS))
        recording.describe(
            kept,
            sanitizer,
            source=SOURCE,
            command=list(scenario.command),
            stack=recording.replayable_stack(values, parsed),
            subscription=SUB,
            clock=CLOCK,
            outcome=outcome,
        )
    if arm.violations:
        raise RuntimeError(f"{scenario.name}: requests the fake refused: {arm.violations}")
    return outcome, sanitizer


def _run(party: exchange.Party, command: tuple[str, ...], files: Path) -> recording.Outcome:
    words = [word.replace(recording.FILES, str(files)) for word in command]
    return recording.run_cli(lambda: cli.main(party.words(*words), party.credential, options(party.ca_file), LIMITS))


def record_round(
    scenario: RoundScenario, cassette: Path, found: exchange.Exchange, work: Path
) -> tuple[recording.Outcome, recording.Sanitizer]:
    """Run one round scenario on a fresh exchange, recording its command into `cassette`:
    Resource Manager's traffic and storage's; the raw outcome and the sanitizer."""
    files = recording.write_files(ROUND_FILES, work / "files")
    party: exchange.Party = getattr(found, scenario.party)
    other = found.participant if party is found.coordinator else found.coordinator
    parsed = recording.stack_config(party.stack)
    # Only the command's requests: the fake's snapshot copies blobs on a thread of its own.
    sanitizer = recording.Sanitizer(party.arm.url, unrecorded_threads=frozenset({COPY_THREAD}))
    sanitizer.name_host(urlsplit(found.azurite.url).netloc, recording.BLOB_HOST)
    # Both parties' names, the command's own first: either may show in what storage says.
    for each in (party, other):
        sanitizer.seed(recording.stack_config(each.stack))
        sanitizer.learn("guid", each.subscription)
    with clock():
        for who, command in scenario.before:
            done = _run(getattr(found, who), command, files)
            if done.code != 0:
                raise RuntimeError(f"{scenario.name}: {' '.join(command)} exited {done.code}: {done.stderr}")
        with recording.record(cassette, sanitizer) as kept:
            outcome = _run(party, scenario.command, files)
            recording.describe(
                kept,
                sanitizer,
                source=EXCHANGE_SOURCE,
                command=list(scenario.command),
                stack=recording.replayable_stack(party.config, parsed),
                subscription=party.subscription,
                clock=CLOCK,
                outcome=outcome,
                files=ROUND_FILES if any(recording.FILES in word for word in scenario.command) else None,
            )
    return outcome, sanitizer


@contextmanager
def azurite(ca: trustme.CA, ca_file: Path, work: Path) -> Iterator[Azurite]:
    where = work / "azurite"
    where.mkdir()
    server = exchange.azurite_for(ca, ca_file, where).start()
    try:
        yield server
    finally:
        server.stop()


def main(names: list[str]) -> int:
    known = [s.name for s in SCENARIOS] + [s.name for s in ROUND_SCENARIOS]
    unknown = sorted(set(names) - set(known))
    if unknown:
        print(f"unknown scenarios: {', '.join(unknown)} (known: {', '.join(known)})")
        return 2
    ca = trustme.CA()
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        ca_file = work / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        for scenario in SCENARIOS:
            if names and scenario.name not in names:
                continue
            path = HERE / f"{scenario.name}.json"
            with fake(ca) as arm:
                outcome, _ = record_scenario(scenario, path, arm, ca_file, work)
            print(f"{path.relative_to(HERE.parent.parent)}: exit {outcome.code}")
        rounds = [s for s in ROUND_SCENARIOS if not names or s.name in names]
        if rounds:
            with azurite(ca, ca_file, work) as server:
                for index, each in enumerate(rounds):
                    path = HERE / f"{each.name}.json"
                    scratch = work / f"round-{index}"
                    scratch.mkdir()
                    with exchange.opened(server, ca, ca_file, scratch) as found:
                        outcome, _ = record_round(each, path, found, scratch)
                    print(f"{path.relative_to(HERE.parent.parent)}: exit {outcome.code}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
