"""`newsctl add`: posts written through the real CLI into tmp archives, read back and validated."""

from __future__ import annotations

import importlib.util
import itertools
import json
import os
import pty
import re
import resource
import stat
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import Cli, post_text, run_newsctl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsctl.post import read_post
from newsctl.postwriter import Refused
from newsctl.postwriter import create_post_file as write_new_file

FEEDS = Path(__file__).parent / "data" / "feeds"
SHANGHAI = ZoneInfo("Asia/Shanghai")
VALIDATE_READY = all(importlib.util.find_spec(name) for name in ("newsctl.validate", "newsctl.render.findings"))
ONE_POST = ("--category", "emnews", "--tag", "东财滚动新闻", "--source-url", "https://news.example.com/a/1.html")


BODY_NUMBERS = itertools.count(1)


def add(cli: Cli, root: Path, *args: str, body: str | None = None) -> tuple[int, str, str]:
    """`newsctl add ARGS --body-file -`; each post gets its own body unless one is given."""
    body = body if body is not None else f"第{next(BODY_NUMBERS)}段互不相同的正文。"
    result = cli("--root", root, "add", *args, "--body-file", "-", input=body.encode("utf-8"))
    return result.code, result.stdout, result.stderr


def posts_in(root: Path) -> list[Path]:
    return sorted((root / "_posts").glob("*.md"))


def assert_valid(cli: Cli, root: Path, paths: list[Path]) -> None:
    """Every added post reads without problems and passes `newsctl validate --strict` (once it exists)."""
    assert paths
    for path in paths:
        assert read_post(path).problems == [], path
    if VALIDATE_READY:
        result = cli("--root", root, "validate", "--format", "concise", "--strict", *paths)
        assert result.code == 0, result


# ---- one post -------------------------------------------------------------------------------------

AWKWARD_TITLES = [
    "'单引号开头", "[方括号开头]", "{花括号}", "&锚点", "*星号", "!感叹号", "%百分号", "@at 开头",
    "#井号开头", "冒号: 后有空格", '含"双引号"与\\反斜杠', "😀 emoji 🇨🇳 表情", "全角：标点，“引号”！",
    "- 像列表", "? 问号开头", "| 竖线", "> 大于号", "yes", "null", "2022-06-01", "0x1F", "---",
    "零宽\u200b空格", "全角\u3000空格", "\ufeff字节序标记", "非字符\ufffe与\uffff", "`反引号`", "a" * 200,
]


@pytest.mark.parametrize("title", AWKWARD_TITLES)
def test_awkward_titles_round_trip_and_validate(cli: Cli, make_archive: Callable[..., Path], title: str) -> None:
    root = make_archive()
    code, stdout, stderr = add(cli, root, f"--title={title}", "--date", "2022-06-01 12:00:32", *ONE_POST)
    assert code == 0, stderr
    [path] = posts_in(root)
    assert stdout == f"added {path}\n"
    post = read_post(path)
    assert post.meta["title"] == title
    assert post.categories == ["emnews"] and post.tags == ["东财滚动新闻"]
    assert post.raw.rstrip("\n").endswith("\n\n<https://news.example.com/a/1.html>")
    assert_valid(cli, root, [path])


@pytest.mark.parametrize(("title", "reason"), [
    ("", "title is empty"), ("  \u3000 ", "title is empty"), ("第一行\n第二行", "line break (U+000A)"),
    ("回车\r", "line break (U+000D)"), ("段落\u2029分隔", "line break (U+2029)"), ("响铃\x07", "control character"),
    ("孤立\ud800代理", "lone surrogate"), ("长" * 201, "more than max_title_length=200"),
])
def test_bad_titles_are_refused(cli: Cli, make_archive: Callable[..., Path], title: str, reason: str) -> None:
    root = make_archive()
    code, _, stderr = add(cli, root, f"--title={title}", *ONE_POST)
    assert code == 2
    assert reason in stderr
    assert posts_in(root) == []


