"""The index's write lock: one writer at a time, newsctl or any Whoosh writer (`newsctl.locking`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from newsctl.engine.store import INDEX_NAME
from newsctl.errors import NewsctlError
from newsctl.locking import FlockLock, acquire

LOCK_NAME = f"{INDEX_NAME}_WRITELOCK"  # Whoosh's own lock file of the index

__all__ = ["LOCK_NAME", "FlockLock", "IndexBusy", "acquire", "write_lock"]


class IndexBusy(NewsctlError):
    """Another process holds the write lock."""


def write_lock(index_dir: Path) -> Any:
    """The flock on `MAIN_WRITELOCK`, as whoosh.util.filelock takes it (so that newsctl and any Whoosh
    writer exclude each other); the kernel drops it when the process dies, however it dies."""
    if os.name == "posix":
        return FlockLock(index_dir / LOCK_NAME)
    from newsctl.engine.whooshlib import FileStorage

    return FileStorage(str(index_dir)).lock(LOCK_NAME)  # msvcrt on Windows
