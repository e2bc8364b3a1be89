"""The Azure commands against answers that come too slowly, say nothing, ask for waits no
clock holds, or name times and ids as Resource Manager means them: each ends within its
deadlines, in one line or with its report, never a traceback. Each through
`federation.cli.main`, over HTTPS against the fake Resource Manager with the fault injected."""

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError
from azure.core.pipeline.transport import HttpRequest

from federation import exits
from federation.operate import azure, sync
from tests.fake_arm import FakeArm, Fault, Received
from tests.operate_support import UPDATES, Cli, arm, ca, ca_file, federation, outside, stack

__all__ = ["arm", "ca", "ca_file", "federation", "outside", "stack"]

# Small limits keep the tests fast: an answer gets 2 s, and the fake sends a trickled one a
# byte every half second, so it would take minutes; silences end after 1 s.
LIMITS = azure.Limits(connect=1, read=1, answer=2, retries=1, read_retries=1, retry_after=0.2, operation=6, settle=5)
TRICKLE = 0.5


def accounted(arm: FakeArm) -> dict[str, str]:
    """Both invited participants' invitations, hospital-a's subscription at config's expiry,
    and two strangers' made long after either invitation: reconcile revokes those two."""
    arm.share("training_plan")
    arm.received[UPDATES] = Received()
    arm.invite("global_model", "hospital-a", email="mlops@hospital-a.example", sentAt="2026-11-01T00:00:00Z")
    arm.invite("global_model", "hospital-b", sentAt="2026-11-02T00:00:00Z")
    return {
        "hospital-a": arm.subscribe(
            "global_model",
            email="mlops@hospital-a.example",
            shared_at="2026-11-01T00:00:00Z",
            expirationDate="2027-06-30T00:00:00Z",
        ),
        "stranger": arm.subscribe("global_model", email="someone@else.example", shared_at="2026-11-25T00:00:00Z"),
        "other": arm.subscribe("global_model", email="other@else.example", shared_at="2026-11-26T00:00:00Z"),
    }


def status(arm: FakeArm, object_id: str) -> str:
    return str(arm.subscription("global_model", object_id)["properties"]["shareSubscriptionStatus"])


# Answers sent a byte at a time: the read timeout starts again at each byte, a deadline does not.


def test_access_gives_up_on_an_answer_sent_a_byte_at_a_time(arm: FakeArm, federation: Cli) -> None:
    accounted(arm)
    arm.faults.append(Fault("GET", "/global_model/invitations$", trickle=TRICKLE, times=10))
    federation.limits = LIMITS
    started = time.monotonic()
    code, out, err = federation("access")
    took = time.monotonic() - started
    assert (code, out) == (exits.UNREADABLE, "")
    assert err == "error: cannot reach Azure Resource Manager: no whole answer within 2 s\n"
    assert took < LIMITS.worst_request() + 1, took
    assert len(arm.sent("GET", "/global_model/invitations$")) == 2  # one retry after no whole answer


def test_sync_stops_waiting_for_a_trickled_look_at_its_deadline_and_cancels(arm: FakeArm, federation: Cli) -> None:
    arm.received[UPDATES] = Received(polls=10**9)
    arm.faults.append(Fault("POST", "/listSynchronizations$", trickle=TRICKLE, times=100))
    federation.limits = LIMITS
    started = time.monotonic()
    code, out, err = federation("sync", UPDATES, "--wait", "--timeout", "2s")
    took = time.monotonic() - started
    assert code == exits.TIMEOUT, err
    assert took < 2 + sync.GRACE, took
    sync_id = arm.received[UPDATES].synchronizations[0]["synchronizationId"]
    assert out.startswith(f"Snapshot {sync_id} of subscription {UPDATES}: ")
    assert "still running at --timeout: cancel requested" in out
    assert "could not look (cannot reach Azure Resource Manager: no whole answer within " in err
    assert arm.sent("POST", "/cancelSynchronization$")[-1].body == {"synchronizationId": sync_id}


