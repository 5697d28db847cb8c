"""The input-error family: every problem a user can fix, with the message that says how."""


class SettleError(Exception):
    """An input problem. The CLI prints its message on one line and exits 2."""

    exit_code = 2


class NotARepositoryError(SettleError):
    pass


class UnknownRefError(SettleError):
    pass


class EmptyRepositoryError(SettleError):
    pass


class BadPathError(SettleError):
    pass


class ConfigError(SettleError):
    """A claims, plan or policy file that does not validate."""
