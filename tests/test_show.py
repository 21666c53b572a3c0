"""`newsctl show`: resolving ids and paths, the preview, --raw, highlighting, colours, pager, bad posts."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Cli, post_text, run_newsctl

POST_ID = "202206012398184598"
POST = f"_posts/2022-06-01-{POST_ID}.md"  # 信也科技 in the title and the body
TITLE = "信也科技一季度营收同比增长 注册用户规模继续扩大"
SGR_BEFORE_MATCH = re.compile(r"\x1b\[([0-9;]*)m信也科技")
SGR = re.compile(r"\x1b\[([0-9;]*)m")
COLOUR_PARAMS = re.compile(r"(?:^|;)(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])(?:;|$)")
TERMINAL = {"FORCE_COLOR": "1", "COLUMNS": "200", "LINES": "100"}


def show(cli: Cli, root: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = cli("--root", root, "show", *args, env=env)
    assert result.code == 0, result
    assert result.stderr == ""
    return result.stdout


def sgr_params(out: str) -> list[set[str]]:
    return [set(params.split(";")) for params in SGR.findall(out)]


def test_show_by_id_prints_metadata_and_readable_body(cli: Cli, sample_archive: Path) -> None:
    out = show(cli, sample_archive, POST_ID)
    lines = out.splitlines()
    assert lines[0] == TITLE
    assert "Date: 2022-06-01 06:30:00 +0800" in lines
    assert "Categories: emnews" in lines
    assert "Tags: 东财滚动新闻" in lines
    assert "Stocks: FINV" in lines
    assert "Source: http://finance.eastmoney.com/news/1355,202206012398184598.html" in lines
    assert f"Path: {POST}" in lines
    assert "信也科技(NYSE:FINV)发布2022Q1未经审计财务报告。" in out
    assert "返回首页" not in out and "layout: post" not in out  # no footer, no raw front matter
    assert "\x1b" not in out  # not a terminal: plain text
    # Plain mode does not wrap: a paragraph stays on one line for grep.
    assert any(line.startswith("信也科技(NYSE:FINV)") and line.endswith("（每日经济新闻）") for line in lines)


def test_show_by_path_relative_to_root_cwd_or_absolute(cli: Cli, sample_archive: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    by_id = show(cli, sample_archive, POST_ID)
    assert show(cli, sample_archive, POST) == by_id
    assert show(cli, sample_archive, str(sample_archive / POST)) == by_id
    monkeypatch.chdir(sample_archive.parent)
    assert show(cli, sample_archive, f"{sample_archive.name}/{POST}") == by_id


def test_html_body_becomes_paragraphs_images_and_links(cli: Cli, make_archive: Callable[..., Path]) -> None:
    body = ('<p>第一段有<strong>重点</strong>内容。</p><p><img src="x.png" alt="走势图"></p>'
            '<p>详见<a href="https://example.com/report">公告全文</a>。</p>')
    root = make_archive({"_posts/2022-06-01-h1.md": post_text(body=body)})
    out = show(cli, root, "_posts/2022-06-01-h1.md")
    assert "第一段有重点内容。\n\n[图片: 走势图]\n\n详见公告全文[1]。" in out
    assert out.rstrip().endswith("Links\n[1] https://example.com/report")
    assert "<p>" not in out and "**" not in out
    coloured = show(cli, root, "_posts/2022-06-01-h1.md", env=TERMINAL)
    assert re.search(r"\x1b\[1m重点\x1b\[0m", coloured)  # bold stays bold on a terminal


def test_date_is_shown_in_the_archive_zone(cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = make_archive({"_posts/2022-05-31-ny.md": post_text(date="2022-05-31 20:00:00 -0400")})
    assert "Date: 2022-06-01 08:00:00 +0800" in show(cli, root, "_posts/2022-05-31-ny.md").splitlines()


def test_raw_prints_the_file_bytes_unchanged(make_archive: Callable[..., Path]) -> None:
    content = "\ufeff" + post_text(title="原样  输出").replace("\n", "\r\n") + "  末尾没有换行"
    broken = b"---\ntitle: [unclosed\n---\n\xff\xfe body"
    root = make_archive({"_posts/2022-06-01-r.md": content, "_posts/2022-06-02-b.md": broken})
    done = run_newsctl("--root", root, "show", "--raw", "_posts/2022-06-01-r.md")
    assert done.returncode == 0, done.stderr
    assert done.stdout == content.encode("utf-8")
    done = run_newsctl("--root", root, "show", "--raw", "_posts/2022-06-02-b.md", "--highlight", "body")
    assert (done.returncode, done.stdout) == (0, broken)


def test_highlight_marks_every_match_on_a_terminal(cli: Cli, sample_archive: Path) -> None:
    out = show(cli, sample_archive, POST_ID, "--highlight", "信也科技", env=TERMINAL)
    styles = [set(params.split(";")) for params in SGR_BEFORE_MATCH.findall(out)]
    assert len(styles) == out.count("信也科技") >= 2  # the title and the body
    assert all({"7", "33"} <= style for style in styles), styles  # reverse, yellow
    # Only the match: the text around it is not reversed.
    assert not re.search(r"\x1b\[[0-9;]*\b7\b[0-9;]*m[^\x1b]*注册用户", out)
    unmarked = show(cli, sample_archive, POST_ID, env=TERMINAL)
    assert not any("7" in params for params in sgr_params(unmarked))


def test_highlight_in_plain_mode_is_plain_text(cli: Cli, sample_archive: Path) -> None:
    marked = show(cli, sample_archive, POST_ID, "--highlight", "信也科技")
    assert "\x1b" not in marked
    assert marked == show(cli, sample_archive, POST_ID)


def test_no_color_keeps_reverse_but_drops_colours(cli: Cli, sample_archive: Path) -> None:
    coloured = show(cli, sample_archive, POST_ID, "--highlight", "信也科技", env=TERMINAL)
    assert any(COLOUR_PARAMS.search(params) for params in SGR.findall(coloured))
    out = show(cli, sample_archive, POST_ID, "--highlight", "信也科技", env={**TERMINAL, "NO_COLOR": "1"})
    assert any("7" in params.split(";") for params in SGR_BEFORE_MATCH.findall(out))  # still marked: reverse
    assert not any(COLOUR_PARAMS.search(params) for params in SGR.findall(out)), out


def test_unknown_id_or_path_is_one_line_and_exit_1(cli: Cli, sample_archive: Path) -> None:
    result = cli("--root", sample_archive, "show", "nosuch999")
    assert (result.code, result.stdout, result.stderr) == (1, "", "newsctl: error: no post with id nosuch999\n")
    result = cli("--root", sample_archive, "show", "_posts/2022-01-01-nope.md")
    assert (result.code, result.stderr) == (1, "newsctl: error: no post file _posts/2022-01-01-nope.md\n")
    result = cli("--root", sample_archive, "show", "_posts")
    assert (result.code, result.stderr) == (1, "newsctl: error: _posts is a folder, not a post\n")


def test_unparsable_post_shows_raw_text_with_a_warning(cli: Cli, make_archive: Callable[..., Path]) -> None:
    text = '---\nlayout: post\ntitle: "没有结束\ndate: 2022-06-03\n---\n正文还在。\n'
    root = make_archive({"_posts/2022-06-03-bad.md": text,
                         "_posts/2022-06-04-latin.md": "---\ntitle: caf\xe9\n---\n".encode("latin-1")})
    result = cli("--root", root, "show", "_posts/2022-06-03-bad.md")
    assert result.code == 1
    assert result.stdout == text
    assert result.stderr.startswith("newsctl: warning: _posts/2022-06-03-bad.md:3:8: invalid YAML")
    assert len(result.stderr.splitlines()) == 1

    result = cli("--root", root, "show", "_posts/2022-06-04-latin.md")
    assert result.code == 1
    assert result.stdout == "---\ntitle: caf\ufffd\n---\n"
    assert "_posts/2022-06-04-latin.md:2:11: not valid UTF-8" in result.stderr


def test_binary_file_shows_no_nul_bytes(cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = make_archive({"_posts/2022-06-05-bin.md": b"---\ntitle: x\n---\n\x00\x01junk"})
    result = cli("--root", root, "show", "_posts/2022-06-05-bin.md")
    assert result.code == 1
    assert "\x00" not in result.stdout and "junk" in result.stdout
    assert "_posts/2022-06-05-bin.md:4:1: file contains NUL bytes" in result.stderr


def run_on_terminal(args: list[str], env: dict[str, str], cwd: Path) -> bytes:
    """newsctl with a pseudo-terminal as stdin and stdout; returns what reached the terminal."""
    import pty

    master, slave = pty.openpty()
    errors = cwd / "stderr.txt"
    with errors.open("wb") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "newsctl", *args], stdin=slave, stdout=slave,
                                stderr=stderr, env=env, cwd=cwd)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: every writer has closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.wait(timeout=60) == 0, errors.read_text(encoding="utf-8")
    return b"".join(chunks)


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
@pytest.mark.parametrize(("lines", "flags", "paged"), [(10, [], True), (10, ["--no-pager"], False),
                                                       (500, [], False)])
def test_pager_only_for_articles_taller_than_the_terminal(sample_archive: Path, tmp_path: Path, lines: int,
                                                          flags: list[str], paged: bool) -> None:
    paged_file = tmp_path / "paged.txt"
    env = {key: value for key, value in os.environ.items() if key not in ("NO_COLOR", "FORCE_COLOR", "MANPAGER")}
    env.update(PAGER=f"cat > {shlex.quote(str(paged_file))}", LINES=str(lines), COLUMNS="80", TERM="xterm")
    screen = run_on_terminal(["--root", str(sample_archive), "show", POST, *flags], env, tmp_path)
    if paged:
        paged_text = paged_file.read_text(encoding="utf-8")
        assert TITLE in paged_text and "\x1b[" in paged_text  # the pager gets the styled article
        assert TITLE.encode() not in screen
    else:
        assert not paged_file.exists()
        assert TITLE.encode() in screen


def test_highlight_marks_only_the_positive_terms(cli: Cli, sample_archive: Path) -> None:
    out = show(cli, sample_archive, POST_ID, "--highlight", "注册用户 -信也科技", env=TERMINAL)
    assert re.search(r"\x1b\[[0-9;]*\b7\b[0-9;]*m注册用户", out)
    assert not any("7" in params.split(";") for params in SGR_BEFORE_MATCH.findall(out))


def test_bad_highlight_query_is_a_usage_error(cli: Cli, sample_archive: Path) -> None:
    result = cli("--root", sample_archive, "show", POST_ID, "--highlight", '"信也')
    assert (result.code, result.stdout) == (2, "")
    assert result.stderr.startswith("newsctl: error: unterminated quote")


def odd_real_posts(corpus: Path) -> list[str]:
    """The real posts the corpus manifest notes something unusual about, and one per footer style."""
    chosen: dict[str, str] = {}
    for row in (corpus / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        path, _, _, notes = row.split("\t")
        kinds = [note.split("(")[0] for note in notes.split(";")]
        for kind in kinds:
            if not kind.startswith(("same_news", "near_duplicate", "duplicate_body", "date_no_tz")):
                chosen.setdefault(kind, path)  # Typer's per-call start-up dominates: one post per kind
    return sorted(set(chosen.values()))


def test_odd_real_posts_can_be_shown(cli: Cli, shared_corpus: Path) -> None:
    posts = odd_real_posts(shared_corpus)
    assert len(posts) >= 5
    for path in posts:
        result = cli("--root", shared_corpus, "show", path)
        assert result.code == 0, (path, result)
        assert f"Path: {path}" in result.stdout and "返回首页" not in result.stdout, (path, result)
