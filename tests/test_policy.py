"""The consortium's policy pack: each rule passes the committed stacks and fails what breaks
it, on the committed stacks and on generated configs; its config is checked as the Pulumi
CLI checks it; `federation check` runs it offline; and the pack itself serves the engine."""

import contextlib
import dataclasses
import io
import json
import re
import subprocess
import sys
import types
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml
from google.protobuf import empty_pb2
from hypothesis import given, settings
from hypothesis import strategies as st
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy.proxy import UNKNOWN_OBJECT_VALUE, UNKNOWN_STRING_VALUE

from federation import exits
from federation.cli import main
from federation.config import stackfile
from federation.review import check, offline
from tests import strategies
from tests.clock import CLOCK
from tests.support import PROJECT

STACKS = ["Pulumi.dev.yaml", "Pulumi.silo-a.yaml"]


@pytest.fixture(scope="module")
def consortium() -> check.Settings:
    return check.read_config(check.DEFAULT_CONFIG)


def committed(name: str) -> dict[str, Any]:
    return yaml.safe_load((PROJECT / name).read_text())["config"]  # type: ignore[no-any-return]


def program(config: dict[str, Any], stack: str = "dev") -> offline.Run:
    """The program on a config, with what the senders its `from` names export."""
    run = offline.run(stackfile.config_values(config), stack, stacks=strategies.sender_outputs(config))
    assert run.error is None, str(run.error)
    return run


def violations(config: dict[str, Any], settings: check.Settings, stack: str = "dev") -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for v in check.evaluate(program(config, stack), settings):
        found.setdefault(v.policy, []).append(v.message)
    return found


@pytest.mark.parametrize("name", STACKS)
def test_the_committed_stacks_pass_with_the_consortiums_config(name: str, consortium: check.Settings) -> None:
    run = offline.run_stack_file(PROJECT / name)
    assert check.evaluate(run, consortium) == []


def storage_props(name: str = "Pulumi.dev.yaml") -> dict[str, Any]:
    run = offline.run_stack_file(PROJECT / name)
    return offline.plain(dict(run.of_type("azure-native:storage:StorageAccount")[0].inputs))  # type: ignore[no-any-return]


def resource_violations(policy: str, type_: str, props: dict[str, Any], config: dict[str, Any]) -> list[str]:
    from pulumi_policy import PolicyCustomTimeouts, PolicyResourceOptions, ResourceValidationArgs

    opts = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])
    args = ResourceValidationArgs(type_, props, f"urn:pulumi:dev::federation::{type_}::x", "x", opts, None, config)
    found: list[str] = []
    check.rules().by_name()[policy].validate(args, lambda message, urn=None: found.append(message))
    return found


BROKEN_STORAGE = [
    ("storage-minimum-tls-1-2", {"minimumTlsVersion": "TLS1_0"}, "minimumTlsVersion is TLS1_0"),
    ("storage-minimum-tls-1-2", {"minimumTlsVersion": None}, "minimumTlsVersion is not set"),
    ("storage-https-only", {"enableHttpsTrafficOnly": False}, "enableHttpsTrafficOnly is not true"),
    ("storage-no-anonymous-blob-access", {"allowBlobPublicAccess": True}, "allowBlobPublicAccess is not false"),
    ("storage-no-shared-keys", {"allowSharedKeyAccess": True}, "allowSharedKeyAccess is not false"),
    (
        "storage-default-deny-network",
        {"networkRuleSet": {"defaultAction": "Allow", "bypass": "AzureServices"}},
        "defaultAction is Allow",
    ),
    (
        "storage-default-deny-network",
        {"networkRuleSet": {"defaultAction": "Deny", "bypass": "Logging, Metrics"}},
        "bypass does not include AzureServices",
    ),
    ("storage-no-cross-tenant-replication", {"allowCrossTenantReplication": None}, "is not false"),
    (
        "storage-infrastructure-encryption",
        {"encryption": {"keySource": "Microsoft.Storage", "requireInfrastructureEncryption": False}},
        "requireInfrastructureEncryption is false",
    ),
]


@pytest.mark.parametrize(("policy", "change", "message"), BROKEN_STORAGE, ids=[c[0] for c in BROKEN_STORAGE])
def test_each_storage_rule_passes_the_committed_storage_and_fails_it_broken(
    policy: str, change: dict[str, Any], message: str
) -> None:
    props = storage_props()
    assert resource_violations(policy, "azure-native:storage:StorageAccount", props, {}) == []
    broken = {k: v for k, v in (props | change).items() if v is not None}
    [found] = resource_violations(policy, "azure-native:storage:StorageAccount", broken, {})
    assert message in found


