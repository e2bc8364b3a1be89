"""One live run: who runs it, the two stacks' workspace and state, and each Azure command
run through `federation.cli.main` under vcrpy, its traffic kept sanitized in a recording
that the default suite replays offline (tests/test_recordings.py)."""

import os
import secrets
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from azure.core.credentials import TokenCredential
from azure.identity import ClientSecretCredential
from pulumi import automation as auto

from federation import cli
from federation.operate import azure as operate
from tests import recording
from tests_live import automation, azure, stacks

RECORDINGS = Path(__file__).resolve().parent.parent / "tests" / "recordings"
SOURCE = "Azure: recorded by the live suite (tests_live, docs/live.md)"


@dataclass(frozen=True)
class Identity:
    """Who acts for one side: the credential the commands use, and what the stack's
    provider is given (ARM_* for a second service principal; nothing for the runner's own)."""

    credential: TokenCredential
    tenant: str
    object_id: str
    kind: str  # User or ServicePrincipal, as role assignments take it
    env: dict[str, str] = field(default_factory=dict)


def identities(environ: dict[str, str]) -> tuple[Identity, Identity]:
    """The coordinator is the identity running the suite. The participant is the same one,
    invited by its tenant and object id, unless FEDERATION_LIVE_PARTICIPANT_CLIENT_ID and
    _CLIENT_SECRET (and _TENANT_ID, default the runner's) name a second service principal:
    then the participant's stack and commands run as it."""
    runner = azure.credential(environ)
    found = azure.claims(runner)
    coordinator = Identity(runner, found["tid"], found["oid"], azure.principal_type(found))
    client = environ.get("FEDERATION_LIVE_PARTICIPANT_CLIENT_ID")
    if not client:
        return coordinator, coordinator
    tenant = environ.get("FEDERATION_LIVE_PARTICIPANT_TENANT_ID") or found["tid"]
    secret = environ["FEDERATION_LIVE_PARTICIPANT_CLIENT_SECRET"]
    second = ClientSecretCredential(tenant, client, secret)
    claimed = azure.claims(second)
    provider = {"ARM_CLIENT_ID": client, "ARM_CLIENT_SECRET": secret, "ARM_TENANT_ID": tenant, "ARM_USE_OIDC": ""}
    return coordinator, Identity(second, claimed["tid"], claimed["oid"], "ServicePrincipal", provider)


@dataclass
class Live:
    """Everything one run works with."""

    run: stacks.Run
    subscription: str
    coordinator_id: Identity
    participant_id: Identity
    work: Path
    coordinator_space: auto.LocalWorkspace
    participant_space: auto.LocalWorkspace
    policy_config: Path
    recordings: Path

    @property
    def policy(self) -> dict[str, Any]:
        return {"policy_packs": [str(automation.POLICY_PACK)], "policy_pack_configs": [str(self.policy_config)]}

    def federation(
        self, name: str, argv: list[str], stack_file: Path, who: Identity, files: Mapping[str, str] | None = None
    ) -> recording.Outcome:
        """`federation ARGV --config STACK_FILE` as `who`, recorded as `azure-NAME.json`,
        storage's traffic with Resource Manager's. `files` (path: text) are the local files
        the command reads, written under the directory `recording.FILES` stands for in ARGV
        and kept in the recording for its replay (publish's round). The command runs at one
        instant, the recording's clock, so a replay builds the same manifest."""
        config = recording.stack_config(stack_file)
        endpoint = operate.cloud(os.environ.get("ARM_ENVIRONMENT", "")).endpoint
        sanitizer = recording.Sanitizer(endpoint)
        sanitizer.seed(config)
        sanitizer.learn("guid", self.subscription)
        raw = yaml.safe_load(stack_file.read_text(encoding="utf-8"))["config"]
        local = recording.write_files(files or {}, self.work / "files" / name)
        words = [word.replace(recording.FILES, str(local)) for word in argv]
        argv_where = [*words, "--config", str(stack_file), "--subscription", self.subscription]
        at = datetime.now(UTC).replace(microsecond=0)
        with (
            recording.clock_at(at),
            recording.record(self.recordings / f"azure-{name}.json", sanitizer) as cassette,
        ):
            outcome = recording.run_cli(lambda: cli.main(argv_where, who.credential))
            recording.describe(
                cassette,
                sanitizer,
                source=SOURCE,
                command=argv,
                stack=recording.replayable_stack(raw, config),
                subscription=self.subscription,
                clock=at,
                outcome=outcome,
                files=files,
            )
        return outcome


@contextmanager
def live_run(environ: dict[str, str]) -> Iterator[Live]:
    """A run's identities, workspaces and state, in a temporary directory removed after."""
    coordinator_id, participant_id = identities(environ)
    subscription = environ.get("ARM_SUBSCRIPTION_ID") or environ["AZURE_SUBSCRIPTION_ID"]
    run = stacks.Run(
        id=stacks.run_id(),
        started=datetime.now(UTC),
        location=environ.get("FEDERATION_LIVE_LOCATION", "westeurope"),
        client_ip=azure.client_ip(environ),
        participant_tenant=participant_id.tenant,
        participant_object=participant_id.object_id,
        alert_email=environ.get("FEDERATION_LIVE_ALERT_EMAIL", "alerts@federation-live.example"),
    )
    automation.policy_venv()
    recordings = Path(environ.get("FEDERATION_LIVE_RECORDINGS", str(RECORDINGS)))
    with tempfile.TemporaryDirectory(prefix=f"federation-live-{run.id}-") as temporary:
        work = Path(temporary)
        state = work / "state"
        state.mkdir()
        passphrase = secrets.token_urlsafe(24)
        common = {"ARM_SUBSCRIPTION_ID": subscription}
        yield Live(
            run=run,
            subscription=subscription,
            coordinator_id=coordinator_id,
            participant_id=participant_id,
            work=work,
            coordinator_space=automation.workspace(work / "project", state, passphrase, common | coordinator_id.env),
            participant_space=automation.workspace(work / "project", state, passphrase, common | participant_id.env),
            policy_config=automation.policy(work, sorted({coordinator_id.tenant, participant_id.tenant})),
            recordings=recordings,
        )
