"""The consortium's rules, as Pulumi CrossGuard policies: what every stack of the federation
must hold, whoever writes its stack file. Importing this module starts nothing: the pack's
`__main__.py` builds the PolicyPack (which serves the engine), and `federation check` runs
the same policies offline over the program's registrations.

Resource policies read a resource's inputs as the engine sends them (camelCase); stack
policies read every resource's outputs, with its dependencies. Numbers in policy config
arrive as floats from the engine.
"""

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

PACK = "federation-consortium"
STORAGE_ACCOUNT = "azure-native:storage:StorageAccount"
ACCOUNT = "azure-native:datashare:Account"
SHARE = "azure-native:datashare:Share"
INVITATION = "azure-native:datashare:Invitation"
DIAGNOSTIC_SETTING = "azure-native:monitor:DiagnosticSetting"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
# The snapshot logs Microsoft's security baseline for Data Share asks for (LT-3).
SNAPSHOT_LOGS = ("SentShareSnapshots", "ReceivedShareSnapshots")
# Built-in role definition ids, the same in every subscription.
BLOB_DATA_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
DEFAULT_MAX_INVITATION_DAYS = 365
_GUID = "[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}"
_STORAGE_ID = re.compile(
    rf"/subscriptions/(?P<subscription>{_GUID})/resourceGroups/(?P<group>[^/]+)"
    r"/providers/Microsoft\.Storage/storageAccounts/(?P<name>[a-z0-9]{3,24})",
    re.IGNORECASE,
)


def _cis(reference: str, specification: str, version: str = "4.0.0") -> PolicyComplianceFramework:
    return PolicyComplianceFramework(
        name="CIS Microsoft Azure Foundations Benchmark",
        version=version,
        reference=reference,
        specification=specification,
    )


def _baseline(reference: str, specification: str) -> PolicyComplianceFramework:
    return PolicyComplianceFramework(
        name="Azure security baseline for Azure Data Share",
        version="Microsoft cloud security benchmark v1",
        reference=reference,
        specification=specification,
    )


def now() -> datetime:
    """The time invitations are measured from; tests replace it."""
    return datetime.now(UTC)


# Storage: the CIS storage account settings the program sets on storage it creates.


def _storage(
    check: Callable[[Mapping[str, Any]], str | None],
) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type == STORAGE_ACCOUNT:
            problem = check(args.props)
            if problem:
                report(problem, None)

    return validate


def _tls(props: Mapping[str, Any]) -> str | None:
    found = props.get("minimumTlsVersion")
    return None if found in ("TLS1_2", "TLS1_3") else f"minimumTlsVersion is {found or 'not set'}, not TLS1_2"


def _https(props: Mapping[str, Any]) -> str | None:
    return None if props.get("enableHttpsTrafficOnly") is True else "enableHttpsTrafficOnly is not true"


def _anonymous(props: Mapping[str, Any]) -> str | None:
    return None if props.get("allowBlobPublicAccess") is False else "allowBlobPublicAccess is not false"


def _shared_keys(props: Mapping[str, Any]) -> str | None:
    return None if props.get("allowSharedKeyAccess") is False else "allowSharedKeyAccess is not false"


def _network(props: Mapping[str, Any]) -> str | None:
    rules = props.get("networkRuleSet") or {}
    bypass = {part.strip() for part in str(rules.get("bypass") or "").split(",")}
    if rules.get("defaultAction") != "Deny":
        return f"networkRuleSet.defaultAction is {rules.get('defaultAction') or 'not set (Allow)'}, not Deny"
    if "AzureServices" not in bypass:
        return "networkRuleSet.bypass does not include AzureServices: Data Share could not reach the account"
    return None


def _cross_tenant(props: Mapping[str, Any]) -> str | None:
    return None if props.get("allowCrossTenantReplication") is False else "allowCrossTenantReplication is not false"


def _infrastructure(props: Mapping[str, Any]) -> str | None:
    encryption = props.get("encryption")
    if not encryption or "requireInfrastructureEncryption" not in encryption:
        return None  # where set: an account made elsewhere chose at its creation
    if encryption.get("requireInfrastructureEncryption") is True:
        return None
    return "encryption.requireInfrastructureEncryption is false"


