"""Deletes what dead live runs left behind: every resource group tagged by a run
(federationLiveRun) whose federationLiveExpires has passed. A run that ends destroys its
own stacks; one killed mid-way cannot, and its groups cost money until this runs.

    venv/bin/python -m tests_live.janitor [--subscription ID] [--dry-run]

Schedule it (daily) in the subscription the live suite uses; it never touches a group
without the run tag, nor one whose expiry has not come."""

import argparse
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from tests_live.stacks import EXPIRES_TAG, RUN_TAG


@dataclass(frozen=True)
class Group:
    name: str
    tags: dict[str, str]


def expired(groups: Iterable[Group], now: datetime) -> list[Group]:
    """The run's groups whose expiry has passed. A run tag with an expiry that cannot be
    read is left alone: deleting is the one thing not to guess at."""
    found = []
    for group in groups:
        if RUN_TAG not in group.tags:
            continue
        try:
            expires = datetime.fromisoformat(group.tags.get(EXPIRES_TAG, "").replace("Z", "+00:00"))
        except ValueError:
            continue
        if expires.tzinfo is not None and expires <= now:
            found.append(group)
    return found


def main(argv: list[str] | None = None) -> int:
    words = argparse.ArgumentParser(prog="python -m tests_live.janitor", description=__doc__.splitlines()[0])
    words.add_argument("--subscription", default=os.environ.get("ARM_SUBSCRIPTION_ID"))
    words.add_argument("--dry-run", action="store_true", help="list what would be deleted, delete nothing")
    args = words.parse_args(argv)
    if not args.subscription:
        print("error: no subscription: pass --subscription or set ARM_SUBSCRIPTION_ID", file=sys.stderr)
        return 1
    from tests_live import azure

    client = azure.resources(azure.credential(), args.subscription)
    listed = [Group(g.name, dict(g.tags or {})) for g in client.resource_groups.list(filter=f"tagName eq '{RUN_TAG}'")]
    doomed = expired(listed, datetime.now(UTC))
    for group in doomed:
        print(f"{'would delete' if args.dry_run else 'deleting'} {group.name} (run {group.tags[RUN_TAG]})")
    if not args.dry_run:
        pollers = [client.resource_groups.begin_delete(group.name) for group in doomed]
        for poller in pollers:
            poller.result()
    print(f"{len(doomed)} of {len(listed)} tagged resource groups expired")
    return 0


if __name__ == "__main__":
    sys.exit(main())
