"""Stack config: raw `federation:*` keys read into a frozen, typed model, with every
problem found at once. The model is split by area (storage, sharing, receiving,
monitoring); `model` holds the whole and reads it; `stackfile`, `naming` and `schema`
read stack files, know Azure's naming rules and describe stack files for editors."""

from federation.config.errors import ConfigError
from federation.config.fields import LOCATION_KEY, NAMESPACE, PROVIDER
from federation.config.model import (
    MAX_DEPTH,
    MAX_RECEIVED_SHARES,
    MAX_SHARES,
    NEVER_SECRET,
    TYPO_DISTANCE,
    WATCHED,
    Config,
    defaults,
    ignored,
    load,
    meant,
    misspelt,
    parse,
)
from federation.config.monitoring import Monitoring, Workspace
from federation.config.receiving import Source, Subscription, Trigger, lacks, unsent
from federation.config.sharing import MAX_DATASETS, MAX_INVITATIONS, Participant, Schedule, Share
from federation.config.storage import PLACEHOLDER, Location, Network, Storage

__all__ = [
    "LOCATION_KEY",
    "MAX_DATASETS",
    "MAX_DEPTH",
    "MAX_INVITATIONS",
    "MAX_RECEIVED_SHARES",
    "MAX_SHARES",
    "NAMESPACE",
    "NEVER_SECRET",
    "PLACEHOLDER",
    "PROVIDER",
    "TYPO_DISTANCE",
    "WATCHED",
    "Config",
    "ConfigError",
    "Location",
    "Monitoring",
    "Network",
    "Participant",
    "Schedule",
    "Share",
    "Source",
    "Storage",
    "Subscription",
    "Trigger",
    "Workspace",
    "defaults",
    "ignored",
    "lacks",
    "load",
    "meant",
    "misspelt",
    "parse",
    "unsent",
]
