"""Writing files atomically: a reader sees the old content or the new, never a part."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def atomic_write(path: Path, data: bytes, *, durable: bool = True, keep_mode: bool = False) -> None:
    """Write `data` to a temporary file beside `path` and rename it over `path`; with `durable`,
    fsync it first (a crash leaves the old file or the new), with `keep_mode`, keep path's mode."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        if keep_mode:
            with contextlib.suppress(FileNotFoundError):
                os.chmod(tmp, os.stat(path).st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
