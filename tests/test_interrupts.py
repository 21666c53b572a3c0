"""Ctrl-C (issue 11): SIGINT to a running `index` (to its process group, as a terminal sends it, and to
the main process alone) and to a feed. One line "interrupted", exit 130, no traceback from any process;
a feed prints its summary so far; segments left by an interrupted or killed rebuild are removed by the
next `index` of any kind, even one with nothing to do."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from faultkit import (
    empty_archive,
    feed_summary,
    make_big_archive,
    orphan_segments,
    post_files,
    search_args,
    search_hits,
    segment_ids_on_disk,
    write_feed,
)
from hostile import Run, finish, kill_group, run_batch, run_bounded, start

ARCHIVE_SIZE = 1050  # above index.PARALLEL_MIN: a rebuild runs worker processes
QUERY = "信也科技"


@dataclass
class Big:
    root: Path
    rebuild_seconds: float
    reference: frozenset[str]


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Big:
    root = make_big_archive(tmp_path_factory.mktemp("interrupts") / "archive", ARCHIVE_SIZE)
    began = time.monotonic()
    run_bounded("--root", root, "index", "--quiet", "--rebuild", timeout=180).assert_clean(allowed=(0,))
    seconds = time.monotonic() - began
    reference = search_hits(run_bounded(*search_args(root, QUERY), timeout=60))
    assert reference, "the query must find posts"
    return Big(root, seconds, reference)


def interrupted_cleanly(run: Run) -> None:
    """Exit 130 with the single line `newsctl: interrupted`, and nothing from any worker."""
    assert "Traceback" not in run.output and "KeyboardInterrupt" not in run.output, run
    assert "internal error" not in run.output, run
    assert run.code == 130, run
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert sum("interrupted" in line for line in lines) == 1, run


def interrupt(proc_pid: int, group: bool) -> None:
    with contextlib.suppress(ProcessLookupError):
        if group:
            os.killpg(proc_pid, signal.SIGINT)
        else:
            os.kill(proc_pid, signal.SIGINT)


@pytest.mark.parametrize(("fraction", "group"), [(0.35, True), (0.7, True), (0.5, False)])
def test_ctrl_c_during_a_rebuild(big: Big, fraction: float, group: bool) -> None:
    proc = start("--root", big.root, "index", "--quiet", "--rebuild")
    time.sleep(max(0.6, fraction * big.rebuild_seconds))  # past the start-up: workers are running
    if proc.poll() is not None:
        pytest.skip("the rebuild finished before the interrupt")
    interrupt(proc.pid, group)
    try:
        run = finish(proc, ["index", "--rebuild"], timeout=60)
    finally:
        kill_group(proc)
    interrupted_cleanly(run)
    search = run_bounded(*search_args(big.root, QUERY), timeout=60)  # the previous index is whole
    assert search_hits(search) == big.reference, search
    again = run_bounded("--root", big.root, "index", "--quiet", timeout=180)  # nothing changed
    again.assert_clean(allowed=(0,))
    assert not orphan_segments(big.root), f"segments of the interrupted rebuild remain: {orphan_segments(big.root)}"


def test_killed_rebuilds_leave_no_orphans_after_the_next_index(big: Big) -> None:
    """The issue's case: interrupted rebuilds doubled the index folder, and a no-change `index` kept it."""
    for fraction in (0.8, 0.9, 0.97):  # late: the workers write their segments at the end
        proc = start("--root", big.root, "index", "--quiet", "--rebuild")
        time.sleep(fraction * big.rebuild_seconds)
        kill_group(proc)
        proc.wait(timeout=30)
    leftover = orphan_segments(big.root)
    run = run_bounded("--root", big.root, "index", "--quiet", timeout=180)
    run.assert_clean(allowed=(0,))
    assert not orphan_segments(big.root), (leftover, orphan_segments(big.root))
    assert segment_ids_on_disk(big.root), "the index lost its segments"
    assert search_hits(run_bounded(*search_args(big.root, QUERY), timeout=60)) == big.reference


def test_ctrl_c_during_an_update_with_posts_to_read(big: Big, tmp_path: Path) -> None:
    """An update that reads posts inline (no workers): still one line and exit 130."""
    for path in post_files(big.root)[:400]:
        path.write_text(path.read_text(encoding="utf-8") + "\n<p>中断测试追加。</p>\n", encoding="utf-8")
    try:
        proc = start("--root", big.root, "index", "--quiet", "--jobs", "1")
        time.sleep(0.8)
        if proc.poll() is not None:
            pytest.skip("the update finished before the interrupt")
        interrupt(proc.pid, True)
        run = finish(proc, ["index"], timeout=60)
        interrupted_cleanly(run)
    finally:
        run_bounded("--root", big.root, "index", "--quiet", timeout=180).assert_clean(allowed=(0,))


# ---- feeds --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("group", [True, False])
def test_ctrl_c_during_a_feed_prints_the_summary_so_far(tmp_path: Path, group: bool) -> None:
    root = empty_archive(tmp_path / "archive")
    feed = write_feed(tmp_path / "feed.jsonl", 3000, body_chars=2000, with_id=True, tag="sigint")
    proc = start("--root", root, "add", "--from-jsonl", feed, "--print-path")
    deadline = time.monotonic() + 60
    while len(os.listdir(root / "_posts")) < 20 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    if proc.poll() is not None:
        pytest.skip("the feed finished before the interrupt")
    interrupt(proc.pid, group)
    run = finish(proc, ["add", "--from-jsonl"], timeout=60)
    interrupted_cleanly(run)
    summary = feed_summary(run)
    assert summary is not None, f"no summary after Ctrl-C: {run!r}"
    written = post_files(root)
    assert summary[0] == len(written), (summary, len(written))
    assert len(run.stdout.split()) == len(written), "every written post was printed"
    leftovers = [name for name in os.listdir(root / "_posts") if not name.endswith(".md")]
    assert not leftovers, f"temporary files left by the interrupted feed: {leftovers}"


def test_ctrl_c_during_validate(tmp_path: Path) -> None:
    root = make_big_archive(tmp_path / "archive", 1500)
    proc = start("--root", root, "validate", "--no-cache")
    time.sleep(0.35)  # past start-up, inside the checks (1500 posts take a few tenths of a second)
    if proc.poll() is not None:
        pytest.skip("validate finished before the interrupt")
    interrupt(proc.pid, True)
    run = finish(proc, ["validate"], timeout=60)
    if run.code != 130 and "of 1500 files" in run.stderr:
        pytest.skip("validate had finished its work when the interrupt came")
    interrupted_cleanly(run)


def test_ctrl_c_during_search_update(big: Big) -> None:
    for path in post_files(big.root)[400:800]:
        path.write_text(path.read_text(encoding="utf-8") + "\n<p>再次中断测试。</p>\n", encoding="utf-8")
    try:
        proc = start("--root", big.root, "search", "--update", QUERY)
        time.sleep(0.8)
        if proc.poll() is not None:
            pytest.skip("search --update finished before the interrupt")
        interrupt(proc.pid, True)
        interrupted_cleanly(finish(proc, ["search", "--update"], timeout=60))
    finally:
        runs = run_batch([["--root", str(big.root), "index", "--quiet"]], timeout=180)
        assert runs[0].code == 0, runs[0]