STORAGE_POLICIES = [
    ResourceValidationPolicy(
        name="storage-minimum-tls-1-2",
        description="Storage accounts accept TLS 1.2 or later only.",
        validate=_storage(_tls),
        severity=Severity.HIGH,
        framework=_cis("10.3.7", "Ensure the 'Minimum TLS version' for storage accounts is set to 'Version 1.2'"),
        remediation_steps="Set minimumTlsVersion to TLS1_2 on the storage account (the program does on storage it "
        "creates; an existing account's owner sets it).",
    ),
    ResourceValidationPolicy(
        name="storage-https-only",
        description="Storage accounts take HTTPS traffic only (secure transfer required).",
        validate=_storage(_https),
        severity=Severity.HIGH,
        framework=_cis("10.3.4", "Ensure that 'Secure transfer required' is set to 'Enabled'"),
        remediation_steps="Set enableHttpsTrafficOnly to true on the storage account.",
    ),
    ResourceValidationPolicy(
        name="storage-no-anonymous-blob-access",
        description="Storage accounts allow no anonymous (public) blob access.",
        validate=_storage(_anonymous),
        severity=Severity.HIGH,
        framework=_cis("10.3.9", "Ensure that 'Allow Blob Anonymous Access' is set to 'Disabled'"),
        remediation_steps="Set allowBlobPublicAccess to false on the storage account.",
    ),
    ResourceValidationPolicy(
        name="storage-no-shared-keys",
        description="Storage accounts refuse shared-key (account key and SAS) access: Data Share uses its "
        "managed identity.",
        validate=_storage(_shared_keys),
        severity=Severity.MEDIUM,
        framework=_cis(
            "10.3.1.3", "Ensure that 'Allow storage account key access' for Azure Storage Accounts is 'Disabled'"
        ),
        remediation_steps="Leave sharedKeyAccess out of the storage entry (or set it false): the program then sets "
        "allowSharedKeyAccess to false.",
    ),
    ResourceValidationPolicy(
        name="storage-default-deny-network",
        description="Storage accounts deny network access by default and let trusted Azure services through.",
        validate=_storage(_network),
        severity=Severity.MEDIUM,
        framework=_cis(
            "10.3.2.3, 10.3.5",
            "Ensure default network access rule for storage accounts is set to deny; allow Azure services on the "
            "trusted services list to access the storage account",
        ),
        remediation_steps="Set networkRuleSet.defaultAction to Deny with bypass AzureServices (the program does on "
        "storage it creates); list what else must reach it under the entry's network.allow or network.subnets.",
    ),
    ResourceValidationPolicy(
        name="storage-no-cross-tenant-replication",
        description="Storage accounts allow no object replication to other tenants.",
        validate=_storage(_cross_tenant),
        severity=Severity.MEDIUM,
        framework=_cis("10.3.8", "Ensure 'Cross Tenant Replication' is not enabled"),
        remediation_steps="Set allowCrossTenantReplication to false on the storage account.",
    ),
    ResourceValidationPolicy(
        name="storage-infrastructure-encryption",
        description="Where a storage account's encryption is set, it requires infrastructure (double) encryption.",
        validate=_storage(_infrastructure),
        severity=Severity.LOW,
        # 4.0.0 has no such recommendation; 3.0.0 had it (Level 2).
        framework=_cis(
            "4.2",
            "Ensure that 'Enable Infrastructure Encryption' for each Storage Account is set to 'enabled'",
            "3.0.0",
        ),
        remediation_steps="Infrastructure encryption is chosen when an account is created: create a new storage entry "
        "(another key and name) with it and move the data.",
    ),
]


# Data Share: who is invited, until when, and on what terms.


