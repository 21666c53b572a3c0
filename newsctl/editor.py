"""The user's editor: $VISUAL, else $EDITOR (a command line, split as a shell would), as git and
zk choose it. Used by `add` (the body of a new post) and `edit` (an existing post)."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

from newsctl.errors import NewsctlError, UsageError


def editor_command() -> list[str] | None:
    """The editor's command words, or None when neither variable is set."""
    command = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if not command or not command.strip():
        return None
    try:
        return shlex.split(command)
    except ValueError as exc:  # an unclosed quote
        raise UsageError(f"cannot read the editor command {command!r}: {exc}") from None


def run_editor(command: list[str], path: Path | str, *, consequence: str) -> None:
    """Open `path` and wait; an editor that cannot start is a usage error (exit 2), one that fails is
    exit 1 with `consequence` (what that means for the user's file)."""
    try:
        status = subprocess.run([*command, str(path)], check=False).returncode
    except OSError as exc:
        raise UsageError(f"cannot start the editor {command[0]!r}: {exc.strerror or exc}") from exc
    if status != 0:
        raise NewsctlError(f"the editor exited with status {status}; {consequence}")
