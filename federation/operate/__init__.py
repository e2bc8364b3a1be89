"""Day-2 work on a live Data Share account: Azure access with deadlines (`azure`, `workers`),
the access review (`access`), changes to access (`operations`) and on-demand snapshots
(`sync`)."""
