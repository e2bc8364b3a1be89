"""Azure naming rules, default Azure names and deterministic role-assignment names.

Logical (Pulumi) names and Azure names are kept apart: logical names come from config
keys (see `config`), Azure names are checked here against each service's own rules.
"""

import re
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass


def _anything(match: re.Match[str]) -> bool:
    return True


@dataclass(frozen=True)
class Rule:
    """A naming rule: the pattern Azure enforces, what a pattern cannot say (`also`, on
    the match), and how to say it to a person."""

    pattern: re.Pattern[str]
    says: str
    also: Callable[[re.Match[str]], bool] = _anything

    def match(self, value: str) -> re.Match[str] | None:
        found = self.pattern.fullmatch(value)
        return found if found is not None and self.also(found) else None

    def accepts(self, value: str) -> bool:
        return self.match(value) is not None

    @property
    def ecma(self) -> str:
        """The pattern for a JSON schema: anchored, in the syntax JavaScript and Python
        share (editors check it with JavaScript's RegExp): no named groups, no inline
        case-insensitive groups."""
        text = self.pattern.pattern.replace("(?P<", "(?<")
        text = re.sub(r"\(\?<\w+>", "(", text)
        text = re.sub(r"\(\?i:((?:[^()\\]|\\.)*)\)", lambda m: "(?:" + _any_case(m[1]) + ")", text)
        return f"^(?:{text})$"


def _any_case(pattern: str) -> str:
    """Letters of a plain pattern as [xX] classes; escapes kept as they are."""
    return re.sub(r"\\.|[A-Za-z]", lambda m: m[0] if len(m[0]) > 1 else f"[{m[0].lower()}{m[0].upper()}]", pattern)


def _rule(pattern: str, says: str, also: Callable[[re.Match[str]], bool] = _anything) -> Rule:
    return Rule(re.compile(pattern), says, also)


def _letters_or_digits(text: str) -> bool:
    """Letters and digits as .NET's Char.IsLetterOrDigit counts them (Unicode letters and
    decimal digits), which ARM applies to resource group names. Python's `\\w` also takes
    other numerals (½, Ⅷ) that Azure refuses."""
    return all(unicodedata.category(c)[0] == "L" or unicodedata.category(c) == "Nd" for c in text if c not in "-_.()")


