"""Errors that the CLI turns into one-line messages and exit codes."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1  # validation errors, no search results, busy index
EXIT_USAGE = 2  # bad arguments, bad configuration, unparsable query
EXIT_INTERNAL = 3  # a bug in newsctl; reported in one line (NEWSCTL_DEBUG=1 shows the traceback)
EXIT_NO_INDEX = 4  # no index, or one that is damaged or unusable (another format): not "no results"
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as shells report it


class NewsctlError(Exception):
    """A failure with a message meant for the user; `exit_code` says how to leave."""

    exit_code = EXIT_FINDINGS


class UsageError(NewsctlError):
    """The user asked for something that cannot be done as asked."""

    exit_code = EXIT_USAGE


class ConfigError(UsageError):
    """A settings file is unreadable or holds a bad value."""


class IndexUnusable(NewsctlError):
    """No index to search, or one that cannot be trusted: `newsctl index` makes a good one."""

    exit_code = EXIT_NO_INDEX