def test_a_revocation_whose_read_back_trickles_is_done_not_confirmed(arm: FakeArm, federation: Cli) -> None:
    ids = accounted(arm)
    arm.faults.append(Fault("GET", f"/providerShareSubscriptions/{ids['stranger']}$", trickle=TRICKLE, times=10))
    federation.limits = LIMITS
    started = time.monotonic()
    code, out, err = federation("reconcile", "--yes")
    took = time.monotonic() - started
    assert code == exits.UNREADABLE, out + err
    assert took < LIMITS.worst_request() + 3, took
    assert (
        f"  done, not confirmed: revoke global_model {ids['stranger']}: revoked, but reading it back failed "
        "(cannot reach Azure Resource Manager: no whole answer within 2 s): check with `access`\n"
    ) in out
    assert f"  done: revoke global_model {ids['other']}: status Revoked\n" in out
    assert status(arm, ids["stranger"]) == "Revoked"


# Bodies and headers that would crash.


@pytest.mark.parametrize(
    "command", [["access"], ["reconcile", "--yes"], ["revoke", "global_model", "hospital-a", "--yes"]]
)
@pytest.mark.parametrize("body", [b"", b"null"], ids=["empty", "null"])
def test_a_list_answered_with_no_body_is_one_line(
    arm: FakeArm, federation: Cli, command: list[str], body: bytes
) -> None:
    accounted(arm)
    arm.faults.append(Fault("GET", "/global_model/providerShareSubscriptions$", body=body))
    code, out, err = federation(*command)
    assert (code, out) == (exits.UNREADABLE, "")
    assert err == "error: Azure's answer could not be read: a list's answer is empty or null\n"
    assert arm.sent("POST", "/revoke$") == []


@pytest.mark.parametrize("command", [["access"], ["reconcile", "--yes"]])
def test_a_received_subscription_answered_null_is_one_line(arm: FakeArm, federation: Cli, command: list[str]) -> None:
    accounted(arm)
    arm.faults.append(Fault("GET", f"/shareSubscriptions/{UPDATES}$", body=b"null"))
    code, out, err = federation(*command)
    assert (code, out) == (exits.UNREADABLE, "")
    assert err == f"error: Azure's answer could not be read: {UPDATES}: the answer is empty or null\n"
    assert arm.sent("POST", "/revoke$") == []


@pytest.mark.parametrize("after", ["99999999999", "inf", "Fri, 31 Dec 9999 23:59:59 GMT"])
def test_a_huge_retry_after_on_a_revocations_status_is_capped(arm: FakeArm, federation: Cli, after: str) -> None:
    ids = accounted(arm)
    arm.faults.append(Fault("GET", "/operationResults/", body={"status": "InProgress"}, headers={"Retry-After": after}))
    federation.limits = LIMITS
    started = time.monotonic()
    code, out, err = federation("reconcile", "--yes")
    assert code == 0, out + err
    assert time.monotonic() - started < 5
    for who in ("stranger", "other"):
        assert f"  done: revoke global_model {ids[who]}: status Revoked\n" in out
    assert len(arm.sent("GET", "/operationResults/")) >= 3  # the capped wait, then a look that ends it


@pytest.fixture
def far_from_utc() -> Iterator[None]:
    """The local time 14 hours ahead of UTC (a POSIX zone, needing no time zone data), so a
    time read as local is off by hours."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "XXX-14"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


def test_times_without_a_zone_are_read_as_utc(arm: FakeArm, federation: Cli, far_from_utc: None) -> None:
    arm.share("training_plan")
    arm.received[UPDATES] = Received()
    arm.invite("global_model", "hospital-a", email="mlops@hospital-a.example", sentAt="2026-11-01T00:00:00Z")
    arm.invite("global_model", "hospital-b", sentAt="2026-11-02T00:00:00")  # no zone, beside zoned ones
    a = arm.subscribe(
        "global_model",
        email="mlops@hospital-a.example",
        shared_at="2026-11-01T00:00:00Z",
        expirationDate="2027-06-30T00:00:00",
    )
    b = arm.subscribe("global_model", email="", shared_at="2026-11-02T00:00:00Z", expirationDate="2027-03-31T00:00:00")
    code, out, err = federation("access", "--format", "json")
    assert code == 0, err
    found = {s["id"]: s for s in json.loads(out)["shares"]["global_model"]["subscriptions"]}
    assert (found[b]["participant"], found[b]["matchedBy"]) == ("hospital-b", "invitation")
    assert (found[a]["expires"], found[b]["expires"]) == ("2027-06-30T00:00:00Z", "2027-03-31T00:00:00Z")
    code, out, err = federation("reconcile", "--yes")
    assert (code, err) == (0, "")
    assert out == "Live access matches config: nothing to do.\n"


# Certainty.


def test_sync_matches_its_snapshot_whatever_the_case_of_its_id(
    arm: FakeArm, federation: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    arm.received[UPDATES] = Received()
    synchronize = arm._synchronize

    def shouting(name: str, body: Any) -> tuple[int, dict[str, str], Any]:
        """The snapshot's id in capitals in the first answer, as Resource Manager may spell it."""
        code, headers, answer = synchronize(name, body)
        return code, headers, answer | {"synchronizationId": answer["synchronizationId"].upper()}

    monkeypatch.setattr(arm, "_synchronize", shouting)
    code, out, err = federation("sync", UPDATES, "--wait", "--timeout", "3s")
    assert code == 0, out + err
    sync_id = arm.received[UPDATES].synchronizations[0]["synchronizationId"]
    assert out.startswith(f"Snapshot {sync_id.upper()} of subscription {UPDATES}: Succeeded")
    assert arm.sent("POST", "/cancelSynchronization$") == []


