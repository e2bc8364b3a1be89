"""Expiry warnings: invitations and subscriptions past or near their expiry are named,
by the program (the engine receives them) and by the command line; they stay valid config."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from federation import cli, config
from federation.config import expiry, stackfile
from tests.support import base, run_ok

# hospital-b's own expiry; the share expires later.
PARTICIPANT_EXPIRES = datetime(2027, 3, 31, tzinfo=UTC)
SHARE_EXPIRES = datetime(2027, 6, 30, tzinfo=UTC)


def with_subscription(expires: str) -> dict[str, Any]:
    stack = base()
    stack["federation:subscriptions"] = {
        "updates": {
            "invitationId": "0d9e4c3b-7a61-4f2e-9b58-3c1a2e7f6d40",
            "sourceLocation": "northeurope",
            "expires": expires,
            "datasets": {"5a1f7e92-3c4d-4b6a-8e0f-9d2c1b7a6e35": {"storage": "models", "container": "eval"}},
        }
    }
    return stack


def model(stack: dict[str, Any]) -> config.Config:
    return config.parse(stackfile.config_values(stack), "test")


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Sets the program's "now" for a run."""

    def set_now(at: datetime) -> None:
        monkeypatch.setattr(expiry, "now", lambda: at)

    return set_now


def test_within_notice_warns_naming_the_invitation_and_its_key() -> None:
    at = PARTICIPANT_EXPIRES - timedelta(days=5)
    assert expiry.warnings(model(base()), at) == [
        "invitation global_model.hospital-b expires 2027-03-31T00:00:00Z"
        " (in 5 days; set by federation:participants.hospital-b.expires)"
    ]


def test_notice_is_fourteen_days_inclusive() -> None:
    stack = model(base())
    assert len(expiry.warnings(stack, PARTICIPANT_EXPIRES - expiry.NOTICE)) == 1
    assert expiry.warnings(stack, PARTICIPANT_EXPIRES - expiry.NOTICE - timedelta(seconds=1)) == []


def test_past_expiries_say_expired_and_the_share_key_when_the_share_sets_it() -> None:
    at = SHARE_EXPIRES + timedelta(days=3, hours=2)
    assert expiry.warnings(model(base()), at) == [
        "invitation global_model.hospital-a expired 2027-06-30T00:00:00Z"
        " (3 days ago; set by federation:shares.global_model.expires)",
        "invitation global_model.hospital-b expired 2027-03-31T00:00:00Z"
        " (94 days ago; set by federation:participants.hospital-b.expires)",
    ]


def test_subscription_expiry_warns() -> None:
    stack = model(with_subscription("2026-12-10T12:00:00Z"))
    at = datetime(2026, 12, 10, tzinfo=UTC)
    assert "subscription updates expires 2026-12-10T12:00:00Z (in less than a day;" in expiry.warnings(stack, at)[0]
    assert len(expiry.warnings(stack, at)) == 1


def test_program_logs_warnings_through_the_engine(clock: Any) -> None:
    clock(datetime(2027, 6, 25, tzinfo=UTC))
    result = run_ok(with_subscription("2027-06-26T00:00:00Z"))
    # The mock engine received these as Log requests of severity WARNING.
    assert result.warnings == (
        "invitation global_model.hospital-a expires 2027-06-30T00:00:00Z"
        " (in 5 days; set by federation:shares.global_model.expires)",
        "invitation global_model.hospital-b expired 2027-03-31T00:00:00Z"
        " (86 days ago; set by federation:participants.hospital-b.expires)",
        "subscription updates expires 2027-06-26T00:00:00Z (in 1 day; set by federation:subscriptions.updates.expires)",
    )
    # Warnings, not errors: everything is still registered.
    assert len(result.of_type("azure-native:datashare:Invitation")) == 2


def test_program_warns_nothing_far_from_expiry(clock: Any) -> None:
    clock(datetime(2026, 1, 1, tzinfo=UTC))
    assert run_ok(with_subscription("2027-06-26T00:00:00Z")).warnings == ()


def test_cli_prints_warnings_on_stderr_and_in_markdown(
    clock: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clock(PARTICIPANT_EXPIRES + timedelta(days=1))
    stack = tmp_path / "Pulumi.test.yaml"
    stack.write_text(yaml.safe_dump({"config": base()}))
    message = (
        "invitation global_model.hospital-b expired 2027-03-31T00:00:00Z"
        " (1 day ago; set by federation:participants.hospital-b.expires)"
    )
    assert cli.main(["plan", "--config", str(stack), "--format", "markdown"]) == 0
    out, err = capsys.readouterr()
    assert err == f"warning: {message}\n"
    # After the one-line summary, before the details.
    assert out.startswith("**Plan for `test`**")
    assert out.index(f"**Warnings**:\n\n- {message}\n") < out.index("#### Resources")
    assert cli.main(["diff", str(stack), str(stack), "--format", "markdown"]) == 0
    out, err = capsys.readouterr()
    assert err == f"warning: {message}\n"
    assert f"- {message}\n" in out
