"""newsctl under a pseudo-terminal, as a person runs it: stdin and stdout on the terminal (so
`isatty()` holds for both, as pagers require), stderr piped apart, the window size set."""

from __future__ import annotations

import fcntl
import os
import re
import struct
import subprocess
import sys
import termios
import threading
from pathlib import Path

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
SGR = re.compile(r"\x1b\[([0-9;]*)m")
COLOUR_PARAMS = re.compile(r"(?:^|;)(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])(?:;|$)")


class TerminalRun:
    def __init__(self, code: int, output: str, stderr: str) -> None:
        self.code, self.output, self.stderr = code, output, stderr

    @property
    def text(self) -> str:
        """What the person sees, without escape sequences and carriage returns."""
        return ANSI.sub("", self.output).replace("\r", "")

    def __repr__(self) -> str:
        return f"TerminalRun(code={self.code}, output={self.output[:3000]!r}, stderr={self.stderr[:2000]!r})"


def run_in_terminal(args: list[str | Path], *, columns: int = 100, lines: int = 40,
                    env: dict[str, str] | None = None, cwd: Path | None = None,
                    timeout: float = 120) -> TerminalRun:
    """`python -m newsctl ARGS` on a pseudo-terminal of the given size; the terminal is read while the
    process runs (a full terminal buffer would block it)."""
    leader, follower = os.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
    base = {key: value for key, value in os.environ.items()
            if key not in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR", "PAGER", "MANPAGER", "TERM")}
    full_env = {**base, "TERM": "xterm-256color", "COLUMNS": str(columns), "LINES": str(lines),
                "PAGER": "cat", **(env or {})}
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the follower side is closed and the terminal drained
                return
            if not chunk:
                return
            chunks.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        proc = subprocess.run([sys.executable, "-m", "newsctl", *map(str, args)], stdin=follower,
                              stdout=follower, stderr=subprocess.PIPE, env=full_env, cwd=cwd, timeout=timeout)
    finally:
        os.close(follower)
    reader.join(timeout=10)
    os.close(leader)
    return TerminalRun(proc.returncode, b"".join(chunks).decode("utf-8", errors="replace"),
                       proc.stderr.decode("utf-8", errors="replace"))


def has_pty() -> bool:
    return hasattr(os, "openpty") and sys.platform != "win32"
