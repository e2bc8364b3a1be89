"""The receiving side's config: received shares, whose ids come from config or from the
sender's stack outputs, and when their snapshots are copied in."""

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError

from federation.config import naming
from federation.config.fields import Guid, Key, Model, Named, ShareName, Time, choices, context, distinct, limits
from federation.config.sharing import MAX_DATASETS, Schedule
from federation.config.storage import Location


class Trigger(Schedule):
    """When the receiver copies the latest snapshot."""

    mode: Literal["Incremental", "FullSync"] = "Incremental"
    """Incremental copies what changed since the last snapshot; FullSync copies everything."""


def lacks(
    outputs: Any, stack: str, share: str, participant: str | None = None, dataset: str | None = None
) -> str | None:
    """What a sender stack's outputs lack of what a `from` names (its share, the invitation
    of its participant, a dataset): a problem message, or None. Offline the sender's
    outputs are known before the run and checked with the config; under `pulumi up`, once read."""
    shares = outputs.get("shares") if isinstance(outputs, Mapping) else None
    sent = shares.get(share) if isinstance(shares, Mapping) else None
    if not isinstance(sent, Mapping):
        return f"is not a share of stack {stack} (it has: {choices(shares)})"
    for part, key, what in (("invitations", participant, "invited"), ("datasets", dataset, "datasets")):
        found = sent.get(part)
        if key is not None and (not isinstance(found, Mapping) or key not in found):
            return f"is not in share {share} of stack {stack} ({what}: {choices(found)})"
    return None


def unsent(
    subscription: str, stack: str, outputs: Any, share: str, participant: str | None, dataset: str | None
) -> str | None:
    """The problem line, as `parse` reports it, for a `from` of `subscription` (its key
    path) naming what the sender's outputs lack; None if they have it all."""
    if problem := lacks(outputs, stack, share):
        return f"{subscription}.from.share: {problem}; got {share!r}"
    if participant is not None and (problem := lacks(outputs, stack, share, participant=participant)):
        return f"{subscription}.from.participant: {problem}; got {participant!r}"
    if dataset is not None and (problem := lacks(outputs, stack, share, dataset=dataset)):
        return f"{subscription}.datasets.{dataset}: key {problem}; got {dataset!r}"
    return None


def _sender(info: ValidationInfo, stack: Any) -> Any:
    """A sender stack's outputs if known now, else None (nothing to check against)."""
    senders = context(info).senders
    return senders[stack] if senders is not None and isinstance(stack, str) and stack in senders else None


def _sent_share(share: str, info: ValidationInfo) -> str:
    stack = info.data.get("stack", "")
    outputs = _sender(info, stack)
    problem = None if outputs is None else lacks(outputs, stack, share)
    if problem:
        raise PydanticCustomError("not_sent", problem)
    return share


def _invited(participant: str, info: ValidationInfo) -> str:
    stack, share = info.data.get("stack", ""), info.data.get("share")
    outputs = _sender(info, stack)
    problem = None if outputs is None or share is None else lacks(outputs, stack, share, participant=participant)
    if problem:
        raise PydanticCustomError("not_sent", problem)
    return participant


class Source(Model):
    """A share sent by a stack under the same Pulumi backend, found through its outputs."""

    stack: Annotated[str, Named(naming.STACK)]
    """The sender's stack, such as org/federation/coordinator-prod."""
    share: Annotated[ShareName, AfterValidator(_sent_share)]
    """The share's name in the sender's stack."""
    participant: Annotated[Key, AfterValidator(_invited)]
    """This party's participant key in the sender's stack."""


def _received_dataset(key: str, info: ValidationInfo) -> str:
    """With `from`, a key is the sender's dataset name: it must be one the sender has."""
    source = info.data.get("from_")
    only_from = "invitation_id" in info.data and info.data["invitation_id"] is None
    if isinstance(source, Source) and only_from and naming.KEY.accepts(key):
        outputs = _sender(info, source.stack)
        problem = None if outputs is None else lacks(outputs, source.stack, source.share, dataset=key)
        if problem:
            raise PydanticCustomError("not_sent", problem)
    return key


def _mappings(datasets: dict[str, Location], info: ValidationInfo) -> dict[str, Location]:
    if not datasets:
        raise PydanticCustomError("empty", "a subscription needs at least one dataset mapping")
    if len(datasets) > MAX_DATASETS:
        raise PydanticCustomError(
            "limit", "maps {n} datasets; a share holds at most {max}", {"n": len(datasets), "max": MAX_DATASETS}
        )
    if "from_" not in info.data or "invitation_id" not in info.data:
        return datasets  # the source is invalid (reported there): which key form applies is unknown
    by_name = info.data["from_"] is not None
    rule, what = (naming.KEY, "the sender's dataset names") if by_name else (naming.GUID, "the sender's dataSetIds")
    wrong = sorted(key for key in datasets if not rule.accepts(key))
    if wrong:
        raise PydanticCustomError(
            "dataset_key",
            "keys must be {what} ({says}); not: {wrong}",
            {"what": what, "says": rule.says, "wrong": ", ".join(wrong)},
        )
    distinct(list(datasets), "dataset")
    return {key if by_name else key.lower(): location for key, location in datasets.items()}


class Subscription(Model):
    """A received share: the sender's invitation, where each dataset lands, and when."""

    invitation_id: Guid | None = None
    """The sender's invitation id (not with from)."""
    from_: Source | None = Field(None, alias="from")
    """Read the invitation and dataset ids from a sender stack under the same Pulumi backend."""
    source_location: Annotated[str, Named(naming.REGION)]
    """Region of the sender's Data Share account."""
    expires: Time | None = None
    """RFC 3339; bounds the subscription."""
    datasets: Annotated[
        dict[Annotated[str, AfterValidator(_received_dataset)], Location],
        AfterValidator(_mappings),
        limits(minProperties=1, maxProperties=MAX_DATASETS),
    ]
    """The sender's dataSetId (a GUID), or with from its dataset name -> where it lands."""
    schedule: Trigger | None = None
    """When snapshots are copied in; without it, only on demand."""

    @model_validator(mode="after")
    def _one_source(self) -> "Subscription":
        if (self.invitation_id is None) == (self.from_ is None):
            raise PydanticCustomError(
                "source", "set exactly one of invitationId (the sender's invitation GUID) and from (its stack)"
            )
        return self
