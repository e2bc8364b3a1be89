"""The Azure commands act only on certainty: real config, not stand-ins for secrets;
subscriptions proven to be whose they say; every request, retry and wait under a deadline;
Ctrl-C, missing credentials and malformed answers as one line, never a traceback. Each
through `federation.cli.main`, over HTTPS against the fake Resource Manager."""

import contextlib
import io
import itertools
import json
import signal
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError, ServiceRequestError, ServiceResponseError
from azure.core.pipeline.transport import HttpRequest
from azure.identity import ChainedTokenCredential, CredentialUnavailableError

from federation import cli, exits
from federation.operate import azure, sync
from tests.fake_arm import FakeArm, Fault, Received
from tests.operate_support import (
    ACCOUNT,
    RG,
    SUB,
    UPDATES,
    Cli,
    Token,
    arm,
    ca,
    ca_file,
    federation,
    options,
    outside,
    stack,
)

__all__ = ["arm", "ca", "ca_file", "federation", "outside", "stack"]

QUICK = azure.Limits(
    connect=1, read=0.5, answer=1.5, retries=1, read_retries=1, retry_after=0.2, operation=2, settle=0.5
)


def accounted(arm: FakeArm) -> dict[str, str]:
    """Both invited participants' invitations, hospital-a's subscription, and a stranger's
    made long after either invitation: the stranger is proven no participant's."""
    arm.share("training_plan")
    arm.received[UPDATES] = Received()
    arm.invite("global_model", "hospital-a", email="mlops@hospital-a.example", sentAt="2026-11-01T00:00:00Z")
    arm.invite("global_model", "hospital-b", sentAt="2026-11-02T00:00:00Z")
    return {
        "hospital-a": arm.subscribe("global_model", email="mlops@hospital-a.example", shared_at="2026-11-01T00:00:00Z"),
        "stranger": arm.subscribe("global_model", email="someone@else.example", shared_at="2026-11-25T00:00:00Z"),
    }


def revokes(arm: FakeArm) -> list[str]:
    return [r.path.rsplit("/", 2)[1] for r in arm.sent("POST", "/revoke$")]


def status(arm: FakeArm, object_id: str) -> str:
    return str(arm.subscription("global_model", object_id)["properties"]["shareSubscriptionStatus"])


# Secrets: the real values, never stand-ins.


def secret_stack(federation: Cli) -> dict[str, Any]:
    """The stack file with its participants set with --secret: only ciphertext is here."""
    document = yaml.safe_load(federation.stack.read_text())
    plain = document["config"]["federation:participants"]
    document["config"]["federation:participants"] = {
        key: {field: {"secure": f"v1:{key}-{field}"} for field in value} for key, value in plain.items()
    }
    federation.stack.write_text(yaml.safe_dump(document))
    return plain  # type: ignore[no-any-return]


def config_json(federation: Cli, participants: dict[str, Any], **changes: Any) -> str:
    """What `pulumi config --json --show-secrets` prints for the stack."""
    document = yaml.safe_load(federation.stack.read_text())["config"] | {"federation:participants": participants}
    printed = {}
    for key, value in (document | changes).items():
        text = value if isinstance(value, str) else json.dumps(value)
        entry: dict[str, Any] = {"value": text, "secret": key == "federation:participants"}
        if not isinstance(value, str):
            entry["objectValue"] = value
        printed[key] = entry
    return json.dumps(printed)


@pytest.mark.parametrize("command", [["access"], ["reconcile", "--yes"], ["revoke", "global_model", "hospital-a"]])
def test_secret_participants_are_refused_without_their_real_values(
    arm: FakeArm, federation: Cli, command: list[str]
) -> None:
    accounted(arm)
    secret_stack(federation)
    code, out, err = federation(*command)
    assert (code, out) == (exits.INVALID_CONFIG, "")
    assert err.startswith("error: federation:participants is a secret in ")
    # The hint gives the command again, as it was given, with the real config on stdin.
    again = " ".join(command)
    assert f"`pulumi config --json --show-secrets --stack test | federation {again} -s test --config-json -`" in err
    assert arm.requests == []


def test_a_secret_in_the_shares_is_refused_too(arm: FakeArm, federation: Cli) -> None:
    accounted(arm)
    document = yaml.safe_load(federation.stack.read_text())
    document["config"]["federation:shares"]["global_model"]["expires"] = {"secure": "v1:expiry"}
    federation.stack.write_text(yaml.safe_dump(document))
    code, out, err = federation("reconcile", "--yes")
    assert (code, out) == (exits.INVALID_CONFIG, "")
    assert err.startswith("error: federation:shares is a secret in ")
    assert "--config-json -`" in err
    assert arm.requests == []


