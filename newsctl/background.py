"""Work done by a forked child on the second core while this process goes on.

The jobs that need it are system calls over a whole archive: listing 100k file names (~0.07 s
in the kernel) and stat()ing 100k files (~0.4 s). Threads would not help: each call returns to
wait for the GIL while the main thread imports or parses. A child process costs ~1 ms to fork.

The child sends length-prefixed messages through a pipe and leaves with os._exit, so none of the
parent's clean-up runs twice. Every failure (no fork on this platform, fork refused, the child
killed or raising) reads as None, and the caller then does the work itself.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import BinaryIO

_LENGTH = struct.Struct("<Q")

Send = Callable[[bytes], None]


class Child:
    """The parent's end: messages in the order the child sent them."""

    def __init__(self, pid: int | None, pipe: BinaryIO | None) -> None:
        self._pid = pid
        self._pipe = pipe
        self._failed = pid is None

    def receive(self) -> bytes | None:
        """The next message, or None when the child failed or sent nothing more."""
        if self._failed or self._pipe is None:
            return None
        head = self._pipe.read(_LENGTH.size)
        if not head:  # the child sent nothing more (finish() tells whether it ended well)
            return None
        if len(head) == _LENGTH.size:
            (length,) = _LENGTH.unpack(head)
            data = self._pipe.read(length)
            if len(data) == length:
                return data
        self._failed = True  # cut short: killed, or its pipe closed
        return None

    def finish(self) -> bool:
        """Close the pipe (which ends a child blocked writing to it) and reap the child; whether it
        succeeded."""
        if self._pipe is not None:
            self._pipe.close()
            self._pipe = None
        if self._pid is not None:
            _, status = os.waitpid(self._pid, 0)
            self._pid = None
            self._failed = self._failed or status != 0
        return not self._failed


@contextmanager
def in_child(work: Callable[[Send], object]) -> Iterator[Child]:
    """Run `work(send)` in a forked child while the body of the `with` runs and receives its
    messages. A message arrives whole or not at all; leaving the block reaps the child."""
    child = _fork(work)
    try:
        yield child
    finally:
        child.finish()


def _fork(work: Callable[[Send], object]) -> Child:
    fork = getattr(os, "fork", None)
    if fork is None:
        return Child(None, None)
    read_end, write_end = os.pipe()
    try:
        pid = fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return Child(None, None)
    if pid == 0:  # the child
        code = 1
        try:
            os.close(read_end)
            with os.fdopen(write_end, "wb") as out:
                def send(data: bytes) -> None:
                    out.write(_LENGTH.pack(len(data)))
                    out.write(data)
                    out.flush()

                work(send)
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    return Child(pid, os.fdopen(read_end, "rb"))