def test_an_opted_in_shared_key_fails_through_the_program(consortium: check.Settings) -> None:
    config = committed("Pulumi.dev.yaml")
    config["federation:storage"]["models"]["sharedKeyAccess"] = True
    assert violations(config, consortium) == {"storage-no-shared-keys": ["allowSharedKeyAccess is not false"]}


def test_an_invitation_must_expire_within_the_maximum(consortium: check.Settings) -> None:
    config = committed("Pulumi.dev.yaml")
    config["federation:shares"]["global_model"]["expires"] = "2028-01-01T00:00:00Z"
    assert violations(config, consortium) == {
        "invitation-expiry": [
            "invitation global_model.hospital-a expires 2028-01-01T00:00:00Z, later than 365 days from now"
        ]
    }
    del config["federation:shares"]["global_model"]["expires"]
    assert violations(config, consortium) == {
        "invitation-expiry": ["invitation global_model.hospital-a never expires; it must within 365 days"]
    }
    longer = check.configure({"invitation-expiry": {"maxInvitationDays": 800}} | _targets())
    config["federation:shares"]["global_model"]["expires"] = "2028-01-01T00:00:00Z"
    assert violations(config, longer) == {}


def _targets() -> dict[str, Any]:
    return {
        "invitation-allowed-targets": json.loads((PROJECT / "policy.json").read_text())["invitation-allowed-targets"]
    }


def test_invitations_go_only_to_allowed_domains_and_tenants(consortium: check.Settings) -> None:
    config = committed("Pulumi.dev.yaml")
    config["federation:participants"]["lab-x"] = {"email": "ops@lab-x.example"}
    config["federation:participants"]["lab-y"] = {
        "tenantId": "11111111-2222-4333-8444-555555555555",
        "objectId": "66666666-7777-4888-9999-000000000000",
    }
    found = violations(config, consortium)["invitation-allowed-targets"]
    assert "invitation global_model.lab-x goes to the domain lab-x.example, not an allowed one (" in found[0]
    assert "invitation global_model.lab-y goes to the tenant 11111111-2222-4333-8444-555555555555" in found[1]
    # With no allow list configured, no invitation is allowed.
    unconfigured = check.configure({})
    assert len(violations(committed("Pulumi.dev.yaml"), unconfigured)["invitation-allowed-targets"]) == 3


def test_a_share_needs_terms_and_a_description(consortium: check.Settings) -> None:
    config = committed("Pulumi.dev.yaml")
    del config["federation:shares"]["training_plan"]["terms"]
    del config["federation:shares"]["global_model"]["description"]
    assert violations(config, consortium) == {
        "share-terms-and-description": ["share global_model has no description", "share training_plan has no terms"]
    }


def test_the_account_must_log_its_snapshots(consortium: check.Settings) -> None:
    config = committed("Pulumi.silo-a.yaml")
    del config["federation:monitoring"]
    assert violations(config, consortium, "silo-a") == {
        "account-snapshot-logs": [
            "Data Share account dsa-fl-silo-a sends no SentShareSnapshots or ReceivedShareSnapshots logs"
        ]
    }


def stack_violations(run: offline.Run, policy: str) -> list[str]:
    found: list[str] = []
    resources = check._policy_resources([r for r in run.resources if not r.read])
    from pulumi_policy import StackValidationArgs

    check.rules().by_name()[policy].validate(
        StackValidationArgs(list(resources.values())), lambda message, urn=None: found.append(message)
    )
    return found


ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"


