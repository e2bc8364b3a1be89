"""Record each Azure command against tests/fake_arm.py into tests/recordings/.

These recordings come from the fake, not from Azure: each says so in its metadata
(`source`). They prove the record-and-replay machinery end to end until a live run
(`FEDERATION_LIVE=1 pytest tests_live`, docs/live.md) records the same commands against
Azure. Run from the project directory:

    venv/bin/python -m tests.recordings.record_fake [NAME ...]
"""

import ssl
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import trustme
import yaml

from federation import cli
from federation.config import expiry
from federation.operate import azure
from tests import recording
from tests.clock import CLOCK
from tests.fake_arm import FakeArm, Received
from tests.operate_support import ACCOUNT, RG, SUB, UPDATES, Token, options, stack_config

HERE = Path(__file__).resolve().parent
SOURCE = (
    "tests/fake_arm.py (the project's fake Resource Manager), not Azure: recorded by tests/recordings/record_fake.py"
)


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


@contextmanager
def clock() -> Iterator[None]:
    """The tests' clock for expiry warnings, as the suite reads it: recordings replay on any date."""
    saved = expiry.now
    expiry.now = lambda: CLOCK
    try:
        yield
    finally:
        expiry.now = saved


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
    limits = azure.Limits(connect=5, read=5)
    with clock(), recording.record(cassette, sanitizer) as kept:
        outcome = recording.run_cli(lambda: cli.main(argv, Token(), options(ca_file), limits))
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


def main(names: list[str]) -> int:
    chosen = [s for s in SCENARIOS if not names or s.name in names]
    unknown = sorted(set(names) - {s.name for s in SCENARIOS})
    if unknown:
        print(f"unknown scenarios: {', '.join(unknown)} (known: {', '.join(s.name for s in SCENARIOS)})")
        return 2
    ca = trustme.CA()
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        ca_file = work / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        for scenario in chosen:
            path = HERE / f"{scenario.name}.json"
            path.unlink(missing_ok=True)
            with fake(ca) as arm:
                outcome, _ = record_scenario(scenario, path, arm, ca_file, work)
            print(f"{path.relative_to(HERE.parent.parent)}: exit {outcome.code}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
