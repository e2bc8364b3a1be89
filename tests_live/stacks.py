"""The live suite's two stacks, rendered for one run from the templates in
tests_live/stacks/: names unique to the run, every resource group tagged with the run's id
and the time after which the janitor may delete it."""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from string import Template
from typing import Any

import yaml

TEMPLATES = Path(__file__).resolve().parent / "stacks"
# The tags every taggable resource of a run carries (federation:tags), the resource groups
# among them: what the janitor looks for.
RUN_TAG = "federationLiveRun"
EXPIRES_TAG = "federationLiveExpires"
# How long a run's resources may live before the janitor deletes them: a run takes under an
# hour, and one that died leaves them behind.
LIFETIME = timedelta(hours=4)
# Longer than the 14 days within which `access --check` reports an expiring subscription,
# shorter than the 365 days the policy pack allows.
INVITATION = timedelta(days=30)
# The file backend's organization: stack references there are organization/PROJECT/STACK.
ORGANIZATION = "organization"
PROJECT = "federation"


def run_id() -> str:
    """Ten lowercase hex digits: storage account names take only lowercase letters and digits."""
    return secrets.token_hex(5)


def utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Run:
    """What one run's stacks are made from."""

    id: str
    started: datetime
    location: str
    client_ip: str
    participant_tenant: str
    participant_object: str
    alert_email: str

    @property
    def coordinator(self) -> str:
        return f"coordinator-{self.id}"

    @property
    def participant(self) -> str:
        return f"participant-{self.id}"

    @property
    def expires(self) -> datetime:
        return self.started + LIFETIME

    def values(self) -> dict[str, str]:
        tomorrow = (self.started + timedelta(days=1)).strftime("%Y-%m-%d")
        return {
            "run": self.id,
            "location": self.location,
            "expires": utc(self.expires),
            "client_ip": self.client_ip,
            "participant_tenant": self.participant_tenant,
            "participant_object": self.participant_object,
            "alert_email": self.alert_email,
            "invitation_expires": utc(self.started + INVITATION),
            "schedule_start": f"{tomorrow}T02:00:00Z",
            "coordinator_stack": f"{ORGANIZATION}/{PROJECT}/{self.coordinator}",
        }


def render(name: str, run: Run) -> dict[str, Any]:
    """A template's stack file content for this run: `config:` and its keys."""
    text = Template((TEMPLATES / f"{name}.yaml").read_text(encoding="utf-8")).substitute(run.values())
    document = yaml.safe_load(text)
    assert isinstance(document, dict)
    return document


def coordinator(run: Run) -> dict[str, Any]:
    return render("coordinator", run)


def participant(run: Run) -> dict[str, Any]:
    return render("participant", run)


def without_participants(stack: dict[str, Any]) -> dict[str, Any]:
    """The coordinator offboarding its participant: no one left to invite."""
    config = dict(stack["config"])
    config.pop("federation:participants", None)
    return {**stack, "config": config}


def rescheduled(stack: dict[str, Any], share: str, start: str) -> dict[str, Any]:
    """A share's snapshots moved to another time of day."""
    config = dict(stack["config"])
    shares = {**config["federation:shares"]}
    shares[share] = {**shares[share], "schedule": {**shares[share]["schedule"], "start": start}}
    config["federation:shares"] = shares
    return {**stack, "config": config}