def test_the_data_share_identity_holds_only_the_roles_its_shares_and_subscriptions_need() -> None:
    run = offline.run_stack_file(PROJECT / "Pulumi.dev.yaml")
    assert stack_violations(run, "rbac-least-privilege") == []
    grants = {r.name: r for r in run.of_type("azure-native:authorization:RoleAssignment")}
    lake = grants["lake.blob-reader"]
    # The same grant, had it write (Contributor) where nothing is received, or reach a whole group.
    contributor = str(lake.outputs["roleDefinitionId"]).replace(
        check.rules().BLOB_DATA_READER, check.rules().BLOB_DATA_CONTRIBUTOR
    )
    wider = str(lake.outputs["scope"]).rsplit("/providers/", 1)[0]
    unread = str(lake.outputs["scope"]).rsplit("/", 1)[0] + "/stunrelated"
    owner = str(lake.outputs["roleDefinitionId"]).rsplit("/", 1)[0] + f"/{OWNER}"
    for outputs, message in (
        ({"roleDefinitionId": contributor}, "lets the Data Share identity write storage stresearchlake"),
        ({"scope": wider}, "is scoped to /subscriptions/"),
        ({"scope": unread}, "lets the Data Share identity read storage stunrelated, which no share reads"),
        ({"roleDefinitionId": owner}, "a role other than Storage Blob Data Reader or Contributor"),
    ):
        changed = dataclasses.replace(lake, outputs=dict(lake.outputs) | outputs)
        broken = dataclasses.replace(run, resources=tuple(changed if r is lake else r for r in run.resources))
        [found] = stack_violations(broken, "rbac-least-privilege")
        assert message in found
    # The role alone is judged on the grant's inputs too, the same way.
    inputs = offline.plain(dict(lake.inputs))
    assert resource_violations("role-assignment-blob-data-only", ROLE_ASSIGNMENT, inputs, {}) == []
    [found] = resource_violations(
        "role-assignment-blob-data-only", ROLE_ASSIGNMENT, inputs | {"roleDefinitionId": owner}, {}
    )
    assert found == f"x grants a role other than Storage Blob Data Reader or Contributor ({OWNER})"


def _target(invitation: Any) -> str:
    """An invitation's email domain, or its tenant."""
    inputs = offline.plain(invitation.inputs)
    return (
        str(inputs.get("targetEmail", "")).rpartition("@")[2].lower()
        or str(inputs.get("targetActiveDirectoryId", "")).lower()
    )


@settings(max_examples=20, deadline=None)
@given(config=strategies.configs(), days=st.integers(min_value=1, max_value=4000), data=st.data())
def test_on_generated_configs_each_rule_fails_exactly_what_config_asks_for(
    config: dict[str, Any], days: int, data: st.DataObject
) -> None:
    model = program(config, "gen")
    invitations = model.of_type("azure-native:datashare:Invitation")
    participants = config.get("federation:participants", {})
    domains = {p["email"].rpartition("@")[2].lower() for p in participants.values() if "email" in p}
    tenants = {p["tenantId"].lower() for p in participants.values() if "tenantId" in p}
    # The allow lists admit every participant, or all but one of those invited.
    targets = sorted({_target(i) for i in invitations})
    refused = {data.draw(st.sampled_from(targets))} if targets and data.draw(st.booleans()) else set()
    allowed = {"allowedEmailDomains": sorted(domains - refused), "allowedTenants": sorted(tenants - refused)}
    settings_ = check.configure(
        {"invitation-expiry": {"maxInvitationDays": days}, "invitation-allowed-targets": allowed}
    )
    found = violations(config, settings_, "gen")
    expected: set[str] = set()
    shares = config.get("federation:shares", {})
    # Text of white space alone (a control character such as \x1d counts) says nothing.
    if any(not str(s.get(key) or "").strip() for s in shares.values() for key in ("terms", "description")):
        expected.add("share-terms-and-description")
    if any(e.get("sharedKeyAccess") for e in config.get("federation:storage", {}).values()):
        expected.add("storage-no-shared-keys")
    if "federation:monitoring" not in config:
        expected.add("account-snapshot-logs")
    if refused:
        expected.add("invitation-allowed-targets")
    latest = CLOCK + timedelta(days=days)
    for invitation in invitations:
        expires = offline.plain(invitation.inputs).get("expirationDate")
        if expires is None or datetime.fromisoformat(expires.replace("Z", "+00:00")) > latest:
            expected.add("invitation-expiry")
    assert set(found) == expected, found


def write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


