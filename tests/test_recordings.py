"""Recordings of the Azure commands: each committed one replays offline with the same exit
code and output; the fake answers every recorded request as the recording does; a fresh
recording against the fake replays the same with the fake stopped; and the sanitizer leaves
nothing identifying in any position."""

import json
import ssl
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import trustme
from vcr.errors import CannotOverwriteExistingCassetteException
from vcr.request import Request

from federation.operate import azure
from tests import exchange, recording
from tests.exchange import azurite
from tests.fake_arm import FakeArm
from tests.fake_contract import Contract, contract_arm, exchanges, seed
from tests.fake_storage import Azurite
from tests.operate_support import Token, ca, ca_file
from tests.recordings import record_fake

__all__ = ["azurite", "ca", "ca_file"]

RECORDINGS = Path(__file__).resolve().parent / "recordings"
COMMITTED = sorted(RECORDINGS.glob("*.json"))
LIMITS = azure.Limits(connect=5, read=5)


@pytest.fixture
def fake(ca: trustme.CA) -> Iterator[FakeArm]:
    with record_fake.fake(ca) as arm:
        yield arm


def replayed(path: Path, work: Path) -> recording.Outcome:
    """The recording's command replayed: every recorded answer used, no connection tried."""
    outcome, cassette, refused = recording.replay_command(path, work, Token(), LIMITS)
    assert refused.attempts == [], "a replay tried the network"
    assert cassette.all_played, f"{path.name}: answers recorded but never asked for"
    return outcome


def assert_same(outcome: recording.Outcome, meta: dict[str, Any]) -> None:
    assert outcome.code == meta["exit"], outcome.stderr
    assert recording.same_text(outcome.stdout, meta["stdout"]), outcome.stdout
    assert recording.comparable(outcome.stderr) == recording.comparable(meta["stderr"])


def test_each_recorded_scenario_is_committed() -> None:
    sources = {p.stem: recording.metadata(p)["source"] for p in COMMITTED}
    # Recordings from the fake (and, for a round, Azurite) say so, and only the live suite's say Azure.
    from_fake = {name for name, source in sources.items() if source == record_fake.SOURCE}
    assert from_fake == {s.name for s in record_fake.SCENARIOS}
    on_exchange = {name for name, source in sources.items() if source == record_fake.EXCHANGE_SOURCE}
    assert on_exchange == {s.name for s in record_fake.ROUND_SCENARIOS}
    from_fake |= on_exchange
    assert "not Azure" in record_fake.SOURCE
    assert "Azurite" in record_fake.EXCHANGE_SOURCE
    assert "not Azure" in record_fake.EXCHANGE_SOURCE
    for name, source in sources.items():
        assert name in from_fake or (name.startswith("azure-") and source.startswith("Azure: recorded by the live"))


@pytest.mark.parametrize("path", COMMITTED, ids=[p.stem for p in COMMITTED])
def test_committed_recording_replays_offline(path: Path, tmp_path: Path) -> None:
    assert_same(replayed(path, tmp_path), recording.metadata(path))


@pytest.mark.parametrize("path", COMMITTED, ids=[p.stem for p in COMMITTED])
def test_the_fake_answers_each_recorded_request_as_recorded(path: Path, ca: trustme.CA, ca_file: Path) -> None:
    meta = recording.metadata(path)
    stack = recording.stack_config_text(meta["stack"])
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    recorded = exchanges(recording.interactions(path))
    with contract_arm(context, meta["subscription"], stack.resource_group, stack.account_name) as arm:
        seed(arm, recorded)
        problems = Contract(arm, str(ca_file)).check(recorded)
    assert problems == []
    assert arm.violations == []
    assert arm.storage.violations == []
    # Every Resource Manager request was sent; storage's blob requests are Azurite's, not the fake's.
    managed = {(e.method, e.uri) for e in recorded if urlsplit(e.uri).netloc == recording.ENDPOINT_HOST}
    assert len(arm.requests) >= len(managed)


def test_the_contract_finds_a_fake_that_answers_otherwise(ca: trustme.CA, ca_file: Path) -> None:
    path = RECORDINGS / "sync-wait.json"
    meta = recording.metadata(path)
    stack = recording.stack_config_text(meta["stack"])
    recorded = exchanges(recording.interactions(path))
    # Azure, say, answers a synchronize with one more key than the fake knows.
    first = next(i for i, e in enumerate(recorded) if e.path.endswith("/synchronize"))
    changed = recorded[first].answer | {"durationMs": 0}
    recorded[first] = recorded[first].__class__(**{**recorded[first].__dict__, "answer": changed})
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with FakeArm(context, meta["subscription"], stack.resource_group, stack.account_name) as arm:
        seed(arm, recorded)
        problems = Contract(arm, str(ca_file)).check(recorded)
    assert len(problems) == 1
    assert "/synchronize: JSON keys differ: recorded only ['durationMs']" in problems[0]


