"""`newsctl validate --fix` and `--diff`: only fixable problems change, byte-exactly, atomically,
keeping the file mode; `--diff` writes nothing and exits 1 when there is something to fix."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import REPO, Cli

BAD_POSTS = REPO / "tests" / "data" / "bad_posts" / "_posts"
HEAD = "---\nlayout: post\n"
TAIL = "categories: emnews\ntags: 东财滚动新闻\n---\n\n正文。\n\n<http://finance.eastmoney.com/a/1.html>\n"


def post(title: str = '"标题"', date: str = "2022-06-01 10:00:00 +0800") -> str:
    return f"{HEAD}title: {title}\ndate: {date}\n{TAIL}"


@pytest.mark.parametrize(("before", "after"), [
    # Jekyll reads a plain zone-less timestamp as UTC; `keep` (the default) writes that instant
    (post(date="2022-06-01 10:00:00"), post(date="2022-06-01 18:00:00 +0800")),
    # quoted, or a date alone: Jekyll reads it in the site zone already, nothing to fix
    (post(date="'2022-06-01 10:00:00'  # from the feed"), post(date="'2022-06-01 10:00:00'  # from the feed")),
    (post(date="2022-06-01"), post(date="2022-06-01")),
    (post(title='"专家称"稳中有进"态势延续"'), post(title='"专家称\\"稳中有进\\"态势延续"')),
    (post(title="公告: 调整交易时间"), post(title='"公告: 调整交易时间"')),
    (post(title='"目录D:\\project说明"'), post(title='"目录D:\\\\project说明"')),
    ("\ufeff" + post(), post()),
    (post().replace("\n", "\r\n"), post()),
    (post().replace("正文。", "正文。  \t"), post()),
    (post(date="2022-06-01 10:00:00").replace("\n", " \r\n"), post(date="2022-06-01 18:00:00 +0800")),
])
def test_fix_rewrites_exactly_the_problem(cli: Cli, make_archive: Callable[..., Path], before: str,
                                          after: str) -> None:
    root = make_archive({"_posts/2022-06-01-1.md": before})
    path = root / "_posts" / "2022-06-01-1.md"
    result = cli("--root", root, "validate", "--fix", "--format", "json")
    assert path.read_text(encoding="utf-8", errors="strict") == after
    assert (result.code, json.loads(result.stdout)) == (0, [])
    assert "Fixed" in result.stderr or before == after


def test_fix_keeps_the_mode_leaves_no_temporary_file_and_replaces_atomically(
        cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = make_archive({"_posts/2022-06-01-1.md": post(date="2022-06-01 10:00:00")})
    path = root / "_posts" / "2022-06-01-1.md"
    path.chmod(0o640)
    inode = path.stat().st_ino
    cli("--root", root, "validate", "--fix")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert path.stat().st_ino != inode  # a new file renamed over the old one, never a partial write
    assert sorted(p.name for p in path.parent.iterdir()) == ["2022-06-01-1.md"]


def test_fix_reports_what_remains(cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = make_archive({"_posts/2022-06-01-1.md": post(title='""', date="2022-06-01 10:00:00")})
    result = cli("--root", root, "validate", "--fix", "--format", "concise")
    assert result.code == 1
    assert result.stdout == f"{root}/_posts/2022-06-01-1.md:3:8: NC303 title is empty\n"
    assert result.stderr.startswith("Fixed 1 problem in 1 file. 1 zone-less date: 1 keep the published instant and "
                                    "URL. Found 1 error in 1 of 1 file.")


def test_fix_repeats_while_a_fix_reveals_another(cli: Cli, make_archive: Callable[..., Path]) -> None:
    """A broken title hides the date; once re-quoted, the zone-less date is fixed too."""
    root = make_archive({"_posts/2022-06-01-1.md": post(title='"他说"好""', date="2022-06-01 10:00:00")})
    cli("--root", root, "validate", "--fix")
    assert (root / "_posts" / "2022-06-01-1.md").read_text(encoding="utf-8") == \
        post(title='"他说\\"好\\""', date="2022-06-01 18:00:00 +0800")


def test_fix_only_touches_selected_rules(cli: Cli, make_archive: Callable[..., Path]) -> None:
    before = post(date="2022-06-01 10:00:00").replace("正文。", "正文。 ")
    root = make_archive({"_posts/2022-06-01-1.md": before})
    result = cli("--root", root, "validate", "--fix", "--select", "NC701", "--format", "json")
    assert (root / "_posts" / "2022-06-01-1.md").read_text(encoding="utf-8") == post(date="2022-06-01 10:00:00")
    assert (result.code, json.loads(result.stdout)) == (0, [])


@pytest.mark.parametrize("before", [post(title='"没有闭合的引号'), post().replace("tags: 东财滚动新闻", "tags: [a, b")])
def test_unfixable_yaml_stays_as_it_is(cli: Cli, make_archive: Callable[..., Path], before: str) -> None:
    root = make_archive({"_posts/2022-06-01-1.md": before})
    path = root / "_posts" / "2022-06-01-1.md"
    mtime = path.stat().st_mtime_ns
    result = cli("--root", root, "validate", "--fix", "--format", "json")
    assert result.code == 1
    assert [(f["code"], f["fixable"]) for f in json.loads(result.stdout)] == [("NC203", False)]
    assert (path.read_text(encoding="utf-8"), path.stat().st_mtime_ns) == (before, mtime)


def test_fixable_flags_in_json(cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = make_archive({"_posts/2022-06-01-1.md": (BAD_POSTS / "2022-06-01-bad-title-quotes.md").read_bytes()})
    result = cli("--root", root, "validate", "--format", "json")
    assert [(f["code"], f["line"], f["fixable"]) for f in json.loads(result.stdout)] == [("NC203", 3, True)]


# ---- --diff ---------------------------------------------------------------------------------------------

def test_diff_shows_the_fix_writes_nothing_and_applies_with_git(
        cli: Cli, make_archive: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_archive({"_posts/2022-06-01-1.md": post(date="2022-06-01 10:00:00"),
                         "_posts/2022-06-02-2.md": post(date="2022-06-02 10:00:00 +0800")})
    path = root / "_posts" / "2022-06-01-1.md"
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    monkeypatch.chdir(root)
    result = cli("validate", "--diff")
    assert result.code == 1
    assert result.stdout == (  # the line before the diff names what moves; git apply and patch skip it
        "# NC306 --fix (keep) keeps the published instant 2022-06-01 18:00:00 +0800 and the URL\n"
        "--- a/_posts/2022-06-01-1.md\n+++ b/_posts/2022-06-01-1.md\n@@ -1,7 +1,7 @@\n"
        " ---\n layout: post\n title: \"标题\"\n-date: 2022-06-01 10:00:00\n+date: 2022-06-01 18:00:00 +0800\n"
        " categories: emnews\n tags: 东财滚动新闻\n ---\n")
    assert "Would fix 1 problem in 1 file." in result.stderr
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    if shutil.which("git"):
        patch = root / "fix.patch"
        patch.write_text(result.stdout, encoding="utf-8")
        subprocess.run(["git", "apply", str(patch)], cwd=root, check=True,
                       capture_output=True)
        assert path.read_text(encoding="utf-8") == post(date="2022-06-01 18:00:00 +0800")


def test_diff_marks_a_missing_final_newline(cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = make_archive({"_posts/2022-06-01-1.md": post().rstrip("\n") + " "})
    result = cli("--root", root, "validate", "--diff")
    assert result.stdout.endswith("-<http://finance.eastmoney.com/a/1.html> \n\\ No newline at end of file\n"
                                  "+<http://finance.eastmoney.com/a/1.html>\n\\ No newline at end of file\n")


def test_diff_on_a_clean_archive_exits_0(cli: Cli, sample_archive: Path) -> None:
    result = cli("--root", sample_archive, "validate", "--diff")
    assert (result.code, result.stdout) == (0, "")


# ---- the real archive ---------------------------------------------------------------------------------------

def test_fix_on_the_real_archive_changes_only_date_and_whitespace_lines(cli: Cli, finews_copy: Path) -> None:
    originals = {p: p.read_bytes() for p in finews_copy.rglob("*.md")}
    result = cli("--root", finews_copy, "validate", "--fix", "--format", "json")
    remaining = {f["code"] for f in json.loads(result.stdout)}
    assert not remaining & {"NC306", "NC701"}
    assert result.code == 1  # duplicates, empty title, ... are not fixable
    changed = 0
    for path, old in originals.items():
        new = path.read_bytes()
        if new == old:
            continue
        changed += 1
        old_lines, new_lines = old.decode().split("\n"), new.decode().split("\n")
        assert len(old_lines) == len(new_lines)
        for a, b in zip(old_lines, new_lines, strict=True):
            assert a == b or (a.startswith("date: ") and b == _kept(a)) or b == a.rstrip(" \t"), (path, a, b)
    assert changed == 36  # 35 dates without zone and one line with trailing whitespace


def _kept(line: str) -> str:
    """`date: <clock>` as `keep` rewrites it: the instant Jekyll publishes (the clock read as UTC)."""
    moment = datetime.strptime(line.removeprefix("date: "), "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)
    return "date: " + moment.astimezone(timezone(timedelta(hours=8))).strftime("%Y-%m-%d %H:%M:%S %z")


@pytest.mark.parametrize(("mode", "written", "moves"), [
    ("keep", "2022-06-01 08:30:00 +0800", "keeps the published instant 2022-06-01 08:30:00 +0800 and the URL"),
    ("zone", "2022-06-01 00:30:00 +0800", "moves the published instant from 2022-06-01 08:30:00 +0800 to "
                                          "2022-06-01 00:30:00 +0800"),
])
def test_the_zone_fix_offers_both_choices_and_says_what_moves(cli: Cli, make_archive: Callable[..., Path],
                                                              mode: str, written: str, moves: str) -> None:
    root = make_archive({"_posts/2022-06-01-1.md": post(date="2022-06-01 00:30:00")})
    (root / "newsctl.toml").write_text(f'date_fix = "{mode}"\n', encoding="utf-8")
    checked = cli("--root", root, "validate", "--format", "concise")
    assert f"--fix ({mode}) {moves}" in checked.stdout
    cli("--root", root, "validate", "--fix")
    assert (root / "_posts" / "2022-06-01-1.md").read_text(encoding="utf-8") == post(date=written)


def test_the_zone_fix_names_a_url_that_moves(cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = make_archive({"_posts/2022-06-02-1.md": post(date="2022-06-01 20:30:00")})
    (root / "newsctl.toml").write_text('date_fix = "zone"\n', encoding="utf-8")
    checked = cli("--root", root, "validate", "--format", "concise")
    assert "publishes it at 2022-06-02 04:30:00 +0800 (URL day 2022-06-02)" in checked.stdout
    assert "/2022/06/02/1.html to " in checked.stdout and "/2022/06/01/1.html" in checked.stdout


def test_the_diff_and_the_summary_name_what_the_zone_fix_moves(cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = make_archive({"_posts/2022-06-02-1.md": post(date="2022-06-01 20:30:00")})
    kept = cli("--root", root, "validate", "--diff")
    assert kept.stdout.startswith("# NC306 --fix (keep) keeps the published instant 2022-06-02 04:30:00 +0800")
    assert "1 zone-less date: 1 keep the published instant and URL." in kept.stderr
    moved = cli("--root", root, "validate", "--diff", "--date-fix", "zone")
    assert moved.stdout.startswith("# NC306 --fix (zone) moves the published instant")
    assert "the URL moves" in moved.stdout
    assert "1 zone-less date: 1 move the published instant (1 with the URL)." in moved.stderr
    fixed = cli("--root", root, "validate", "--fix", "--date-fix", "zone")
    assert "1 zone-less date: 1 move the published instant (1 with the URL)." in fixed.stderr


def test_a_zone_fix_behind_broken_yaml_does_not_guess_what_moves(cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = make_archive({"_posts/2022-06-01-1.md": post(title='"他说"好""', date="2022-06-01 10:00:00")})
    result = cli("--root", root, "validate", "--diff")
    assert result.stdout.startswith("# NC306 --fix (keep) cannot tell what moves while Jekyll cannot read")
    assert "1 zone-less date: 1 cannot be told until the front matter reads." in result.stderr


def test_date_fix_on_the_command_line_overrides_the_setting(cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = make_archive({"_posts/2022-06-01-1.md": post(date="2022-06-01 10:00:00")})
    assert cli("--root", root, "validate", "--fix", "--date-fix", "zone").code == 0
    assert (root / "_posts" / "2022-06-01-1.md").read_text(encoding="utf-8") == post(date="2022-06-01 10:00:00 +0800")
    assert cli("--root", root, "validate", "--date-fix", "later").code == 2
