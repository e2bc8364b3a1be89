"""Monitoring's config: the Log Analytics workspace and who is told of failed snapshots."""

from typing import Annotated

from pydantic import (
    EmailStr,
    Field,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from federation.config import naming
from federation.config.fields import Model, Named, limits


class Workspace(Model):
    """The Log Analytics workspace logs go to: created here (`name`, or the default name)
    or an existing one (`id`)."""

    name: Annotated[str, Named(naming.WORKSPACE)] | None = None
    """Name of a workspace to create here; default log-fl-<environment>."""
    id: Annotated[str, Named(naming.WORKSPACE_ID)] | None = None
    """Resource id of an existing workspace (not with name)."""

    @model_validator(mode="after")
    def _one_form(self) -> "Workspace":
        if self.name is not None and self.id is not None:
            raise PydanticCustomError("workspace_form", "set at most one of name (created here) and id (existing)")
        return self


class Monitoring(Model):
    """Logs of the Data Share account and of created storage, and an alert on failed snapshots."""

    workspace: Workspace = Workspace()
    """Where logs go: {name} creates a workspace, {id} uses an existing one."""
    # Log Analytics' own bounds for interactive retention on the PerGB2018 tier.
    retention_days: Annotated[int, Field(strict=True, ge=30, le=730)] = 90
    """Days a created workspace keeps logs: 30-730."""
    emails: Annotated[tuple[EmailStr, ...], limits(minItems=1)] = Field(examples=[["fl-ops@coordinator.example"]])
    """Addresses told of failed snapshots."""

    @field_validator("emails")
    @classmethod
    def _unique(cls, emails: tuple[str, ...]) -> tuple[str, ...]:
        if not emails:
            raise PydanticCustomError("empty", "needs at least one address to tell of failed snapshots")
        if len({e.lower() for e in emails}) != len(emails):
            raise PydanticCustomError("duplicate", "lists an address twice")
        return emails

    @model_validator(mode="after")
    def _retention_on_created(self) -> "Monitoring":
        if self.workspace.id is not None and "retention_days" in self.model_fields_set:
            raise PydanticCustomError(
                "existing_workspace",
                "retentionDays applies only to a workspace made here; its owner sets it on one by id",
            )
        return self
