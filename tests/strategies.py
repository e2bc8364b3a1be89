"""Hypothesis strategies: valid stack configs across the whole contract, and edits of them.

Configs are in stack-file form (`federation:*` keys, plain values), as users write them.
"""

import copy
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

LOCATIONS = ("westeurope", "northeurope", "eastus2")
SENDERS = ("acme/federation/coordinator", "acme/federation/silo-b")
CET = timezone(timedelta(hours=1))

LOWER = "abcdefghijklmnopqrstuvwxyz"
DIGITS = "0123456789"


def _name(first: str, rest: str, low: int, high: int, last: str = "") -> st.SearchStrategy[str]:
    """A name of `first`, then `rest` characters, then optionally a `last` character."""
    body = st.text(rest, min_size=low, max_size=high)
    tail = st.text(last, min_size=1, max_size=1) if last else st.just("")
    return st.builds(lambda a, b, c: a + b + c, st.text(first, min_size=1, max_size=1), body, tail)


# Names drawn here are lowercase, so keys never differ from each other only in case.
share_names = _name(LOWER, LOWER + DIGITS + "_", 1, 10)
keys = _name(LOWER, LOWER + DIGITS + "-", 0, 8, last=LOWER + DIGITS)
storage_names = _name(LOWER, LOWER + DIGITS, 2, 12)
containers = st.builds(
    lambda a, b: a + b,
    st.text(LOWER + DIGITS, min_size=3, max_size=8),
    st.one_of(st.just(""), st.text(LOWER + DIGITS, min_size=1, max_size=4).map("-".__add__)),
)
_segment = st.text(LOWER + DIGITS + "_", min_size=1, max_size=6)
folders = st.lists(_segment, min_size=1, max_size=3).map("/".join)
files = st.builds(
    lambda path, ext: "/".join(path) + ext,
    st.lists(_segment, min_size=1, max_size=3),
    st.sampled_from([".csv", ".json", ".pt"]),
)
guids = st.uuids().map(str)
times = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.sampled_from([UTC, CET])
).map(lambda t: t.replace(microsecond=0).isoformat().replace("+00:00", "Z"))
emails = st.builds(lambda user, org: f"{user}@{org}.example", keys, _name(LOWER, LOWER + DIGITS, 1, 8))


# Public IPv4 addresses and ranges Azure storage takes in IP rules (no /31 or /32).
public_ips = st.one_of(
    st.builds("81.2.{}.{}".format, st.integers(0, 255), st.integers(0, 255)),
    st.builds(lambda b, p: f"52.{b}.0.0/{p}", st.integers(0, 255), st.integers(16, 16)),
    st.builds(lambda c, p: f"20.50.{c}.0/{p}", st.integers(0, 255), st.integers(24, 24)),
)
subnets = st.builds(
    "/subscriptions/{}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet-{}/subnets/{}".format,
    guids,
    keys,
    keys,
)


@st.composite
def network(draw: st.DrawFn) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if draw(st.booleans()):
        found["allow"] = draw(st.lists(public_ips, max_size=3, unique=True))
    if draw(st.booleans()):
        found["subnets"] = draw(st.lists(subnets, max_size=2, unique_by=str.lower))
    return found


@st.composite
def monitoring(draw: st.DrawFn) -> dict[str, Any]:
    """`federation:monitoring`: a workspace made here (default or named) or one by id."""
    found: dict[str, Any] = {"emails": draw(st.lists(emails, min_size=1, max_size=3, unique_by=str.lower))}
    form = draw(st.sampled_from(["default", "name", "id"]))
    if form == "name":
        found["workspace"] = {"name": "log-" + draw(keys)}
    elif form == "id":
        group = f"/subscriptions/{draw(guids)}/resourceGroups/rg-{draw(keys)}"
        found["workspace"] = {"id": f"{group}/providers/Microsoft.OperationalInsights/workspaces/log-{draw(keys)}"}
    if form != "id" and draw(st.booleans()):
        found["retentionDays"] = draw(st.integers(30, 730))
    return found


@st.composite
def storage_entry(draw: st.DrawFn, name: str) -> dict[str, Any]:
    hns = draw(st.booleans())
    if draw(st.booleans()):
        entry: dict[str, Any] = {
            "name": name,
            "containers": draw(st.lists(containers, min_size=1, max_size=3, unique=True)),
        }
        if draw(st.booleans()):
            entry["network"] = draw(network())
        if draw(st.booleans()):
            entry["sharedKeyAccess"] = draw(st.booleans())
    else:
        group = f"/subscriptions/{draw(guids)}/resourceGroups/rg-{draw(keys)}"
        entry = {"id": f"{group}/providers/Microsoft.Storage/storageAccounts/{name}"}
    if hns or draw(st.booleans()):
        entry["hns"] = hns
    return entry


