"""How paths are shown to the user: the one helper for each of the two ways newsctl names a file.

- `shown_path`: in messages and findings, a path relative to the working folder when it is below
  it (what pre-commit, editors and a shell user can open), else absolute.
- `archive_path`: a post's name inside its archive (`_posts/2022-06-01-x.md`), as the index and
  `show`'s metadata name it, whatever the working folder.
"""

from __future__ import annotations

import os
from pathlib import Path


def shown_path(path: str | Path, cwd: str | None = None) -> str:
    """`path` (made absolute) relative to `cwd` (default: the working folder) when below it, else
    absolute. A string prefix, not Path.relative_to: validate shows thousands of findings."""
    absolute = str(path) if os.path.isabs(path) else str(Path(path).absolute())
    prefix = (os.getcwd() if cwd is None else cwd).rstrip(os.sep) + os.sep
    return absolute[len(prefix):] if absolute.startswith(prefix) else absolute


def archive_path(root: Path, path: Path) -> str:
    """`path` relative to the archive root (posix, symlinks resolved) when inside it, else as given."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
