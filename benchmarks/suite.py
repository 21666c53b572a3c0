"""Runs every measure in order and collects the results; progress goes to stderr."""

from __future__ import annotations

import shlex
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ParamSpec, TypeVar

from benchmarks.corpus import Archive, ensure_archive, load_texts
from benchmarks.dupbench import measure_dups
from benchmarks.engines import Engine, NewsctlEngine, all_engines, subprocess_env
from benchmarks.hugepost import HugeRow, measure_huge_posts
from benchmarks.machine import describe_machine
from benchmarks.measures import (
    BuildRow,
    SearchRow,
    TimedRow,
    measure_build,
    measure_incremental,
    measure_search,
    measure_startup,
    measure_validate_archive,
)
from benchmarks.queries import Query, ground_truth, make_queries

P = ParamSpec("P")
T = TypeVar("T")
SEARCH_MIN_SIZE = 20_000  # search latency matters at archive scale; smaller sizes only when none is that big


@dataclass
class Settings:
    sizes: list[int]
    repeat: int
    search_repeat: int
    queries: int
    startup_runs: int
    warmup_queries: int
    out: Path
    work: Path
    seed: int
    smoke: bool
    engines: list[str]
    newsctl_jobs: int | None
    argv: list[str]
    long_build_s: float = 300.0  # a build longer than this is not repeated (naive Whoosh at 100k: ~13 min)
    reuse_indexes: bool = False  # search the indexes an earlier run built; no build is measured

    def search_sizes(self) -> list[int]:
        return [s for s in self.sizes if s >= SEARCH_MIN_SIZE] or list(self.sizes)


@dataclass
class ArchiveInfo:
    size: int
    root: str
    files: int
    raw_bytes: int
    generator: str
    command: list[str]


@dataclass
class QueryRecord:
    size: int
    kind: str
    text: str
    truth: int


