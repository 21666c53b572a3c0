"""THE file-writing helpers: replace a file atomically, create a new one without clobbering, and
make a folder's entries durable. Every write of newsctl goes through them.

A reader sees the old file or the new one, never half of either: the data goes to a temporary
file in the same folder (same file system), which is then renamed (atomic_write) or hard-linked
(write_new_file) to its name. Nothing heavy is imported: `validate --fix` and the fact cache are
on pre-commit's path (no tempfile, no secrets: os.urandom names the temporary file).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path

NEW_FILE_MODE = 0o666  # as open() does: the umask decides


def atomic_write(path: Path, data: bytes, *, durable: bool = True, keep_mode: bool = False) -> None:
    """Replace (or create) `path` by `data` atomically. `durable`: fsync the file and its folder
    before returning (a cache that may be lost says False). `keep_mode`: the file keeps the
    permission bits it had (`validate --fix` rewrites a user's post). On failure the old file is
    untouched, the temporary file removed, and the OSError raised."""
    mode = stat.S_IMODE(path.stat().st_mode) if keep_mode else None
    temporary = _write_temporary(path, data, durable)
    try:
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        _remove(temporary)
        raise
    if durable:
        fsync_dir(path.parent)


class FileChanged(OSError):
    """The file changed since it was read, so it was not replaced (a compare-and-swap that lost)."""


def read_regular(path: Path) -> bytes:
    """The bytes of the regular file `path`; never blocks on a FIFO (OSError for any other kind)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        return _read_all(fd)
    finally:
        os.close(fd)


def replace_if_unchanged(path: Path, data: bytes, expected: bytes) -> None:
    """Replace the user's file `path` by `data` atomically and durably, keeping its permission bits,
    only if it still holds `expected` (the bytes the caller read and changed): a compare-and-swap.
    FileChanged when it changed meanwhile; the file is then left as it is.

    The bytes are compared once more just before the rename, and the old file is looked at once
    more after it: a writer that appended in between (through a descriptor opened before the
    rename, as `echo >> post.md` holds one) wrote to the replaced file, so its content, newer than
    ours, is put back in place and FileChanged raised. No append is ever lost."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        seen = os.fstat(fd)
        if not stat.S_ISREG(seen.st_mode) or _read_all(fd) != expected:
            raise FileChanged(errno.EAGAIN, "changed since it was read", str(path))
        temporary = _write_temporary(path, data, durable=True)
        try:
            os.chmod(temporary, stat.S_IMODE(seen.st_mode))
            if not _same_version(seen, os.fstat(fd)) or not _same_inode(seen, os.stat(path)):
                raise FileChanged(errno.EAGAIN, "changed since it was read", str(path))
            os.replace(temporary, path)
        except BaseException:
            _remove(temporary)
            raise
        fsync_dir(path.parent)
        after = os.fstat(fd)  # (its ctime moved: the rename unlinked it; a write moves size or mtime)
        if (after.st_size, after.st_mtime_ns) != (seen.st_size, seen.st_mtime_ns):  # written meanwhile
            _put_back(path, fd, data)
            raise FileChanged(errno.EAGAIN, "changed while it was being replaced", str(path))
    finally:
        os.close(fd)


def _read_all(fd: int) -> bytes:
    os.lseek(fd, 0, os.SEEK_SET)
    parts = []
    while chunk := os.read(fd, 1 << 20):
        parts.append(chunk)
    return b"".join(parts)


def _same_version(before: os.stat_result, after: os.stat_result) -> bool:
    return (before.st_size, before.st_mtime_ns, before.st_ctime_ns) == (after.st_size, after.st_mtime_ns,
                                                                        after.st_ctime_ns)


def _same_inode(before: os.stat_result, after: os.stat_result) -> bool:
    return (before.st_dev, before.st_ino) == (after.st_dev, after.st_ino)


def _put_back(path: Path, old_fd: int, ours: bytes) -> None:
    """The old file got newer bytes after our check: it wins over our version, unless someone else
    replaced our version meanwhile (then theirs stays)."""
    newer = _read_all(old_fd)
    try:
        current = read_regular(path)
    except OSError:
        return
    if current == ours:
        atomic_write(path, newer, keep_mode=True)


def write_new_file(path: Path, data: bytes) -> None:
    """Write `data` to the new file `path` atomically and durably; never replace an existing file.
    FileExistsError when `path` exists (also when it appeared meanwhile); any other OSError
    leaves nothing behind. The folder is created if needed."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:  # a file stands where the folder should: not "path exists"
        raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(path.parent)) from exc
    temporary = _write_temporary(path, data, durable=True)
    try:
        _link_no_clobber(temporary, path)
    finally:
        _remove(temporary)
    fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    """Make the folder's entries (a rename, a new name) durable; best effort, as not every
    platform can open or sync a folder."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_temporary(path: Path, data: bytes, durable: bool) -> Path:
    """A new file beside `path` holding `data`; O_EXCL: a stray name is never reused."""
    temporary = path.with_name(f".{path.name}.{os.urandom(6).hex()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, NEW_FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            if durable:
                os.fsync(stream.fileno())
    except BaseException:
        _remove(temporary)
        raise
    return temporary


def _link_no_clobber(temporary: Path, path: Path) -> None:
    try:
        os.link(temporary, path)  # fails with FileExistsError if another writer got there first
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        # a file system without hard links: claim the name with O_EXCL, then rename over the claim
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
        os.replace(temporary, path)


def _remove(temporary: Path) -> None:
    """Best effort: a clean-up that fails (a read-only file system) must not hide the error that
    made it necessary."""
    with contextlib.suppress(OSError):
        os.unlink(temporary)