def test_check_runs_offline_and_exits_7_on_a_mandatory_violation(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(PROJECT)
    assert main(["check", "-s", "dev"]) == exits.OK
    assert capsys.readouterr().out.endswith("\nno violations.\n")
    config = committed("Pulumi.dev.yaml")
    del config["federation:shares"]["training_plan"]["terms"]
    stack = tmp_path / "Pulumi.dev.yaml"
    stack.write_text(yaml.safe_dump({"config": config}))
    assert main(["check", "--config", str(stack)]) == exits.POLICY
    out = capsys.readouterr().out
    assert " mandatory share-terms-and-description  azure-native:datashare:Share training_plan\n" in out
    assert "     remediation: Set description and terms on the share in federation:shares.\n" in out
    assert main(["check", "--config", str(stack), "-o", "markdown"]) == exits.POLICY
    markdown = capsys.readouterr().out
    assert markdown.startswith("**Policy check of `dev`** (federation-consortium): 1 violation, 1 mandatory.")
    assert "| mandatory | `share-terms-and-description` | `azure-native:datashare:Share training_plan` |" in markdown
    advisory = write(tmp_path / "p.json", {"share-terms-and-description": "advisory"} | _targets())
    assert main(["check", "--config", str(stack), "--policy-config", str(advisory), "-o", "json"]) == exits.OK
    [found] = json.loads(capsys.readouterr().out)["violations"]
    assert (found["policy"], found["level"], found["severity"]) == ("share-terms-and-description", "advisory", "low")
    disabled = write(tmp_path / "d.json", {"all": "disabled"})
    assert main(["check", "--config", str(stack), "--policy-config", str(disabled)]) == exits.OK


def test_check_reads_the_policy_config_of_the_project_it_reads_stacks_from(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: federation\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text((PROJECT / "Pulumi.dev.yaml").read_text())
    monkeypatch.chdir(tmp_path)
    # No policy.json here: the program's own, which the committed stack passes.
    assert main(["check", "-s", "dev"]) == exits.OK
    assert capsys.readouterr().out.endswith("\nno violations.\n")
    shorter = json.loads((PROJECT / "policy.json").read_text()) | {"invitation-expiry": {"maxInvitationDays": 30}}
    write(tmp_path / "policy.json", shorter)
    assert main(["check", "-s", "dev"]) == exits.POLICY
    out = capsys.readouterr().out
    assert "invitation-expiry" in out
    assert "later than 30 days from now" in out


def test_policy_config_is_checked_as_pulumi_checks_it(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = write(
        tmp_path / "bad.json",
        {
            "invitation-expiry": {"maxInvitationDays": "a year", "enforcementLevel": "strict"},
            "invitation-allowed-targets": {"allowedTenants": ["contoso"]},
            "storage-https-only": 3,
            "no-such-policy": "advisory",
        },
    )
    assert main(["check", "-s", "dev", "--config", str(PROJECT / "Pulumi.dev.yaml"), "--policy-config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}: 4 problems in policy config:\n" in err
    assert (
        '  invitation-expiry.enforcementLevel: "strict" is not one of advisory, mandatory, remediate, disabled\n' in err
    )
    assert "  invitation-expiry.maxInvitationDays: 'a year' is not of type 'integer'\n" in err
    assert "  invitation-allowed-targets.allowedTenants.0: 'contoso' does not match" in err
    assert "  storage-https-only: must be an enforcement level or an object; got 3\n" in err
    unknown = write(tmp_path / "u.json", {"no-such-policy": "advisory"} | _targets())
    assert main(["check", "--config", str(PROJECT / "Pulumi.dev.yaml"), "--policy-config", str(unknown)]) == 0
    assert "warning: the policy config names no-such-policy, which is no policy of the pack" in capsys.readouterr().err
    # Defaults fill in what is left out, as `pulumi preview` fills them.
    assert check.configure({}).configs["invitation-expiry"] == {"maxInvitationDays": 365}


def test_every_rule_says_how_to_remedy_it_and_configurable_ones_have_a_schema() -> None:
    policies = check.rules().by_name()
    assert len(policies) == 13
    assert all(p.remediation_steps and p.severity for p in policies.values())
    assert {p.name for p in check.rules().configurable()} == {"invitation-expiry", "invitation-allowed-targets"}
    properties = {k for p in check.rules().configurable() for k in p.config_schema.properties}
    assert properties == {"maxInvitationDays", "allowedEmailDomains", "allowedTenants"}


def test_cis_references_name_the_recommendation_each_rule_checks() -> None:
    cis = {
        p.name: (p.framework.version, p.framework.reference)
        for p in check.rules().by_name().values()
        if p.framework and "CIS" in p.framework.name
    }
    assert cis == {
        "storage-minimum-tls-1-2": ("4.0.0", "10.3.7"),
        "storage-https-only": ("4.0.0", "10.3.4"),
        "storage-no-anonymous-blob-access": ("4.0.0", "10.3.9"),
        "storage-no-shared-keys": ("4.0.0", "10.3.1.3"),
        "storage-default-deny-network": ("4.0.0", "10.3.2.3, 10.3.5"),
        "storage-no-cross-tenant-replication": ("4.0.0", "10.3.8"),
        # 4.0.0 has no recommendation on infrastructure encryption; 3.0.0 had one.
        "storage-infrastructure-encryption": ("3.0.0", "4.2"),
    }


def test_the_docs_list_every_rule_as_the_pack_defines_it() -> None:
    """docs/policy.md's table of rules: each policy once, with its severity and reference."""
    text = (PROJECT / "docs" / "policy.md").read_text()
    rows = re.findall(r"^\| `([a-z0-9-]+)` \| [^|]+ \| .+ \| (\w+) \| ([^|]+) \|$", text, re.MULTILINE)
    documented = {name: (severity, reference.strip()) for name, severity, reference in rows}
    policies = check.rules().by_name()
    assert len(rows) == len(documented) == len(policies)
    for name, policy in policies.items():
        severity, reference = documented[name]
        assert severity == policy.severity.value, name
        framework = policy.framework
        if framework is None:
            assert reference == "the consortium's own rule", name
        elif "CIS" in framework.name:
            assert reference == f"CIS Azure {framework.version}, {framework.reference}", name
        else:
            assert reference == f"Data Share security baseline, {framework.reference}", name


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    """A pack as the Pulumi CLI runs it: its __main__.py in its directory, serving the
    analyzer on a port it prints."""
    server = subprocess.Popen(
        [sys.executable, "__main__.py"], cwd=directory, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        server.kill()
        server.wait()


@pytest.fixture(scope="module")
def pack() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    with serve(PROJECT / "policy") as stub:
        yield stub


def test_the_pack_serves_every_rule_to_the_engine(pack: analyzer_pb2_grpc.AnalyzerStub) -> None:
    info = pack.GetAnalyzerInfo(empty_pb2.Empty(), timeout=10)
    assert info.name == "federation-consortium"
    assert {p.name for p in info.policies} == set(check.rules().by_name())
    expiry = next(p for p in info.policies if p.name == "invitation-expiry")
    assert expiry.enforcementLevel == analyzer_pb2.MANDATORY
    assert "maxInvitationDays" in expiry.configSchema.properties


def test_the_pack_judges_a_resource_as_check_does(pack: analyzer_pb2_grpc.AnalyzerStub) -> None:
    request = analyzer_pb2.AnalyzeRequest(
        type="azure-native:storage:StorageAccount", urn="urn:pulumi:dev::federation::storage::x", name="x"
    )
    request.properties.update(storage_props() | {"minimumTlsVersion": "TLS1_0"})
    found = pack.Analyze(request, timeout=10)
    assert [d.policyName for d in found.diagnostics] == ["storage-minimum-tls-1-2"]
    assert found.diagnostics[0].message.endswith("minimumTlsVersion is TLS1_0, not TLS1_2")


# The pack as the engine calls it, and `check` beside it.

LEVELS = {
    analyzer_pb2.ADVISORY: "advisory",
    analyzer_pb2.MANDATORY: "mandatory",
    analyzer_pb2.REMEDIATE: "remediate",
    analyzer_pb2.DISABLED: "disabled",
}


def configure(stub: analyzer_pb2_grpc.AnalyzerStub, settings: check.Settings) -> None:
    """What the Pulumi CLI sends a pack before a preview: each policy's level and config."""
    request = analyzer_pb2.ConfigureAnalyzerRequest()
    for name, level in settings.levels.items():
        request.policyConfig[name].enforcementLevel = analyzer_pb2.EnforcementLevel.Value(level.upper())
        request.policyConfig[name].properties.update(settings.configs[name])
    stub.Configure(request, timeout=10)


def engine(
    stub: analyzer_pb2_grpc.AnalyzerStub,
    run: offline.Run,
    settings: check.Settings,
    outputs: dict[str, dict[str, Any]] | None = None,
) -> set[tuple[str, str, str | None, str]]:
    """What the pack reports when the engine sends it a run: each resource's inputs alone,
    then every resource's outputs (or `outputs` by URN) with parents and dependencies."""
    configure(stub, settings)
    registered = [r for r in run.resources if not r.read]
    found: set[tuple[str, str, str | None, str]] = set()

    def keep(diagnostic: Any, urn: str | None) -> None:
        message = diagnostic.message.removeprefix(diagnostic.description + "\n")
        found.add((diagnostic.policyName, LEVELS[diagnostic.enforcementLevel], urn, message))

    for r in registered:
        request = analyzer_pb2.AnalyzeRequest(type=r.type, urn=r.urn, name=r.name)
        request.properties.update(offline.plain(dict(r.inputs)))
        for diagnostic in stub.Analyze(request, timeout=10).diagnostics:
            keep(diagnostic, r.urn)
    stack = analyzer_pb2.AnalyzeStackRequest()
    for r in registered:
        resource = stack.resources.add(
            type=r.type, urn=r.urn, name=r.name, parent=r.parent or "", dependencies=r.depends_on
        )
        resource.properties.update((outputs or {}).get(r.urn) or offline.plain(dict(r.outputs)))
        for key, urns in r.property_dependencies.items():
            resource.propertyDependencies[key].urns.extend(urns)
    for diagnostic in stub.AnalyzeStack(stack, timeout=10).diagnostics:
        keep(diagnostic, diagnostic.urn or None)
    return found


def judged(run: offline.Run, settings: check.Settings) -> set[tuple[str, str, str | None, str]]:
    return {(v.policy, v.level, v.urn, v.message) for v in check.evaluate(run, settings)}


# The pack runs in its own process, on the wall clock: no invitation here nears this many days.
LONG = {"invitation-expiry": {"maxInvitationDays": 100_000}}


def test_check_reports_what_the_packs_analyzer_reports(pack: analyzer_pb2_grpc.AnalyzerStub) -> None:
    config = committed("Pulumi.dev.yaml")
    config["federation:storage"]["models"]["sharedKeyAccess"] = True
    config["federation:participants"]["lab-x"] = {"email": "ops@lab-x.example"}
    del config["federation:shares"]["training_plan"]["terms"]
    del config["federation:monitoring"]
    run = program(config)
    # The engine enforces `remediate` as mandatory: the pack's rules change nothing.
    document = json.loads((PROJECT / "policy.json").read_text()) | LONG
    settings = check.configure(
        document | {"share-terms-and-description": "remediate", "storage-no-shared-keys": "advisory"}
    )
    found = judged(run, settings)
    assert {(policy, level) for policy, level, _, _ in found} == {
        ("storage-no-shared-keys", "advisory"),
        ("invitation-allowed-targets", "mandatory"),
        ("share-terms-and-description", "mandatory"),
        ("account-snapshot-logs", "mandatory"),
    }
    assert found == engine(pack, run, settings)


def test_a_remediate_level_fails_check_as_a_mandatory_one(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = committed("Pulumi.dev.yaml")
    del config["federation:shares"]["training_plan"]["terms"]
    stack = tmp_path / "Pulumi.dev.yaml"
    stack.write_text(yaml.safe_dump({"config": config}))
    remediate = write(tmp_path / "p.json", {"share-terms-and-description": "remediate"} | _targets())
    assert main(["check", "--config", str(stack), "--policy-config", str(remediate)]) == exits.POLICY
    out = capsys.readouterr().out
    assert " mandatory share-terms-and-description  azure-native:datashare:Share training_plan\n" in out
    assert out.endswith("\n1 violation, 1 mandatory.\n")


# A pack whose rules say what they were given: the kinds of the values and of what holds them.
PROBE = """
from collections.abc import Mapping, Sequence

from pulumi_policy import (
    EnforcementLevel, PolicyConfigSchema, PolicyPack, ResourceValidationPolicy, StackValidationPolicy,
)


def shape(value):
    if isinstance(value, Mapping):
        return type(value).__name__ + "{" + ",".join(f"{k}:{shape(value[k])}" for k in sorted(value)) + "}"
    if isinstance(value, Sequence) and not isinstance(value, str):
        return type(value).__name__ + "[" + ",".join(shape(v) for v in value) + "]"
    return type(value).__name__


def resource(args, report):
    report(f"{shape(args.props)} config={shape(args.get_config())}", None)


def stack(args, report):
    for r in args.resources:
        parent = r.parent.urn if r.parent else ""
        dependencies = ",".join(sorted(d.urn for d in r.dependencies))
        properties = ",".join(f"{k}={sorted(d.urn for d in v)}" for k, v in sorted(r.property_dependencies.items()))
        report(f"{shape(r.props)} parent={parent} dependencies={dependencies} {properties}", r.urn)


POLICIES = [
    ResourceValidationPolicy(
        name="probe-resource",
        description="what a resource rule is given",
        validate=resource,
        config_schema=PolicyConfigSchema(properties={"days": {"type": "integer", "default": 3}}),
    ),
    StackValidationPolicy(name="probe-stack", description="what a stack rule is given", validate=stack),
]
ENFORCEMENT = EnforcementLevel.ADVISORY
PACK = "probe"

if __name__ == "__main__":
    PolicyPack(PACK, POLICIES, enforcement_level=ENFORCEMENT)
"""


def test_rules_are_given_what_the_engine_gives_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pulumi-policy's proxies, numbers as floats, parents and dependencies linked."""
    (tmp_path / "__main__.py").write_text(PROBE)
    probe = types.ModuleType("probe")
    exec(PROBE, probe.__dict__)
    for name in ("POLICIES", "ENFORCEMENT", "PACK"):
        monkeypatch.setattr(check.rules(), name, getattr(probe, name))
    run = offline.run_stack_file(PROJECT / "Pulumi.dev.yaml")
    settings = check.configure({})
    found = judged(run, settings)
    # The blob service's retention days, a whole number in the program, reach rules as a float.
    assert any("days:float" in message for _, _, _, message in found)
    assert any(message.startswith("_DictProxy{") for _, _, _, message in found)
    with serve(tmp_path) as stub:
        assert found == engine(stub, run, settings)


def test_the_snapshot_logs_rule_judges_a_first_preview(pack: analyzer_pb2_grpc.AnalyzerStub) -> None:
    """On a new stack's preview the provider makes every output the program did not set
    unknown: ids, the account's principal id, and in each log entry the category group."""
    run = offline.run_stack_file(PROJECT / "Pulumi.dev.yaml")
    first: dict[str, dict[str, Any]] = {}
    for r in run.resources:
        outputs = offline.plain(dict(r.inputs)) | {"id": UNKNOWN_STRING_VALUE}
        if r.type == "azure-native:datashare:Account":
            outputs["identity"] = {"type": "SystemAssigned", "principalId": UNKNOWN_STRING_VALUE}
        if r.type == "azure-native:monitor:DiagnosticSetting":
            outputs["logs"] = [
                entry | {"categoryGroup": UNKNOWN_STRING_VALUE, "retentionPolicy": UNKNOWN_OBJECT_VALUE}
                for entry in outputs["logs"]
            ]
        first[r.urn] = outputs
    found = {
        (policy, level, message) for policy, level, _, message in engine(pack, run, check.configure(_targets()), first)
    }
    # The logs are judged (and pass); which storage a grant reaches waits for the end of `up`.
    assert {policy for policy, _, _ in found} == {"rbac-least-privilege"}
    [(_, level, message)] = found
    assert level == "advisory"
    assert "can't run policy 'rbac-least-privilege'" in message
    assert "identity.principalId can't be known during preview" in message


def test_a_grant_of_a_wider_role_fails_before_anything_is_created(pack: analyzer_pb2_grpc.AnalyzerStub) -> None:
    """A new grant's principal, scope and name are unknown at preview; its role is not."""
    configure(pack, check.configure(_targets()))
    role = f"/subscriptions/{offline.SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/"
    request = analyzer_pb2.AnalyzeRequest(
        type=ROLE_ASSIGNMENT, urn="urn:pulumi:dev::federation::x::models.grant", name="models.grant"
    )
    inputs = {
        "principalId": UNKNOWN_STRING_VALUE,
        "principalType": "ServicePrincipal",
        "roleAssignmentName": UNKNOWN_STRING_VALUE,
        "scope": UNKNOWN_STRING_VALUE,
    }
    request.properties.update(inputs | {"roleDefinitionId": role + check.rules().BLOB_DATA_READER})
    assert list(pack.Analyze(request, timeout=10).diagnostics) == []
    request.properties.update({"roleDefinitionId": role + OWNER})
    [found] = pack.Analyze(request, timeout=10).diagnostics
    assert (found.policyName, found.enforcementLevel) == ("role-assignment-blob-data-only", analyzer_pb2.MANDATORY)
    assert found.message.endswith(
        f"models.grant grants a role other than Storage Blob Data Reader or Contributor ({OWNER})"
    )


# Secrets: a stack file holds ciphertext only.


def secured(config: dict[str, Any]) -> dict[str, Any]:
    """The committed coordinator with hospital-a's email, hospital-b's tenant and expiry
    set with `pulumi config set --secret`, as docs/secrets.md recommends."""
    participants = config["federation:participants"]
    participants["hospital-a"]["email"] = {"secure": "v1:R8dL0fW2cXqk7o9EAAAA"}
    participants["hospital-b"]["tenantId"] = {"secure": "v1:Jx3pQ9vB1mZt5yKcAAAA"}
    participants["hospital-b"]["expires"] = {"secure": "v1:Wn6hS2gT8rYe4uLdAAAA"}
    return config


def test_check_does_not_judge_a_secrets_stand_in_and_says_so(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, pack: analyzer_pb2_grpc.AnalyzerStub
) -> None:
    stack = tmp_path / "Pulumi.dev.yaml"
    stack.write_text(yaml.safe_dump({"config": secured(committed("Pulumi.dev.yaml"))}))
    assert main(["check", "--config", str(stack), "-o", "json"]) == exits.OK
    found = json.loads(capsys.readouterr().out)["violations"]
    assert {(v["policy"], v["level"], v["urn"].rsplit("::", 1)[1]) for v in found} == {
        ("invitation-allowed-targets", "advisory", "global_model.hospital-a"),
        ("invitation-allowed-targets", "advisory", "global_model.hospital-b"),
        ("invitation-allowed-targets", "advisory", "training_plan.hospital-b"),
        ("invitation-expiry", "advisory", "training_plan.hospital-b"),
    }
    assert all(v["message"].startswith("cannot judge a secret offline: ") for v in found)
    assert any("reads targetEmail, which the stack file holds encrypted" in v["message"] for v in found)
    assert all("--config-json" in v["remediation"] for v in found)
    # The engine reports a rule reading a value it cannot know as advisory, not as a violation.
    configure(pack, check.configure(_targets()))
    request = analyzer_pb2.AnalyzeRequest(
        type="azure-native:datashare:Invitation", urn="urn:pulumi:dev::federation::x::i", name="i"
    )
    request.properties.update({"invitationName": "i", "targetEmail": UNKNOWN_STRING_VALUE})
    [unknown] = (d for d in pack.Analyze(request, timeout=10).diagnostics if d.policyName != "invitation-expiry")
    assert (unknown.policyName, unknown.enforcementLevel) == ("invitation-allowed-targets", analyzer_pb2.ADVISORY)
    assert "targetEmail can't be known during preview" in unknown.message


def test_a_plain_value_beside_a_secret_is_still_judged(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = secured(committed("Pulumi.dev.yaml"))
    # A plain time once used as every secret time's stand-in.
    config["federation:shares"]["global_model"]["expires"] = "2099-12-31T00:00:00Z"
    stack = tmp_path / "Pulumi.dev.yaml"
    stack.write_text(yaml.safe_dump({"config": config}))
    assert main(["check", "--config", str(stack)]) == exits.POLICY
    out = capsys.readouterr().out
    assert "invitation global_model.hospital-a expires 2099-12-31T00:00:00Z, later than 365 days from now" in out


def config_json(config: dict[str, Any], secret: set[str]) -> str:
    """A stack's config as `pulumi config --json --show-secrets` prints it."""
    return json.dumps(
        {
            key: {"value": value, "secret": key in secret}
            if isinstance(value, str)
            else {"value": json.dumps(value), "objectValue": value, "secret": key in secret}
            for key, value in config.items()
        }
    )


def test_check_judges_the_real_values_from_config_json(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = tmp_path / "Pulumi.dev.yaml"
    stack.write_text(yaml.safe_dump({"config": secured(committed("Pulumi.dev.yaml"))}))
    real = committed("Pulumi.dev.yaml")
    values = write(tmp_path / "config.json", config_json(real, {"federation:participants"}))
    assert main(["check", "--config", str(stack), "--config-json", str(values)]) == exits.OK
    assert capsys.readouterr().out.endswith("\nno violations.\n")
    # Judged as the engine judges it: a real address outside the consortium fails.
    real["federation:participants"]["hospital-a"]["email"] = "mlops@elsewhere.example"
    monkeypatch.setattr(sys, "stdin", io.StringIO(config_json(real, {"federation:participants"})))
    assert main(["check", "--config", str(stack), "--config-json", "-"]) == exits.POLICY
    out = capsys.readouterr().out
    assert " mandatory invitation-allowed-targets  azure-native:datashare:Invitation global_model.hospital-a\n" in out
    assert "goes to the domain elsewhere.example" in out
    assert "cannot judge" not in out
