"""`newsctl index`: building, incremental updates, rebuilds, locking, staleness, and the index API."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Cli, post_text, run_newsctl

SUMMARY = "index: {} added, {} updated, {} deleted, {} skipped"
MARX = "old_post/2022-05-20-202205202384621162.md"  # the only sample post with 马克思


def index(cli: Cli, root: Path, *args: str) -> str:
    result = cli("--root", root, "index", *args)
    assert result.code == 0, result
    return result.stderr


def found(cli: Cli, root: Path, query: str) -> list[str]:
    result = cli("--root", root, "search", query, "--format", "paths", "--limit", "0", "--absolute")
    assert result.code in (0, 1), result
    return [Path(p).relative_to(root).as_posix() for p in result.stdout.splitlines()]


def generation(root: Path) -> int:
    return max(int(p.name.split("_")[2].split(".")[0]) for p in (root / ".newsctl" / "index").glob("_MAIN_*.toc"))


def new_post(root: Path, name: str, title: str, body: str) -> Path:
    path = root / "_posts" / name
    path.write_text(post_text(title=title, body=body, post_id=name[11:-3]), encoding="utf-8")
    return path


# ---- building ----------------------------------------------------------------------------------------

def test_first_index_adds_every_post_in_a_private_folder(cli: Cli, sample_archive: Path) -> None:
    err = index(cli, sample_archive)
    assert SUMMARY.format(36, 0, 0, 0) in err
    index_dir = sample_archive / ".newsctl" / "index"
    assert stat.S_IMODE(index_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(index_dir.parent.stat().st_mode) == 0o700
    assert found(cli, sample_archive, "马克思") == [MARX]


def test_an_unchanged_archive_reads_no_post_and_writes_no_generation(cli: Cli, sample_archive: Path) -> None:
    index(cli, sample_archive)
    before = generation(sample_archive)
    err = index(cli, sample_archive)
    assert SUMMARY.format(0, 0, 0, 0) in err and "36 unchanged; 0 read" in err
    assert generation(sample_archive) == before


def test_added_changed_and_deleted_posts_are_all_that_is_touched(cli: Cli, sample_archive: Path) -> None:
    index(cli, sample_archive)
    new_post(sample_archive, "2022-06-04-newpost1.md", "新的帖子", "鹦鹉螺号潜艇今日返航。")
    changed = sample_archive / MARX
    changed.write_text(changed.read_text(encoding="utf-8").replace("马克思", "恩格斯"), encoding="utf-8")
    (sample_archive / "old_post/2022-05-21-202205212385268186.md").unlink()  # the HFO-1234yf post
    err = index(cli, sample_archive)
    assert SUMMARY.format(1, 1, 1, 0) + ", 34 unchanged; 2 read" in err
    assert found(cli, sample_archive, "鹦鹉螺号") == ["_posts/2022-06-04-newpost1.md"]
    assert found(cli, sample_archive, "马克思") == [] and found(cli, sample_archive, "恩格斯") == [MARX]
    assert found(cli, sample_archive, "HFO-1234yf") == []


def test_a_touched_but_unchanged_post_is_not_reindexed(cli: Cli, sample_archive: Path) -> None:
    index(cli, sample_archive)
    before = generation(sample_archive)
    os.utime(sample_archive / MARX, ns=(time.time_ns(), time.time_ns() + 5_000_000_000))
    err = index(cli, sample_archive)
    assert SUMMARY.format(0, 0, 0, 0) in err and "1 read" in err  # hashed, found the same
    assert generation(sample_archive) == before
    assert "0 read" in index(cli, sample_archive)  # its new mtime was recorded


def test_invalid_posts_are_skipped_with_their_reason(cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = make_archive({
        "_posts/2022-06-01-good.md": post_text(title="好的帖子", body="藏羚羊迁徙。"),
        "_posts/2022-06-01-badyaml.md": '---\ntitle: "未闭合\n---\n正文\n',
        "_posts/2022-06-01-notitle.md": post_text(title="", body="没有标题。"),
        "_posts/2022-06-01-bom.md": "\ufeff" + post_text(title="带BOM的帖子", body="白头叶猴。"),
    })
    result = cli("--root", root, "index")
    assert result.code == 0, result
    assert "_posts/2022-06-01-badyaml.md: skipped: NC203" in result.stderr
    assert "_posts/2022-06-01-notitle.md: skipped: no title" in result.stderr
    assert SUMMARY.format(2, 0, 0, 2) in result.stderr  # a BOM is only a warning
    assert found(cli, root, "白头叶猴") == ["_posts/2022-06-01-bom.md"]
    fixed = root / "_posts/2022-06-01-badyaml.md"
    fixed.write_text(post_text(title="修好了", body="金丝猴。"), encoding="utf-8")
    assert SUMMARY.format(1, 0, 0, 1) in index(cli, root)
    assert found(cli, root, "金丝猴") == ["_posts/2022-06-01-badyaml.md"]


def test_rebuild_starts_over(cli: Cli, sample_archive: Path) -> None:
    index(cli, sample_archive)
    err = index(cli, sample_archive, "--rebuild")
    assert "rebuilt the index (--rebuild)" in err and SUMMARY.format(36, 0, 0, 0) in err
    assert found(cli, sample_archive, "马克思") == [MARX]
    files = os.listdir(sample_archive / ".newsctl" / "index")
    assert len([f for f in files if f.endswith(".toc")]) == 1
    assert len([f for f in files if f.startswith("newsctl-state-")]) == 1


def test_worker_processes_build_the_same_index(cli: Cli, make_archive: Callable[..., Path]) -> None:
    posts = {f"_posts/2022-06-{1 + n % 28:02d}-p{n}.md":
             post_text(title=f"第{n}号公告", body=f"编号{n:05d}的正文，货运量。", post_id=f"p{n}") for n in range(1200)}
    root = make_archive(posts)
    assert SUMMARY.format(1200, 0, 0, 0) in index(cli, root, "--jobs", "2")
    assert found(cli, root, "编号00777") == ["_posts/2022-06-22-p777.md"]
    assert len(found(cli, root, "货运量")) == 1200


# ---- format version, user dictionary -------------------------------------------------------------

def test_an_index_of_another_format_is_refused_then_rebuilt(cli: Cli, sample_archive: Path) -> None:
    index(cli, sample_archive)
    state_file = next((sample_archive / ".newsctl" / "index").glob("newsctl-state-*.json"))
    state = json.loads(state_file.read_text())
    state["format"] = 0
    state_file.write_text(json.dumps(state))
    refused = cli("--root", sample_archive, "search", "马克思")
    assert refused.code == 1 and "run `newsctl index`" in refused.stderr and "format 0" in refused.stderr
    err = index(cli, sample_archive)
    assert "rebuilt the index (the index format changed" in err and SUMMARY.format(36, 0, 0, 0) in err
    assert found(cli, sample_archive, "马克思") == [MARX]


def test_a_changed_user_dictionary_triggers_a_rebuild(cli: Cli, sample_archive: Path) -> None:
    index(cli, sample_archive)
    (sample_archive / "userdict.txt").write_text("信也科技 100 nz\n", encoding="utf-8")
    stale = cli("--root", sample_archive, "search", "马克思")
    assert "user dictionary changed" in stale.stderr
    assert "rebuilt the index (the user dictionary changed)" in index(cli, sample_archive)
    assert "0 read" in index(cli, sample_archive)


# ---- staleness, no index ---------------------------------------------------------------------------

def test_search_without_an_index_says_what_to_run(cli: Cli, sample_archive: Path) -> None:
    result = cli("--root", sample_archive, "search", "马克思")
    assert result.code == 1 and "no index yet" in result.stderr and "newsctl index" in result.stderr
    updated = cli("--root", sample_archive, "search", "马克思", "--update", "--format", "paths", "--absolute")
    assert updated.code == 0 and updated.stdout.strip() == str(sample_archive / MARX)


def test_a_stale_index_is_reported_and_update_refreshes_it(cli: Cli, sample_archive: Path) -> None:
    index(cli, sample_archive)
    new_post(sample_archive, "2022-06-04-fresh.md", "新帖", "穿山甲保护。")
    stale = cli("--root", sample_archive, "search", "穿山甲", "--format", "paths")
    assert stale.code == 1 and "out of date" in stale.stderr and "--update" in stale.stderr
    fresh = cli("--root", sample_archive, "search", "穿山甲", "--format", "paths", "--update", "--absolute")
    assert fresh.code == 0 and fresh.stdout.strip() == str(sample_archive / "_posts/2022-06-04-fresh.md")
    assert fresh.stderr == ""


# ---- locking and interruption -----------------------------------------------------------------------

HOLD_LOCK = """
import fcntl, sys, time
handle = open(sys.argv[1], "a")
fcntl.flock(handle, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(60)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="fcntl locks")
def test_a_second_writer_waits_then_gives_up_while_searches_go_on(cli: Cli, sample_archive: Path) -> None:
    index(cli, sample_archive)
    lock_file = sample_archive / ".newsctl" / "index" / "MAIN_WRITELOCK"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(lock_file)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        busy = run_newsctl("--root", sample_archive, "index", "--wait", "0")
        assert busy.returncode == 1, busy
        assert b"another `newsctl index` is updating" in busy.stderr and b"--wait" in busy.stderr
        started = time.monotonic()
        waited = run_newsctl("--root", sample_archive, "index", "--wait", "1")
        assert waited.returncode == 1 and time.monotonic() - started >= 1.0
        search = run_newsctl("--root", sample_archive, "search", "马克思", "--format", "paths", cwd=sample_archive)
        assert search.returncode == 0 and search.stdout.decode().strip() == MARX
    finally:
        holder.kill()
        holder.wait()
    assert "0 read" in index(cli, sample_archive)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