@pytest.mark.parametrize("scenario", record_fake.SCENARIOS, ids=[s.name for s in record_fake.SCENARIOS])
def test_a_recording_against_the_fake_replays_the_same_with_the_fake_stopped(
    scenario: record_fake.Scenario, ca: trustme.CA, ca_file: Path, tmp_path: Path
) -> None:
    cassette = tmp_path / f"{scenario.name}.json"
    with record_fake.fake(ca) as arm:
        raw, sanitizer = record_fake.record_scenario(scenario, cassette, arm, ca_file, tmp_path)
    # The fake is stopped: only the recording answers now.
    meta = recording.metadata(cassette)
    assert (meta["exit"], meta["stdout"], meta["stderr"]) == (
        raw.code,
        sanitizer.text(raw.stdout),
        sanitizer.text(raw.stderr),
    )
    assert_same(replayed(cassette, tmp_path), meta)
    # What the real run printed is in the recording only as placeholders.
    assert arm.url.removeprefix("https://") not in cassette.read_text()


@pytest.mark.parametrize("scenario", record_fake.ROUND_SCENARIOS, ids=[s.name for s in record_fake.ROUND_SCENARIOS])
def test_a_round_recorded_on_the_exchange_replays_the_same_with_it_stopped(
    scenario: record_fake.RoundScenario, azurite: Azurite, ca: trustme.CA, ca_file: Path, tmp_path: Path
) -> None:
    cassette = tmp_path / f"{scenario.name}.json"
    with exchange.opened(azurite, ca, ca_file, tmp_path) as found:
        raw, sanitizer = record_fake.record_round(scenario, cassette, found, tmp_path)
        arms = (found.coordinator.arm.url, found.participant.arm.url)
    assert raw.code == 0, raw.stderr
    meta = recording.metadata(cassette)
    assert (meta["exit"], meta["stdout"], meta["stderr"]) == (
        raw.code,
        sanitizer.text(raw.stdout),
        sanitizer.text(raw.stderr),
    )
    # Storage's traffic is in it, the command's only (not the fake snapshot's copying).
    hosts = [urlsplit(i["request"]["uri"]).netloc for i in recording.interactions(cassette)]
    assert recording.BLOB_HOST in hosts
    if scenario.name == "publish":
        puts = sorted(i["request"]["uri"] for i in recording.interactions(cassette) if i["request"]["method"] == "PUT")
        assert [p.rsplit("round-1/", 1)[1] for p in puts] == sorted(
            [*(n.removeprefix("round-1/") for n in record_fake.ROUND_FILES), "manifest.json"]
        )
    else:
        assert not any(i["request"]["method"] == "PUT" for i in recording.interactions(cassette))
    # Azurite and the fakes are out of reach now: only the recording answers.
    with tempfile.TemporaryDirectory() as elsewhere:
        assert_same(replayed(cassette, Path(elsewhere)), meta)
    written = cassette.read_text()
    for real in (*(url.removeprefix("https://") for url in arms), azurite.url.removeprefix("https://")):
        assert real not in written
    for name in (exchange.COORDINATOR_STORAGE, exchange.PARTICIPANT_STORAGE, "rg-fl-", "dsa-fl-"):
        assert name not in written
    for subscription in (exchange.COORDINATOR_SUB, exchange.PARTICIPANT_SUB):
        assert subscription not in written


def test_a_request_the_recording_lacks_fails_instead_of_reaching_a_network(tmp_path: Path) -> None:
    path = tmp_path / "sync.json"
    meta = json.loads((RECORDINGS / "sync-wait.json").read_text())
    meta["metadata"]["command"] = ["access"]
    path.write_text(json.dumps(meta))
    with pytest.raises(CannotOverwriteExistingCassetteException, match="no recorded interaction matches it"):
        recording.replay_command(path, tmp_path, Token(), LIMITS)


# The sanitizer, with a secret planted in every place one could be.

