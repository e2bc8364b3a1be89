"""`access`: the review of a stack's live account, through the real client over HTTPS."""

import json

from tests.clock import days_from_now
from tests.fake_arm import FakeArm, Received
from tests.operate_support import UPDATES, Cli, arm, ca, ca_file, federation, outside, stack

__all__ = ["arm", "ca", "ca_file", "federation", "outside", "stack"]


def soon(days: int) -> str:
    return days_from_now(days)


def live(arm: FakeArm) -> dict[str, str]:
    """hospital-b (a service principal) matched by its invitation, hospital-a by email in
    another case, a stranger, and a failed latest snapshot."""
    sent_b = arm.invite(
        "global_model", "hospital-b", expirationDate="2027-03-31T00:00:00Z", sentAt="2026-11-02T10:00:00.1234567Z"
    )
    arm.invite("global_model", "hospital-a", email="mlops@hospital-a.example", sentAt="2026-11-03T10:00:00Z")
    arm.invite(
        "global_model", "lab-c", email="c@lab-c.example", status="Pending", expirationDate=soon(3), sentAt=soon(-2)
    )
    ids = {
        "hospital-b": arm.subscribe(
            "global_model", email="", shared_at=sent_b, expirationDate="2027-03-31T00:00:00Z", consumerName="svc-b"
        ),
        # Its invitation was re-sent: only the email matches; its expiry is not config's.
        "hospital-a": arm.subscribe(
            "global_model", email="MLOps@Hospital-A.example", expirationDate="2028-01-01T00:00:00Z"
        ),
        "stranger": arm.subscribe("global_model", email="someone@else.example", shared_at="2026-11-25T00:00:00Z"),
        "gone": arm.subscribe("global_model", email="old@else.example", status="Revoked"),
    }
    syncs = arm.share("global_model").synchronizations
    syncs.append({"synchronizationId": "s1", "status": "Succeeded", "startTime": "2026-12-01T02:00:00Z"})
    syncs.append(
        {
            "synchronizationId": "s2",
            "status": "Failed",
            "startTime": "2026-12-02T02:00:00Z",
            "message": "5006 no access",
        }
    )
    syncs.append({"synchronizationId": "s0", "status": "Succeeded", "startTime": "2026-11-30T02:00:00Z"})
    arm.received[UPDATES] = Received(expires=soon(400))
    return ids


def test_review_matches_subscriptions_by_invitation_then_email(arm: FakeArm, federation: Cli) -> None:
    ids = live(arm)
    code, out, err = federation("access", "--format", "json")
    assert (code, err) == (0, "")
    review = json.loads(out)
    subscriptions = {s["id"]: s for s in review["shares"]["global_model"]["subscriptions"]}
    assert subscriptions[ids["hospital-b"]]["participant"] == "hospital-b"
    assert subscriptions[ids["hospital-b"]]["matchedBy"] == "invitation"
    assert subscriptions[ids["hospital-a"]]["participant"] == "hospital-a"
    assert subscriptions[ids["hospital-a"]]["matchedBy"] == "email"
    assert subscriptions[ids["stranger"]]["participant"] is None
    assert subscriptions[ids["hospital-a"]]["expected"] == "2027-06-30T00:00:00Z"
    invitations = review["shares"]["global_model"]["invitations"]
    assert [(i["participant"], i["status"]) for i in invitations] == [
        ("hospital-a", "Accepted"),
        ("hospital-b", "Accepted"),
        ("lab-c", "Pending"),
    ]
    starts = [s["start"] for s in review["shares"]["global_model"]["synchronizations"]]
    assert starts == ["2026-12-02T02:00:00Z", "2026-12-01T02:00:00Z", "2026-11-30T02:00:00Z"]
    assert review["subscriptions"][UPDATES]["status"] == "Active"


