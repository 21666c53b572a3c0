"""Near-duplicate measures (issue 14): `newsctl dups` over the archive, with its signature store
absent (the first run reads and signs every post), present (nothing changed), and after one post
was added; each with the peak RSS of the whole process tree. The pre-commit row, `validate` on 5
files with the whole-archive copy check, is measure_startup's "validate 5 files (pre-commit
style)"; measure_startup also times it without that check for comparison."""

from __future__ import annotations

import shutil

from benchmarks.corpus import REPO_ROOT, Archive
from benchmarks.engines import NewsctlEngine
from benchmarks.measures import Spread, TimedRow
from benchmarks.procs import run_with_peak_rss

ACCEPTED = (0, 1)  # 1: groups found, a complete run


def measure_dups(engine: NewsctlEngine, archive: Archive, repeat: int, env: dict[str, str]) -> list[TimedRow]:
    command = engine.command(archive, "dups", "--format", "json")
    cold = TimedRow("dups, no signature store (first run)", archive.size, command)
    warm = TimedRow("dups, signatures stored, nothing changed", archive.size, command)
    added = TimedRow("dups after adding 1 post", archive.size, command)
    walls: dict[str, list[float]] = {cold.name: [], warm.name: [], added.name: []}
    extra = archive.root / "_posts" / "2099-01-01-209901010000000001.md"
    try:
        for _ in range(repeat):
            for row, prepare in ((cold, _drop_store), (warm, None), (added, _add_post)):
                if prepare is _drop_store:
                    _drop_store(archive)
                elif prepare is _add_post:
                    _add_post(archive, extra)
                run = run_with_peak_rss(command, REPO_ROOT, env)
                if not run.ok(ACCEPTED):
                    row.error = run.error_line()
                    return [cold, warm, added]
                walls[row.name].append(run.wall_s)
                rss = run.peak_rss_bytes
                row.peak_rss_bytes = max(row.peak_rss_bytes or 0, rss or 0) or None
    finally:
        extra.unlink(missing_ok=True)
    for row in (cold, warm, added):
        row.wall = Spread.of(walls[row.name])
        row.throughput = len(archive.posts) / row.wall.median if row.wall.median else None
    return [cold, warm, added]


def _drop_store(archive: Archive) -> None:
    for folder in (archive.root / ".newsctl" / "cache").glob("dups-*"):
        shutil.rmtree(folder, ignore_errors=True)


def _add_post(archive: Archive, path: object) -> None:
    from pathlib import Path

    assert isinstance(path, Path)
    path.write_text('---\nlayout: post\ntitle: "基准测试新增一篇"\ndate: 2099-01-01 09:00:00 +0800\n'
                    "categories: emnews\ntags: 东财滚动新闻\n---\n\n基准测试写入的一段正文，用于衡量增量更新。\n",
                    encoding="utf-8")
