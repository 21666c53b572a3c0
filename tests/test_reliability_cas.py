"""No lost edits, no duplicate posts (issue 11): `validate --fix` racing an appender (compare-and-swap),
concurrent `add`s and overlapping feeds (the archive's writer lock), a feed piped into `head`, writes on
a read-only or full file system. Real processes and real files; every loop and wait is bounded."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from faultkit import (
    empty_archive,
    feed_summary,
    fill,
    one_error_line,
    post_files,
    remount_read_only,
    same_day_posts,
    tmpfs,
    write_feed,
)
from hostile import child_env, finish, kill_group, limits, post_text, run_bounded, start

SEED = 20221101


# ---- validate --fix racing an appender: compare-and-swap ----------------------------------------------

def fixable(number: int) -> bytes:
    """A post with fixable defects (BOM, CRLF, trailing spaces, a date without zone) and a long body,
    so that reading, fixing and writing it takes a moment."""
    body = "<p>" + f"第{number}篇正文，港口吞吐量稳步回升。" * 300 + "</p>   "
    text = post_text(title=f"可修复的第{number}篇", date="2022-06-01 08:30:00", post_id=f"2022060155{number:08d}",
                     body=body)
    return b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode()


class Appender(threading.Thread):
    """Appends numbered marker lines to the posts, round-robin, until stopped (as a scraper's hook would)."""

    def __init__(self, paths: list[Path], rng: random.Random) -> None:
        super().__init__(daemon=True)
        self.paths, self.rng = paths, rng
        self.appended: dict[Path, list[str]] = {path: [] for path in paths}
        self.stop = threading.Event()

    def run(self) -> None:
        count = 0
        deadline = time.monotonic() + 60
        while not self.stop.is_set() and time.monotonic() < deadline:
            path = self.paths[self.rng.randrange(len(self.paths))]
            marker = f"<p>追加行{count:06d}</p>"
            with open(path, "ab") as handle:  # opened by name each time, as `echo >> post.md` does
                handle.write(f"\n{marker}\n".encode())
            self.appended[path].append(marker)
            count += 1
            time.sleep(0.0005)


@pytest.mark.parametrize("trial", range(3))
def test_fix_racing_an_appender_loses_no_line(tmp_path: Path, trial: int) -> None:
    root = empty_archive(tmp_path / "archive")
    paths = []
    for number in range(80):
        path = root / "_posts" / f"2022-06-01-2022060155{number:08d}.md"
        path.write_bytes(fixable(number))
        paths.append(path)
    appender = Appender(paths, random.Random(SEED + trial))
    proc = start("--root", root, "validate", "--fix", "--format", "concise")
    appender.start()
    try:
        run = finish(proc, ["validate", "--fix"], timeout=120)
    finally:
        appender.stop.set()
        appender.join(timeout=10)
    run.assert_clean(allowed=(0, 1))
    lost = {path.name: [m for m in markers if m not in path.read_text(encoding="utf-8-sig", errors="replace")]
            for path, markers in appender.appended.items()}
    lost = {name: markers for name, markers in lost.items() if markers}
    assert not lost, f"trial {trial}: appended lines lost by --fix: {sum(map(len, lost.values()))} in " \
                     f"{len(lost)} files, e.g. {next(iter(lost.items()))}"
    # a file that changed under --fix is named in a finding that says so
    for line in run.stdout.splitlines():
        if "changed" in line and "Fixed" not in line and "Found" not in line:
            assert ".md" in line, f"trial {trial}: a changed-file finding names no file: {line!r}"
    assert not list((root / "_posts").glob(".*.tmp")), "temporary files left behind"


def test_fix_skipping_a_changed_file_says_so_and_exits_1(tmp_path: Path) -> None:
    """An appender that writes to every file all along: files it changed are not replaced, a finding names
    each one, and the exit code is 1 even though the rest was fixed."""
    root = empty_archive(tmp_path / "archive")
    paths = []
    for number in range(40):
        path = root / "_posts" / f"2022-06-01-2022060155{number:08d}.md"
        path.write_bytes(fixable(number))
        paths.append(path)
    appender = Appender(paths, random.Random(SEED))
    proc = start("--root", root, "validate", "--fix", "--format", "concise")
    appender.start()
    time.sleep(0.05)
    try:
        run = finish(proc, ["validate", "--fix"], timeout=120)
    finally:
        appender.stop.set()
        appender.join(timeout=10)
    run.assert_clean(allowed=(0, 1))
    still_bom = [p for p in paths if p.read_bytes().startswith(b"\xef\xbb\xbf")]
    changed_lines = [line for line in run.output.splitlines() if "changed" in line.lower()]
    if still_bom:  # left alone because they changed since they were read: said, exit 1
        assert changed_lines, f"{len(still_bom)} files were left unfixed without a word: {run!r}"
        assert run.code == 1, run
        for path in still_bom[:5]:
            assert any(path.name in line for line in changed_lines), (path.name, changed_lines[:5])


# ---- concurrent adds: one archive-level writer lock ------------------------------------------------

def add_args(root: Path, title: str, body: Path) -> list[str | Path]:
    return ["--root", root, "add", "--title", title, "--date", "2022-06-01 15:00:00 +0800", "--category", "emnews",
            "--tag", "东财", "--source-url", "http://example.com/race", "--body-file", body]


@pytest.mark.parametrize("trial", range(5))
def test_concurrent_adds_of_one_title_write_one_post(tmp_path: Path, trial: int) -> None:
    root = empty_archive(tmp_path / "archive")
    same_day_posts(root, 300)  # the duplicate check reads them: a wide window between check and write
    bodies = []
    for number in range(4):
        body = tmp_path / f"body{number}.txt"
        body.write_text(f"<p>并发写入测试第{trial}轮第{number}份正文。</p>", encoding="utf-8")
        bodies.append(body)
    title = f"并发新增同一标题第{trial}轮"
    procs = [start(*add_args(root, title, body)) for body in bodies]
    runs = [finish(proc, ["add", str(n)], timeout=120) for n, proc in enumerate(procs)]
    for run in runs:
        run.assert_clean(allowed=(0, 1))
    written = [p for p in post_files(root) if title in p.read_text(encoding="utf-8")]
    assert len(written) == 1, f"trial {trial}: {len(written)} posts titled {title!r}: {[r.code for r in runs]}"
    assert sorted(r.code for r in runs) == [0, 1, 1, 1], runs
    for run in runs:
        if run.code == 1:
            assert "refused" in run.stderr, run


@pytest.mark.parametrize("trial", range(2))
def test_overlapping_feeds_add_each_record_once(tmp_path: Path, trial: int) -> None:
    root = empty_archive(tmp_path / "archive")
    feed = write_feed(tmp_path / "feed.jsonl", 100, tag=f"overlap{trial}")  # no ids: titles decide
    first = start("--root", root, "add", "--from-jsonl", feed)
    second = start("--root", root, "add", "--from-jsonl", feed)
    runs = [finish(first, ["add", "1"], timeout=180), finish(second, ["add", "2"], timeout=180)]
    for run in runs:
        run.assert_clean(allowed=(0, 1))
    titles = [p.read_text(encoding="utf-8").split('title: "', 1)[1].split('"', 1)[0] for p in post_files(root)]
    duplicated = len(titles) - len(set(titles))
    assert duplicated == 0 and len(titles) == 100, f"trial {trial}: {len(titles)} posts, {duplicated} duplicated"
    summaries = [feed_summary(run) for run in runs]
    assert all(summaries), runs
    assert sum(s[0] for s in summaries if s) == 100, summaries


def test_feed_piped_into_head_adds_everything_and_summarises(tmp_path: Path) -> None:
    """`add --from-jsonl feed | head -1`: the reader leaves after one line; the posts are the point, so the
    feed goes on, and the summary (stderr) says what was added."""
    root = empty_archive(tmp_path / "archive")
    feed = write_feed(tmp_path / "feed.jsonl", 40, with_id=True, tag="head")
    head = subprocess.Popen(["head", "-1"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    proc = subprocess.Popen([sys.executable, "-m", "newsctl", "--root", str(root), "add", "--from-jsonl", str(feed),
                             "--print-path"], stdout=head.stdin, stderr=subprocess.PIPE, env=child_env(),
                            preexec_fn=limits(), start_new_session=True)
    assert head.stdin is not None
    head.stdin.close()
    try:
        _, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        raise
    assert head.stdout is not None
    first_line = head.stdout.read()
    head.wait(timeout=30)
    stderr = err.decode("utf-8", "replace")
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    assert first_line.decode().strip().endswith(".md"), first_line
    assert len(post_files(root)) == 40, (len(post_files(root)), stderr)
    assert "added 40" in stderr, stderr
    assert proc.returncode == 0, (proc.returncode, stderr)


# ---- read-only and full file systems ------------------------------------------------------------------

def single_add(root: Path, body: Path) -> list[str | Path]:
    return add_args(root, "只读目录写入测试", body)


@pytest.fixture
def mounted(tmp_path: Path):  # type: ignore[no-untyped-def]
    where = tmp_path / "mnt"
    try:
        with tmpfs(where, "2m") as mount:
            yield mount
    except PermissionError as exc:
        pytest.skip(f"cannot mount a tmpfs here: {exc}")


def test_add_on_a_read_only_archive_says_read_only(mounted: Path, tmp_path: Path) -> None:
    root = empty_archive(mounted / "archive")
    body = tmp_path / "body.txt"
    body.write_text("<p>只读。</p>", encoding="utf-8")
    remount_read_only(mounted)
    run = run_bounded(*single_add(root, body), timeout=60)
    line = one_error_line(run)
    assert run.code == 1, run
    assert "read-only" in line.lower() and "_posts" in line, line


def test_fix_on_a_full_disk_keeps_the_file_and_says_so(mounted: Path) -> None:
    root = empty_archive(mounted / "archive")
    path = root / "_posts" / "2022-06-01-202206015500000001.md"
    original = fixable(1)
    path.write_bytes(original)
    fill(mounted)
    run = run_bounded("--root", root, "validate", "--fix", "--format", "concise", timeout=60)
    run.assert_clean(allowed=(1,))
    assert path.read_bytes() == original
    assert path.name in run.output and "space" in run.output.lower(), run
    assert not list((root / "_posts").glob(".*.tmp")), "temporary file left behind"


def test_fix_under_a_file_size_limit_keeps_the_file_and_says_so(tmp_path: Path) -> None:
    root = empty_archive(tmp_path / "archive")
    path = root / "_posts" / "2022-06-01-202206015500000001.md"
    original = fixable(1)
    path.write_bytes(original)
    run = run_bounded("--root", root, "validate", "--fix", "--no-cache", timeout=60, fsize=4096)
    run.assert_clean(allowed=(1,))
    assert path.read_bytes() == original
    assert path.name in run.output, run
    assert not list((root / "_posts").glob(".*.tmp")), "temporary file left behind"


def test_index_on_a_full_disk_says_so_and_keeps_the_old_index(mounted: Path) -> None:
    root = empty_archive(mounted / "archive")
    for number in range(30):
        post_id = f"2022060166{number:08d}"
        (root / "_posts" / f"2022-06-01-{post_id}.md").write_text(
            post_text(title=f"满盘第{number}篇", post_id=post_id, body=f"<p>磁盘写满测试第{number}篇。</p>"),
            encoding="utf-8")
    run_bounded("--root", root, "index", "--quiet", timeout=120).assert_clean(allowed=(0,))
    before = run_bounded("--root", root, "search", "--format", "paths", "--limit", "0", "磁盘写满", timeout=60)
    assert before.code == 0
    for number in range(30, 200):
        post_id = f"2022060166{number:08d}"
        (root / "_posts" / f"2022-06-01-{post_id}.md").write_text(
            post_text(title=f"满盘第{number}篇", post_id=post_id,
                      body="<p>" + f"磁盘写满测试第{number}篇，追加内容。" * 40 + "</p>"), encoding="utf-8")
    fill(mounted)
    run = run_bounded("--root", root, "index", "--quiet", timeout=120)
    line = one_error_line(run)
    assert run.code == 1 and "space" in line.lower(), run
    after = run_bounded("--root", root, "search", "--format", "paths", "--limit", "0", "磁盘写满", timeout=60)
    assert after.code == 0 and set(before.stdout.split()) <= set(after.stdout.split()), after


def test_index_under_a_file_size_limit_is_one_line(tmp_path: Path) -> None:
    root = empty_archive(tmp_path / "archive")
    for number in range(60):
        post_id = f"2022060166{number:08d}"
        (root / "_posts" / f"2022-06-01-{post_id}.md").write_text(
            post_text(title=f"限额第{number}篇", post_id=post_id,
                      body="<p>" + f"文件大小限制测试第{number}篇。" * 60 + "</p>"), encoding="utf-8")
    run = run_bounded("--root", root, "index", "--quiet", timeout=120, fsize=16 * 1024)
    line = one_error_line(run)
    assert run.code == 1, run
    assert ".newsctl" in line or "index" in line, line


def test_add_with_a_cleanup_failure_reports_the_real_error(mounted: Path, tmp_path: Path) -> None:
    """The temporary file cannot be created on a read-only archive; the error is that one, not the
    cleanup's."""
    root = empty_archive(mounted / "archive")
    feed = write_feed(tmp_path / "feed.jsonl", 3, with_id=True, tag="ro")
    remount_read_only(mounted)
    run = run_bounded("--root", root, "add", "--from-jsonl", feed, timeout=60)
    run.assert_clean(allowed=(1,))
    assert "read-only" in run.stderr.lower(), run
    assert feed_summary(run) is not None, run


def test_writes_leave_the_archive_files_untouched_on_failure(tmp_path: Path) -> None:
    """Under a file-size limit a feed keeps whole posts only (regression guard for the new lock file)."""
    root = empty_archive(tmp_path / "archive")
    feed = write_feed(tmp_path / "feed.jsonl", 6, body_chars=30000, with_id=True, tag="fsize")
    run = run_bounded("--root", root, "add", "--from-jsonl", feed, timeout=60, fsize=24 * 1024)
    run.assert_clean(allowed=(1,))
    for path in post_files(root):
        check = run_bounded("--root", root, "validate", str(path), "--no-cache", timeout=60)
        assert check.code == 0, check
    assert all(not name.endswith(".tmp") for name in os.listdir(root / "_posts") if not name.startswith("."))