@pytest.mark.parametrize("delay", [0.3, 0.8, 1.5])
def test_killing_index_at_any_moment_leaves_a_whole_index(cli: Cli, make_archive: Callable[..., Path],
                                                          delay: float) -> None:
    posts = {f"_posts/2022-06-{1 + n % 28:02d}-k{n}.md":
             post_text(title=f"公告{n}", body=f"编号{n:05d}，雪豹。", post_id=f"k{n}") for n in range(1500)}
    root = make_archive(posts)
    index(cli, root)
    for n in range(0, 1500, 2):  # change half of them, then kill the update part-way
        path = root / f"_posts/2022-06-{1 + n % 28:02d}-k{n}.md"
        path.write_text(path.read_text(encoding="utf-8").replace("雪豹", "云豹"), encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "newsctl", "--root", str(root), "index", "--rebuild",
                             "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    snow, cloud = len(found(cli, root, "雪豹")), len(found(cli, root, "云豹"))
    assert (snow, cloud) in ((1500, 0), (750, 750)), (snow, cloud)  # the old generation, or the new one
    index(cli, root, "--wait", "10")
    assert (len(found(cli, root, "雪豹")), len(found(cli, root, "云豹"))) == (750, 750)


# ---- the API for `show` and `stats` ----------------------------------------------------------------

def test_index_status_and_find_post_path(cli: Cli, sample_archive: Path) -> None:
    from newsctl.config import load_settings
    from newsctl.engine.reader import find_post_path
    from newsctl.engine.status import index_status

    settings = load_settings(sample_archive)
    assert index_status(settings).exists is False and index_status(settings).stale is None
    assert find_post_path(settings, "202205202384621162") == sample_archive / MARX  # by file name
    index(cli, sample_archive)
    status = index_status(settings)
    assert status.exists and status.doc_count == 36 and status.stale is False and status.size_bytes > 0
    assert status.updated_at is not None and status.updated_at.utcoffset() is not None
    assert find_post_path(settings, "202205202384621162") == sample_archive / MARX  # through the index
    assert find_post_path(settings, "no-such-id") is None
    new_post(sample_archive, "2022-06-04-later.md", "后来", "正文。")
    assert index_status(settings).stale is True


def test_plain_whoosh_can_read_the_index(cli: Cli, sample_archive: Path) -> None:
    """The files are a Whoosh index (newsctl's codec supplies the term dictionary)."""
    from whoosh import query
    from whoosh.index import open_dir

    index(cli, sample_archive)
    ix = open_dir(str(sample_archive / ".newsctl" / "index"), indexname="MAIN")
    with ix.searcher() as searcher:
        assert searcher.doc_count() == 36
        hits = searcher.search(query.Phrase("body_ngrams", ["马克", "克思"]), limit=None)
        assert [hit["path"] for hit in hits] == [MARX]
        assert [hit["title"] for hit in searcher.search(query.Term("id", "202205202384621162"))] == \
            ["政治经济学高端论坛在京举行 聚焦数字经济与共同富裕"]
