"""THE read-ahead of a whole-archive read: the kernel is asked for the next posts while this
process parses the current ones.

On a cold page cache (a first run, or an archive the kernel has evicted since), reading a post
waits for the disk twice: for its inode at open(), then for its data at read(). One file after
another, that wait is longer than the parsing. A background thread that opens each file and
calls posix_fadvise(WILLNEED) has the kernel read the data asynchronously, several files at a
time, while the parser works (the thread holds the GIL only between system calls). Where the
files are cached already it costs a few microseconds per file. docs/benchmarks.md has the
figures.

It opens files as read_post does (O_NONBLOCK: a FIFO never blocks) and reads nothing itself.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Sequence

MIN_FILES = 64  # below this, starting a thread costs about what it saves
MAX_POST_BYTES = 5 * 1024 * 1024  # post.MAX_POST_BYTES (not imported: this module stays light)


def read_ahead(paths: Sequence[str], chunk_size: int = 0, threads: int = 1) -> list[threading.Thread]:
    """Have the kernel read these files into its cache, from background threads: thread k takes
    chunks k, k + threads, ... of `chunk_size` paths (the order in which that many workers take
    them; 0: one chunk per thread). Nothing where posix_fadvise is missing (macOS, Windows) or
    for a few files. The threads, started (daemons: nobody needs to wait for them)."""
    if not hasattr(os, "posix_fadvise") or len(paths) < MIN_FILES:
        return []
    threads = max(1, threads)
    size = chunk_size or -(-len(paths) // threads)
    chunks = [paths[start:start + size] for start in range(0, len(paths), size)]
    started = []
    for first in range(min(threads, len(chunks))):
        share = [path for chunk in chunks[first::threads] for path in chunk]
        thread = threading.Thread(target=_advise_all, args=(share,), name="newsctl-read-ahead", daemon=True)
        try:
            thread.start()
        except (RuntimeError, OSError):  # no thread to be had (a pids limit): a hint, not a need
            break
        started.append(thread)
    return started


def _advise_all(paths: list[str]) -> None:
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
    for path in paths:
        try:
            descriptor = os.open(path, flags)
        except OSError:
            continue  # read_post will say why
        try:
            info = os.fstat(descriptor)
            if stat.S_ISREG(info.st_mode) and info.st_size <= MAX_POST_BYTES:  # (a bigger one is not read)
                os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_WILLNEED)
        except OSError:
            pass
        finally:
            os.close(descriptor)
