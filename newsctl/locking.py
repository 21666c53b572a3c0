"""File locks: one writer at a time, across processes, released by the kernel when the holder dies.

Two locks use this: the index's write lock (`engine.lock`, Whoosh's own lock file) and the archive's
writer lock (`archive_lock`): `add` holds it from its duplicate check to the last post written, and
`validate --fix` while it rewrites posts, so that two writers never both decide a post is new.

A lock file must be a regular file: it is opened without blocking (a FIFO in its place would block
an open() forever) and without following a symlink, then checked; anything else is refused with a
one-line error naming it. Waiting (`wait` seconds) applies to every way of not getting the lock.
"""

from __future__ import annotations

import errno
import os
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from newsctl.errors import NewsctlError

ARCHIVE_LOCK = ".newsctl/archive.lock"  # relative to the archive root
POLL_SECONDS = 0.1


class LockBusy(NewsctlError):
    """Another process holds the lock past the wait."""


class LockFileError(NewsctlError):
    """The lock file cannot be used: not a regular file, no permission, an unusable folder."""


class FlockLock:
    """An exclusive flock() on a regular file; the same protocol as whoosh.util.filelock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def acquire(self, blocking: bool = False) -> bool:
        """Take the lock; False when another process holds it. LockFileError when it cannot be used."""
        import fcntl

        fd = open_lock_file(self.path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES, errno.EINTR):
                return False
            raise LockFileError(f"cannot lock {self.path}: {exc.strerror or exc}") from exc
        if not _same_file(fd, self.path):  # removed or replaced between open() and flock(): not the lock
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
            return False
        self.fd = fd
        return True

    def holds(self) -> bool:
        """Whether the lock is held on the file that is at its path now. Removing the lock's folder
        (`rm -rf .newsctl/index`) lets another process create and lock a new file there: the two
        would then write one folder at once, and the older one must stop before it writes."""
        return self.fd is not None and _same_file(self.fd, self.path)

    def release(self) -> None:
        import fcntl

        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def _same_file(fd: int, path: Path) -> bool:
    try:
        here, there = os.fstat(fd), os.stat(path, follow_symlinks=False)
    except OSError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def open_lock_file(path: Path) -> int:
    """A descriptor of the regular file `path` (created 0600 if absent); never blocks."""
    flags = os.O_CREAT | os.O_WRONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as exc:
        if exc.errno in (errno.EISDIR, errno.ELOOP, errno.ENXIO):
            raise LockFileError(f"{path} is not a regular file; remove it (it is only a lock)") from exc
        raise LockFileError(f"cannot open the lock file {path}: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise LockFileError(f"{path} is not a regular file; remove it (it is only a lock)")
    return fd


def acquire(lock: FlockLock, wait: float) -> bool:
    """Try for `wait` seconds (0: once)."""
    deadline = time.monotonic() + wait
    while not lock.acquire(blocking=False):
        if time.monotonic() >= deadline:
            return False
        time.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))
    return True


def make_private_dir(folder: Path) -> None:
    """`folder` and its parent, created 0700 (the index and the locks are nobody else's business)."""
    try:
        if not folder.parent.exists():
            folder.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.mkdir(mode=0o700, exist_ok=True)
    except FileExistsError as exc:
        raise LockFileError(f"{folder} is not a folder; move it away") from exc
    except OSError as exc:
        raise LockFileError(f"cannot create {exc.filename or folder}: {exc.strerror or exc}") from exc
    if not folder.is_dir():
        raise LockFileError(f"{folder} is not a folder; move it away")


@contextmanager
def archive_lock(root: Path, wait: float, what: str) -> Iterator[None]:
    """Hold the archive's writer lock (`<root>/.newsctl/archive.lock`) for the block.

    A read-only archive cannot be written at all: the lock is skipped there, and the write itself
    reports the read-only file system, naming the post (a clearer message than the lock's)."""
    path = root / ARCHIVE_LOCK
    try:
        make_private_dir(path.parent)
    except LockFileError as exc:
        if _read_only(root):
            yield
            return
        raise exc
    lock = FlockLock(path)
    try:
        got = acquire(lock, wait)
    except LockFileError:
        if _read_only(root):
            yield
            return
        raise
    if not got:
        raise LockBusy(f"another newsctl is writing to this archive ({path} is locked; waited {wait:g} s); "
                       f"{what} later, or pass a longer --wait")
    try:
        yield
    finally:
        lock.release()


def _read_only(root: Path) -> bool:
    try:
        return bool(os.statvfs(root).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False
