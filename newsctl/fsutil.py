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
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temporary)