def test_problems_name_their_share_or_subscription(arm: FakeArm, federation: Cli) -> None:
    ids = live(arm)
    code, out, _ = federation("access", "--format", "json", "--check")
    problems = json.loads(out)["problems"]
    assert code == 4
    expected = [
        f"share global_model: subscription {ids['stranger']} (someone@else.example): active, but matches no "
        "participant this share invites in config",
        f"share global_model: subscription {ids['hospital-a']} (hospital-a): expires 2028-01-01T00:00:00Z; "
        "config gives 2027-06-30T00:00:00Z",
        "share global_model: latest snapshot (started 2026-12-02T02:00:00Z) Failed: 5006 no access",
        "share training_plan: not in Data Share account dsa-fl-test",
    ]
    for problem in expected:
        assert problem in problems
    assert any(p.startswith("share global_model: pending invitation for lab-c: expires") for p in problems)
    # A revoked subscription is no problem; nor is an expiry that matches config.
    assert not any(ids["gone"] in p or ids["hospital-b"] in p for p in problems)
    assert len(problems) == 5


def test_check_exits_0_when_access_matches_config(arm: FakeArm, federation: Cli) -> None:
    sent = arm.invite("global_model", "hospital-b", expirationDate="2027-03-31T00:00:00Z")
    arm.subscribe("global_model", shared_at=sent, expirationDate="2027-03-31T00:00:00Z")
    arm.share("training_plan")
    arm.received[UPDATES] = Received()
    code, out, _ = federation("access", "--check")
    assert code == 0
    assert out.endswith("No problems.\n")
    assert "hospital-b (by invitation)" in out


def test_missing_subscription_and_expiring_one_are_problems(arm: FakeArm, federation: Cli) -> None:
    arm.share("global_model")
    arm.share("training_plan")
    code, out, _ = federation("access", "--check")
    assert code == 4
    assert f"subscription {UPDATES}: not in Data Share account dsa-fl-test" in out
    expired = soon(-1)
    arm.received[UPDATES] = Received(expires=expired)
    _, out, _ = federation("access", "--format", "markdown")
    assert f"- subscription {UPDATES}: expired {expired}" in out
    assert "| participant | status | target | expires |" in out


def test_lists_are_read_to_their_last_page(arm: FakeArm, federation: Cli) -> None:
    live(arm)
    arm.page_size = 2
    federation("access", "--format", "json")
    # GET lists follow nextLink; POST lists are asked again by POST with the $skipToken.
    pages = arm.sent("GET", r"/shares/global_model/providerShareSubscriptions$")
    assert [r.query.get("$skipToken") for r in pages] == [None, "2"]
    syncs = arm.sent("POST", r"/shares/global_model/listSynchronizations$")
    assert [r.query.get("$skipToken") for r in syncs] == [None, "2"]
    assert not arm.sent("GET", r"listSynchronizations")
    assert all(r.query["api-version"] == "2021-08-01" for r in arm.requests)
    assert all(r.authorization == "Bearer fake-token" for r in arm.requests)


def test_a_post_list_without_skip_token_is_followed_as_the_sdk_does(arm: FakeArm, federation: Cli) -> None:
    """A nextLink without $skipToken is fetched with GET, as the SDK would."""
    live(arm)
    arm.link_token = "page"
    code, out, _ = federation("access", "--format", "json")
    assert code == 0
    assert len(json.loads(out)["shares"]["global_model"]["synchronizations"]) == 3
    assert [r.query.get("page") for r in arm.sent("GET", r"/shares/global_model/listSynchronizations$")] == ["2"]


def test_one_consumers_failed_snapshot_is_not_hidden_by_anothers_later_success(arm: FakeArm, federation: Cli) -> None:
    arm.share("training_plan")
    arm.received[UPDATES] = Received()
    syncs = arm.share("global_model").synchronizations
    syncs.append(
        {
            "synchronizationId": "a1",
            "status": "Failed",
            "startTime": "2026-12-02T02:00:00Z",
            "message": "5006 no access",
            "consumerEmail": "mlops@hospital-a.example",
        }
    )
    syncs.append(
        {
            "synchronizationId": "b1",
            "status": "Succeeded",
            "startTime": "2026-12-02T03:00:00Z",
            "consumerEmail": "svc-b@tenant-b.example",
        }
    )
    code, out, _ = federation("access", "--format", "json", "--check")
    problems = json.loads(out)["problems"]
    assert code == 4
    assert (
        "share global_model to mlops@hospital-a.example: latest snapshot (started 2026-12-02T02:00:00Z) Failed: "
        "5006 no access"
    ) in problems
    assert not any("svc-b" in p for p in problems)