def test_dates_zones_and_default_id(cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = make_archive()
    code, stdout, _ = add(cli, root, "--title", "零时区时间", "--date", "2022-06-01T20:00:00Z", "--print-path",
                          *ONE_POST)
    assert code == 0
    path = Path(stdout.strip())
    assert re.fullmatch(r"2022-06-02-20220602\d{10}\.md", path.name)  # the day in the archive zone
    assert "\ndate: 2022-06-02 04:00:00 +0800\n" in path.read_text(encoding="utf-8")
    for given_date, expected in [("2022-06-03 08:15", "2022-06-03 08:15:00 +0800"),
                                 ("2022-06-03 08:16:01 -0500", "2022-06-03 21:16:01 +0800"),
                                 ("2022-06-03T08:17:02.5+08:00", "2022-06-03 08:17:02 +0800")]:
        code, stdout, _ = add(cli, root, "--title", f"时间 {given_date}", "--date", given_date, "--print-path",
                              *ONE_POST)
        assert code == 0
        assert read_post(Path(stdout.strip())).meta["date"] == expected


def test_default_date_is_now_in_the_archive_zone(cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = make_archive()
    before = datetime.now(SHANGHAI).replace(microsecond=0)
    code, stdout, _ = add(cli, root, "--title", "现在发布", "--print-path", *ONE_POST)
    assert code == 0
    written = read_post(Path(stdout.strip())).date(SHANGHAI)
    assert written is not None and before <= written <= datetime.now(SHANGHAI)
    assert Path(stdout.strip()).name.startswith(written.date().isoformat())


@pytest.mark.parametrize(("args", "message"), [
    (("--date", "2022-02-30 10:00"), "is not 'YYYY-MM-DD"),
    (("--date", (datetime.now(SHANGHAI) + timedelta(days=3)).strftime("%Y-%m-%d %H:%M")), "in the future"),
    (("--date", "1850-01-01"), "before 1970"),
    (("--date", "0001-01-01 00:00:00 +0800"), "out of range"),
    (("--date", "9999-12-31 23:59:59 -1400"), "out of range"),
    (("--category", "two words"), "must be one word"),
    (("--source-url", "javascript:alert(1)"), "not an http(s) URL"),
    (("--source-url", "http://example.com/a b"), "not an http(s) URL"),
    (("--source-url", "http://[::1/a"), "not an http(s) URL"),
])
def test_bad_fields_are_usage_errors(cli: Cli, make_archive: Callable[..., Path], args: tuple[str, ...],
                                     message: str) -> None:
    root = make_archive()
    code, _, stderr = add(cli, root, "--title", "字段检查", *ONE_POST, *args)
    assert code == 2
    assert message in stderr
    assert posts_in(root) == []


def test_category_tag_and_source_are_required(cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = make_archive()
    url = ("--source-url", "https://news.example.com/a/2.html")
    assert "a category is required" in add(cli, root, "--title", "无分类", "--tag", "t", *url)[2]
    assert "a tag is required" in add(cli, root, "--title", "无标签", "--category", "c", *url)[2]
    code, _, stderr = add(cli, root, "--title", "无来源", "--category", "c", "--tag", "t")
    assert code == 2 and "no source link" in stderr
    assert posts_in(root) == []


def test_body_with_its_own_source_line_needs_no_url(cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = make_archive()
    body = "\r\n\r\n正文第一段。\r\n\r\n<https://news.example.com/a/3.html>\r\n\r\n"
    code, _, _ = add(cli, root, "--title", "自带来源", "--category", "c", "--tag", "t", body=body)
    assert code == 0
    [path] = posts_in(root)
    assert path.read_text(encoding="utf-8").endswith(
        "---\n\n正文第一段。\n\n<https://news.example.com/a/3.html>\n")
    code, _, _ = add(cli, root, "--title", "来源只写一次", "--category", "c", "--tag", "t",
                     "--source-url", "https://news.example.com/a/3.html", body=body.replace("第一", "第二"))
    assert code == 0
    newest = max(posts_in(root), key=lambda p: p.stat().st_mtime_ns)
    assert newest.read_text(encoding="utf-8").count("<https://news.example.com/a/3.html>") == 1
    assert_valid(cli, root, posts_in(root))


def test_body_from_a_file_and_bad_body_files(cli: Cli, make_archive: Callable[..., Path], tmp_path: Path) -> None:
    root = make_archive()
    good, latin1, empty = tmp_path / "body.html", tmp_path / "latin1.txt", tmp_path / "empty.txt"
    good.write_text("<p>文件里的正文。</p>\n", encoding="utf-8")
    latin1.write_bytes("caf\xe9".encode("latin-1"))
    empty.write_text(" \n\n", encoding="utf-8")
    base = ("--root", root, "add", "--title", "文件正文", *ONE_POST, "--body-file")
    assert cli(*base, good).code == 0
    assert "<p>文件里的正文。</p>" in posts_in(root)[0].read_text(encoding="utf-8")
    for bad, message in [(latin1, "not valid UTF-8"), (empty, "the body is empty"),
                         (tmp_path / "missing.txt", "cannot read")]:
        result = cli(*base, bad, "--force")  # same title again: only the body is at fault
        assert result.code == 2 and str(bad) in result.stderr and message in result.stderr
    no_body = cli("--root", root, "add", "--title", "没有正文", *ONE_POST)
    assert no_body.code == 2 and "--body-file" in no_body.stderr


def test_dry_run_writes_nothing(cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = make_archive()
    code, stdout, _ = add(cli, root, "--title", "只是预览", "--date", "2022-06-01 12:00:32",
                          "--dest", str(root / "new"), "--dry-run", *ONE_POST)
    assert code == 0
    assert stdout.startswith('---\nlayout: post\ntitle: "只是预览"\ndate: 2022-06-01 12:00:32 +0800\n')
    assert stdout.endswith("\n<https://news.example.com/a/1.html>\n")
    assert not (root / "new").exists() and posts_in(root) == []


def test_print_path_prints_only_the_path(cli: Cli, make_archive: Callable[..., Path],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_archive()
    monkeypatch.chdir(root)
    code, stdout, stderr = add(cli, root, "--title", "给脚本用", "--date", "2022-06-01 12:00", "--id", "abc-1",
                               "--print-path", *ONE_POST)
    assert code == 0 and stderr == ""
    assert stdout == "_posts/2022-06-01-abc-1.md\n"
    assert (root / "_posts" / "2022-06-01-abc-1.md").is_file()


def test_dest_outside_the_post_folders_warns(cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = make_archive()
    code, stdout, stderr = add(cli, root, "--title", "草稿", "--dest", str(root / "drafts"), *ONE_POST)
    assert code == 0
    [path] = (root / "drafts").glob("*.md")
    assert stdout == f"added {path}\n"
    assert "outside the archive's post folders" in stderr


# ---- duplicates and overwrites ---------------------------------------------------------------------

EXISTING = "_posts/2022-06-01-NW202206012399054634.md"


@pytest.fixture
def archive_with_post(make_archive: Callable[..., Path]) -> Path:
    return make_archive({EXISTING: post_text(title="已有的标题", post_id="202206012399054634"),
                         "old_post/2021-12-08-202112082206891482.md": post_text(
                             title="旧文章", date="2021-12-08 12:27:37 +0800", post_id="202112082206891482")})


def test_same_title_same_day_is_refused_unless_forced(cli: Cli, archive_with_post: Path) -> None:
    root = archive_with_post
    code, stdout, stderr = add(cli, root, "--title", "已有的标题", "--date", "2022-06-01 23:59:59", *ONE_POST)
    assert (code, stdout) == (1, "")
    assert "a post titled '已有的标题' on 2022-06-01 exists" in stderr and EXISTING in stderr
    assert len(posts_in(root)) == 1
    assert add(cli, root, "--title", "已有的标题", "--date", "2022-06-02 00:00:00", *ONE_POST)[0] == 0  # next day
    code, _, _ = add(cli, root, "--title", "已有的标题", "--date", "2022-06-01 08:00", "--force", *ONE_POST)
    assert code == 0 and len(posts_in(root)) == 3
    assert_valid(cli, root, posts_in(root))


@pytest.mark.parametrize("same_id", ["202206012399054634", "NW202206012399054634", "202112082206891482"])
def test_same_id_anywhere_is_refused(cli: Cli, archive_with_post: Path, same_id: str) -> None:
    code, _, stderr = add(cli, archive_with_post, "--title", "新标题", "--date", "2022-06-05 10:00", "--id", same_id,
                          *ONE_POST)
    assert code == 1
    assert f"id {same_id} is already used by" in stderr
    assert ("old_post/" if same_id.startswith("2021") else EXISTING) in stderr


def test_force_never_overwrites(cli: Cli, archive_with_post: Path) -> None:
    existing = archive_with_post / EXISTING
    before = existing.read_bytes()
    code, _, stderr = add(cli, archive_with_post, "--title", "覆盖尝试", "--date", "2022-06-01 09:00",
                          "--id", "NW202206012399054634", "--force", *ONE_POST)
    assert code == 1
    assert "already exists; newsctl never overwrites a post" in stderr
    assert existing.read_bytes() == before
    assert not list((archive_with_post / "_posts").glob(".newsctl-*"))


def test_titles_and_bodies_compare_as_validate_does(cli: Cli, archive_with_post: Path) -> None:
    root = archive_with_post
    code, _, stderr = add(cli, root, "--title", " 已有的标题！ ", "--date", "2022-06-01 08:00", *ONE_POST)
    assert code == 1 and "a post titled '已有的标题！' on 2022-06-01 exists" in stderr  # punctuation ignored
    code, _, stderr = add(cli, root, "--title", "标题不同", "--date", "2022-06-01 08:00", *ONE_POST,
                          body="<p>正文内容。</p>\n\n[返回东财滚动新闻](//finews.withounder.com/)")
    assert code == 1 and "has the same body text" in stderr and EXISTING in stderr
    code, _, _ = add(cli, root, "--title", "标题不同", "--date", "2022-06-02 08:00", *ONE_POST, body="正文内容。")
    assert code == 0  # another day: left to a whole-archive validate
    assert len(posts_in(root)) == 2


def test_the_validation_rules_gate_every_post(cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = make_archive()
    code, _, stderr = add(cli, root, "--title", "只有链接", *ONE_POST, body="<https://news.example.com/x>")
    assert code == 2 and "would not pass validate: NC501" in stderr
    code, _, stderr = add(cli, root, "--title", "标题重复", *ONE_POST, body="标题重复")
    assert code == 0 and "warning:" in stderr and "NC502" in stderr
    code, _, _ = add(cli, root, "--title", "行尾空格", *ONE_POST, body="第一行  \n第二行\t\n")
    assert code == 0
    newest = next(p for p in posts_in(root) if read_post(p).title == "行尾空格")
    assert "第一行\n第二行\n" in newest.read_text(encoding="utf-8")
    assert_valid(cli, root, [newest])  # no NC701 warning, even with --strict


def test_real_archive_duplicates_and_a_clean_new_post(cli: Cli, finews_copy: Path) -> None:
    real = next(post for post in map(read_post, sorted((finews_copy / "_posts").glob("2*.md")))
                if post.title and post.id.isdigit() and post.date(SHANGHAI))
    day = real.path.name[:10]
    rel = real.path.relative_to(finews_copy).as_posix()
    code, _, stderr = add(cli, finews_copy, f"--title={real.title}", "--date", f"{day} 23:00", *ONE_POST)
    assert code == 1 and rel in stderr
    code, _, stderr = add(cli, finews_copy, "--title", "全新的标题", "--id", f"NW{real.id}", *ONE_POST)
    assert code == 1 and re.search(rf"id NW{real.id} is already used by .*-{real.id}\.md", stderr)
    code, stdout, _ = add(cli, finews_copy, "--title", "全新的标题", "--date", f"{day} 23:00", "--print-path",
                          *ONE_POST)
    assert code == 0
    assert_valid(cli, finews_copy, [Path(stdout.strip())])


def test_the_final_link_never_replaces_a_file_that_appeared_meanwhile(tmp_path: Path) -> None:
    target = tmp_path / "2022-06-01-race.md"
    target.write_text("another writer's post\n", encoding="utf-8")
    with pytest.raises(Refused, match="appeared meanwhile"):
        write_new_file(target, b"ours\n")
    assert target.read_text(encoding="utf-8") == "another writer's post\n"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]  # the temp file is gone
    fresh = tmp_path / "2022-06-01-fresh.md"
    write_new_file(fresh, b"ours\n")
    umask = os.umask(0)
    os.umask(umask)
    assert fresh.read_bytes() == b"ours\n" and stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~umask


# ---- security ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("bad_id", ["../evil", "../../evil", "/tmp/evil", "a/evil", "..", ".evil", "ev\x00il",
                                    "evil\\..\\x", "evil\n", "", "e" * 129])
def test_ids_cannot_escape_the_destination(cli: Cli, make_archive: Callable[..., Path], tmp_path: Path,
                                           bad_id: str) -> None:
    root = make_archive()
    code, _, stderr = add(cli, root, "--title", "越界", "--id", bad_id, *ONE_POST)
    assert code == 2
    assert "is not a safe id" in stderr
    assert not [p for p in tmp_path.rglob("*") if "evil" in p.name]
    assert posts_in(root) == []


# ---- feeds -----------------------------------------------------------------------------------------

def test_feed_with_scraper_field_names(cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = make_archive()
    result = cli("--root", root, "add", "--from-jsonl", FEEDS / "good.jsonl", "--category", "emnews",
                 "--tag", "测试快讯")
    assert result.code == 0, result
    assert result.stderr == "added 5, skipped 0 (duplicates 0), errors 0\n"
    paths = posts_in(root)
    assert len(paths) == 5 and result.stdout.count("added ") == 5
    records = [json.loads(line) for line in (FEEDS / "good.jsonl").read_text(encoding="utf-8").splitlines()]
    posts = {read_post(p).title: read_post(p) for p in paths}
    assert set(posts) == {r["title"] for r in records}
    assert posts[records[1]["title"]].path.name == "2022-06-01-NW202206010000001002.md"  # infoCode, showtime
    assert posts[records[1]["title"]].tags == ["测试快讯"] and posts[records[1]["title"]].categories == ["emnews"]
    assert posts[records[2]["title"]].meta["date"] == "2022-06-02 07:30:00 +0800"  # ISO with zone
    assert posts[records[2]["title"]].tags == ["港股", "隔夜"]
    assert posts[records[3]["title"]].meta["date"] == "2022-06-01 12:00:32 +0800"  # epoch seconds
    assert posts[records[4]["title"]].meta["date"] == "2022-06-02 12:00:00 +0800"  # epoch milliseconds
    assert_valid(cli, root, paths)

    again = cli("--root", root, "add", "--from-jsonl", FEEDS / "good.jsonl", "--category", "emnews",
                "--tag", "测试快讯")
    assert again.code == 1
    assert again.stderr.endswith("added 0, skipped 5 (duplicates 5), errors 0\n")
    assert len(posts_in(root)) == 5


def test_feed_bad_lines_are_reported_and_skipped(cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = make_archive()
    feed = FEEDS / "bad.jsonl"
    result = cli("--root", root, "add", "--from-jsonl", feed, "--category", "emnews", "--tag", "t")
    assert result.code == 1
    expected = {2: "invalid JSON", 3: "not an array", 5: "missing title", 6: "missing body",
                7: "'2022-13-45 99:00'", 8: "'../../outside' is not a safe id",
                10: "a post titled '坏行之间的第一条好记录' on 2022-06-03 exists",
                11: "line break (U+000A)", 12: "lone surrogate (U+D800)", 13: "not 1.5"}
    lines = result.stderr.splitlines()
    assert len(lines) == len(expected) + 1
    for (number, message), line in zip(expected.items(), lines[:-1], strict=True):
        assert line.startswith(f"{feed}:{number}: ") and message in line, line
    assert lines[-1] == "added 2, skipped 1 (duplicates 1), errors 9"
    assert sorted(read_post(p).title for p in posts_in(root)) == ["坏行之间的第一条好记录", "坏行之间的第二条好记录"]
    assert_valid(cli, root, posts_in(root))
    assert not list(root.parent.rglob("outside*"))


def test_feed_from_stdin_with_configured_fields(cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = make_archive()
    (root / "newsctl.toml").write_text('[feed_fields]\ntitle = ["headline"]\n', encoding="utf-8")
    feed = "\n".join([
        json.dumps({"headline": "自定义字段名", "showtime": "2022-06-04 09:00:00", "digest": "用配置映射的字段。",
                    "url": "https://news.example.com/c/1", "category": "emnews", "from": "测试快讯"}),
        "{not json",
        json.dumps({"title": "title 不再映射", "date": "2022-06-04 09:00:00", "body": "x", "url": "https://e.com/"}),
    ])
    result = cli("--root", root, "add", "--from-jsonl", "-", "--print-path", input=feed.encode("utf-8"))
    assert result.code == 1
    [path] = posts_in(root)
    assert result.stdout == f"{path}\n"
    assert "<stdin>:2: invalid JSON" in result.stderr and "<stdin>:3: missing title (one of headline)" in result.stderr
    assert read_post(path).title == "自定义字段名"


def test_feed_dry_run_and_option_conflicts(cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = make_archive()
    result = cli("--root", root, "add", "--from-jsonl", FEEDS / "good.jsonl", "--category", "c", "--tag", "t",
                 "--dry-run")
    assert result.code == 0
    assert result.stdout.count("==> _posts/") + result.stdout.count(f"==> {root}") == 5
    assert result.stderr == "would add 5, skipped 0 (duplicates 0), errors 0\n"
    assert posts_in(root) == []
    conflict = cli("--root", root, "add", "--from-jsonl", FEEDS / "good.jsonl", "--title", "x")
    assert conflict.code == 2 and "cannot be combined with --title" in conflict.stderr
    missing = cli("--root", root, "add", "--from-jsonl", root / "nope.jsonl")
    assert missing.code == 2 and "nope.jsonl: cannot read" in missing.stderr


# ---- faults and the editor (real processes) --------------------------------------------------------

def test_disk_full_leaves_no_partial_file(make_archive: Callable[..., Path], tmp_path: Path) -> None:
    root = make_archive()
    body = tmp_path / "big.html"
    body.write_text("<p>" + "很长的正文。" * 60_000 + "</p>\n", encoding="utf-8")  # about 1 MB

    def small_file_limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    proc = subprocess.run([sys.executable, "-m", "newsctl", "--root", str(root), "add", "--title", "写不下",
                           *ONE_POST, "--body-file", str(body)], capture_output=True, timeout=120,
                          preexec_fn=small_file_limit, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    stderr = proc.stderr.decode()
    assert proc.returncode == 1, stderr
    assert stderr.startswith("newsctl: error: cannot write ") and "nothing was written" in stderr
    assert "Traceback" not in stderr
    assert list((root / "_posts").iterdir()) == []  # neither the post nor a temp file


def run_in_terminal(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """newsctl with stdin and stdout on a pseudo-terminal, as a person runs it."""
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "newsctl", *args], stdin=follower, stdout=follower,
                              stderr=subprocess.PIPE, env=env, timeout=120)
    finally:
        os.close(follower)
    output = b""
    try:
        while chunk := os.read(leader, 4096):
            output += chunk
    except OSError:  # EIO: the terminal is drained
        pass
    os.close(leader)
    return proc.returncode, output.decode(), proc.stderr.decode()


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_body_from_the_editor(make_archive: Callable[..., Path], tmp_path: Path) -> None:
    root = make_archive()
    editor = tmp_path / "editor.py"
    editor.write_text("import pathlib, sys\np = pathlib.Path(sys.argv[1])\n"
                      "p.write_text('编辑器里写的正文。\\n' + p.read_text(encoding='utf-8'), encoding='utf-8')\n",
                      encoding="utf-8")
    env = {**os.environ, "VISUAL": f"{sys.executable} {editor}"}
    args = ["--root", str(root), "add", "--title", "编辑器正文", "--date", "2022-06-01 10:00", *ONE_POST]
    code, output, stderr = run_in_terminal(args, env)
    assert code == 0, stderr
    [path] = posts_in(root)
    assert f"added {path}" in output
    assert read_post(path).body == "\n编辑器里写的正文。\n\n<https://news.example.com/a/1.html>\n"
    assert_valid(Cli(), root, [path])

    env["VISUAL"] = f"{sys.executable} -c pass"  # leaves the template alone: an empty body
    code, _, stderr = run_in_terminal([*args[:4], "另一篇", *args[5:]], env)
    assert code == 1 and "the body is empty; nothing written" in stderr
    assert len(posts_in(root)) == 1


def test_add_via_subprocess_reports_usage_errors_plainly(make_archive: Callable[..., Path]) -> None:
    root = make_archive()
    proc = run_newsctl("--root", root, "add", "--title", "x", "--id", "../x", *ONE_POST, "--body-file", "-",
                       input="正文".encode())
    assert proc.returncode == 2
    assert proc.stderr.decode().startswith("newsctl: error: --id '../x' is not a safe id")


# ---- property: anything that can be a title, tag or category round-trips ------------------------------

ONE_LINE_TEXT = st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"))
WORD = st.text(ONE_LINE_TEXT, min_size=1, max_size=12).filter(lambda s: not any(ch.isspace() for ch in s))
# From 1992: China's last daylight saving time ended in 1991, so no naive time falls in a gap.
ZONES: st.SearchStrategy[tzinfo | None] = st.sampled_from(
    [None, timezone.utc, timezone(timedelta(hours=8)), timezone(timedelta(hours=-9, minutes=-30))])


def date_argument(moment: datetime, style: int) -> str:
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    return [moment.strftime("%Y-%m-%d %H:%M:%S %z"), moment.isoformat()][style]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=st.text(ONE_LINE_TEXT, min_size=1, max_size=60).filter(lambda s: s.strip()),
       category=WORD, tag=WORD,
       moment=st.datetimes(min_value=datetime(1992, 1, 1), max_value=datetime(2024, 12, 31), timezones=ZONES),
       style=st.integers(0, 1))
def test_property_titles_words_and_dates_round_trip(tmp_path_factory: pytest.TempPathFactory, title: str,
                                                     category: str, tag: str, moment: datetime, style: int) -> None:
    root = tmp_path_factory.mktemp("prop")
    (root / "_config.yml").write_text("timezone: Asia/Shanghai\n", encoding="utf-8")
    cli = Cli()
    result = cli("--root", root, "add", f"--title={title}", f"--date={date_argument(moment, style)}",
                 f"--category={category}", f"--tag={tag}", "--source-url", "https://news.example.com/p",
                 "--body-file", "-", "--print-path", input="正文。".encode())
    assert result.code == 0, result
    path = Path(result.stdout.strip())
    post = read_post(path)
    assert post.problems == []
    assert post.meta["title"] == title.strip()
    assert post.categories == [category] and post.tags == [tag]
    expected = (moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)).replace(microsecond=0)
    assert post.date(SHANGHAI) == expected
    assert path.name.startswith(expected.astimezone(SHANGHAI).date().isoformat() + "-")
    if VALIDATE_READY:
        assert cli("--root", root, "validate", "--format", "concise", path).code == 0
