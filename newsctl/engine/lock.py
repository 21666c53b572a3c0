"""The index's write lock: one writer at a time, newsctl or any Whoosh writer."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Protocol

from newsctl.engine.store import INDEX_NAME
from newsctl.errors import NewsctlError

LOCK_NAME = f"{INDEX_NAME}_WRITELOCK"  # Whoosh's own lock file of the index


class IndexBusy(NewsctlError):
    """Another process holds the write lock."""


class WriteLock(Protocol):
    def acquire(self, blocking: bool = False) -> bool: ...

    def release(self) -> None: ...


class FlockLock:
    """Whoosh's write lock without importing Whoosh: the same file, flock()ed as whoosh.util.filelock
    does, so that newsctl and any Whoosh writer exclude each other. The kernel drops it when the
    process dies, however it dies."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def acquire(self, blocking: bool = False) -> bool:
        import fcntl

        fd = os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except OSError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    def release(self) -> None:
        import fcntl

        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def write_lock(index_dir: Path) -> Any:
    if os.name == "posix":
        return FlockLock(index_dir / LOCK_NAME)
    from newsctl.engine.whooshlib import FileStorage

    return FileStorage(str(index_dir)).lock(LOCK_NAME)  # msvcrt on Windows


def acquire(lock: WriteLock, wait: float) -> bool:
    """Try for `wait` seconds."""
    deadline = time.monotonic() + wait
    while not lock.acquire(blocking=False):
        if time.monotonic() >= deadline:
            return False
        time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
    return True