# Microsoft.DataShare: share names allow no hyphen; datasets, invitations and mappings do.
SHARE = _rule(r"[A-Za-z0-9_]{2,90}", "2-90 letters, digits or underscores")
KEY = _rule(r"[A-Za-z0-9_-]{2,90}", "2-90 letters, digits, underscores or hyphens")
ACCOUNT = _rule(
    r"[^<>%&:\\?/#*$^();,.|+={}\[\]!~@\s]{3,90}",
    "3-90 characters, none of <>%&:\\?/#*$^();,.|+={}[]!~@ or spaces",
)
# Resource groups (learn.microsoft.com, azure-resource-manager/management/resource-name-rules,
# Microsoft.Resources): 1-90 of underscores, hyphens, periods, parentheses and letters or
# digits (Char.IsLetterOrDigit, as the ARM SDKs document it), not ending in a period.
_GROUP = r"[-\w.()]{0,89}[-\w()]"
RESOURCE_GROUP = _rule(
    _GROUP,
    "1-90 letters, digits, '-', '_', '.', '(' or ')', not ending in '.'",
    lambda match: _letters_or_digits(match[0]),
)
STORAGE_ACCOUNT = _rule(r"[a-z0-9]{3,24}", "3-24 lowercase letters and digits")
CONTAINER = _rule(
    r"(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*",
    "3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit",
)
ENVIRONMENT = _rule(r"[a-z0-9][a-z0-9-]{0,22}[a-z0-9]|[a-z0-9]", "1-24 lowercase letters, digits or inner hyphens")
REGION = _rule(r"[a-z][a-z0-9]*", "an Azure region's programmatic name, such as westeurope")
_GUID = r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}"
GUID = _rule(_GUID, "a GUID such as 00000000-0000-0000-0000-000000000000")
# Resource ids are case-insensitive: ARM and the portal spell the fixed segments both ways.
# The subscription is a GUID and the group follows the resource group rule above.
STORAGE_ID = _rule(
    rf"/(?i:subscriptions)/(?P<subscription>{_GUID})/(?i:resourceGroups)/(?P<group>{_GROUP})"
    r"/(?i:providers/Microsoft\.Storage/storageAccounts)/(?P<name>[a-z0-9]{3,24})",
    "/subscriptions/<guid>/resourceGroups/<group>/providers/Microsoft.Storage/storageAccounts/<name>, "
    "the group as for federation:resourceGroup",
    lambda match: _letters_or_digits(match["group"]),
)
SUBNET_ID = _rule(
    r"/(?i:subscriptions)/[0-9a-fA-F-]{36}/(?i:resourceGroups)/[-\w.()]{1,90}"
    r"/(?i:providers/Microsoft\.Network/virtualNetworks)/[-\w.]{2,64}/(?i:subnets)/[-\w.]{1,80}",
    "/subscriptions/<guid>/resourceGroups/<group>/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>",
)
# Log Analytics: 4-63 letters, digits and hyphens, starting and ending with a letter or digit.
WORKSPACE = _rule(
    r"[A-Za-z0-9][A-Za-z0-9-]{2,61}[A-Za-z0-9]",
    "4-63 letters, digits or hyphens, starting and ending with a letter or digit",
)
WORKSPACE_ID = _rule(
    r"/(?i:subscriptions)/[0-9a-fA-F-]{36}/(?i:resourceGroups)/[-\w.()]{1,90}"
    r"/(?i:providers/Microsoft\.OperationalInsights/workspaces)/[A-Za-z0-9][A-Za-z0-9-]{2,61}[A-Za-z0-9]",
    "/subscriptions/<guid>/resourceGroups/<group>/providers/Microsoft.OperationalInsights/workspaces/<name>",
)
# A stack as the Pulumi CLI takes it: stack, project/stack or org/project/stack. Stack and
# project names are 1-100 ASCII letters, digits, '_', '.' or '-'; an organization 3-40
# letters, digits, '_' or '-', starting and ending with a letter or digit (pulumi/pulumi,
# ValidateStackName, ValidateProjectName and the service's owner rule).
_PULUMI_NAME = r"[A-Za-z0-9_.-]{1,100}"
STACK = _rule(
    rf"(?:(?:[A-Za-z0-9][A-Za-z0-9_-]{{1,38}}[A-Za-z0-9]/)?{_PULUMI_NAME}/)?{_PULUMI_NAME}",
    "a stack name such as org/federation/coordinator-prod: the stack and project 1-100 ASCII letters, digits, "
    "'_', '.' or '-', the organization 3-40 letters, digits, '_' or '-'",
)
# A blob name or ADLS Gen2 path below a container: no empty segment, no trailing dot.
PATH = _rule(
    r"(?=.{1,1024}$)[^/\\]+(/[^/\\]+)*(?<!\.)",
    "a relative path of at most 1024 characters, with no leading, trailing or double '/' and no trailing '.'",
)
# Blob storage (learn.microsoft.com, storage/blobs, "Naming and referencing containers,
# blobs, and metadata"): a blob name has at most 254 path segments. With a hierarchical
# namespace, at most 63 counting the account and the container, so 61 below the container.
BLOB_SEGMENTS = 254
HNS_SEGMENTS = 63 - 2
TIME = _rule(
    # ASCII digits: Python's \d would take any script's.
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}([Zz]|[+-][0-9]{2}:[0-9]{2})",
    "an RFC 3339 time to the second, with a zone, such as 2026-12-01T02:00:00Z",
)
# The times the program sends, in UTC: four-digit years (RFC 3339), and none before the
# Unix epoch, which no schedule or expiry needs and some parsers refuse.
FIRST_YEAR, LAST_YEAR = 1970, 9999
# Tags (learn.microsoft.com, azure-resource-manager/management/tag-resources, limitations):
# names may not contain <>%&\\?/; 512 characters, but 128 on storage accounts, which every
# tag here goes on. No control characters either: ARM refuses them in names.
TAG_NAME = _rule(r"[^<>%&\\?/\x00-\x1f\x7f]{1,128}", "1-128 characters, none of <>%&\\?/ or control characters")


def resource_group(environment: str) -> str:
    return f"rg-fl-{environment}"


def account(environment: str) -> str:
    return f"dsa-fl-{environment}"


def workspace(environment: str) -> str:
    return f"log-fl-{environment}"


def action_group(environment: str) -> str:
    return f"ag-fl-{environment}"


# Fixed namespace so role-assignment names are the same on every run and every machine.
_ROLE_ASSIGNMENT_NAMESPACE = uuid.UUID("5b0c2a4e-2f4e-4f7c-9a52-1f3d6f1e9a10")


def role_assignment(scope: str, principal_id: str, role_id: str) -> str:
    """The GUID name of a role assignment, like Bicep's guid(scope, principalId, roleId).

    Including the principal gives a recreated Data Share account (a new identity) a new
    assignment name: Azure refuses to point an existing assignment at another principal.
    azure-native replaces an assignment whose name changes old one first, as it does any
    resource whose Azure name changes.
    """
    return str(uuid.uuid5(_ROLE_ASSIGNMENT_NAMESPACE, f"{scope.lower()}|{principal_id}|{role_id}"))
