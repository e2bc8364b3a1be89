"""Stack output names: the contract other stacks and scripts read (`pulumi stack output`)."""

RESOURCE_GROUP_NAME = "resourceGroupName"
ACCOUNT_NAME = "accountName"
ACCOUNT_ID = "accountId"
ACCOUNT_PRINCIPAL_ID = "accountPrincipalId"
SHARES = "shares"
STORAGE = "storage"
SUBSCRIPTIONS = "subscriptions"
# With `federation:monitoring` only.
WORKSPACE_ID = "workspaceId"
ACTION_GROUP_ID = "actionGroupId"