def test_the_real_values_come_from_pulumi_config_json_on_stdin(
    arm: FakeArm, federation: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = accounted(arm)
    participants = secret_stack(federation)
    monkeypatch.setattr("sys.stdin", io.StringIO(config_json(federation, participants)))
    code, _, err = federation("reconcile", "--config-json", "-", "--yes")
    assert code == 0, err
    # Matched by the real email: hospital-a's stays, the stranger's goes.
    assert revokes(arm) == [ids["stranger"]]
    assert status(arm, ids["hospital-a"]) == "Active"


def test_config_json_without_the_secrets_or_of_another_stack_is_refused(
    arm: FakeArm, federation: Cli, tmp_path: Path
) -> None:
    participants = secret_stack(federation)
    hidden = json.loads(config_json(federation, participants))
    hidden["federation:participants"] = {"secret": True}  # `pulumi config --json` without --show-secrets
    path = tmp_path / "config.json"
    path.write_text(json.dumps(hidden))
    code, _, err = federation("access", "--config-json", str(path))
    assert code == exits.UNREADABLE
    assert "federation:participants is a secret without its value: run `pulumi config --json --show-secrets`" in err
    path.write_text(config_json(federation, participants, **{"federation:environment": "prod"}))
    code, _, err = federation("access", "--config-json", str(path))
    assert code == exits.INVALID_CONFIG
    assert "--config-json names account dsa-fl-prod in rg-fl-prod" in err
    assert "is it another stack's config?" in err
    assert arm.requests == []


def test_the_stack_files_subscription_is_used_when_none_is_given(
    arm: FakeArm, stack: Path, ca_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    accounted(arm)
    document = yaml.safe_load(stack.read_text())
    document["config"]["azure-native:subscriptionId"] = SUB
    stack.write_text(yaml.safe_dump(document))
    for name in ("ARM_SUBSCRIPTION_ID", "AZURE_SUBSCRIPTION_ID"):
        monkeypatch.setenv(name, "99999999-9999-4999-8999-999999999999")
    code = cli.main(["access", "--config", str(stack), "--endpoint", arm.url], Token(), options(ca_file))
    assert code == 0, capsys.readouterr().err
    assert all(r.path.startswith(f"/subscriptions/{SUB}/") for r in arm.requests)
    # A secure one is ciphertext: refused unless given.
    document["config"]["azure-native:subscriptionId"] = {"secure": "v1:abc"}
    stack.write_text(yaml.safe_dump(document))
    code = cli.main(["access", "--config", str(stack), "--endpoint", arm.url], Token(), options(ca_file))
    assert code == exits.INVALID_CONFIG
    assert "azure-native:subscriptionId is a secret in" in capsys.readouterr().err


# Revocation only of what is proven.


@pytest.mark.parametrize("target", ["", "  "])
def test_an_empty_target_revokes_nothing(arm: FakeArm, federation: Cli, target: str) -> None:
    accounted(arm)
    arm.subscribe("global_model", email="", shared_at="2026-11-26T00:00:00Z")  # no email to compare with ""
    code, _, err = federation("revoke", "global_model", target, "--yes")
    assert code == exits.INVALID_CONFIG
    assert err == "error: a TARGET is empty: name a participant key, a consumer email or a subscription id\n"
    assert arm.requests == []


def doubtful(arm: FakeArm, case: str) -> str:
    """An unmatched subscription that may still be an invited participant's."""
    arm.share("training_plan")
    arm.received[UPDATES] = Received()
    arm.invite("global_model", "hospital-a", email="mlops@hospital-a.example", sentAt="2026-11-01T00:00:00Z")
    if case == "invitation missing":
        return arm.subscribe("global_model", email="", shared_at="2026-11-25T00:00:00Z")
    if case == "invitation named in another case":
        arm.invite("global_model", "Hospital-B", sentAt="2026-11-02T00:00:00Z")
        return arm.subscribe("global_model", email="", shared_at="2026-11-25T00:00:00Z")
    arm.invite("global_model", "hospital-b", sentAt="2026-11-02T00:00:00.9000000Z")
    return arm.subscribe("global_model", email="", shared_at="2026-11-02T00:00:00.2000000Z")


@pytest.mark.parametrize(
    ("case", "why"),
    [
        ("invitation missing", "its invitation is missing"),
        ("invitation named in another case", "its invitation is named Hospital-B"),
        ("shared within a second", "shared within a second of its invitation's sending"),
    ],
)
def test_reconcile_leaves_to_a_person_what_may_be_a_participants(
    arm: FakeArm, federation: Cli, case: str, why: str
) -> None:
    maybe = doubtful(arm, case)
    code, out, _ = federation("reconcile", "--yes")
    assert code == exits.PROBLEMS, out
    assert (
        f"left alone: share global_model subscription {maybe} (Consumer, Consumer Org) may be hospital-b's ({why})"
        in out
    )
    assert revokes(arm) == []
    code, out, _ = federation("access", "--check", "--format", "json")
    assert code == exits.PROBLEMS
    [entry] = [s for s in json.loads(out)["shares"]["global_model"]["subscriptions"] if s["id"] == maybe]
    assert entry["maybe"] == [{"participant": "hospital-b", "why": why}]


@pytest.mark.parametrize("other_sent", ["2026-11-01T00:00:00.5Z", "2026-11-01T00:00:00.8Z"])
def test_an_invitation_sent_with_another_proves_no_subscription(arm: FakeArm, federation: Cli, other_sent: str) -> None:
    """Two invitations within a second of a subscription's sharedAt, one of them exactly:
    either may have made it."""
    arm.share("training_plan")
    arm.received[UPDATES] = Received()
    arm.invite("global_model", "hospital-a", email="mlops@hospital-a.example", sentAt="2026-11-01T00:00:00.5Z")
    arm.invite("global_model", "hospital-b", sentAt=other_sent)
    maybe = arm.subscribe("global_model", email="", shared_at="2026-11-01T00:00:00.5Z")
    code, out, _ = federation("revoke", "global_model", "hospital-a", "--yes")
    assert revokes(arm) == []
    code, out, _ = federation("reconcile", "--yes")
    assert code == exits.PROBLEMS, out
    close = "(shared within a second of its invitation's sending)"
    assert f"subscription {maybe} (Consumer, Consumer Org) may be hospital-a's {close} or hospital-b's {close}" in out
    assert "adjust" not in out
    assert revokes(arm) == []


@pytest.mark.parametrize(("status", "shown"), [(None, "unknown"), ("Suspended", "Suspended")])
def test_a_subscription_neither_active_nor_ended_is_left_to_a_person(
    arm: FakeArm, federation: Cli, status: str | None, shown: str
) -> None:
    accounted(arm)
    odd = arm.subscribe("global_model", email="someone@else.example", status=status)
    code, out, _ = federation("reconcile", "--yes")
    assert code == exits.PROBLEMS, out
    assert f"left alone: share global_model subscription {odd} (" in out
    assert f"): status {shown}, neither active nor ended\n" in out
    assert odd not in "".join(r.path for r in arm.requests if r.path.endswith("/revoke"))
    code, out, _ = federation("access", "--check")
    assert code == exits.PROBLEMS
    assert f"share global_model: subscription {odd} (someone@else.example): status {shown}, neither active nor" in out


def test_reconcile_fails_when_the_account_is_missing(arm: FakeArm, federation: Cli) -> None:
    arm.account_exists = False
    code, out, err = federation("reconcile", "--yes")
    assert (code, out) == (exits.UNREADABLE, "")
    assert err == (
        "error: Data Share account dsa-fl-test not found in resource group rg-fl-test: not deployed yet, or another "
        "subscription (--subscription)\n"
    )


def test_reconcile_does_not_pass_when_a_share_is_missing(arm: FakeArm, federation: Cli) -> None:
    arm.received[UPDATES] = Received()
    arm.share("global_model")  # training_plan is not there
    code, out, _ = federation("reconcile", "--yes")
    assert code == exits.PROBLEMS, out
    assert "left alone: share training_plan is not in the account: nothing of it could be checked" in out
    assert "matches config" not in out


def test_reconcile_acts_on_nothing_when_a_list_fails(arm: FakeArm, federation: Cli) -> None:
    accounted(arm)
    arm.faults.append(Fault("POST", "/shares/training_plan/listSynchronizations$", 500, times=10))
    code, out, err = federation("reconcile", "--yes")
    assert (code, out) == (exits.UNREADABLE, "")
    assert err == "error: Azure answered 500 Fault: injected\n"
    assert revokes(arm) == []


def test_a_received_subscription_that_is_not_active_is_a_problem(arm: FakeArm, federation: Cli) -> None:
    accounted(arm)
    arm.received[UPDATES] = Received(status="SourceDeleted")
    code, out, _ = federation("access", "--check")
    assert code == exits.PROBLEMS
    assert f"subscription {UPDATES}: SourceDeleted: no snapshot reaches this stack" in out


# Deadlines.


def test_every_request_is_bounded_by_default() -> None:
    limits = azure.Limits()
    settings = limits.client_options()
    sending = settings["transport"]
    assert (sending.connection_config.timeout, sending.read_timeout, sending.answer) == (10, 30, 30)
    policy = settings["retry_policy"]
    assert (policy.total_retries, policy.read_retries, policy.timeout, policy.cap) == (3, 1, 90, 60)
    assert limits.retry_after < limits.operation  # a capped wait leaves time for its retry
    # A server that never answers, or answers a byte at a time, is given up on in about a
    # minute, well within two.
    assert limits.worst_request() < 65


def test_a_server_that_never_answers_ends_access_in_one_line(arm: FakeArm, federation: Cli) -> None:
    accounted(arm)
    arm.faults.append(Fault("GET", "/accounts/dsa-fl-test$", hang=None, times=10))
    federation.limits = QUICK
    started = time.monotonic()
    code, out, err = federation("access")
    assert (code, out) == (exits.UNREADABLE, "")
    assert err.startswith("error: cannot reach Azure Resource Manager: ")
    assert err.count("\n") == 1
    assert time.monotonic() - started < QUICK.worst_request() + 2
    assert len(arm.sent("GET", "/accounts/dsa-fl-test$")) == 2  # one retry after no answer


def test_retry_after_is_capped(arm: FakeArm, federation: Cli) -> None:
    accounted(arm)
    arm.faults.append(Fault("GET", "/global_model/invitations$", 429, headers={"Retry-After": "3600"}))
    federation.limits = QUICK
    started = time.monotonic()
    code, _, err = federation("access")
    assert code == 0, err
    assert time.monotonic() - started < 5
    tries = arm.sent("GET", "/shares/global_model/invitations$")
    assert len(tries) == 2
    assert tries[1].at - tries[0].at >= QUICK.retry_after - 0.05


def test_a_repeated_next_page_link_ends_the_list(arm: FakeArm, federation: Cli) -> None:
    accounted(arm)
    link = f"{arm.url}{arm.prefix}/shares/global_model/invitations?api-version=2021-08-01&$skipToken=again"
    arm.faults.append(Fault("GET", "/global_model/invitations$", body={"value": [], "nextLink": link}, times=3))
    code, out, err = federation("access")
    assert (code, out) == (exits.UNREADABLE, "")
    assert err.startswith("error: Azure sent the same next-page link twice: ")
    assert len(arm.sent("GET", "/shares/global_model/invitations$")) == 2


def test_sync_ends_within_five_seconds_of_its_timeout_and_cancels(arm: FakeArm, federation: Cli) -> None:
    arm.received[UPDATES] = Received(outcome=None)
    code, _, _ = federation("sync", UPDATES)  # started, so there is one to follow
    sync_id = arm.received[UPDATES].synchronizations[0]["synchronizationId"]
    # From now on every look at it hangs: only the deadline ends the command.
    arm.faults.append(Fault("POST", "/listSynchronizations$", hang=None, times=100))
    started = time.monotonic()
    code, out, err = federation("sync", UPDATES, "--wait", "--timeout", "2s")
    took = time.monotonic() - started
    assert code == exits.TIMEOUT, err
    assert took < 2 + sync.GRACE, took
    new_id = arm.received[UPDATES].synchronizations[1]["synchronizationId"]
    assert new_id != sync_id
    assert out.startswith(f"Snapshot {new_id} of subscription {UPDATES}: ")
    assert "still running at --timeout: cancel requested" in out
    assert arm.sent("POST", "/cancelSynchronization$")[-1].body == {"synchronizationId": new_id}
    assert "could not look" in err


def test_a_revocation_that_never_ends_is_given_up_on(arm: FakeArm, federation: Cli) -> None:
    ids = accounted(arm)
    arm.faults.append(Fault("GET", "/operationResults/", body={"status": "InProgress"}, times=10_000))
    federation.limits = QUICK
    code, out, _ = federation("reconcile", "--yes")
    assert code == 1
    assert f"FAILED: revoke global_model {ids['stranger']}: still revoking after 0 s: check with `access`" in out


# Ctrl-C.


@pytest.fixture
def ctrl_c() -> Iterator[Any]:
    """Presses Ctrl-C (SIGINT to this process's main thread) after `delay` seconds."""
    timers: list[threading.Timer] = []

    def press(delay: float) -> None:
        timer = threading.Timer(delay, lambda: signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT))
        timers.append(timer)
        timer.start()

    yield press
    for timer in timers:
        timer.cancel()


def test_ctrl_c_stops_access_at_once(arm: FakeArm, federation: Cli, ctrl_c: Any) -> None:
    accounted(arm)
    arm.faults.append(Fault("POST", "/listSynchronizations$", hang=None, times=100))
    ctrl_c(0.5)
    started = time.monotonic()
    code, out, err = federation("access")
    assert (code, out, err) == (exits.INTERRUPTED, "", "interrupted\n")
    assert time.monotonic() - started < 2.5


def test_ctrl_c_during_revocations_says_what_was_done_and_what_not(arm: FakeArm, federation: Cli, ctrl_c: Any) -> None:
    ids = accounted(arm)
    slow = arm.subscribe("global_model", email="late@else.example", shared_at="2026-11-26T00:00:00Z")
    arm.faults.append(Fault("POST", f"/providerShareSubscriptions/{slow}/revoke$", hang=None))
    ctrl_c(1.5)
    started = time.monotonic()
    code, out, err = federation("reconcile", "--yes")
    assert code == exits.INTERRUPTED
    assert time.monotonic() - started < 3.5
    assert err == "interrupted\n"
    report = out[out.index("interrupted:") :]
    assert f"  done: revoke global_model {ids['stranger']}" in report
    assert f"  not done (or under way, check with `access`): revoke global_model {slow}" in report
    assert "Traceback" not in out + err


# Sign-in.


def test_no_credentials_prints_one_line_and_no_library_logs(
    arm: FakeArm, federation: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    class Nothing:
        def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
            raise CredentialUnavailableError("EnvironmentCredential authentication unavailable.")

    # azure-identity's own chain, as DefaultAzureCredential is: when no credential in it could
    # try, it logs a warning, then raises ClientAuthenticationError.
    federation.credential = ChainedTokenCredential(Nothing())
    code, out, err = federation("access")
    assert (code, out) == (exits.UNREADABLE, "")
    assert err == f"error: {azure.SIGN_IN}\n"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_sign_in_service_out_of_reach_is_said_so(arm: FakeArm, federation: Cli) -> None:
    class Unreachable:
        """As ClientSecretCredential fails when login.microsoftonline.com cannot be reached."""

        def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
            try:
                raise ServiceRequestError("Failed to establish a new connection: [Errno 111] Connection refused")
            except ServiceRequestError as error:
                raise ClientAuthenticationError("Authentication failed") from error

    federation.credential = Unreachable()
    code, _, err = federation("access")
    assert code == exits.UNREADABLE
    assert err == (
        "error: cannot reach the sign-in service (the sign-in service): Failed to establish a new connection: "
        "[Errno 111] Connection refused\n"
    )
    assert arm.requests == []


def default_signing_in_at(url: str, arm: FakeArm, monkeypatch: pytest.MonkeyPatch) -> None:
    """DefaultAzureCredential (which must never run in a test) stood in for by one that asks
    the sign-in service at `url` through the transport it is given, as azure-identity's do."""

    class Default:
        def __init__(self, authority: str, transport: Any) -> None:
            self.transport = transport

        def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
            with contextlib.suppress(ServiceRequestError, ServiceResponseError):
                self.transport.send(HttpRequest("POST", url))
            raise ClientAuthenticationError("DefaultAzureCredential failed to retrieve a token")

    monkeypatch.setattr(azure, "DefaultAzureCredential", Default)
    monkeypatch.setattr(azure, "CLOUDS", {"public": azure.Cloud(arm.url, f"{arm.url}/.default", "127.0.0.1")})
    for name in ("ARM_CLIENT_ID", "ARM_CLIENT_SECRET", "ARM_TENANT_ID", "ARM_ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)


def test_the_default_credentials_sign_in_requests_are_watched(
    arm: FakeArm, federation: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    default_signing_in_at(f"https://127.0.0.1:{closed_port()}/tenant/oauth2/v2.0/token", arm, monkeypatch)
    federation.credential = None
    code, _, err = federation("access")
    assert code == exits.UNREADABLE
    assert err.startswith("error: cannot reach the sign-in service (127.0.0.1): ")
    assert err.count("\n") == 1


def test_a_sign_in_service_that_never_answers_is_given_up_on_within_the_limits(
    arm: FakeArm, federation: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    held: list[socket.socket] = []
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        threading.Thread(target=lambda: held.append(silent.accept()[0]), daemon=True).start()

        default_signing_in_at(f"http://127.0.0.1:{port}/tenant/oauth2/v2.0/token", arm, monkeypatch)
        federation.credential = None
        federation.limits = QUICK
        started = time.monotonic()
        code, _, err = federation("access")
        assert time.monotonic() - started < QUICK.connect + QUICK.read + 2
    for connection in held:
        connection.close()
    assert code == exits.UNREADABLE
    assert err.startswith("error: cannot reach the sign-in service (127.0.0.1): ")
    assert arm.requests == []


# What Azure answers.


def test_a_read_only_post_list_is_retried_after_a_connection_reset(arm: FakeArm, federation: Cli) -> None:
    accounted(arm)
    arm.faults.append(Fault("POST", "/shares/global_model/listSynchronizations$", reset=True))
    code, _, err = federation("access")
    assert code == 0, err
    assert len(arm.sent("POST", "/shares/global_model/listSynchronizations$")) == 2


def test_a_page_link_to_another_host_is_not_followed(arm: FakeArm, federation: Cli, ca: Any) -> None:
    accounted(arm)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with FakeArm(context, SUB, RG, ACCOUNT) as other:
        link = f"{other.url}/collect?api-version=2021-08-01&page=2"
        arm.faults.append(Fault("GET", "/global_model/invitations$", body={"value": [], "nextLink": link}))
        code, out, err = federation("access")
        assert other.requests == []  # nor the token
    assert (code, out) == (exits.UNREADABLE, "")
    assert err == f"error: Azure's answer pointed to another host ({other.url.split('//')[1]}): not followed\n"


def test_page_links_without_a_token_stop_at_the_page_limit(
    arm: FakeArm, federation: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounted(arm)
    pages = itertools.count()
    answer = arm.answer

    def endless(method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, dict[str, str], Any]:
        if method == "GET" and path.endswith("/global_model/invitations"):
            return 200, {}, {"value": [], "nextLink": f"{arm.url}{path}?api-version=2021-08-01&page={next(pages)}"}
        return answer(method, path, query, body)

    monkeypatch.setattr(arm, "answer", endless)
    federation.limits = azure.Limits(connect=5, read=5, pages=5)
    code, out, err = federation("access")
    assert (code, out) == (exits.UNREADABLE, "")
    assert err == "error: a list ran past 5 pages: Azure keeps sending next-page links\n"
    assert len(arm.sent("GET", "/global_model/invitations$")) == 5


@pytest.mark.parametrize(("method", "path"), [("GET", "/invitations$"), ("POST", "/listSynchronizations$")])
@pytest.mark.parametrize(
    ("body", "said"),
    [({"value": None}, "a list's value is not a list"), ({"value": [None]}, "an item of a list is null")],
)
def test_a_list_of_nothing_readable_is_one_line(
    arm: FakeArm, federation: Cli, method: str, path: str, body: Any, said: str
) -> None:
    accounted(arm)
    arm.faults.append(Fault(method, f"/global_model{path}", body=body))
    code, out, err = federation("access")
    assert (code, out) == (exits.UNREADABLE, "")
    assert err.startswith(f"error: Azure's answer could not be read: {said}")
    assert err.count("\n") == 1


@pytest.mark.parametrize("body", [[], "done"])
def test_a_revocation_whose_status_cannot_be_read_is_reported_not_raised(
    arm: FakeArm, federation: Cli, body: Any
) -> None:
    ids = accounted(arm)
    federation.limits = QUICK
    arm.faults.append(Fault("GET", "/operationResults/", body=body, times=100))
    code, out, err = federation("revoke", "global_model", ids["stranger"], "--yes")
    assert code == exits.UNREADABLE, out
    assert f"  started: revoke global_model {ids['stranger']}\n" in out
    assert f"  FAILED: revoke global_model {ids['stranger']}: " in out
    assert "Traceback" not in err


def test_a_retry_after_that_is_no_time_waits_as_for_none(arm: FakeArm, federation: Cli) -> None:
    accounted(arm)
    arm.faults.append(Fault("GET", "/global_model/invitations$", 429, headers={"Retry-After": "soon"}))
    code, _, err = federation("access")
    assert code == 0, err
    assert len(arm.sent("GET", "/shares/global_model/invitations$")) == 2


def test_azures_refusal_is_printed_with_control_characters_escaped(arm: FakeArm, federation: Cli) -> None:
    accounted(arm)
    refused = "no permission for action 'x\x1b[2J\x07y'"
    arm.faults.append(Fault("GET", "/invitations$", 403, code="AuthorizationFailed", message=refused, times=5))
    code, _, err = federation("access")
    assert code == exits.UNREADABLE
    assert err.startswith("error: permission denied (x [2J y): ")
    assert "\x1b" not in err
    assert "\x07" not in err


def test_an_answer_the_client_cannot_read_is_one_line(arm: FakeArm, federation: Cli) -> None:
    accounted(arm)
    arm.subscribe("global_model", email="x@y.example", sharedAt="yesterday")
    code, out, err = federation("access")
    assert (code, out) == (exits.UNREADABLE, "")
    assert err.startswith(
        "error: share global_model: Azure's provider share subscriptions could not be read: Unable to deserialize"
    )
    assert err.count("\n") == 1


def test_wrongly_typed_fields_are_read_as_text(arm: FakeArm, federation: Cli) -> None:
    accounted(arm)
    arm.subscribe("global_model", email=5, shared_at="2026-11-27T00:00:00Z", consumerName={"a": 1})  # type: ignore[arg-type]
    code, out, err = federation("access", "--format", "json")
    assert code == 0, err
    assert any(s["consumer"] == "5" for s in json.loads(out)["shares"]["global_model"]["subscriptions"])


EVIL = "Evil\x1b[2J\r\nshare global_model: No problems.\x07<img src=x>|"


def test_text_a_consumer_chose_cannot_move_the_terminal_or_forge_a_line(arm: FakeArm, federation: Cli) -> None:
    accounted(arm)
    evil = arm.subscribe(
        "global_model",
        email="x@y.example",
        shared_at="2026-11-27T00:00:00Z",
        consumerName=EVIL,
        consumerTenantName=EVIL,
    )
    for form in ("text", "markdown", "json"):
        _, out, _ = federation("access", "--format", form)
        assert not any(c in out for c in "\x1b\r\x07"), form
        assert "share global_model: No problems." not in out.splitlines()
    _, out, _ = federation("access", "--format", "markdown")
    assert "<img" not in out
    assert "&lt;img src=x&gt;\\|" in out
    _, out, _ = federation("reconcile")
    assert f"revoke share global_model subscription {evil} (consumer Evil\\x1b[2J\\r\\nshare" in out
    assert "\x1b" not in out


def test_reconcile_says_each_change_as_it_starts_and_ends(arm: FakeArm, federation: Cli) -> None:
    ids = accounted(arm)
    code, out, _ = federation("reconcile", "--yes")
    assert code == 0
    lines = out.splitlines()
    for kind, subscription, ended in (
        ("revoke", ids["stranger"], "status Revoked"),
        ("adjust", ids["hospital-a"], "expires 2027-06-30T00:00:00Z"),
    ):
        started = lines.index(f"  started: {kind} global_model {subscription}")
        assert started < lines.index(f"  done: {kind} global_model {subscription}: {ended}")


def test_a_snapshot_request_that_gets_no_answer_says_one_may_have_started(arm: FakeArm, federation: Cli) -> None:
    arm.received[UPDATES] = Received(polls=10**9)
    arm.faults.append(Fault("POST", "/synchronize$", hang=None))
    started = time.monotonic()
    code, out, err = federation("sync", UPDATES, "--wait", "--timeout", "2s")
    assert time.monotonic() - started < 2 + sync.GRACE
    assert (code, out) == (exits.TIMEOUT, "")
    assert err.startswith(f"error: asked for a snapshot of {UPDATES} and no answer came (cannot reach Azure ")
    assert err.endswith("one may have started; `federation access` lists the latest\n")


def test_a_snapshot_answer_without_its_id_is_one_line(arm: FakeArm, federation: Cli) -> None:
    arm.received[UPDATES] = Received()
    arm.faults.append(Fault("POST", "/synchronize$", body={"status": "Queued"}))
    code, out, err = federation("sync", UPDATES, "--wait")
    assert (code, out) == (exits.UNREADABLE, "")
    assert err == (
        f"error: Azure's answer to the snapshot request of {UPDATES} names no snapshot: `federation access` lists "
        "the latest\n"
    )


def test_sync_says_it_is_alive_while_a_snapshot_runs(
    arm: FakeArm, federation: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sync, "HEARTBEAT", 0.2)
    arm.received[UPDATES] = Received(polls=10**9)  # runs until canceled
    code, _, err = federation("sync", UPDATES, "--wait", "--timeout", "2s")
    assert code == exits.TIMEOUT
    alive = [line for line in err.splitlines() if line.endswith(": InProgress")]
    assert len(alive) >= 4, err


def test_sync_stays_alive_while_a_look_waits_on_a_slow_answer(
    arm: FakeArm, federation: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sync, "HEARTBEAT", 0.2)
    arm.received[UPDATES] = Received(polls=10**9)
    arm.delay = 0.6  # each look takes three heartbeats
    code, _, err = federation("sync", UPDATES, "--wait", "--timeout", "3s")
    assert code == exits.TIMEOUT
    alive = [line for line in err.splitlines() if line.endswith(": InProgress")]
    assert len(alive) >= 10, err


def test_ctrl_c_during_sync_names_the_snapshot_it_leaves_running(arm: FakeArm, federation: Cli, ctrl_c: Any) -> None:
    arm.received[UPDATES] = Received(polls=10**9)
    ctrl_c(0.5)
    started = time.monotonic()
    code, out, err = federation("sync", UPDATES, "--wait")
    assert code == exits.INTERRUPTED
    assert time.monotonic() - started < 2.5
    sync_id = arm.received[UPDATES].synchronizations[0]["synchronizationId"]
    assert out == ""
    assert err.endswith(
        f"interrupted: snapshot {sync_id} of subscription {UPDATES} was not canceled; it goes on in Azure\n"
        "interrupted\n"
    )
    assert arm.sent("POST", "/cancelSynchronization$") == []


# Consumer text in markdown, duplicates across pages, service principals' subscriptions.

HOSTILE = (
    "[Verify here](https://evil.example/login) ![x](http://evil.example/p.png) <b>hi</b> @octocat #1 www.evil.example"
)


def test_markdown_shows_a_hostile_consumers_text_with_no_link_image_html_or_mention(
    arm: FakeArm, federation: Cli
) -> None:
    accounted(arm)
    arm.subscribe(
        "global_model",
        email="ops@lab-x.example",
        shared_at="2026-11-27T00:00:00Z",
        consumerName=HOSTILE,
        consumerTenantName="@contoso/admins **bold** `code` $x$ ~gone~ _it_",
    )
    code, out, _ = federation("access", "-o", "markdown")
    assert code == 0
    zwj = "\u200d"
    # Shown as typed: markdown's marks escaped, HTML as entities, a zero-width joiner after
    # each @ and # and inside each bare link, where GitHub would make a mention, a reference
    # or a link.
    shown = (
        f"\\[Verify here\\](https:{zwj}//evil.example/login) !\\[x\\](http:{zwj}//evil.example/p.png) "
        f"&lt;b&gt;hi&lt;/b&gt; @{zwj}octocat #{zwj}1 www{zwj}.evil.example"
    )
    assert shown in out
    assert f"@{zwj}contoso/admins \\*\\*bold\\*\\* \\`code\\` \\$x\\$ \\~gone\\~ \\_it\\_" in out
    assert "<" not in out
    assert out.count("[") == out.count("\\[")
    assert out.count("@") == out.count(f"@{zwj}")
    cells = "\n".join(line for line in out.splitlines() if not line.startswith("#"))  # headings aside
    assert cells.count("#") == cells.count(f"#{zwj}") == 1
    assert "://" not in out
    assert "www." not in out
    # Names of the program's own are left readable.
    assert "#### share global_model: subscriptions" in out


class Typed(io.StringIO):
    """What a person types at a terminal."""

    def isatty(self) -> bool:
        return True


def listed_again(items: list[dict[str, Any]], item: dict[str, Any], object_id: str | None = None) -> None:
    """`item` listed once more, on a later page, its ids in capitals: Resource Manager's ids
    are case-insensitive."""
    again = json.loads(json.dumps(item))
    again["id"] = again["id"].upper()
    if object_id is not None:
        again["properties"]["shareSubscriptionObjectId"] = object_id.upper()
    items.append(again)


def test_a_subscription_or_invitation_listed_twice_across_pages_counts_once(
    arm: FakeArm, federation: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = accounted(arm)
    share = arm.share("global_model")
    # hospital-b, a service principal: its subscription made from its invitation.
    own = arm.subscribe("global_model", email="", shared_at="2026-11-02T00:00:00Z", consumerName="svc-b")
    # Two to a page: hospital-b's invitation and the stranger's subscription again on the next.
    listed_again(share.invitations, share.invitations[1])
    listed_again(share.subscriptions, arm.subscription("global_model", ids["stranger"]), ids["stranger"])

    code, out, _ = federation("access", "-o", "json")
    listed = json.loads(out)["shares"]["global_model"]
    assert [i["participant"] for i in listed["invitations"]] == ["hospital-a", "hospital-b"]
    holders = {s["id"]: s["participant"] for s in listed["subscriptions"]}
    assert holders == {ids["hospital-a"]: "hospital-a", ids["stranger"]: None, own: "hospital-b"}

    monkeypatch.setattr("sys.stdin", Typed("no\n"))
    code, out, _ = federation("reconcile")
    assert out.count(f"revoke share global_model subscription {ids['stranger']}") == 1
    assert "Apply these 3 changes? " in out  # the stranger's revocation, two expiries
    assert revokes(arm) == []
    code, out, _ = federation("reconcile", "--yes")
    assert code == 0, out
    assert revokes(arm) == [ids["stranger"]]


@pytest.mark.parametrize("shared_at", ["2026-11-02T00:00:01Z", "2026-11-20T00:00:00Z"], ids=["1 s after", "days after"])
def test_a_subscription_with_no_email_apart_from_a_service_principals_accepted_invitation_is_left_to_a_person(
    arm: FakeArm, federation: Cli, shared_at: str
) -> None:
    """hospital-b, a service principal, accepted its invitation (sent 2026-11-02): a
    subscription with no email shared at another time may still be the one it made."""
    ids = accounted(arm)
    apart = arm.subscribe("global_model", email="", shared_at=shared_at, consumerName="svc-b")
    code, out, _ = federation("reconcile", "--yes")
    assert code == exits.PROBLEMS, out
    assert (
        f"left alone: share global_model subscription {apart} (svc-b, Consumer Org) may be hospital-b's (its "
        "invitation was accepted, and this subscription has no email to rule it out)"
    ) in out
    assert revokes(arm) == [ids["stranger"]]
    # Had hospital-b not accepted its invitation, no subscription would be made from it: one
    # shared after it is not hospital-b's, and goes.
    arm.share("global_model").invitations[1]["properties"]["invitationStatus"] = "Pending"
    code, out, _ = federation("reconcile", "--yes")
    assert f"done: revoke global_model {apart}: status Revoked" in out
