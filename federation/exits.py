"""Exit codes: what the command line returns, and the commands it runs report. Each
command's meaning of a code is in docs/operating.md (one table for every command)."""

OK = 0
UNREADABLE = 1  # a file cannot be read; Azure refused or could not be reached; a change failed
INVALID_CONFIG = 2  # invalid stack config, or a name config lacks; nothing ran
DESTRUCTIVE = 3  # diff --fail-on-delete: something would be deleted or replaced
# diff: the deployment would fail; access --check: problems; reconcile, revoke: something
# left to a person; sync: failed; publish: the round, or a newer one, is there already. One
# code, since each asks a person to look before going on.
PROBLEMS = 4
TIMEOUT = 5  # sync: still running at --timeout (then canceled)
NO_SENDER_OUTPUTS = 6  # a `from` names a stack whose outputs are not here
POLICY = 7  # check: a mandatory policy is violated
# verify: worth trying again after the next snapshot (no manifest yet, a file missing or
# short, a snapshot still running).
INCOMPLETE = 8
# verify: never worth trying again (a wrong size or digest once the snapshot ended, an
# extra file, a broken chain, an older round, a manifest that cannot be read).
MISMATCH = 9
NO_ACCESS = 10  # publish, verify: storage or Resource Manager refused the identity (401, 403)
INTERRUPTED = 130  # Ctrl-C, as shells report it
