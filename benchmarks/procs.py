"""Running measured processes: wall time, exit code, output and peak RSS of the whole process tree."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

GNU_TIME = Path("/usr/bin/time")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
RSS_SAMPLE_INTERVAL_S = 0.1


@dataclass
class RunResult:
    cmd: list[str]
    wall_s: float
    returncode: int
    stdout: str
    stderr: str
    peak_rss_bytes: int | None = None

    def ok(self, accepted: Sequence[int] = (0,)) -> bool:
        return self.returncode in accepted

    def error_line(self) -> str:
        """A one-line reason for a failed run, for the report."""
        lines = [ln.strip() for ln in (self.stderr or self.stdout).splitlines() if ln.strip()]
        last = lines[-1] if lines else "no output"
        return f"exit {self.returncode}: {last[:200]}"


def run_timed(cmd: Sequence[str], cwd: Path, env: dict[str, str], timeout: float = 600.0) -> RunResult:
    """Run once and time the whole process from spawn to exit."""
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            list(cmd), cwd=cwd, env=env, capture_output=True, text=True, errors="replace", timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return RunResult(list(cmd), time.perf_counter() - start, -1, "", f"timed out after {timeout:.0f} s")
    except OSError as exc:
        return RunResult(list(cmd), time.perf_counter() - start, -1, "", f"cannot start: {exc}")
    return RunResult(list(cmd), time.perf_counter() - start, proc.returncode, proc.stdout, proc.stderr)


def run_with_peak_rss(cmd: Sequence[str], cwd: Path, env: dict[str, str], timeout: float = 7200.0) -> RunResult:
    """Run once, recording the peak RSS: the larger of GNU time's per-process maximum and the sampled
    sum over the process tree (worker pools count in full, which getrusage would not show)."""
    with tempfile.NamedTemporaryFile(prefix="bench-time-", suffix=".txt", delete=False) as handle:
        time_file = Path(handle.name)
    wrapped = [str(GNU_TIME), "-v", "-o", str(time_file), *cmd] if GNU_TIME.exists() else list(cmd)
    start = time.perf_counter()
    try:
        proc = subprocess.Popen(
            wrapped, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace"
        )
    except OSError as exc:
        time_file.unlink(missing_ok=True)
        return RunResult(list(cmd), 0.0, -1, "", f"cannot start: {exc}")
    sampler = TreeRssSampler(proc.pid)
    sampler.start()
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        err += f"\ntimed out after {timeout:.0f} s"
    wall = time.perf_counter() - start
    sampler.stop()
    peak = max(sampler.peak_bytes, _gnu_time_max_rss(time_file))
    time_file.unlink(missing_ok=True)
    return RunResult(list(cmd), wall, proc.returncode, out, err, peak or None)


def _gnu_time_max_rss(time_file: Path) -> int:
    try:
        text = time_file.read_text(errors="replace")
    except OSError:
        return 0
    for line in text.splitlines():
        if "Maximum resident set size" in line:
            return int(line.rsplit(":", 1)[1].strip()) * 1024
    return 0


class TreeRssSampler(threading.Thread):
    """Polls the summed RSS of a process and all its descendants until stopped."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_bytes = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.peak_bytes = max(self.peak_bytes, tree_rss_bytes(self.pid))
            self._stop_event.wait(RSS_SAMPLE_INTERVAL_S)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def tree_rss_bytes(pid: int) -> int:
    return sum(_rss_bytes(p) for p in [pid, *descendants(pid)])


def descendants(pid: int) -> list[int]:
    """All live descendants, via /proc/PID/task/TID/children (no full /proc scan needed)."""
    found: list[int] = []
    pending = [pid]
    while pending:
        current = pending.pop()
        for child in _children(current):
            found.append(child)
            pending.append(child)
    return found


def _children(pid: int) -> list[int]:
    children: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return children
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as handle:
                children.extend(int(x) for x in handle.read().split())
        except OSError:
            continue
    return children


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return 0


def repeated_wall_times(
    cmd: Sequence[str], cwd: Path, env: dict[str, str], runs: int, warmup: int
) -> tuple[list[float], str]:
    """Wall times of `runs` fresh processes after `warmup` untimed ones; hyperfine when installed.

    Returns (times, tool name). The command must already be known to succeed."""
    times = _hyperfine_times(cmd, cwd, env, runs, warmup)
    if times is not None:
        return times, "hyperfine"
    for _ in range(warmup):
        run_timed(cmd, cwd, env)
    return [run_timed(cmd, cwd, env).wall_s for _ in range(runs)], "subprocess loop"


def _hyperfine_times(cmd: Sequence[str], cwd: Path, env: dict[str, str], runs: int, warmup: int) -> list[float] | None:
    hyperfine = shutil.which("hyperfine")
    if hyperfine is None:
        return None
    with tempfile.TemporaryDirectory(prefix="bench-hf-") as tmp:
        export = Path(tmp) / "hf.json"
        args = [
            hyperfine,
            "-N",
            "-i",
            "--style",
            "none",
            "--warmup",
            str(warmup),
            "--runs",
            str(runs),
            "--export-json",
            str(export),
            shlex.join(cmd),
        ]
        proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
        if proc.returncode != 0 or not export.exists():
            return None
        data = json.loads(export.read_text())
    return [float(t) for t in data["results"][0]["times"]]