@st.composite
def location(draw: st.DrawFn, storage: dict[str, Any]) -> dict[str, Any]:
    key = draw(st.sampled_from(sorted(storage)))
    declared = storage[key].get("containers")
    found = {"storage": key, "container": draw(st.sampled_from(declared) if declared else containers)}
    form = draw(st.sampled_from(["container", "folder", "file"]))
    if form != "container":
        found[form] = draw(folders if form == "folder" else files)
    return found


def _emails(participants: dict[str, Any]) -> set[str]:
    return {str(p["email"]).lower() for p in participants.values() if "email" in p}


@st.composite
def participant(draw: st.DrawFn, others: dict[str, Any] | None = None) -> dict[str, Any]:
    """A participant whose email, if it has one, no other participant has."""
    taken = _emails(others or {})
    found: dict[str, Any] = (
        {"email": draw(emails.filter(lambda e: e.lower() not in taken))}
        if draw(st.booleans())
        else {"tenantId": draw(guids), "objectId": draw(guids)}
    )
    if draw(st.booleans()):
        found["expires"] = draw(times)
    return found


def schedule(with_mode: bool) -> st.SearchStrategy[dict[str, Any]]:
    base = st.fixed_dictionaries({"recurrence": st.sampled_from(["Hour", "Day"]), "start": times})
    if not with_mode:
        return base
    return st.builds(lambda s, m: s | m, base, st.sampled_from([{}, {"mode": "Incremental"}, {"mode": "FullSync"}]))