SUBSCRIPTION = "6f1c2a4e-8d3b-4c9a-9e71-0a5b3c2d1e4f"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
OBJECT = "8e4a6f20-1c3d-4b5e-9f7a-6d2c0b8e1f94"
PRINCIPAL = "1e7360a6-6824-45a3-916e-15e0081cb89e"
EMAIL = "jane.doe@contoso.example"
GROUP = "rg-fl-secretgroup"
ACCOUNT = "dsa-fl-secretaccount"
STORAGE = "stsecretstore"
SIGNATURE = "s3cr3tSig%2Bvalue%3D"
TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.secret-token"
PERSON = "Jane Secret-Doe"
ADDRESS = "20.61.17.244"
ORGANIZATION = "Contoso Research Secret"
PLANTED = (SUBSCRIPTION, TENANT, OBJECT, PRINCIPAL, EMAIL, GROUP, ACCOUNT, STORAGE, SIGNATURE, TOKEN, PERSON, ADDRESS)
HOST = "management.azure.com"
BASE = f"https://{HOST}/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}/providers/Microsoft.DataShare"


def planted_exchange(sanitizer: recording.Sanitizer) -> tuple[Request | None, dict[str, Any]]:
    uri = f"{BASE}/accounts/{ACCOUNT}/shares/s/providerShareSubscriptions?api-version=2021-08-01&tenant={TENANT}"
    request = Request(
        "POST",
        uri,
        json.dumps({"targetEmail": EMAIL, "targetObjectId": OBJECT}).encode(),
        {
            "Authorization": f"Bearer {TOKEN}",
            "x-ms-client-request-id": PRINCIPAL,
            "x-ms-correlation-request-id": OBJECT,
            "Cookie": f"session={TOKEN}",
        },
    )
    operation = f"{BASE}/accounts/{ACCOUNT}/shares/s/operationResults/{PRINCIPAL}?api-version=2021-08-01"
    sas = f"https://{STORAGE}.blob.core.windows.net/c/round-1/m.bin?skoid={OBJECT}&sktid={TENANT}&sig={SIGNATURE}"
    response = {
        "status": {"code": 202, "message": "Accepted"},
        "headers": {
            "Location": [operation],
            "Azure-AsyncOperation": [operation],
            "x-ms-quota": [f'[{{"Id":"/subscriptions/{SUBSCRIPTION}","Limit":100}}]'],
            "x-ms-request-id": [PRINCIPAL],
            "x-ms-routing-request-id": [f"WESTEUROPE:20261205T120000Z:{OBJECT}"],
            "x-ms-ratelimit-remaining-subscription-writes": ["1199"],
            "Set-Cookie": [f"x-ms-gateway-slice=estsfd; token={TOKEN}"],
            "Content-Length": ["1"],
        },
        "body": {
            "string": json.dumps(
                {
                    "value": [
                        {
                            "id": f"{BASE}/accounts/{ACCOUNT}/shares/s/shareSubscriptions/{OBJECT}",
                            "properties": {
                                "consumerEmail": EMAIL,
                                "consumerName": PERSON,
                                "consumerTenantName": ORGANIZATION,
                                "providerEmail": EMAIL.upper(),
                                "storageAccountName": STORAGE,
                                "resourceGroup": GROUP,
                                "subscriptionId": SUBSCRIPTION,
                                "principalId": PRINCIPAL,
                                "link": sas,
                                "networkAcls": {"ipRules": [{"value": ADDRESS}]},
                            },
                        }
                    ],
                    "nextLink": f"{BASE}/accounts/{ACCOUNT}/list?$skipToken={TENANT}",
                }
            ).encode()
        },
    }
    return sanitizer.request(request), sanitizer.response(response)


def test_the_sanitizer_leaves_no_planted_secret_anywhere() -> None:
    sanitizer = recording.Sanitizer(f"https://{HOST}")
    request, response = planted_exchange(sanitizer)
    assert request is not None
    written = json.dumps({"request": request._to_dict(), "response": response}, default=str)
    for secret in (*PLANTED, ORGANIZATION, HOST):
        assert secret.lower() not in written.lower(), secret
    headers = {k.lower() for k in response["headers"]}
    assert {"authorization", "cookie", "set-cookie", "x-ms-quota"} & (headers | set(request.headers)) == set()
    assert not any(h.startswith(("x-ms-request", "x-ms-routing", "x-ms-ratelimit")) for h in headers)
    # The answer's URLs still lead where the recording goes, with the same placeholders.
    location = response["headers"]["Location"][0]
    assert location.startswith(f"{recording.ENDPOINT}/subscriptions/{recording.GUID_PREFIX}")
    assert location == response["headers"]["Azure-AsyncOperation"][0]
    assert "sig=REDACTED" in written
    body = json.loads(response["body"]["string"])
    assert response["headers"]["Content-Length"] == [str(len(response["body"]["string"]))]
    properties = body["value"][0]["properties"]
    # One real value, one placeholder, wherever it is and however it is written.
    assert properties["consumerEmail"] == properties["providerEmail"] == "user1@recorded.example"
    assert properties["subscriptionId"] in request.uri
    assert properties["resourceGroup"] in request.uri
    assert properties["storageAccountName"] in properties["link"]
    assert properties["consumerName"] != properties["consumerTenantName"]


