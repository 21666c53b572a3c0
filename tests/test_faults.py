"""Faults: SIGKILL at random moments during `index`, `add` and `validate --fix`; two indexers at once;
search during index; a full disk. Nothing is lost, nothing is torn, and the next run repairs.

Every kill moment comes from a seeded random fraction of a measured full run, so a failure is
reproducible; the trial number and the moment are in each assertion message.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from faultkit import make_big_archive
from hostile import Run, finish, kill_group, limits, post_text, run_batch, run_bounded, start

SEED = 20220601
ARCHIVE_SIZE = 1050  # above index.PARALLEL_MIN: a rebuild uses worker processes and takes ~2-3 s
QUERIES = ["信也科技", "资金", "蓝鲸湾"]  # the last is only in the changed posts (state B)
CHANGED_MARKER = "蓝鲸湾"
BUSY_WORDS = ("busy", "lock", "another", "running", "in progress")


# ---- building a big archive ------------------------------------------------------------------------

def post_files(root: Path) -> list[Path]:
    return sorted(p for folder in ("_posts", "old_post") for p in (root / folder).rglob("*.md"))


def change_archive(root: Path, rng: random.Random) -> None:
    """State B: a few posts deleted, some changed (a marker appended), some added (with the marker)."""
    posts = post_files(root)
    rng.shuffle(posts)
    part = len(posts) // 40  # ~100 posts to read: an update is quick, and the killed runs are varied
    deleted, changed, models = posts[:part], posts[part : 3 * part], posts[3 * part : 4 * part]
    for path in deleted:
        path.unlink()
    for path in changed:
        path.write_text(path.read_text(encoding="utf-8") + f"\n<p>{CHANGED_MARKER}港区消息。</p>\n",
                        encoding="utf-8")
    for number, model in enumerate(models):
        new = model.with_name(model.name[:11] + f"added{number:05d}.md")
        new.write_text(model.read_text(encoding="utf-8") + f"\n<p>{CHANGED_MARKER}新增。</p>\n", encoding="utf-8")


# ---- reading search results ---------------------------------------------------------------------------

def hits(run: Run) -> frozenset[tuple[str, str]]:
    """(id, path) of every result of `search --format json`; exit 1 is the empty set."""
    if run.code == 1 and not run.stdout.strip():
        return frozenset()
    data: Any = json.loads(run.stdout)
    if isinstance(data, dict):
        data = data.get("results", data.get("hits", []))
    return frozenset((str(item["id"]), str(item["path"])) for item in data)


def search_args(root: Path, query: str) -> list[str]:
    return ["--root", str(root), "search", "--format", "json", "--limit", "0", query]


def state_of(runs: list[Run]) -> dict[str, frozenset[tuple[str, str]]]:
    return {query: hits(run) for query, run in zip(QUERIES, runs, strict=True)}


def doc_count(run: Run) -> int:
    return int(json.loads(run.stdout)["index"]["doc_count"])


@dataclass
class Big:
    root: Path
    index_a: Path  # a complete index of state A, to restore before each trial
    rebuild_seconds: float
    update_seconds: float
    before: dict[str, frozenset[tuple[str, str]]]  # searches on archive B with the index of A
    after: dict[str, frozenset[tuple[str, str]]]  # searches with a full index of B
    after_docs: int
    posts_b: int
    extra: dict[str, Any] = field(default_factory=dict)


def index_dir(root: Path) -> Path:
    return root / ".newsctl"


def restore_index(big: Big) -> None:
    shutil.rmtree(index_dir(big.root), ignore_errors=True)
    shutil.copytree(big.index_a, index_dir(big.root), symlinks=True)


def timed_index(root: Path, *flags: str) -> float:
    began = time.monotonic()
    run_bounded("--root", root, "index", "--quiet", *flags, timeout=120).assert_clean(allowed=(0,))
    return time.monotonic() - began


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Big:
    base = tmp_path_factory.mktemp("faults")
    root = make_big_archive(base / "archive", ARCHIVE_SIZE)
    timed_index(root, "--rebuild")
    index_a = base / "index-a"
    shutil.copytree(index_dir(root), index_a, symlinks=True)
    change_archive(root, random.Random(SEED))
    before = state_of(run_batch([search_args(root, q) for q in QUERIES]))
    update_seconds = timed_index(root)
    after_runs = run_batch([*(search_args(root, q) for q in QUERIES),
                            ["--root", str(root), "stats", "--format", "json"]])
    after = state_of(after_runs[:-1])
    # the incremental update must equal a fresh rebuild of the same files
    fresh = base / "fresh"
    shutil.copytree(root, fresh, ignore=shutil.ignore_patterns(".newsctl"))
    rebuild_seconds = timed_index(fresh, "--rebuild")
    fresh_runs = run_batch([search_args(fresh, q) for q in QUERIES])
    assert {q: {i for i, _ in s} for q, s in state_of(fresh_runs).items()} == \
        {q: {i for i, _ in s} for q, s in after.items()}, "incremental index differs from a rebuild"
    assert before != after and after[CHANGED_MARKER], "state B must change the results"
    shutil.rmtree(fresh)
    return Big(root, index_a, rebuild_seconds, update_seconds, before, after, doc_count(after_runs[-1]),
               len(post_files(root)))


# ---- SIGKILL during index ---------------------------------------------------------------------------

TRIALS = [("--rebuild",) if trial % 5 in (1, 3) else () for trial in range(10)]  # 4 rebuilds, 6 updates


def test_index_duration_is_long_enough_to_interrupt(big: Big) -> None:
    assert big.rebuild_seconds > 0.5, f"index took {big.rebuild_seconds:.2f} s: too fast to kill mid-way"


def test_index_killed_at_random_moments_recovers(big: Big) -> None:
    rng = random.Random(SEED)
    for trial, flags in enumerate(TRIALS):
        restore_index(big)
        duration = big.rebuild_seconds if flags else big.update_seconds
        moment = rng.uniform(0.1, 1.05) * duration
        proc = start("--root", big.root, "index", "--quiet", *flags)
        time.sleep(moment)
        kill_group(proc)
        proc.wait(timeout=30)
        where = f"trial {trial} ({' '.join(flags) or 'update'}) killed at {moment:.2f} s"
        check = run_batch([*(search_args(big.root, q) for q in QUERIES),
                           ["--root", str(big.root), "index", "--quiet"],
                           *(search_args(big.root, q) for q in QUERIES),
                           ["--root", str(big.root), "stats", "--format", "json"]], timeout=120)
        for run in check:
            assert run.code in (0, 1) and "Traceback" not in run.output and "internal error" not in run.output, \
                f"{where}: {run!r}"
        seen = state_of(check[: len(QUERIES)])
        assert seen in (big.before, big.after), f"{where}: search saw a mix of before and after: " + \
            str({q: (len(seen[q]), len(big.before[q]), len(big.after[q])) for q in QUERIES})
        assert check[len(QUERIES)].code == 0, f"{where}: the next index failed: {check[len(QUERIES)]!r}"
        assert state_of(check[len(QUERIES) + 1 : -1]) == big.after, f"{where}: the next index is incomplete"
        assert doc_count(check[-1]) == big.after_docs, f"{where}: {check[-1]!r}"


def live_members(group: int) -> list[int]:
    """Processes of a process group that are still running (zombies excluded), from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            members.append(int(entry.name))
    return members


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc to find orphaned workers")
def test_index_parent_killed_alone_leaves_no_lingering_workers(big: Big) -> None:
    """SIGKILL to the main process only (as `timeout -s KILL` in a cron job does): its worker processes
    must not outlive it for long, nor keep the index locked (they inherit the lock's file)."""
    restore_index(big)
    proc = start("--root", big.root, "index", "--quiet", "--rebuild", "--jobs", "2")
    deadline = time.monotonic() + 30
    while len(live_members(proc.pid)) < 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if proc.poll() is not None or len(live_members(proc.pid)) < 3:
        kill_group(proc)
        pytest.skip("index used no worker processes for this archive")
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    deadline = time.monotonic() + 20
    while live_members(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    lingering = live_members(proc.pid)
    kill_group(proc)
    assert not lingering, f"worker processes {lingering} outlived their killed parent by 20 s"
    check = run_batch([["--root", str(big.root), "index", "--quiet", "--wait", "0"],
                       *(search_args(big.root, q) for q in QUERIES)], timeout=120)
    assert check[0].code == 0, check[0]
    assert state_of(check[1:]) == big.after


# ---- concurrency ---------------------------------------------------------------------------------------

def is_busy(run: Run) -> bool:
    return run.code == 1 and any(word in run.stderr.lower() for word in BUSY_WORDS)


def test_two_indexers_and_searches_at_once(big: Big) -> None:
    """A rebuild, an update that must not wait (busy, or done first) and one that waits its turn, with
    searches all along: no error beyond "busy", every search sees before or after, no post lost."""
    restore_index(big)
    first = start("--root", big.root, "index", "--quiet", "--rebuild", "--wait", "0")
    second = start("--root", big.root, "index", "--quiet", "--wait", "0")
    third = start("--root", big.root, "index", "--quiet", "--wait", "120")
    searches: list[Run] = []
    deadline = time.monotonic() + 60
    while any(p.poll() is None for p in (first, second, third)) and time.monotonic() < deadline:
        searches += run_batch([search_args(big.root, QUERIES[0])], timeout=60)
    runs = [finish(first, ["index", "--rebuild"], 60), finish(second, ["index"], 60), finish(third, ["index"], 120)]
    for run in runs:
        assert run.code == 0 or is_busy(run), run
        assert "Traceback" not in run.output and "internal error" not in run.output, run
    assert runs[2].code == 0, f"the indexer with --wait 120 did not wait its turn: {runs[2]!r}"
    for run in searches:
        assert run.code in (0, 1) and "Traceback" not in run.output and "internal error" not in run.output, run
        if run.code == 0:
            assert hits(run) in (big.before[QUERIES[0]], big.after[QUERIES[0]]), run
    final = run_batch([*(search_args(big.root, q) for q in QUERIES),
                       ["--root", str(big.root), "stats", "--format", "json"]])
    assert state_of(final[:-1]) == big.after, "posts were lost"
    assert doc_count(final[-1]) == big.after_docs


def scratch_folders(index: Path) -> list[Path]:
    try:
        return [entry for entry in index.iterdir() if entry.is_dir() and entry.name.endswith(".tmp")]
    except OSError:
        return []


def test_index_folder_removed_under_a_running_rebuild(big: Big) -> None:
    """`rm -rf .newsctl/index` while a rebuild runs, then another rebuild (someone starting over while a
    cron job indexes). The first still holds a lock, but on a file that is gone: the two run at once in
    one folder. The first must notice and commit nothing; neither may remove the other's scratch files
    (the benchmark's "cannot write …/MAIN.tmp/….ctmp: No such file or directory"); the index is whole."""
    for trial in range(3):
        restore_index(big)
        folder = index_dir(big.root) / "index"
        first = start("--root", big.root, "index", "--quiet", "--rebuild", "--jobs", "2")
        deadline = time.monotonic() + 30
        while not scratch_folders(folder) and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.1 * trial)
        shutil.rmtree(folder, ignore_errors=True)
        second = start("--root", big.root, "index", "--quiet", "--rebuild", "--jobs", "2", "--wait", "60")
        runs = [finish(first, ["index", "--rebuild"], 120), finish(second, ["index", "--rebuild"], 120)]
        where = f"trial {trial}"
        for run in runs:
            assert "Traceback" not in run.output and "internal error" not in run.output, f"{where}: {run!r}"
        assert runs[1].code == 0, f"{where}: the rebuild of the new folder failed: {runs[1]!r}"
        assert runs[0].code == 0 or (runs[0].code == 1 and "removed or replaced" in runs[0].stderr), \
            f"{where}: {runs[0]!r}"
        check = run_batch([*(search_args(big.root, q) for q in QUERIES),
                           ["--root", str(big.root), "index", "--quiet"],
                           ["--root", str(big.root), "stats", "--format", "json"]], timeout=120)
        assert state_of(check[:len(QUERIES)]) == big.after, f"{where}: the index is not the archive's"
        assert check[len(QUERIES)].code == 0, f"{where}: {check[len(QUERIES)]!r}"
        assert doc_count(check[-1]) == big.after_docs, f"{where}: {check[-1]!r}"
        assert not scratch_folders(folder), f"{where}: scratch left behind: {scratch_folders(folder)}"