HINT = "check the client id, tenant and secret (ARM_* or AZURE_*), or sign in again with `az login`"


def test_credentials_refused_are_said_to_be_refused(arm: FakeArm, federation: Cli) -> None:
    class Refused:
        """As ClientSecretCredential fails when Entra refuses its secret."""

        def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
            raise ClientAuthenticationError(
                "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 1\r\nTimestamp: 2026-12-05 12:00:00Z"
            )

    federation.credential = Refused()
    code, out, err = federation("access")
    assert (code, out) == (exits.UNREADABLE, "")
    assert err == f"error: credentials refused: AADSTS7000215: Invalid client secret provided. ({HINT})\n"
    assert arm.requests == []


REFUSAL = {
    "error": "invalid_client",
    "error_description": "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 1\r\nCorrelation ID: 2",
}


@pytest.mark.parametrize(
    ("refused", "said"),
    [
        (
            True,
            f"credentials refused by the sign-in service (127.0.0.1): AADSTS7000215: Invalid client secret "
            f"provided. ({HINT})",
        ),
        (False, azure.SIGN_IN),
    ],
    ids=["refused", "none found"],
)
def test_the_default_credentials_refusal_is_told_from_none_found(
    arm: FakeArm, federation: Cli, ca_file: Path, monkeypatch: pytest.MonkeyPatch, refused: bool, said: str
) -> None:
    """DefaultAzureCredential (which must never run in a test) stood in for by one that, as
    azure-identity's chain does, raises the same ClientAuthenticationError whether its
    sign-in was refused or it found nothing to sign in with."""
    token = f"{arm.url}/tenant/oauth2/v2.0/token?api-version=2021-08-01"
    arm.faults.append(Fault("POST", "/tenant/oauth2/v2.0/token$", 401, body=REFUSAL))

    class Default:
        def __init__(self, authority: str, transport: Any) -> None:
            self.transport = transport

        def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
            if refused:
                self.transport.send(HttpRequest("POST", token))
            raise ClientAuthenticationError("DefaultAzureCredential failed to retrieve a token")

    monkeypatch.setattr(azure, "DefaultAzureCredential", Default)
    monkeypatch.setattr(azure, "CLOUDS", {"public": azure.Cloud(arm.url, f"{arm.url}/.default", "127.0.0.1")})
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_file))  # the sign-in transport trusts the fake
    for name in ("ARM_CLIENT_ID", "ARM_CLIENT_SECRET", "ARM_TENANT_ID", "ARM_ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    federation.credential = None
    code, out, err = federation("access")
    assert (code, out) == (exits.UNREADABLE, "")
    assert err == f"error: {said}\n"
    assert [r.path for r in arm.requests] == (["/tenant/oauth2/v2.0/token"] if refused else [])


def test_a_token_resource_manager_refuses_is_said_to_be_refused(arm: FakeArm, federation: Cli) -> None:
    accounted(arm)
    arm.faults.append(
        Fault("GET", "/accounts/dsa-fl-test$", 401, code="InvalidAuthenticationTokenTenant", message="Wrong issuer.")
    )
    code, out, err = federation("access")
    assert (code, out) == (exits.UNREADABLE, "")
    refused = "credentials refused by Azure Resource Manager (401 InvalidAuthenticationTokenTenant): Wrong issuer."
    assert err == f"error: {refused}\n"
