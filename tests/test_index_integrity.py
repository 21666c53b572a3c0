"""A damaged index is never trusted (issue 11): bytes flipped in index files, truncated or garbled
sidecars, an index folder that is a file; posts added while `index` runs; edits that keep size and
mtime; odd lock files (FIFO, directory) and a held lock with `--wait`.

A search over a damaged index must give the right answer or say that the index is damaged (exit 4);
`stats` shows the damage and `index` repairs it even when no post changed."""

from __future__ import annotations

import fcntl
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from faultkit import (
    EXIT_NO_INDEX,
    copy_sample,
    index_dir,
    one_error_line,
    post_files,
    says_damaged,
    search_args,
    search_hits,
)
from hostile import child_env, finish, limits, post_text, run_batch, run_bounded, start

SEED = 20221102
QUERIES = ["信也科技", "资金", "上涨", "港口", "市场", "亿元", "公司 增长", "银行 OR 投资"]


@dataclass
class Indexed:
    root: Path  # an indexed copy of sample_posts, never changed
    reference: dict[str, frozenset[str]]


def index_files(root: Path) -> list[Path]:
    return sorted(p for p in index_dir(root).iterdir() if p.is_file() and p.stat().st_size > 0)


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Indexed:
    root = copy_sample(tmp_path_factory.mktemp("integrity") / "archive")
    run_bounded("--root", root, "index", "--quiet", timeout=120).assert_clean(allowed=(0,))
    runs = run_batch([search_args(root, q) for q in QUERIES])
    reference = {q: search_hits(r) for q, r in zip(QUERIES, runs, strict=True)}
    assert all(v is not None for v in reference.values()), runs
    assert sum(1 for v in reference.values() if v) >= 3, reference
    return Indexed(root, reference)  # type: ignore[arg-type]


def copy_indexed(indexed: Indexed, target: Path) -> Path:
    shutil.copytree(indexed.root, target, symlinks=True)  # copystat keeps the folder mtimes: not stale
    return target


def flip(path: Path, rng: random.Random, count: int) -> list[int]:
    data = bytearray(path.read_bytes())
    places = [rng.randrange(len(data)) for _ in range(count)]
    for at in places:
        data[at] ^= rng.randrange(1, 256)
    path.write_bytes(bytes(data))
    return places


def pick_file(files: list[Path], rng: random.Random, trial: int) -> Path:
    """Three trials in five hit a term dictionary (.trm), one a sidecar (.nsc), one any index file."""
    kind = trial % 5
    wanted = ".trm" if kind < 3 else ".nsc" if kind == 3 else ""
    candidates = [p for p in files if p.name.endswith(wanted)] or files
    return candidates[rng.randrange(len(candidates))]


# ---- random damage: right or "damaged" ----------------------------------------------------------------

