"""The Pulumi program as typed components any program can import: `Storage`, `Share`,
`Subscription` and `Monitoring`, each with its Args; `stack` builds one stack of them from
the config model, and `exports` names the stack outputs."""

from federation.program.datasets import LocationArgs
from federation.program.monitoring import Monitoring, MonitoringArgs
from federation.program.receiving import MappingArgs, Subscription, SubscriptionArgs
from federation.program.sharing import InvitationArgs, Share, ShareArgs
from federation.program.storage import Storage, StorageArgs

__all__ = [
    "InvitationArgs",
    "LocationArgs",
    "MappingArgs",
    "Monitoring",
    "MonitoringArgs",
    "Share",
    "ShareArgs",
    "Storage",
    "StorageArgs",
    "Subscription",
    "SubscriptionArgs",
]
