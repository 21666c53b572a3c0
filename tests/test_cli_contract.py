"""The CLI contract that scripts rely on (issue 13): mistyped options, negation beside options, exit
codes, unknown rule codes, `add` reporting every missing field, `show` of an id that exists twice.

Everything runs through the real CLI on real archives (CliRunner, or a real process where the exact
stderr of click's parser matters)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import REPO, SAMPLE_POSTS, Cli, post_text, run_newsctl

EXIT_NO_INDEX = 4  # "no index, or the index is unusable/damaged" (README exit-code table)
ONE_POST = ("--category", "emnews", "--tag", "东财滚动新闻", "--source-url", "https://news.example.com/a/1.html")


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("contract") / "archive"
    shutil.copytree(SAMPLE_POSTS, root, ignore=shutil.ignore_patterns(".newsctl"))
    result = Cli()("--root", root, "index", "--quiet")
    assert result.code == 0, result
    return root


def paths(root: Path, *args: str) -> list[str]:
    result = Cli()("--root", root, "search", "--limit", "0", "--format", "paths", *args)  # options first: `--`
    assert result.code in (0, 1), result
    return result.stdout.splitlines()


# ---- mistyped search options ----------------------------------------------------------------------

@pytest.mark.parametrize(("typed", "meant"), [
    (["--limt", "1"], "--limit"),
    (["--formt", "json"], "--format"),
    (["--jsno"], "--format json"),
    (["-l"], "--limit"),
    (["--sicne", "7d"], "--since"),
])
def test_a_mistyped_search_option_is_a_usage_error_with_a_suggestion(indexed: Path, typed: list[str],
                                                                    meant: str) -> None:
    proc = run_newsctl("--root", indexed, "search", "信也", *typed)
    stderr = proc.stderr.decode()
    assert proc.returncode == 2, stderr
    assert proc.stdout == b""
    assert typed[0] in stderr and meant in stderr, stderr
    assert "Traceback" not in stderr


def test_a_mistyped_option_before_the_query_is_refused_too(indexed: Path) -> None:
    proc = run_newsctl("--root", indexed, "search", "--limt", "1", "信也")
    assert proc.returncode == 2 and "--limit" in proc.stderr.decode()


def test_a_query_starting_with_a_dash_after_double_dash(indexed: Path) -> None:
    everything_but = paths(indexed, "NOT 信也")
    assert everything_but and not set(everything_but) & set(paths(indexed, "信也"))
    assert paths(indexed, "--", "-信也") == everything_but
    assert paths(indexed, "-e", "-信也") == everything_but
    assert paths(indexed, "--query", "-信也") == everything_but
    # options still work after the query given with -e, and words after `--` are query words
    assert paths(indexed, "-e", "-信也", "--category", "emnews") == paths(indexed, "NOT 信也", "--category",
                                                                          "emnews")
    assert paths(indexed, "公司", "--", "-市场") == paths(indexed, "公司 NOT 市场")


def test_negation_where_it_cannot_be_an_option_still_works(indexed: Path) -> None:
    """`-市场` cannot be an option (options are ASCII), so it stays the documented negation."""
    expected = paths(indexed, "公司 NOT 市场")
    assert expected and expected != paths(indexed, "公司")
    assert paths(indexed, "公司", "-市场") == expected
    assert paths(indexed, "公司 -市场") == expected  # one quoted argument: the query language's minus
    assert paths(indexed, "公司", '-"市场"') == expected


def test_an_ascii_negation_outside_quotes_is_an_option_error_that_says_how(indexed: Path) -> None:
    proc = run_newsctl("--root", indexed, "search", "公司", "-finv")
    stderr = proc.stderr.decode()
    assert proc.returncode == 2, stderr
    assert "--" in stderr and "-e" in stderr  # the message tells how to search for a word starting with '-'


def test_search_help_documents_negation_and_double_dash() -> None:
    result = Cli()("search", "--help")
    assert result.code == 0
    assert "-e" in result.stdout and "--query" in result.stdout
    assert "--" in result.stdout and "NOT" in result.stdout


# ---- exit codes: no index, damaged index, no results -----------------------------------------------

def test_no_index_has_its_own_exit_code(make_archive: Callable[..., Path]) -> None:
    root = make_archive({"_posts/2022-06-01-202206012399054634.md": post_text(title="没有索引的文章")})
    for command in (["search", "没有索引"], ["search", "没有索引", "--format", "json"],
                    ["search", "没有索引", "--format", "paths"], ["trend", "没有索引"]):
        result = Cli()("--root", root, *command)
        assert result.code == EXIT_NO_INDEX, (command, result)
        assert result.stdout == ""
        assert "newsctl index" in result.stderr and len(result.stderr.splitlines()) == 1, result
    assert Cli()("--root", root, "search", "没有索引", "--update", "--format", "paths").code == 0


def test_a_damaged_index_is_not_no_results(make_archive: Callable[..., Path]) -> None:
    root = make_archive({"_posts/2022-06-01-202206012399054634.md": post_text(title="索引会坏掉")})
    assert Cli()("--root", root, "index", "--quiet").code == 0
    assert Cli()("--root", root, "search", "坏掉", "--format", "paths").code == 0
    assert Cli()("--root", root, "search", "不存在的词语", "--format", "paths").code == 1  # no results: 1
    for path in (root / ".newsctl" / "index").rglob("*"):
        if path.is_file() and "lock" not in path.name.lower():
            path.write_bytes(b"\x00garbage, not an index\x00")
    proc = run_newsctl("--root", root, "search", "坏掉")
    stderr = proc.stderr.decode()
    assert proc.returncode == EXIT_NO_INDEX, stderr
    assert "newsctl index" in stderr and "Traceback" not in stderr


def test_the_readme_lists_every_exit_code() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Exit codes"):]
    rows = {int(match[1]): match[2] for match in re.finditer(r"^\| (\d+) \| (.+) \|$", table, re.MULTILINE)}
    assert set(rows) >= {0, 1, 2, 3, EXIT_NO_INDEX}
    assert "index" in rows[EXIT_NO_INDEX]
    assert "no index" not in rows[1] and "no search results" in rows[1]


# ---- rules ---------------------------------------------------------------------------------------

def test_unknown_rule_codes_are_usage_errors() -> None:
    result = Cli()("rules", "NC306", "NC999")
    assert result.code == 2, result
    assert "NC999" in result.stderr and result.stdout == ""
    assert Cli()("rules", "NC9").code == 2  # a prefix that matches no rule
    assert Cli()("rules", "NC306", "--format", "json", "NC999").code == 2
    ok = Cli()("rules", "NC306", "nc70")
    assert ok.code == 0 and "NC306" in ok.stdout and "NC701" in ok.stdout


# ---- add: every missing field at once, defaults from newsctl.toml ----------------------------------

def test_add_reports_every_missing_field_in_one_run(make_archive: Callable[..., Path]) -> None:
    root = make_archive()
    result = Cli()("--root", root, "add", "--title", "缺字段", "--date", "2022-06-01 10:00", "--body-file", "-",
                   input="正文。".encode())
    assert result.code == 2, result
    for flag in ("--category", "--tag", "--source-url"):
        assert flag in result.stderr, result
    assert list((root / "_posts").iterdir()) == []


def test_add_reports_missing_and_bad_fields_together(make_archive: Callable[..., Path]) -> None:
    root = make_archive()
    result = Cli()("--root", root, "add", "--title", "坏字段", "--id", "../x", "--source-url", "ftp://x",
                   "--body-file", "-", input="正文。".encode())
    assert result.code == 2, result
    for part in ("--id", "source URL", "--category", "--tag"):
        assert part in result.stderr, result


def test_add_defaults_come_from_newsctl_toml(make_archive: Callable[..., Path]) -> None:
    root = make_archive()
    (root / "newsctl.toml").write_text('[add]\ncategory = "emnews"\ntag = ["东财滚动新闻"]\ndest = "old_post"\n',
                                       encoding="utf-8")
    result = Cli()("--root", root, "add", "--title", "默认分类", "--date", "2022-06-01 10:00",
                   "--source-url", "https://news.example.com/a/2.html", "--body-file", "-", "--print-path",
                   input="默认值来自配置。".encode())
    assert result.code == 0, result
    path = root / result.stdout.strip()
    assert path.parent == root / "old_post"
    text = path.read_text(encoding="utf-8")
    assert "categories: emnews\n" in text and "tags: 东财滚动新闻\n" in text
    # an option given wins over the default
    result = Cli()("--root", root, "add", "--title", "显式分类", "--date", "2022-06-01 11:00", "--category",
                   "xinhuashe", "--source-url", "https://news.example.com/a/3.html", "--body-file", "-",
                   "--print-path", input="显式的分类。".encode())
    assert result.code == 0, result
    assert "categories: xinhuashe\n" in (root / result.stdout.strip()).read_text(encoding="utf-8")


def test_a_bad_add_default_names_the_key(make_archive: Callable[..., Path]) -> None:
    root = make_archive()
    (root / "newsctl.toml").write_text("[add]\ncategory = 5\n", encoding="utf-8")
    result = Cli()("--root", root, "add", "--title", "x", *ONE_POST[2:], "--body-file", "-", input=b"x")
    assert result.code == 2, result
    assert "add.category" in result.stderr or "category" in result.stderr


# ---- show of an id that exists twice ----------------------------------------------------------------

@pytest.mark.parametrize("with_index", [False, True])
def test_show_of_a_duplicate_id_warns_and_lists_every_copy(make_archive: Callable[..., Path],
                                                           with_index: bool) -> None:
    post_id = "202206012399054634"
    root = make_archive({f"_posts/2022-06-01-{post_id}.md": post_text(title="新的一份"),
                         f"old_post/2022-06-01-{post_id}.md": post_text(title="旧的一份")})
    if with_index:
        assert Cli()("--root", root, "index", "--quiet").code == 0
    result = Cli()("--root", root, "show", post_id)
    assert result.code == 0, result
    assert "warning" in result.stderr
    assert f"_posts/2022-06-01-{post_id}.md" in result.stderr
    assert f"old_post/2022-06-01-{post_id}.md" in result.stderr
    assert ("新的一份" in result.stdout) != ("旧的一份" in result.stdout)  # one of them is shown


def test_show_of_a_unique_id_says_nothing_on_stderr(make_archive: Callable[..., Path]) -> None:
    root = make_archive({"_posts/2022-06-01-202206012399054634.md": post_text(title="唯一的一份")})
    result = Cli()("--root", root, "show", "202206012399054634")
    assert (result.code, result.stderr) == (0, "")