@st.composite
def share(draw: st.DrawFn, storage: dict[str, Any], participants: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {"datasets": draw(st.dictionaries(keys, location(storage), min_size=1, max_size=3))}
    if draw(st.booleans()):
        found["schedule"] = draw(schedule(with_mode=False))
    if participants and draw(st.booleans()):
        found["participants"] = draw(st.lists(st.sampled_from(sorted(participants)), unique=True))
    for optional, values in (
        ("expires", times),
        ("description", st.text(max_size=20)),
        ("terms", st.text(max_size=20)),
    ):
        if draw(st.booleans()):
            found[optional] = draw(values)
    return found


@st.composite
def subscription(draw: st.DrawFn, storage: dict[str, Any]) -> dict[str, Any]:
    """A received share: by invitation id and dataSetIds, or `from` a sender stack by names."""
    found: dict[str, Any] = {"sourceLocation": draw(st.sampled_from(LOCATIONS))}
    if draw(st.booleans()):
        found["invitationId"] = draw(guids)
        found["datasets"] = draw(st.dictionaries(guids, location(storage), min_size=1, max_size=3))
    else:
        stack = draw(st.sampled_from(SENDERS))
        found["from"] = {"stack": stack, "share": draw(share_names), "participant": draw(keys)}
        found["datasets"] = draw(st.dictionaries(keys, location(storage), min_size=1, max_size=3))
    if draw(st.booleans()):
        found["schedule"] = draw(schedule(with_mode=True))
    if draw(st.booleans()):
        found["expires"] = draw(times)
    return found


@st.composite
def configs(draw: st.DrawFn, min_shares: int = 0) -> dict[str, Any]:
    """A valid stack config: storage created and existing, with and without hns;
    participants of both kinds; shares and subscriptions of every dataset form."""
    names = draw(st.lists(storage_names, min_size=1, max_size=3, unique=True))
    labels = draw(st.lists(keys, min_size=len(names), max_size=len(names), unique=True))
    storage = {label: draw(storage_entry(name)) for label, name in zip(labels, names, strict=True)}
    participants: dict[str, Any] = {}
    for key in draw(st.lists(keys, max_size=3, unique=True)):
        participants[key] = draw(participant(participants))
    config: dict[str, Any] = {
        "azure-native:location": draw(st.sampled_from(LOCATIONS)),
        "federation:storage": storage,
        "federation:participants": participants,
        "federation:shares": draw(
            st.dictionaries(share_names, share(storage, participants), min_size=min_shares, max_size=3)
        ),
        "federation:subscriptions": draw(st.dictionaries(share_names, subscription(storage), max_size=2)),
    }
    if draw(st.booleans()):
        config["federation:environment"] = draw(st.sampled_from(["dev", "prod", "test-1"]))
    if draw(st.booleans()):
        config["federation:protect"] = draw(st.booleans())
    if draw(st.booleans()):
        config["federation:tags"] = draw(st.dictionaries(keys, keys, max_size=2))
    if draw(st.booleans()):
        config["federation:monitoring"] = draw(monitoring())
    return config


def fresh(taken: set[str], strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return strategy.filter(lambda k: k.lower() not in {t.lower() for t in taken})


# Edits: each returns (edited config, what it names), leaving the drawn config untouched.


@st.composite
def additions(draw: st.DrawFn, config: dict[str, Any]) -> tuple[dict[str, Any], str]:
    edited = copy.deepcopy(config)
    storage, shares = edited["federation:storage"], edited["federation:shares"]
    kinds = ["participant", "share", "storage", "subscription"] + (["dataset"] if shares else [])
    kinds += [] if "federation:monitoring" in edited else ["monitoring"]
    bare = sorted(k for k, e in storage.items() if "name" in e and "network" not in e)
    kinds += ["network"] if bare else []
    kind = draw(st.sampled_from(kinds))
    if kind == "monitoring":
        edited["federation:monitoring"] = draw(monitoring())
        return edited, "monitoring:"
    if kind == "network":
        key = draw(st.sampled_from(bare))
        storage[key]["network"] = draw(network())
        return edited, f"network:{key}"
    if kind == "participant":
        key = draw(fresh(set(edited["federation:participants"]), keys))
        edited["federation:participants"][key] = draw(participant(edited["federation:participants"]))
    elif kind == "share":
        key = draw(fresh(set(shares), share_names))
        shares[key] = draw(share(storage, edited["federation:participants"]))
    elif kind == "dataset":
        name = draw(st.sampled_from(sorted(shares)))
        key = draw(fresh(set(shares[name]["datasets"]), keys))
        shares[name]["datasets"][key] = draw(location(storage))
        key = f"{name}.{key}"
    elif kind == "storage":
        used = {e.get("name") or e["id"].rsplit("/", 1)[1] for e in storage.values()}
        key = draw(fresh(set(storage), keys))
        storage[key] = draw(storage_entry(draw(fresh(used, storage_names))))
    else:
        key = draw(fresh(set(edited["federation:subscriptions"]), share_names))
        edited["federation:subscriptions"][key] = draw(subscription(storage))
    return edited, f"{kind}:{key}"


@st.composite
def removals(draw: st.DrawFn, config: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """Remove one participant (from its lists too), share, dataset of a share with others,
    unused storage entry or subscription."""
    edited = copy.deepcopy(config)
    shares, subscriptions = edited["federation:shares"], edited["federation:subscriptions"]
    used = {
        loc["storage"] for entry in (*shares.values(), *subscriptions.values()) for loc in entry["datasets"].values()
    }
    choices = [("participant", k) for k in edited["federation:participants"]]
    choices += [("share", k) for k in shares] + [("subscription", k) for k in subscriptions]
    choices += [
        ("dataset", f"{s}.{d}") for s in shares for d in shares[s]["datasets"] if len(shares[s]["datasets"]) > 1
    ]
    choices += [("storage", k) for k in edited["federation:storage"] if k not in used]
    if not choices:
        return edited, "nothing:"
    kind, key = draw(st.sampled_from(sorted(choices)))
    if kind == "participant":
        del edited["federation:participants"][key]
        for entry in shares.values():
            if key in entry.get("participants", []):
                entry["participants"].remove(key)
    elif kind == "dataset":
        name, dataset = key.split(".", 1)
        del shares[name]["datasets"][dataset]
    else:
        section = {"share": shares, "subscription": subscriptions, "storage": edited["federation:storage"]}[kind]
        del section[key]
    return edited, f"{kind}:{key}"


@st.composite
def renames(draw: st.DrawFn, config: dict[str, Any]) -> tuple[dict[str, Any], str, str, str]:
    """Rename one participant (in its lists too), share, dataset, storage entry (in its
    references too) or subscription; returns (edited, kind, old name, new name), names
    as the resources are named ("share.dataset" for a dataset)."""
    edited = copy.deepcopy(config)
    shares, storage = edited["federation:shares"], edited["federation:storage"]
    sections = {
        "participant": edited["federation:participants"],
        "share": shares,
        "storage": storage,
        "subscription": edited["federation:subscriptions"],
    }
    choices = [(kind, key) for kind, section in sections.items() for key in section]
    choices += [("dataset", f"{s}.{d}") for s in shares for d in shares[s]["datasets"]]
    if not choices:
        return edited, "nothing", "", ""
    kind, old = draw(st.sampled_from(sorted(choices)))
    if kind == "dataset":
        share, dataset = old.split(".", 1)
        datasets = shares[share]["datasets"]
        new = draw(fresh(set(datasets), keys))
        datasets[new] = datasets.pop(dataset)
        return edited, kind, old, f"{share}.{new}"
    section = sections[kind]
    new = draw(fresh(set(section), share_names if kind in ("share", "subscription") else keys))
    section[new] = section.pop(old)
    if kind == "participant":
        for entry in shares.values():
            if "participants" in entry:
                entry["participants"] = [new if p == old else p for p in entry["participants"]]
    if kind == "storage":
        for entry in (*shares.values(), *edited["federation:subscriptions"].values()):
            for location in entry["datasets"].values():
                location["storage"] = new if location["storage"] == old else location["storage"]
    return edited, kind, old, new


def reordered(value: Any, random: Any) -> Any:
    """Every map and list of a config, shuffled."""
    if isinstance(value, dict):
        items = list(value.items())
        random.shuffle(items)
        return {k: reordered(v, random) for k, v in items}
    if isinstance(value, list):
        items = [reordered(v, random) for v in value]
        random.shuffle(items)
        return items
    return value


@st.composite
def invalid_edits(draw: st.DrawFn, config: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """Break exactly one rule; returns the edited config and the key path it must be named at."""
    edited = copy.deepcopy(config)
    shares, storage = edited["federation:shares"], edited["federation:storage"]
    participants = edited["federation:participants"]
    some_share = sorted(shares)[0] if shares else None
    created = sorted(k for k, e in storage.items() if "name" in e)
    rules = ["share name", "unknown top-level key", "participant identity", "subscription invitation", "mode"]
    if some_share:
        rules += [
            "dataset key",
            "unknown storage",
            "folder and file",
            "recurrence",
            "naive time",
            "typo",
            "unknown participant",
        ]
    if created:
        rules += ["storage name", "undeclared container"]
    rule = draw(st.sampled_from(rules))
    share_path = f"federation:shares.{some_share}"
    first_dataset = sorted(shares[some_share]["datasets"])[0] if some_share else ""
    if rule == "share name":
        shares["bad-name"] = {"datasets": {}}
        return edited, "federation:shares.bad-name"
    if rule == "unknown top-level key":
        edited["federation:sharez"] = {}
        return edited, "federation:sharez"
    if rule == "participant identity":
        participants["both-forms"] = {"email": "a@b.org", "tenantId": draw(guids), "objectId": draw(guids)}
        return edited, "federation:participants.both-forms"
    if rule in ("subscription invitation", "mode"):
        key = draw(st.sampled_from(sorted(storage)))
        entry = {"invitationId": draw(guids), "sourceLocation": "westeurope"}
        entry["datasets"] = {draw(guids): {"storage": key, "container": storage[key].get("containers", ["abc"])[0]}}
        if rule == "mode":
            entry["schedule"] = {"recurrence": "Day", "start": "2026-12-01T04:00:00Z", "mode": "Mirror"}
        else:
            entry["invitationId"] = "not-a-guid"
        edited["federation:subscriptions"]["broken"] = entry
        return edited, "federation:subscriptions.broken." + ("schedule.mode" if rule == "mode" else "invitationId")
    if rule == "dataset key":
        shares[some_share]["datasets"]["x"] = shares[some_share]["datasets"][first_dataset]
        return edited, f"{share_path}.datasets.x"
    if rule == "unknown storage":
        shares[some_share]["datasets"][first_dataset]["storage"] = "no-such-storage"
        return edited, f"{share_path}.datasets.{first_dataset}.storage"
    if rule == "folder and file":
        shares[some_share]["datasets"][first_dataset] |= {"folder": "a", "file": "b.csv"}
        return edited, f"{share_path}.datasets.{first_dataset}"
    if rule in ("recurrence", "naive time"):
        bad = {"recurrence": "Week"} if rule == "recurrence" else {"start": "2026-12-01T02:00:00"}
        shares[some_share]["schedule"] = {"recurrence": "Day", "start": "2026-12-01T02:00:00Z"} | bad
        return edited, f"{share_path}.schedule." + ("recurrence" if rule == "recurrence" else "start")
    if rule == "typo":
        shares[some_share]["descripton"] = "typo"
        return edited, f"{share_path}.descripton"
    if rule == "unknown participant":
        shares[some_share]["participants"] = ["nobody-here"]
        return edited, f"{share_path}.participants"
    key = draw(st.sampled_from(created))
    if rule == "storage name":
        storage[key]["name"] = "Upper-Case"
        return edited, f"federation:storage.{key}.name"
    shares.setdefault("probe", {"datasets": {}})["datasets"]["probe"] = {"storage": key, "container": "undeclared-box"}
    return edited, "federation:shares.probe.datasets.probe.container"


def sender_outputs(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """What the sender stacks named by `from` would export: an invitation for each
    subscribing participant and an id for each dataset it maps."""
    outputs: dict[str, dict[str, Any]] = {stack: {"shares": {}} for stack in SENDERS}
    for name, entry in config.get("federation:subscriptions", {}).items():
        source = entry.get("from")
        if source:
            share = outputs[source["stack"]]["shares"].setdefault(
                source["share"], {"id": f"/shares/{source['share']}", "datasets": {}, "invitations": {}}
            )
            share["invitations"][source["participant"]] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{name}/invitation"))
            for key in entry["datasets"]:
                share["datasets"][key] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{source['share']}/{key}"))
    return outputs
