"""`newsctl index` end to end: summaries, incremental updates, rebuilds, bad posts, permissions, locking.

Every test changes the archive, so each works on its own copy of sample_posts.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, Cli, post_text, run_newsctl

FACTS = json.loads((REPO / "tests" / "data" / "sample_facts.json").read_text(encoding="utf-8"))
POST_COUNT = FACTS["post_count"]
SUMMARY = re.compile(r"index: (?P<added>\d+) added, (?P<updated>\d+) updated, (?P<deleted>\d+) deleted, "
                     r"(?P<skipped>\d+) skipped, (?P<unchanged>\d+) unchanged")
HFO_POST = FACTS["facts"]["HFO-1234yf"]["paths"][0]
XINYE_POST = "_posts/2022-06-01-202206012398184598.md"


def summary_of(output: str) -> dict[str, int]:
    match = SUMMARY.search(output)
    assert match, f"no summary line in {output!r}"
    return {key: int(value) for key, value in match.groupdict().items()}


def index(root: Path, *args: str) -> dict[str, int]:
    result = Cli()("--root", root, "index", *args)
    assert result.code == 0, result
    return summary_of(result.stdout + result.stderr)


def found(root: Path, query: str) -> set[str]:
    result = Cli()("--root", root, "search", query, "--format", "paths", "--limit", "0", "--absolute")
    assert result.code in (0, 1), result
    return {Path(line).relative_to(root).as_posix() for line in result.stdout.splitlines()}


def counts(added: int = 0, updated: int = 0, deleted: int = 0, skipped: int = 0,
           unchanged: int = 0) -> dict[str, int]:
    return {"added": added, "updated": updated, "deleted": deleted, "skipped": skipped, "unchanged": unchanged}


def replace_body(path: Path, body: str) -> None:
    """Keep the front matter, write a new body."""
    text = path.read_text(encoding="utf-8")
    end = text.index("\n---\n", 4) + len("\n---\n")
    path.write_text(text[:end] + body, encoding="utf-8")


def index_files(root: Path) -> dict[str, tuple[int, int]]:
    folder = root / ".newsctl" / "index"
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir()}


def test_first_run_adds_every_post(sample_archive: Path) -> None:
    assert index(sample_archive) == counts(added=POST_COUNT)
    assert found(sample_archive, "信也科技") == set(FACTS["facts"]["信也科技"]["paths"])


def test_quiet_prints_nothing(sample_archive: Path) -> None:
    result = Cli()("--root", sample_archive, "index", "--quiet")
    assert (result.code, result.stdout, result.stderr) == (0, "", "")
    assert found(sample_archive, "HFO-1234yf") == {HFO_POST}


def test_second_run_touches_nothing(sample_archive: Path) -> None:
    index(sample_archive)
    before = index_files(sample_archive)
    assert index(sample_archive) == counts(unchanged=POST_COUNT)
    assert index_files(sample_archive) == before


def test_new_mtime_with_same_content_is_unchanged(sample_archive: Path) -> None:
    index(sample_archive)
    post = sample_archive / XINYE_POST
    os.utime(post, ns=(post.stat().st_atime_ns, post.stat().st_mtime_ns + 5_000_000_000))
    assert index(sample_archive) == counts(unchanged=POST_COUNT)


def test_changed_body_is_updated_and_old_text_is_gone(sample_archive: Path) -> None:
    index(sample_archive)
    assert found(sample_archive, "促成借款金额") == {XINYE_POST}
    replace_body(sample_archive / XINYE_POST, "<p>鲸鱼迁徙观测站今日正式启用。</p>\n")
    assert index(sample_archive) == counts(updated=1, unchanged=POST_COUNT - 1)
    assert found(sample_archive, "鲸鱼迁徙观测站") == {XINYE_POST}
    assert found(sample_archive, "促成借款金额") == set()
    assert XINYE_POST in found(sample_archive, "title:信也科技"), "the title is unchanged"


def test_changed_title_is_updated(sample_archive: Path) -> None:
    index(sample_archive)
    path = sample_archive / XINYE_POST
    text = path.read_text(encoding="utf-8")
    old_title = re.search(r'^title: "(.*)"$', text, re.M)
    assert old_title
    path.write_text(text.replace(old_title[1], "海豚表演季开幕"), encoding="utf-8")
    assert index(sample_archive)["updated"] == 1
    assert found(sample_archive, "title:海豚表演季") == {XINYE_POST}
    assert XINYE_POST not in found(sample_archive, "title:信也科技")


def test_deleted_post_is_removed(sample_archive: Path) -> None:
    index(sample_archive)
    (sample_archive / HFO_POST).unlink()
    assert index(sample_archive) == counts(deleted=1, unchanged=POST_COUNT - 1)
    result = Cli()("--root", sample_archive, "search", "HFO-1234yf", "--format", "paths")
    assert (result.code, result.stdout) == (1, "")


def test_added_post_is_found(sample_archive: Path) -> None:
    index(sample_archive)
    (sample_archive / "_posts" / "2022-06-03-whale.md").write_text(
        post_text(title="鲸鱼迁徙观测站启用", date="2022-06-03 10:00:00 +0800", body="观测站今日启用。"),
        encoding="utf-8")
    assert index(sample_archive) == counts(added=1, unchanged=POST_COUNT)
    assert found(sample_archive, "鲸鱼迁徙") == {"_posts/2022-06-03-whale.md"}


def test_renamed_post_is_found_under_its_new_path(sample_archive: Path) -> None:
    index(sample_archive)
    new = "_posts/2022-05-21-202205212385268186.md"
    (sample_archive / HFO_POST).rename(sample_archive / new)
    summary = index(sample_archive)
    assert (summary["added"], summary["deleted"]) == (1, 1)
    assert found(sample_archive, "HFO-1234yf") == {new}


def test_rebuild_starts_over(sample_archive: Path) -> None:
    index(sample_archive)
    result = Cli()("--root", sample_archive, "index", "--rebuild")
    assert result.code == 0, result
    assert summary_of(result.stdout + result.stderr) == counts(added=POST_COUNT)
    assert found(sample_archive, "信也科技") == set(FACTS["facts"]["信也科技"]["paths"])
    assert index(sample_archive) == counts(unchanged=POST_COUNT)


def test_rebuild_recovers_from_a_deleted_index_folder(sample_archive: Path) -> None:
    index(sample_archive)
    for path in (sample_archive / ".newsctl" / "index").iterdir():
        path.unlink()
    assert index(sample_archive)["added"] == POST_COUNT
    assert found(sample_archive, "HFO-1234yf") == {HFO_POST}


BAD_POSTS = {
    "_posts/2022-06-04-202206042400000001.md": '---\ntitle: "未闭合的引号\ncategories: emnews\n---\n正文\n',
    "_posts/2022-06-04-202206042400000002.md": "没有前言的文章，鲸鱼迁徙观测站\n",
    "_posts/2022-06-04-202206042400000003.md": "---\nlayout: post\ndate: 2022-06-04 10:00:00 +0800\n---\n无标题\n",
}


def test_invalid_posts_are_skipped_with_reasons_and_the_rest_stay_searchable(sample_archive: Path) -> None:
    for rel, text in BAD_POSTS.items():
        (sample_archive / rel).write_text(text, encoding="utf-8")
    result = Cli()("--root", sample_archive, "index")
    assert result.code in (0, 1), result
    assert summary_of(result.stdout + result.stderr) == counts(added=POST_COUNT, skipped=len(BAD_POSTS))
    for rel in BAD_POSTS:
        lines = [line for line in result.stderr.splitlines() if rel in line]
        assert len(lines) == 1, result.stderr
        assert "skip" in lines[0] and len(lines[0]) > len(rel) + 12, lines[0]
    assert "NC20" in result.stderr, "front-matter problems name their code"
    assert found(sample_archive, "鲸鱼迁徙观测站") == set()
    for string, facts in FACTS["facts"].items():
        assert found(sample_archive, string) == set(facts["paths"]), string


def test_fixed_post_is_added_on_the_next_run(sample_archive: Path) -> None:
    rel = "_posts/2022-06-04-202206042400000002.md"
    (sample_archive / rel).write_text(BAD_POSTS[rel], encoding="utf-8")
    assert index(sample_archive)["skipped"] == 1
    (sample_archive / rel).write_text(
        post_text(title="鲸鱼迁徙观测站", date="2022-06-04 10:00:00 +0800", body="修好了。"), encoding="utf-8")
    summary = index(sample_archive)
    # it was never in the index; the summary may count it as added or as an updated file
    assert summary["added"] + summary["updated"] == 1 and summary["skipped"] == 0, summary
    assert summary["unchanged"] == POST_COUNT
    assert found(sample_archive, "鲸鱼迁徙观测站") == {rel}


def test_index_folder_is_private_whatever_the_umask(sample_archive: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "newsctl", "--root", str(sample_archive), "index", "-q"],
                         capture_output=True, timeout=120, preexec_fn=lambda: os.umask(0))
    assert run.returncode == 0, run.stderr
    for folder in (sample_archive / ".newsctl", sample_archive / ".newsctl" / "index"):
        mode = stat.S_IMODE(folder.stat().st_mode)
        assert mode & 0o077 == 0, f"{folder} is {oct(mode)}"


def test_no_index_file_is_writable_by_group_or_others(sample_archive: Path) -> None:
    index(sample_archive)
    for path in (sample_archive / ".newsctl").rglob("*"):
        assert stat.S_IMODE(path.stat().st_mode) & 0o022 == 0, path


def test_index_outside_an_archive_is_a_clear_error(tmp_path: Path) -> None:
    result = Cli()("--root", tmp_path / "missing", "index")
    assert result.code in (1, 2) and result.stderr.startswith("newsctl: error:"), result


# ---- a second writer ---------------------------------------------------------------------------------

@pytest.fixture
def big_archive(shared_dir: Path, tmp_path: Path) -> Path:
    out = tmp_path / "big"
    run = subprocess.run([sys.executable, str(shared_dir / "tools" / "gen_corpus.py"), "--src",
                          str(shared_dir / "corpus"), "--out", str(out), "-n", "1000"],
                         capture_output=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return out


def test_second_writer_is_refused_while_search_still_works(big_archive: Path) -> None:
    assert run_newsctl("--root", big_archive, "index", "-q", timeout=300).returncode == 0
    probe = run_newsctl("--root", big_archive, "search", "公司", "--format", "json", "--limit", "1")
    assert probe.returncode == 0, probe.stderr
    writer = subprocess.Popen([sys.executable, "-m", "newsctl", "--root", str(big_archive), "index", "--rebuild",
                               "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        busy = None
        deadline = time.monotonic() + 60
        while writer.poll() is None and time.monotonic() < deadline:
            second = run_newsctl("--root", big_archive, "index", "--wait", "0", "-q")
            if second.returncode != 0:
                busy = second
                break
            time.sleep(0.05)
        assert busy is not None, "the rebuild finished before a second writer could be tried"
        assert busy.returncode == 1, busy.stderr
        message = busy.stderr.decode()
        assert message.startswith("newsctl: error:") and "another" in message and message.count("\n") == 1
        during = run_newsctl("--root", big_archive, "search", "公司", "--format", "paths", "--limit", "3")
        assert during.returncode in (0, 1), during.stderr
        assert b"error" not in during.stderr and b"Traceback" not in during.stderr
    finally:
        _, writer_err = writer.communicate(timeout=300)
    assert writer.returncode == 0, writer_err
    after = run_newsctl("--root", big_archive, "search", "公司", "--format", "json", "--limit", "1")
    assert after.returncode == 0, after.stderr
    assert json.loads(after.stdout)["total"] == json.loads(probe.stdout)["total"] > 0