def test_the_sanitizer_is_stable_and_leaves_placeholders_alone() -> None:
    sanitizer = recording.Sanitizer(f"https://{HOST}")
    first, _ = planted_exchange(sanitizer)
    again, _ = planted_exchange(sanitizer)
    assert first is not None
    assert again is not None
    assert first.uri == again.uri
    # vcrpy runs the hook again on what it returned: nothing changes the second time.
    rerun = sanitizer.request(first)
    assert rerun is not None
    assert rerun.uri == first.uri
    assert sanitizer.text(first.uri) == first.uri


def test_the_sanitizer_keeps_out_what_is_not_resource_manager_or_storage() -> None:
    sanitizer = recording.Sanitizer(f"https://{HOST}")
    sign_in = Request("POST", f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token", b"secret", {})
    assert sanitizer.request(sign_in) is None


def test_the_sanitizer_names_a_local_server_by_a_fixed_host() -> None:
    sanitizer = recording.Sanitizer("https://127.0.0.1:54321")
    request = sanitizer.request(Request("GET", f"https://127.0.0.1:54321/subscriptions/{SUBSCRIPTION}", None, {}))
    assert request is not None
    assert request.uri == f"{recording.ENDPOINT}/subscriptions/{recording.GUID_PREFIX}000000000001"
    blob = sanitizer.request(Request("GET", "https://127.0.0.1:40000/devstoreaccount1/c/x", None, {}))
    assert blob is not None
    assert blob.uri == "https://host2.recorded.example/devstoreaccount1/c/x"
    assert sanitizer.text("cannot reach 127.0.0.1:54321") == f"cannot reach {recording.ENDPOINT_HOST}"


def test_the_sanitizer_keeps_a_body_with_nothing_to_replace_byte_for_byte() -> None:
    # A blob's bytes are hashed again on replay: JSON written anew would not hash the same.
    sanitizer = recording.Sanitizer(f"https://{HOST}")
    manifest = b'{\n  "round":   "round-1",\n  "files": {"a.txt": {"size": 1}}\n}\n'
    assert sanitizer.body(manifest) == manifest
    assert sanitizer.body(b"0.125 -0.5\n") == b"0.125 -0.5\n"
    # What identifies still goes.
    assert STORAGE not in sanitizer.body(json.dumps({"storageAccountName": STORAGE}).encode()).decode()


def test_the_sanitizer_names_the_blob_endpoint_and_skips_a_fakes_own_threads() -> None:
    sanitizer = recording.Sanitizer("https://127.0.0.1:54321", unrecorded_threads=frozenset({"copying"}))
    sanitizer.name_host("127.0.0.1:40000", recording.BLOB_HOST)
    blob = sanitizer.request(Request("PUT", "https://127.0.0.1:40000/acct/c/round-1/a.txt", b"a", {}))
    assert blob is not None
    assert blob.uri == f"https://{recording.BLOB_HOST}/acct/c/round-1/a.txt"
    assert sanitizer.text("https://127.0.0.1:40000/x") == f"https://{recording.BLOB_HOST}/x"
    found: list[Request | None] = []
    thread = threading.Thread(
        target=lambda: found.append(sanitizer.request(Request("GET", "https://127.0.0.1:40000/a/c/x", None, {}))),
        name="copying",
    )
    thread.start()
    thread.join()
    assert found == [None]


def test_a_recording_is_made_anew_where_one_was(tmp_path: Path) -> None:
    # An earlier attempt's answers and metadata (a live step tried again) are not kept.
    path = tmp_path / "azure-publish.json"
    path.write_text(json.dumps({"interactions": [{"request": {}, "response": {}}], "metadata": {"exit": 3}}))
    with recording.record(path, recording.Sanitizer(f"https://{HOST}")) as cassette:
        cassette.get_metadata("exit", 0)
    assert json.loads(path.read_text()) == {"interactions": [], "metadata": {"exit": 0}, "version": 1}
