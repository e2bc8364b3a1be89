"""The sending side's config: participants, shares and their schedules."""

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    EmailStr,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from federation.config.fields import Guid, Key, Model, Time, choices, context, distinct, limits
from federation.config.storage import Location

# Azure Data Share service limits (learn.microsoft.com, azure-subscription-service-limits,
# "Azure Data Share limits").
MAX_DATASETS = 200
MAX_INVITATIONS = 200


class Schedule(Model):
    """When the sender snapshots a share (Data Share keeps one schedule per share)."""

    recurrence: Literal["Hour", "Day"]
    """How often: every hour or every day."""
    start: Time
    """RFC 3339 time of the first run; later runs keep its time of day (or minute)."""


class Participant(Model):
    """An invited identity: an email sign-in, or a service principal in its own tenant."""

    email: EmailStr | None = None
    """Email of the user who accepts the invitation (not with tenantId and objectId)."""
    tenant_id: Guid | None = None
    """Tenant of the invited service principal."""
    object_id: Guid | None = None
    """Object id of the invited service principal (Enterprise application), not its application (client) id."""
    expires: Time | None = None
    """RFC 3339; this participant's invitations expire no later."""

    @model_validator(mode="after")
    def _one_identity(self) -> "Participant":
        by_id = self.tenant_id is not None or self.object_id is not None
        if self.email is not None and by_id:
            raise PydanticCustomError("identity", "set either email, or tenantId and objectId, not both")
        if self.email is None and (self.tenant_id is None or self.object_id is None):
            raise PydanticCustomError("identity", "set either email, or both tenantId and objectId")
        return self


def _dataset_limit(datasets: dict[str, "Location"]) -> dict[str, "Location"]:
    if not datasets:
        raise PydanticCustomError("empty", "a share needs at least one dataset")
    distinct(list(datasets), "dataset name")
    if len(datasets) > MAX_DATASETS:
        raise PydanticCustomError(
            "limit", "has {n} datasets; a share holds at most {max}", {"n": len(datasets), "max": MAX_DATASETS}
        )
    return datasets


def _participants_known(listed: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
    known = context(info).participants
    unknown = sorted(set(listed) - known) if known is not None else []
    if unknown:
        raise PydanticCustomError(
            "unknown_participant",
            "names {unknown}, not keys of federation:participants (known: {known})",
            {"unknown": ", ".join(unknown), "known": choices(known, context(info).pointer("federation:participants"))},
        )
    if len(set(listed)) != len(listed):
        raise PydanticCustomError("duplicate", "lists a participant twice")
    return listed


class Share(Model):
    """A CopyBased share: its datasets, schedule and invited participants."""

    description: str | None = None
    """Shown to participants."""
    terms: str | None = None
    """Terms of use participants accept."""
    datasets: Annotated[
        dict[Key, Location], AfterValidator(_dataset_limit), limits(minProperties=1, maxProperties=MAX_DATASETS)
    ]
    """Dataset name -> where its data sits. At least one, at most 200."""
    schedule: Schedule | None = None
    """When snapshots are taken; without it, only on demand."""
    participants: (
        Annotated[tuple[str, ...], AfterValidator(_participants_known), limits(maxItems=MAX_INVITATIONS)] | None
    ) = Field(None, examples=[["hospital-a", "hospital-b"]])
    """Keys of participants to invite; default every participant."""
    expires: Time | None = None
    """RFC 3339; each invitation expires at the earlier of this and its participant's expires."""

    @field_validator("participants", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # An empty `participants:` in YAML is null: never read as "every participant".
        if value is None:
            raise PydanticCustomError("null", "must be a list of participant keys; leave it out to invite everyone")
        return value

    def expiry_for(self, participant: Participant) -> str | None:
        """When a participant's access to this share ends: the earlier of the share's and
        the participant's expiry."""
        expiries = [t for t in (self.expires, participant.expires) if t is not None]
        # UTC times in one fixed spelling compare correctly as text.
        return min(expiries) if expiries else None

    @model_validator(mode="after")
    def _invitation_limit(self, info: ValidationInfo) -> "Share":
        known = context(info).participants
        count = len(self.participants) if self.participants is not None else len(known or ())
        if count > MAX_INVITATIONS:
            raise PydanticCustomError(
                "limit",
                "invites {n} participants; a share sends at most {max} invitations",
                {"n": count, "max": MAX_INVITATIONS},
            )
        return self
