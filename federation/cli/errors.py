"""What a command refuses, each as its exit code says."""


class UsageError(Exception):
    """A stack file, outputs or config file that cannot be read, or a command used wrongly;
    reported in one line, exit 1."""


class InvalidError(Exception):
    """Invalid stack config, one line per problem; exit 2."""


class MissingSendersError(Exception):
    """`from` names stacks whose outputs are not here: not invalid config, exit 6."""


class UnknownError(Exception):
    """A share, subscription or participant that config lacks, or a name that could mean
    two things; exit 2."""