def test_flipped_bytes_give_the_right_answer_or_say_damaged(indexed: Indexed, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    trials = 40
    roots, where = [], []
    for trial in range(trials):
        root = copy_indexed(indexed, tmp_path / f"t{trial}")
        target = pick_file(index_files(root), rng, trial)
        places = flip(target, rng, rng.choice((1, 2, 8, 32)))
        roots.append(root)
        where.append(f"trial {trial}: {target.name} flipped at {places}")
    runs = run_batch([search_args(root, q) for root in roots for q in QUERIES], timeout=300)
    wrong = []
    for number, run in enumerate(runs):
        trial, query = divmod(number, len(QUERIES))
        if run.code == 3 or "Traceback" in run.output or "internal error" in run.output:
            wrong.append(f"{where[trial]}: {QUERIES[query]!r} -> exit {run.code}: {run.stderr.strip()[:200]}")
            continue
        if says_damaged(run):
            continue
        if search_hits(run) != indexed.reference[QUERIES[query]]:
            wrong.append(f"{where[trial]}: {QUERIES[query]!r} -> exit {run.code}, "
                         f"{len(search_hits(run) or ())} hits instead of {len(indexed.reference[QUERIES[query]])}: "
                         f"{run.stderr.strip()[:200]}")
    assert not wrong, f"{len(wrong)} searches over a damaged index were wrong and said nothing:\n" + "\n".join(wrong)


def test_a_changed_posting_list_is_detected(indexed: Indexed, tmp_path: Path) -> None:
    """The targeted change of the issue: a doc number inside the posting list of a bigram that a query
    uses, so that the query would find a post that does not contain it (or miss one that does)."""
    roots, changed = [], []
    for number, bigram in enumerate(("信也", "资金", "上涨", "市场", "亿元", "港口")):
        root = copy_indexed(indexed, tmp_path / f"t{number}")
        done = 0
        for trm in index_dir(root).glob("*.trm"):
            data = bytearray(trm.read_bytes())
            # an entry is varint(key length), field byte + term, varint(value length), value; a value
            # starts with flags, document count and total (one byte each when small), then doc numbers
            for found in re.finditer(re.escape(bigram.encode()), bytes(data)):
                at = found.end()
                if data[found.start() - 2] == 1 + len(bigram.encode()) and data[at] < 0x80 and data[at] > 3:
                    data[at + 4] = (data[at + 4] + 1) % 256
                    done += 1
            trm.write_bytes(bytes(data))
        if done:
            roots.append(root)
            changed.append(bigram)
    assert roots, "no posting list found to change"
    query_of = {"信也": "信也科技", "资金": "资金", "上涨": "上涨", "市场": "市场", "亿元": "亿元", "港口": "港口"}
    runs = run_batch([search_args(root, query_of[bigram]) for root, bigram in zip(roots, changed, strict=True)],
                     timeout=300)
    for run, bigram in zip(runs, changed, strict=True):
        query = query_of[bigram]
        assert says_damaged(run) or search_hits(run) == indexed.reference[query], (bigram, run)


# ---- stats shows it, index repairs it ------------------------------------------------------------------

def index_status(root: Path) -> dict[str, object]:
    run = run_bounded("--root", root, "stats", "--format", "json", timeout=60)
    run.assert_clean(allowed=(0,))
    return dict(json.loads(run.stdout)["index"])


@pytest.mark.parametrize("suffix", [".trm", ".nsc"])
def test_index_repairs_damage_on_an_unchanged_archive(indexed: Indexed, tmp_path: Path, suffix: str) -> None:
    root = copy_indexed(indexed, tmp_path / "archive")
    target = max(index_dir(root).glob(f"*{suffix}"), key=lambda p: p.stat().st_size)
    data = bytearray(target.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 64] = bytes(64)
    target.write_bytes(bytes(data))
    status = index_status(root)
    assert status.get("damaged") is True, status
    repair = run_bounded("--root", root, "index", timeout=120)
    repair.assert_clean(allowed=(0,))
    assert "damaged" in repair.stderr.lower(), repair
    assert index_status(root).get("damaged") is False
    runs = run_batch([search_args(root, q) for q in QUERIES])
    assert {q: search_hits(r) for q, r in zip(QUERIES, runs, strict=True)} == indexed.reference


@pytest.mark.parametrize("damage", ["truncate", "garble", "empty"])
def test_a_truncated_or_garbled_sidecar_is_reported_damaged(indexed: Indexed, tmp_path: Path, damage: str) -> None:
    root = copy_indexed(indexed, tmp_path / "archive")
    for nsc in index_dir(root).glob("*.nsc"):
        data = nsc.read_bytes()
        if damage == "truncate":
            nsc.write_bytes(data[: len(data) // 3])
        elif damage == "garble":
            nsc.write_bytes(bytes(random.Random(SEED).randrange(256) for _ in range(len(data))))
        else:
            nsc.write_bytes(b"")
    run = run_bounded(*search_args(root, QUERIES[0]), timeout=60)
    line = one_error_line(run)
    assert run.code == EXIT_NO_INDEX and "damaged" in line.lower(), run
    assert "newsctl index" in line, line
    assert index_status(root).get("damaged") is True
    run_bounded("--root", root, "index", "--quiet", timeout=120).assert_clean(allowed=(0,))
    assert search_hits(run_bounded(*search_args(root, QUERIES[0]), timeout=60)) == indexed.reference[QUERIES[0]]


def test_damaged_state_or_manifest_is_repaired(indexed: Indexed, tmp_path: Path) -> None:
    root = copy_indexed(indexed, tmp_path / "archive")
    for path in index_dir(root).glob("newsctl-*"):
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x55
        path.write_bytes(bytes(data))
    run = run_bounded(*search_args(root, QUERIES[1]), timeout=60)
    assert says_damaged(run) or search_hits(run) == indexed.reference[QUERIES[1]], run
    run_bounded("--root", root, "index", "--quiet", timeout=120).assert_clean(allowed=(0,))
    assert search_hits(run_bounded(*search_args(root, QUERIES[1]), timeout=60)) == indexed.reference[QUERIES[1]]


# ---- no index, unusable index folders, non-UTF-8 arguments ---------------------------------------------

def test_no_index_has_its_own_exit_code(tmp_path: Path) -> None:
    root = copy_sample(tmp_path / "archive")
    run = run_bounded(*search_args(root, QUERIES[0]), timeout=60)
    line = one_error_line(run)
    assert run.code == EXIT_NO_INDEX, run
    assert "newsctl index" in line, line


def test_index_folder_that_is_a_file(tmp_path: Path) -> None:
    root = copy_sample(tmp_path / "archive")
    (root / ".newsctl").mkdir()
    (root / ".newsctl" / "index").write_text("not a folder\n", encoding="utf-8")
    runs = run_batch([["--root", str(root), "index", "--quiet"], search_args(root, QUERIES[0]),
                      ["--root", str(root), "stats", "--format", "json"]])
    index_run, search_run, stats_run = runs
    line = one_error_line(index_run)
    assert index_run.code in (1, 2) and ".newsctl/index" in line, index_run
    line = one_error_line(search_run)
    assert search_run.code == EXIT_NO_INDEX and ".newsctl/index" in line, search_run
    assert stats_run.code in (0, 1, 2, EXIT_NO_INDEX) and "Traceback" not in stats_run.output, stats_run


def non_utf8(*args: str | bytes, root: Path) -> subprocess.CompletedProcess[bytes]:
    argv = [sys.executable.encode(), b"-m", b"newsctl", b"--root", os.fsencode(root),
            *(a if isinstance(a, bytes) else a.encode() for a in args)]
    return subprocess.run(argv, capture_output=True, timeout=60, env=child_env(), preexec_fn=limits())


def test_a_non_utf8_query_is_not_called_damage(indexed: Indexed) -> None:
    done = non_utf8(b"search", b"\xff\xfe", root=indexed.root)
    err = done.stderr.decode("utf-8", "replace")
    assert done.returncode in (1, 2), (done.returncode, err)
    assert "damaged" not in err and "--rebuild" not in err, err
    assert "Traceback" not in err and "internal error" not in err, err


def test_show_with_a_non_utf8_argument_is_one_line(indexed: Indexed) -> None:
    done = non_utf8(b"show", b"\xff", root=indexed.root)
    err = done.stderr.decode("utf-8", "replace")
    assert done.returncode in (1, 2), (done.returncode, err)
    assert len(err.strip().splitlines()) == 1 and "internal error" not in err, err


# ---- posts added while index runs; edits that keep size and mtime --------------------------------------

MARKER = "鹭鸶滩观测站"


def marker_post(root: Path, number: int) -> Path:
    post_id = f"2022060188{number:08d}"
    path = root / "_posts" / f"2022-06-01-{post_id}.md"
    path.write_text(post_text(title=f"{MARKER}第{number}次记录", post_id=post_id,
                              body=f"<p>{MARKER}今日记录到候鸟第{number}批。</p>"), encoding="utf-8")
    return path


@pytest.mark.parametrize("trial", range(8))
def test_a_post_added_during_index_is_never_hidden(indexed: Indexed, tmp_path: Path, trial: int) -> None:
    root = copy_indexed(indexed, tmp_path / "archive")
    marker_post(root, 1000 + trial)  # a folder changed: index lists, then loads its writer while stat()ing
    proc = start("--root", root, "index", "--quiet")
    time.sleep(0.05 + 0.1 * trial)
    added = marker_post(root, trial)
    finish(proc, ["index"], timeout=120).assert_clean(allowed=(0,))
    runs = run_batch([search_args(root, f"{MARKER}第{trial}次"), ["--root", str(root), "stats", "--format", "json"]])
    found = search_hits(runs[0]) or frozenset()
    stale = json.loads(runs[1].stdout)["index"]["stale"]
    rel = added.relative_to(root).as_posix()
    if rel not in found:
        assert stale is True, f"trial {trial}: {rel} is not indexed, yet stats says the index is up to date"
        assert "out of date" in runs[0].stderr or "stale" in runs[0].stderr.lower(), runs[0]
    again = run_bounded("--root", root, "index", "--quiet", timeout=120)
    again.assert_clean(allowed=(0,))
    assert rel in (search_hits(run_bounded(*search_args(root, f"{MARKER}第{trial}次"), timeout=60)) or ())


def test_an_edit_keeping_size_and_mtime_is_reindexed(indexed: Indexed, tmp_path: Path) -> None:
    """`touch -r` after an in-place edit: same size, same mtime, but a new ctime (and the index sees it)."""
    root = copy_indexed(indexed, tmp_path / "archive")
    target = next(p for p in post_files(root) if "信也科技" in p.read_text(encoding="utf-8"))
    before = target.stat()
    text = target.read_text(encoding="utf-8")
    edited = text.replace("信也科技", "琥珀湾码", 1)
    assert len(edited.encode()) == len(text.encode())
    time.sleep(0.02)
    with open(target, "r+b") as handle:  # in place: same inode
        handle.write(edited.encode())
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = target.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    run = run_bounded("--root", root, "index", timeout=120)
    run.assert_clean(allowed=(0,))
    assert "1 updated" in run.stderr, run
    rel = target.relative_to(root).as_posix()
    assert rel in (search_hits(run_bounded(*search_args(root, "琥珀湾码"), timeout=60)) or ())


def test_a_replaced_file_with_the_same_size_and_mtime_is_reindexed(indexed: Indexed, tmp_path: Path) -> None:
    """An editor's save by rename keeps neither inode nor ctime, even when size and mtime are put back."""
    root = copy_indexed(indexed, tmp_path / "archive")
    target = next(p for p in post_files(root) if "资金" in p.read_text(encoding="utf-8"))
    before = target.stat()
    text = target.read_text(encoding="utf-8")
    edited = text.replace("资金", "琥珀", 1)
    folder_before = target.parent.stat()
    new = target.with_name(".edit.tmp")
    new.write_text(edited, encoding="utf-8")
    os.utime(new, ns=(before.st_atime_ns, before.st_mtime_ns))
    os.replace(new, target)
    os.utime(target.parent, ns=(folder_before.st_atime_ns, folder_before.st_mtime_ns))  # hide the folder change
    run = run_bounded("--root", root, "index", timeout=120)
    run.assert_clean(allowed=(0,))
    assert "1 updated" in run.stderr, run


# ---- lock files: FIFO, directory, held lock ------------------------------------------------------------

def lock_path(root: Path) -> Path:
    return index_dir(root) / "MAIN_WRITELOCK"


def test_a_fifo_lock_is_refused_not_waited_on(indexed: Indexed, tmp_path: Path) -> None:
    root = copy_indexed(indexed, tmp_path / "archive")
    lock = lock_path(root)
    lock.unlink(missing_ok=True)
    os.mkfifo(lock)
    for wait in ("0", "1"):
        run = run_bounded("--root", root, "index", "--quiet", "--wait", wait, timeout=30)
        line = one_error_line(run)
        assert run.code in (1, 2) and "MAIN_WRITELOCK" in line, run
        assert "regular" in line or "not a file" in line, line
    search = run_bounded(*search_args(root, QUERIES[0]), timeout=30)  # readers take no lock
    assert search_hits(search) == indexed.reference[QUERIES[0]], search


def test_a_directory_lock_is_refused(indexed: Indexed, tmp_path: Path) -> None:
    root = copy_indexed(indexed, tmp_path / "archive")
    lock = lock_path(root)
    lock.unlink(missing_ok=True)
    lock.mkdir()
    run = run_bounded("--root", root, "index", "--quiet", "--wait", "0", timeout=30)
    line = one_error_line(run)
    assert run.code in (1, 2) and "MAIN_WRITELOCK" in line, run


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_a_lock_without_permission_is_one_line(indexed: Indexed, tmp_path: Path) -> None:
    root = copy_indexed(indexed, tmp_path / "archive")
    lock = lock_path(root)
    lock.chmod(0o000)
    run = run_bounded("--root", root, "index", "--quiet", "--wait", "0", timeout=30)
    line = one_error_line(run)
    assert run.code in (1, 2) and "MAIN_WRITELOCK" in line, run


def test_wait_applies_while_another_process_holds_the_lock(indexed: Indexed, tmp_path: Path) -> None:
    root = copy_indexed(indexed, tmp_path / "archive")
    marker_post(root, 7)
    fd = os.open(lock_path(root), os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        run = run_bounded("--root", root, "index", "--quiet", "--wait", "1", timeout=30)
        assert run.code == 1 and any(word in run.stderr.lower() for word in ("busy", "another")), run
        one_error_line(run)
        waiting = start("--root", root, "index", "--quiet", "--wait", "30")
        time.sleep(0.5)
        assert waiting.poll() is None, "index did not wait for the lock"
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    finish(waiting, ["index", "--wait", "30"], timeout=60).assert_clean(allowed=(0,))