# ---- add: killed mid-write, disk full --------------------------------------------------------------

def feed_records(count: int, body_chars: int = 4000) -> bytes:
    lines = []
    for number in range(count):
        record = {"title": f"第{number}条港口消息", "id": f"killfeed{number:05d}", "date": "2022-06-01 10:00:00 +0800",
                  "body": "<p>" + f"码头作业第{number}段。" * (body_chars // 8) + "</p>",
                  "url": f"http://example.com/{number}", "category": "emnews", "tag": "东财"}
        lines.append(json.dumps(record, ensure_ascii=False))
    return ("\n".join(lines) + "\n").encode()


def empty_archive(root: Path) -> Path:
    (root / "_posts").mkdir(parents=True)
    (root / "_config.yml").write_text("timezone: Asia/Shanghai\n", encoding="utf-8")
    return root


def test_add_killed_mid_feed_leaves_only_whole_posts(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(feed_records(150))
    reference = empty_archive(tmp_path / "reference")
    began = time.monotonic()
    run_bounded("--root", reference, "add", "--from-jsonl", feed, "--print-path", timeout=120).assert_clean((0,))
    duration = time.monotonic() - began
    expected = {p.name: p.read_bytes() for p in (reference / "_posts").glob("*.md")}
    assert len(expected) == 150
    rng = random.Random(SEED + 1)
    for trial in range(4):
        root = empty_archive(tmp_path / f"trial{trial}")
        moment = rng.uniform(0.2, 0.9) * duration
        proc = start("--root", root, "add", "--from-jsonl", feed, "--print-path")
        time.sleep(moment)
        kill_group(proc)
        proc.wait(timeout=30)
        where = f"trial {trial} killed at {moment:.2f} s"
        for path in (root / "_posts").iterdir():
            if path.suffix == ".md":
                assert path.read_bytes() == expected.get(path.name), f"{where}: torn post {path.name}"
            else:
                assert path.name.startswith("."), f"{where}: a visible leftover {path.name}"
    rerun = run_bounded("--root", root, "add", "--from-jsonl", feed, timeout=120)  # the last trial's archive
    rerun.assert_clean(allowed=(0, 1))
    final = {p.name: p.read_bytes() for p in (root / "_posts").glob("*.md")}
    assert final == expected, f"{where}: after a second run the posts differ"


def add_one_args(root: Path, body: Path, title: str = "磁盘已满测试") -> list[str | Path]:
    return ["--root", root, "add", "--title", title, "--date", "2022-06-01 10:00:00 +0800", "--category",
            "emnews", "--tag", "东财", "--source-url", "http://example.com/full", "--body-file", body]


def test_add_on_a_full_disk_writes_nothing_and_says_so(tmp_path: Path) -> None:
    root = empty_archive(tmp_path / "archive")
    body = tmp_path / "body.txt"
    body.write_text("<p>" + "长段落。" * 20000 + "</p>", encoding="utf-8")
    run = run_bounded(*add_one_args(root, body), timeout=60, fsize=16 * 1024)
    run.assert_clean(allowed=(1,))
    assert "newsctl: error:" in run.stderr and "_posts" in run.stderr, run
    assert list((root / "_posts").iterdir()) == [], "a partial post or temp file was left behind"


def test_feed_on_a_full_disk_keeps_whole_posts_only(tmp_path: Path) -> None:
    root = empty_archive(tmp_path / "archive")
    small = feed_records(3, body_chars=400).decode().splitlines()
    large = feed_records(5, body_chars=40000).decode().splitlines()[3:]
    feed = tmp_path / "feed.jsonl"
    feed.write_text("\n".join(small + large) + "\n", encoding="utf-8")
    run = run_bounded("--root", root, "add", "--from-jsonl", feed, timeout=60, fsize=32 * 1024)
    run.assert_clean(allowed=(1,))
    names = sorted(p.name for p in (root / "_posts").iterdir())
    assert names == [f"2022-06-01-killfeed{n:05d}.md" for n in range(3)], (names, run)
    check = run_bounded("--root", root, "validate", timeout=30)
    assert check.code == 0, check


# ---- validate --fix interrupted ------------------------------------------------------------------

def fixable_post(number: int) -> bytes:
    """A post with several fixable defects: BOM, CRLF, trailing spaces, a date without zone."""
    text = post_text(title=f"可修复的第{number}篇", date="2022-06-01 08:30:00", post_id=f"2022060100{number:08d}",
                     body=f"<p>第{number}篇正文，行尾有空格。</p>   ")
    return b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode()


def fixable_archive(root: Path, count: int) -> dict[str, bytes]:
    empty_archive(root)
    originals = {}
    for number in range(count):
        name = f"_posts/2022-06-01-2022060100{number:08d}.md"
        originals[name] = fixable_post(number)
        (root / name).write_bytes(originals[name])
    return originals


def test_validate_fix_killed_never_tears_a_file(tmp_path: Path) -> None:
    count = 200
    reference = tmp_path / "reference"
    originals = fixable_archive(reference, count)
    began = time.monotonic()
    first = run_bounded("--root", reference, "validate", "--fix", timeout=120)
    duration = time.monotonic() - began
    first.assert_clean(allowed=(0, 1))
    fixed = {name: (reference / name).read_bytes() for name in originals}
    assert all(fixed[name] != originals[name] for name in originals), "nothing was fixed"
    assert run_bounded("--root", reference, "validate", timeout=60).code == 0
    rng = random.Random(SEED + 2)
    root = tmp_path / "archive"
    for trial in range(4):
        shutil.rmtree(root, ignore_errors=True)
        fixable_archive(root, count)
        moment = rng.uniform(0.3, 1.0) * duration
        proc = start("--root", root, "validate", "--fix", preexec=limits())
        time.sleep(moment)
        kill_group(proc)
        proc.wait(timeout=30)
        where = f"trial {trial} killed at {moment:.2f} s of {duration:.2f} s"
        for name in originals:
            data = (root / name).read_bytes()
            assert data in (originals[name], fixed[name]), f"{where}: {name} is torn"
        strays = [p.name for p in (root / "_posts").iterdir() if p.name.endswith(".md")
                  and f"_posts/{p.name}" not in originals]
        assert not strays, f"{where}: temp files look like posts: {strays}"
    rerun = run_bounded("--root", root, "validate", "--fix", timeout=120)  # the last trial's archive
    rerun.assert_clean(allowed=(0, 1))
    assert all((root / name).read_bytes() == fixed[name] for name in originals), where
