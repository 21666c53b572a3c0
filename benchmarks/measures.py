"""Each measure of the suite: runs fresh processes, summarises their timings, never raises on an
engine's failure (a failed measure is a row with an error)."""

from __future__ import annotations

import os
import random
import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.corpus import REPO_ROOT, Archive
from benchmarks.engines import Engine, NewsctlEngine
from benchmarks.procs import RunResult, repeated_wall_times, run_timed, run_with_peak_rss
from benchmarks.queries import Query
from benchmarks.stats import Spread

ABORT_AFTER_FAILURES = 3  # an engine failing its first queries is broken, not slow: stop asking it
MB = 1024 * 1024


@dataclass
class BuildRow:
    size: int
    engine: str
    command: list[str]
    wall: Spread | None = None
    posts_per_s: float | None = None
    mb_per_s: float | None = None
    peak_rss_bytes: int | None = None
    index_bytes: int | None = None
    text_bytes: int = 0
    error: str | None = None


@dataclass
class SearchRow:
    size: int
    engine: str
    command: list[str]
    latency: Spread | None = None
    ok: int = 0
    total: int = 0
    recall: float | None = None
    precision: float | None = None
    empty: int = 0
    recall_by_kind: dict[str, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


@dataclass
class TimedRow:
    name: str
    size: int
    command: list[str]
    wall: Spread | None = None
    throughput: float | None = None  # posts/s where it applies
    tool: str = "subprocess"
    error: str | None = None
    peak_rss_bytes: int | None = None  # where measured (dups)


def measure_build(engine: Engine, archive: Archive, index_dir: Path, repeat: int, env: dict[str, str],
                  long_build_s: float = float("inf")) -> BuildRow:
    """`repeat` full builds, fewer when one takes longer than `long_build_s` (the runs column says)."""
    command = engine.build_command(archive, index_dir)
    row = BuildRow(archive.size, engine.name, command, text_bytes=archive.raw_bytes)
    runs: list[RunResult] = []
    for _ in range(repeat):
        if runs and runs[-1].wall_s > long_build_s:
            break
        engine.prepare_build(index_dir)
        run = run_with_peak_rss(command, REPO_ROOT, env)
        if not run.ok():
            row.error = run.error_line()
            return row
        runs.append(run)
    walls = [r.wall_s for r in runs]
    row.wall = Spread.of(walls)
    row.posts_per_s = len(archive.posts) / row.wall.median
    row.mb_per_s = archive.raw_bytes / MB / row.wall.median
    row.peak_rss_bytes = max((r.peak_rss_bytes or 0) for r in runs) or None
    row.index_bytes = engine.index_bytes(archive, index_dir)
    return row


def paths_from_output(stdout: str, archive: Archive) -> set[Path]:
    """Printed paths, relative to the working directory or absolute, as absolute normalised paths;
    a path relative to the archive root is accepted too."""
    found: set[Path] = set()
    for line in stdout.splitlines():
        line = line.strip()
        if not line:
            continue
        path = Path(os.path.normpath(os.path.join(REPO_ROOT, line)))
        if not path.exists() and (archive.root / line).exists():
            path = Path(os.path.normpath(archive.root / line))
        found.add(path)
    return found


def measure_search(
    engine: Engine,
    archive: Archive,
    index_dir: Path,
    queries: Sequence[Query],
    truths: Sequence[set[Path]],
    repeat: int,
    warmup: int,
    env: dict[str, str],
) -> SearchRow:
    row = SearchRow(archive.size, engine.name, engine.search_command(archive, index_dir, ["QUERY"]), total=len(queries))
    for query in queries[:warmup]:
        run_timed(engine.search_command(archive, index_dir, query.terms), REPO_ROOT, env)
    latencies: list[float] = []
    recalls: dict[str, list[float]] = defaultdict(list)
    precisions: list[float] = []
    for query, truth in zip(queries, truths, strict=True):
        runs = [
            run_timed(engine.search_command(archive, index_dir, query.terms), REPO_ROOT, env, timeout=300)
            for _ in range(repeat)
        ]
        if not all(r.ok(engine.search_ok_codes) for r in runs):
            bad = next(r for r in runs if not r.ok(engine.search_ok_codes))
            row.errors.append(f"{query.text!r}: {bad.error_line()}")
            if not latencies and len(row.errors) >= ABORT_AFTER_FAILURES:
                row.errors.append(f"stopped after {ABORT_AFTER_FAILURES} failing queries")
                break
            continue
        latencies.append(statistics.median(r.wall_s for r in runs))
        found = paths_from_output(runs[0].stdout, archive)
        row.empty += not found
        if truth:
            recalls[query.kind].append(len(found & truth) / len(truth))
        if found:
            precisions.append(len(found & truth) / len(found))
    row.ok = len(latencies)
    if latencies:
        row.latency = Spread.of(latencies)
    all_recalls = [r for values in recalls.values() for r in values]
    row.recall = statistics.fmean(all_recalls) if all_recalls else None
    row.precision = statistics.fmean(precisions) if precisions else None
    row.recall_by_kind = {kind: statistics.fmean(values) for kind, values in recalls.items()}
    return row


class ArchiveChanges:
    """Adds, changes and deletes posts for the incremental measure, and puts every byte and mtime back."""

    def __init__(self, archive: Archive, seed: int) -> None:
        self.archive = archive
        self.rng = random.Random(seed)
        self.saved: dict[Path, tuple[bytes, int, int]] = {}
        self.added: list[Path] = []

    def _save(self, path: Path) -> None:
        if path not in self.saved:
            st = path.stat()
            self.saved[path] = (path.read_bytes(), st.st_atime_ns, st.st_mtime_ns)

    def add_post(self, serial: int) -> None:
        model = self.rng.choice(self.archive.posts)
        day = model.name[:10]  # posts are named YYYY-MM-DD-<yyyymmdd + 10 digits>.md
        name = f"{day}-{day.replace('-', '')}99{serial:08d}.md"
        text = model.read_text(encoding="utf-8").replace("\ntitle: ", "\ntitle: 增量测试 ", 1)
        target = self.archive.root / "_posts" / name
        target.write_text(text, encoding="utf-8")
        self.added.append(target)

    def pick(self, count: int) -> list[Path]:
        return self.rng.sample([p for p in self.archive.posts if p not in self.saved], count)

    def change(self, paths: Sequence[Path], serial: int) -> None:
        for path in paths:
            self._save(path)
            text = path.read_text(encoding="utf-8")
            cut = text.find("\n---", 3) + 5 if text.startswith("---") else 0
            path.write_text(text[:cut] + f"\n本条为第{serial}次增量测试所改。\n" + text[cut:], encoding="utf-8")

    def delete(self, paths: Sequence[Path]) -> None:
        for path in paths:
            self._save(path)
            path.unlink()

    def restore(self) -> None:
        for path in self.added:
            path.unlink(missing_ok=True)
        for path, (data, atime, mtime) in self.saved.items():
            path.write_bytes(data)
            os.utime(path, ns=(atime, mtime))
        self.added.clear()
        self.saved.clear()


INCREMENTAL_STEPS = ("add 1 post", "change 10 posts", "delete 10 posts", "no change")


def measure_incremental(
    engine: NewsctlEngine, archive: Archive, repeat: int, env: dict[str, str], seed: int
) -> list[TimedRow]:
    command = engine.update_command(archive)
    rows = {step: TimedRow(step, archive.size, command) for step in INCREMENTAL_STEPS}
    sync = run_timed(command, REPO_ROOT, env, timeout=7200)
    if not sync.ok():
        for row in rows.values():
            row.error = sync.error_line()
        return list(rows.values())
    times: dict[str, list[float]] = defaultdict(list)
    changes = ArchiveChanges(archive, seed)
    archive.dirty_marker.touch()
    try:
        for serial in range(repeat):
            _incremental_round(changes, serial, command, env, rows, times)
            changes.restore()
            run_timed(command, REPO_ROOT, env, timeout=7200)
    finally:
        changes.restore()
        archive.dirty_marker.unlink(missing_ok=True)
    for step, row in rows.items():
        if times[step] and row.error is None:
            row.wall = Spread.of(times[step])
    return list(rows.values())


def _incremental_round(
    changes: ArchiveChanges,
    serial: int,
    command: list[str],
    env: dict[str, str],
    rows: dict[str, TimedRow],
    times: dict[str, list[float]],
) -> None:
    picked = changes.pick(20)
    actions: dict[str, Callable[[], None]] = {
        "add 1 post": lambda: changes.add_post(serial),
        "change 10 posts": lambda: changes.change(picked[:10], serial),
        "delete 10 posts": lambda: changes.delete(picked[10:]),
        "no change": lambda: None,
    }
    for step, action in actions.items():
        action()
        run = run_timed(command, REPO_ROOT, env, timeout=7200)
        if run.ok():
            times[step].append(run.wall_s)
        else:
            rows[step].error = run.error_line()


def measure_validate_archive(engine: NewsctlEngine, archive: Archive, repeat: int, env: dict[str, str]) -> TimedRow:
    command = engine.validate_command(archive)
    row = TimedRow("validate whole archive", archive.size, command)
    walls = []
    for _ in range(repeat):
        run = run_timed(command, REPO_ROOT, env, timeout=7200)
        if not run.ok((0, 1)):  # 1: findings, still a complete run
            row.error = run.error_line()
            return row
        walls.append(run.wall_s)
    row.wall = Spread.of(walls)
    row.throughput = len(archive.posts) / row.wall.median
    return row


def measure_repeated(
    name: str, command: list[str], archive: Archive, runs: int, env: dict[str, str], accepted: Sequence[int] = (0,)
) -> TimedRow:
    """Start-up style measure: many short fresh processes, after checking that the command works."""
    row = TimedRow(name, archive.size, command)
    probe = run_timed(command, REPO_ROOT, env)
    if not probe.ok(accepted):
        row.error = probe.error_line()
        return row
    times, row.tool = repeated_wall_times(command, REPO_ROOT, env, runs, warmup=2)
    row.wall = Spread.of(times)
    return row


def measure_startup(
    engine: NewsctlEngine, archive: Archive, runs: int, env: dict[str, str], seed: int
) -> list[TimedRow]:
    rng = random.Random(seed)
    five = rng.sample(archive.posts, min(5, len(archive.posts)))
    return [
        measure_repeated("newsctl --help", engine.help_command(), archive, runs, env),
        measure_repeated("validate 1 file", engine.validate_command(archive, five[:1]), archive, runs, env, (0, 1)),
        measure_repeated(
            "validate 5 files (pre-commit style)", engine.validate_command(archive, five), archive, runs, env, (0, 1)
        ),
        # The row above reads its neighbours' facts from .newsctl/cache after its first run, as a
        # hook does from one commit to the next, and compares the 5 posts with every day of the
        # archive through the dups signature store; this one reads every post each time.
        measure_repeated(
            "validate 5 files, --no-cache",
            [*engine.validate_command(archive, five), "--no-cache"], archive, runs, env, (0, 1),
        ),
        measure_repeated(
            "validate 5 files, same-day duplicates only (--ignore NC602,NC603,NC604)",
            [*engine.validate_command(archive, five), "--ignore", "NC602,NC603,NC604"], archive, runs, env, (0, 1),
        ),
    ]