@dataclass
class SuiteResult:
    settings: Settings
    machine: dict[str, str]
    started: str
    archives: list[ArchiveInfo] = field(default_factory=list)
    builds: list[BuildRow] = field(default_factory=list)
    searches: list[SearchRow] = field(default_factory=list)
    incremental: list[TimedRow] = field(default_factory=list)
    validate: list[TimedRow] = field(default_factory=list)
    startup: list[TimedRow] = field(default_factory=list)
    dups: list[TimedRow] = field(default_factory=list)
    huge: list[HugeRow] = field(default_factory=list)
    queries: list[QueryRecord] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    section_seconds: dict[str, float] = field(default_factory=dict)
    duration_s: float = 0.0


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Suite:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.env = subprocess_env()
        self.result = SuiteResult(settings, describe_machine(), time.strftime("%Y-%m-%d %H:%M:%S %z"))
        self.engines = self._usable_engines()
        self.newsctl = next((e for e in self.engines if isinstance(e, NewsctlEngine)), None)

    def _usable_engines(self) -> list[Engine]:
        usable = []
        for engine in all_engines(self.settings.newsctl_jobs):
            if engine.name not in self.settings.engines:
                continue
            reason = engine.unavailable_reason()
            if reason:
                self.result.notes.append(f"{engine.label} skipped: {reason}")
                log(f"skip {engine.name}: {reason}")
            else:
                usable.append(engine)
        return usable

    def _timed(self, section: str, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Calls func, adding its duration to the section's total (for estimating longer runs)."""
        start = time.perf_counter()
        value = func(*args, **kwargs)
        self.result.section_seconds[section] = self.result.section_seconds.get(section, 0.0) + (
            time.perf_counter() - start
        )
        return value

    def run(self) -> SuiteResult:
        start = time.perf_counter()
        archives = []
        for size in self.settings.sizes:
            archive = self._archive(size)
            if archive is not None:
                archives.append(archive)
                self._measure_size(archive, is_biggest=size == max(self.settings.sizes))
        if self.newsctl and archives:
            log("start-up times")
            self.result.startup = self._timed(
                "startup",
                measure_startup,
                self.newsctl,
                archives[-1],
                self.settings.startup_runs,
                self.env,
                self.settings.seed,
            )
        if self.newsctl:
            log("huge posts")
            self.result.huge = self._timed("huge posts", measure_huge_posts, self.settings.work / "huge",
                                           self.settings.repeat, self.env, self.settings.smoke)
        self.result.duration_s = time.perf_counter() - start
        return self.result

    def _archive(self, size: int) -> Archive | None:
        log(f"archive of {size} posts")
        try:
            archive: Archive = self._timed(f"{size}: generate", ensure_archive, self.settings.work, size)
        except (RuntimeError, OSError) as exc:
            self.result.notes.append(f"archive of {size} posts not generated: {exc}")
            log(f"cannot generate {size}: {exc}")
            return None
        self.result.archives.append(
            ArchiveInfo(
                size, str(archive.root), len(archive.posts), archive.raw_bytes, archive.generator, archive.command
            )
        )
        return archive

    def index_dir(self, engine: Engine, size: int) -> Path:
        return (self.settings.work / "indexes" / f"{engine.name}-{size}").resolve()

    def _measure_size(self, archive: Archive, is_biggest: bool) -> None:
        """Every measure on one archive; an unexpected failure becomes a note, never a lost run."""
        try:
            self._measure_builds(archive)
            if archive.size in self.settings.search_sizes():
                self._measure_searches(archive)
            if self.newsctl:
                self._measure_newsctl_only(self.newsctl, archive, is_biggest)
        except Exception as exc:  # the report of everything measured so far must still be written
            traceback.print_exc()
            self.result.notes.append(f"measuring {archive.size} posts stopped early: {exc!r}")

    def _measure_builds(self, archive: Archive) -> None:
        for engine in (e for e in self.engines if e.has_index()):
            if self.settings.reuse_indexes and engine.index_ready(archive, self.index_dir(engine, archive.size)):
                self.result.notes.append(f"{archive.size} posts: {engine.label} searched the index an earlier run "
                                         "built (--reuse-indexes); its build was not measured in this run")
                continue
            log(f"{archive.size}: build {engine.name} x{self.settings.repeat}")
            row = self._timed(
                f"{archive.size}: build {engine.name}",
                measure_build,
                engine,
                archive,
                self.index_dir(engine, archive.size),
                self.settings.repeat,
                self.env,
                self.settings.long_build_s,
            )
            self.result.builds.append(row)
            log(f"  -> {row.wall.median:.2f} s" if row.wall else f"  -> failed: {row.error}")

    def _measure_newsctl_only(self, newsctl: NewsctlEngine, archive: Archive, is_biggest: bool) -> None:
        size, repeat = archive.size, self.settings.repeat
        log(f"{size}: validate")
        row = self._timed(f"{size}: validate", measure_validate_archive, newsctl, archive, repeat, self.env)
        self.result.validate.append(row)
        if is_biggest:
            log(f"{size}: dups")
            self.result.dups = self._timed(f"{size}: dups", measure_dups, newsctl, archive, repeat, self.env)
            log(f"{size}: incremental update")
            self.result.incremental = self._timed(
                f"{size}: incremental", measure_incremental, newsctl, archive, repeat, self.env, self.settings.seed
            )

    def _measure_searches(self, archive: Archive) -> None:
        size = archive.size
        log(f"{size}: drawing {self.settings.queries} queries and their ground truth")
        texts = self._timed(f"{size}: ground truth", load_texts, archive)
        queries: list[Query] = make_queries(archive.posts, self.settings.queries, self.settings.seed)
        truths = [ground_truth(q, texts) for q in queries]
        del texts
        self.result.queries.extend(
            QueryRecord(size, q.kind, q.text, len(t)) for q, t in zip(queries, truths, strict=True)
        )
        for engine in self.engines:
            log(f"{size}: search {engine.name} ({len(queries)} queries x{self.settings.search_repeat})")
            row = self._timed(
                f"{size}: search {engine.name}",
                measure_search,
                engine,
                archive,
                self.index_dir(engine, size),
                queries,
                truths,
                self.settings.search_repeat,
                self.settings.warmup_queries,
                self.env,
            )
            self.result.searches.append(row)
            log(
                f"  -> p50 {row.latency.median:.3f} s, recall {row.recall}"
                if row.latency
                else f"  -> failed: {row.errors[:1]}"
            )


def command_line(argv: list[str]) -> str:
    return shlex.join(["python", "-m", "benchmarks", *argv])