def _invitation_expiry(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != INVITATION:
        return
    days = int(args.get_config().get("maxInvitationDays", DEFAULT_MAX_INVITATION_DAYS))
    expires = args.props.get("expirationDate")
    if not expires:
        report(f"invitation {args.name} never expires; it must within {days} days", None)
        return
    try:
        at = datetime.fromisoformat(str(expires).replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        report(f"invitation {args.name} expires at {expires!r}, which is not a time", None)
        return
    latest = now() + timedelta(days=days)
    if (at if at.tzinfo else at.replace(tzinfo=UTC)) > latest:
        report(f"invitation {args.name} expires {expires}, later than {days} days from now", None)


def _invitation_target(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != INVITATION:
        return
    config = args.get_config()
    domains = {str(d).lower() for d in config.get("allowedEmailDomains") or ()}
    tenants = {str(t).lower() for t in config.get("allowedTenants") or ()}
    email = args.props.get("targetEmail")
    tenant = args.props.get("targetActiveDirectoryId")
    if email:
        domain = str(email).rpartition("@")[2].lower()
        if domain not in domains:
            allowed = ", ".join(sorted(domains)) or "none configured"
            report(f"invitation {args.name} goes to the domain {domain}, not an allowed one ({allowed})", None)
    elif tenant:
        if str(tenant).lower() not in tenants:
            allowed = ", ".join(sorted(tenants)) or "none configured"
            report(f"invitation {args.name} goes to the tenant {tenant}, not an allowed one ({allowed})", None)
    else:
        report(f"invitation {args.name} names neither an email nor a tenant", None)


def _share_terms(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != SHARE:
        return
    missing = [key for key in ("description", "terms") if not str(args.props.get(key) or "").strip()]
    if missing:
        report(f"share {args.name} has no {' and no '.join(missing)}", None)


DATA_SHARE_POLICIES = [
    ResourceValidationPolicy(
        name="invitation-expiry",
        description="Every invitation expires, no later than the consortium's maximum.",
        validate=_invitation_expiry,
        severity=Severity.HIGH,
        framework=_baseline("PA-2", "Avoid standing access for accounts and permissions"),
        config_schema=PolicyConfigSchema(
            properties={
                "maxInvitationDays": {
                    "type": "integer",
                    "minimum": 1,
                    "default": DEFAULT_MAX_INVITATION_DAYS,
                    "description": "The furthest an invitation may expire, in days from now.",
                }
            }
        ),
        remediation_steps="Set expires on the share or on the participant (federation:shares.<share>.expires, "
        "federation:participants.<key>.expires), within maxInvitationDays; raise it and `pulumi up` to renew.",
    ),
    ResourceValidationPolicy(
        name="invitation-allowed-targets",
        description="Invitations go only to email domains and tenants the consortium allows.",
        validate=_invitation_target,
        severity=Severity.CRITICAL,
        framework=_baseline("IM-1", "Use centralized identity and authentication system"),
        config_schema=PolicyConfigSchema(
            properties={
                "allowedEmailDomains": {
                    "type": "array",
                    "items": {"type": "string", "minLength": 1},
                    "default": [],
                    "description": "Domains an invitation's email may be in, such as hospital-a.example.",
                },
                "allowedTenants": {
                    "type": "array",
                    "items": {"type": "string", "pattern": f"^{_GUID}$"},
                    "default": [],
                    "description": "Microsoft Entra tenant ids an invited service principal may be in.",
                },
            }
        ),
        remediation_steps="Invite only members of the consortium; to admit a new member, add its domain or tenant id "
        "to the policy config (allowedEmailDomains, allowedTenants) in review.",
    ),
    ResourceValidationPolicy(
        name="share-terms-and-description",
        description="Every share says what it holds (description) and on what terms (terms).",
        validate=_share_terms,
        severity=Severity.LOW,
        remediation_steps="Set description and terms on the share in federation:shares.",
    ),
]


# Stack rules: what only the whole stack shows.


def _depends_on(resource: PolicyResource, other: PolicyResource) -> bool:
    found = [*resource.dependencies, *(r for deps in resource.property_dependencies.values() for r in deps)]
    return any(r.urn == other.urn for r in found)


def _logs(setting: PolicyResource) -> set[str]:
    """The log categories a diagnostic setting sends. An entry names a category or a group:
    on a first preview the provider makes whichever of the two the program left out
    unknown, so the group is read only where no category is named."""
    enabled = set()
    for entry in setting.props.get("logs") or ():
        if entry.get("enabled"):
            category = entry.get("category")
            if category:
                enabled.add(str(category))
            elif entry.get("categoryGroup") == "allLogs":
                enabled |= set(SNAPSHOT_LOGS)
    return enabled


def _diagnostics(args: StackValidationArgs, report: ReportViolation) -> None:
    accounts = [r for r in args.resources if r.resource_type == ACCOUNT]
    settings = [r for r in args.resources if r.resource_type == DIAGNOSTIC_SETTING]
    for account in accounts:
        logged = set().union(*(_logs(s) for s in settings if _depends_on(s, account)))
        missing = [category for category in SNAPSHOT_LOGS if category not in logged]
        if missing:
            name = account.props.get("accountName") or account.name
            report(f"Data Share account {name} sends no {' or '.join(missing)} logs", account.urn)


def _role(props: Mapping[str, Any]) -> str:
    """The role definition's GUID, from its id."""
    return str(props.get("roleDefinitionId") or "").rsplit("/", 1)[-1].lower()


def _role_problem(name: str, role: str, whom: str) -> str | None:
    """Storage Blob Data Reader and Contributor are the only roles Data Share needs."""
    if role in (BLOB_DATA_READER, BLOB_DATA_CONTRIBUTOR):
        return None
    return f"{name} grants {whom}a role other than Storage Blob Data Reader or Contributor ({role})"


def _role_assignment(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """The role of a grant from its inputs, known at preview even on a new stack, where the
    principal (the account's identity) and often the scope are not: so a wider role stops
    the first `up` before anything is created. Every grant the program makes is the Data
    Share identity's; what it is scoped to is judged by rbac-least-privilege."""
    if args.resource_type == ROLE_ASSIGNMENT:
        problem = _role_problem(args.name, _role(args.props), "")
        if problem:
            report(problem, None)


def _at(resource: PolicyResource) -> tuple[str, str, str] | None:
    """Where a dataset or mapping reads or writes: subscription, group, storage account."""
    props = resource.props
    names = (props.get("subscriptionId"), props.get("resourceGroup"), props.get("storageAccountName"))
    return tuple(str(n).lower() for n in names) if all(names) else None  # type: ignore[return-value]


def _rbac(args: StackValidationArgs, report: ReportViolation) -> None:
    principals = {
        str((r.props.get("identity") or {}).get("principalId") or ""): r
        for r in args.resources
        if r.resource_type == ACCOUNT
    }
    read = {
        _at(r)
        for r in args.resources
        if r.resource_type.startswith("azure-native:datashare:") and r.resource_type.endswith("DataSet")
    }
    written = {
        _at(r)
        for r in args.resources
        if r.resource_type.startswith("azure-native:datashare:") and r.resource_type.endswith("DataSetMapping")
    }
    for assignment in (r for r in args.resources if r.resource_type == ROLE_ASSIGNMENT):
        account = principals.get(str(assignment.props.get("principalId") or ""))
        if account is None:
            continue  # not the Data Share account's identity
        scope = str(assignment.props.get("scope") or "")
        storage = _STORAGE_ID.fullmatch(scope)
        role = _role(assignment.props)
        where = (
            (storage["subscription"].lower(), storage["group"].lower(), storage["name"].lower()) if storage else None
        )
        problem = _role_problem(assignment.name, role, "the Data Share identity ")
        if problem:
            report(problem, assignment.urn)
        elif where is None:
            report(f"{assignment.name} is scoped to {scope}, not to one storage account", assignment.urn)
        elif role == BLOB_DATA_READER and where not in read:
            report(
                f"{assignment.name} lets the Data Share identity read storage {where[2]}, which no share reads",
                assignment.urn,
            )
        elif role == BLOB_DATA_CONTRIBUTOR and where not in written:
            report(
                f"{assignment.name} lets the Data Share identity write storage {where[2]}, where nothing is received",
                assignment.urn,
            )


# The least-privilege control both role rules cite, judged at preview (each grant) and
# after the run (the grants as a whole); one remedy for both.
_LEAST_PRIVILEGE = _baseline("PA-7", "Follow just enough administration (least privilege) principle")
_GRANT_THROUGH_THE_PROGRAM = (
    "Grant roles to the account identity only through the program: it grants exactly what the shares and "
    "subscriptions of the stack file need."
)

STACK_POLICIES = [
    StackValidationPolicy(
        name="account-snapshot-logs",
        description="The Data Share account sends its snapshot logs (sent and received) to a diagnostic setting.",
        validate=_diagnostics,
        severity=Severity.MEDIUM,
        framework=_baseline("LT-3", "Enable logging for security investigation"),
        remediation_steps="Add federation:monitoring to the stack file (emails to tell of failed snapshots; a "
        "workspace is created or named by id).",
    ),
    StackValidationPolicy(
        name="rbac-least-privilege",
        description="The Data Share identity holds Storage Blob Data Reader only on storage it shares from, and "
        "Contributor only on storage it receives into, each scoped to the storage account.",
        validate=_rbac,
        severity=Severity.HIGH,
        framework=_LEAST_PRIVILEGE,
        remediation_steps=_GRANT_THROUGH_THE_PROGRAM,
    ),
]

ROLE_POLICIES = [
    ResourceValidationPolicy(
        name="role-assignment-blob-data-only",
        description="Every role the stack grants is Storage Blob Data Reader or Contributor, judged before the "
        "grant is made.",
        validate=_role_assignment,
        severity=Severity.HIGH,
        framework=_LEAST_PRIVILEGE,
        remediation_steps=_GRANT_THROUGH_THE_PROGRAM,
    ),
]

POLICIES: list[ResourceValidationPolicy | StackValidationPolicy] = [
    *STORAGE_POLICIES,
    *DATA_SHARE_POLICIES,
    *ROLE_POLICIES,
    *STACK_POLICIES,
]
ENFORCEMENT = EnforcementLevel.MANDATORY


def by_name() -> dict[str, ResourceValidationPolicy | StackValidationPolicy]:
    return {p.name: p for p in POLICIES}


def configurable() -> Iterable[ResourceValidationPolicy | StackValidationPolicy]:
    return (p for p in POLICIES if p.config_schema is not None)
