"""`newsctl search` on the indexed sample archive: what is found, in which order, and how it is printed.

The sample archive is copied and indexed once per module; each test searches it through the CLI.
Expected posts come from tests/data/sample_facts.json (substring matches over the posts' text).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import REPO, SAMPLE_POSTS, Cli

FACTS = json.loads((REPO / "tests" / "data" / "sample_facts.json").read_text(encoding="utf-8"))["facts"]
ALL_POSTS = json.loads((REPO / "tests" / "data" / "sample_facts.json").read_text(encoding="utf-8"))["post_paths"]


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("search") / "archive"
    shutil.copytree(SAMPLE_POSTS, root, ignore=shutil.ignore_patterns(".newsctl"))
    result = Cli()("--root", root, "index", "--quiet")
    assert result.code == 0, result
    return root


@pytest.fixture
def in_archive(indexed: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from the archive root, so that printed paths are root-relative."""
    monkeypatch.chdir(indexed)
    return indexed


def paths(cli: Cli, *query: str) -> list[str]:
    result = cli("search", *query, "--format", "paths", "--limit", "0")
    assert result.code in (0, 1), result
    assert (result.code == 0) == bool(result.stdout), result
    return result.stdout.splitlines()


def search_json(cli: Cli, *args: str) -> dict:
    result = cli("search", *args, "--format", "json")
    assert result.code in (0, 1), result
    return json.loads(result.stdout)


# ---- what is found ------------------------------------------------------------------------------

@pytest.mark.parametrize("string", sorted(FACTS))
def test_every_post_holding_the_string_is_found_and_no_other(cli: Cli, in_archive: Path, string: str) -> None:
    assert sorted(paths(cli, string)) == sorted(FACTS[string]["paths"])


def test_posts_with_the_query_in_the_title_come_first(cli: Cli, in_archive: Path) -> None:
    for string in ("信也科技", "马克"):
        found = paths(cli, string)
        in_title = set(FACTS[string]["in_title"])
        assert in_title and set(found[:len(in_title)]) == in_title, (string, found)


def test_traditional_query_finds_simplified_text(cli: Cli, in_archive: Path) -> None:
    assert sorted(paths(cli, "資金流入")) == sorted(FACTS["资金流入"]["paths"])
    assert sorted(paths(cli, "創歷史新低")) == sorted(FACTS["创历史新低"]["paths"])


def test_full_width_and_upper_case_queries_match(cli: Cli, in_archive: Path) -> None:
    assert sorted(paths(cli, "２０２２ｑ１")) == sorted(FACTS["2022Q1"]["paths"])
    assert sorted(paths(cli, "hfo-1234YF")) == sorted(FACTS["HFO-1234yf"]["paths"])


def test_strings_across_word_boundaries_are_found(cli: Cli, in_archive: Path) -> None:
    """Spans that start or end inside a jieba word (what word-based engines miss)."""
    from newsctl.analysis import normalize, word_tokens

    first = json.loads(cli("search", "title:创历史新低", "--format", "jsonl").stdout.splitlines()[0])
    post, title = first["path"], normalize(first["title"])
    cuts = {edge for _, start, end in word_tokens(title) for edge in (start, end)}
    spans = [title[i:j] for i in range(len(title)) for j in range(i + 2, min(i + 6, len(title)) + 1)
             if (i not in cuts or j not in cuts) and not any(c.isspace() for c in title[i:j])]
    assert len(spans) > 10
    for span in spans:
        assert post in paths(cli, f'"{span}"'), span


def test_a_single_character_is_found_wherever_it_stands(cli: Cli, in_archive: Path) -> None:
    found = set(paths(cli, "茅"))  # only in 贵州茅台
    assert found == set(FACTS["贵州茅台"]["paths"])


# ---- the query language --------------------------------------------------------------------------

def test_minus_and_not_exclude(cli: Cli, in_archive: Path) -> None:
    expected = FACTS["马克"]["without_马克思"]
    assert paths(cli, "马克", "-马克思") == expected
    assert paths(cli, "马克 NOT 马克思") == expected


def test_only_negative_terms_list_every_other_post(cli: Cli, in_archive: Path) -> None:
    assert sorted(paths(cli, "-信也科技")) == sorted(set(ALL_POSTS) - set(FACTS["信也科技"]["paths"]))


def test_words_are_and_by_default_or_on_request(cli: Cli, in_archive: Path) -> None:
    both = set(FACTS["贵州茅台"]["paths"]) & set(FACTS["资金流入"]["paths"])
    assert set(paths(cli, "贵州茅台", "资金流入")) == both
    assert set(paths(cli, "贵州茅台 AND 资金流入")) == both
    either = set(FACTS["马克思"]["paths"]) | set(FACTS["HFO-1234yf"]["paths"])
    assert set(paths(cli, "马克思 OR HFO-1234yf")) == either


def test_parentheses_group(cli: Cli, in_archive: Path) -> None:
    expected = (set(FACTS["马克思"]["paths"]) | set(FACTS["2022Q1"]["paths"])) - set(FACTS["信也科技"]["paths"])
    assert set(paths(cli, "(马克思 OR 2022Q1) -信也科技")) == expected


def test_quoted_phrase_is_one_exact_string(cli: Cli, in_archive: Path) -> None:
    assert paths(cli, '"贵州茅台(600519)"') and set(paths(cli, '"贵州茅台(600519)"')) <= set(FACTS["600519"]["paths"])
    assert paths(cli, '"茅台贵州"') == []  # the words, in another order, are not the phrase


def test_field_prefixes(cli: Cli, in_archive: Path) -> None:
    assert sorted(paths(cli, "title:信也科技")) == sorted(FACTS["信也科技"]["in_title"])
    assert set(paths(cli, "tag:每日经济新闻新闻")) == {p for p in ALL_POSTS if _meta(in_archive, p, "tags") ==
                                                      "每日经济新闻新闻"}
    assert len(paths(cli, "category:emnews")) == 15
    assert set(paths(cli, "stock:600519")) == set(FACTS["600519"]["paths"])
    assert set(paths(cli, "马克 category:xinhuashe")) == set(FACTS["马克思"]["paths"])


def _meta(root: Path, rel: str, key: str) -> str:
    for line in (root / rel).read_text(encoding="utf-8").splitlines()[1:]:
        if line.startswith(f"{key}:"):
            return line.split(":", 1)[1].strip()
    return ""


# ---- filters, order, paging ----------------------------------------------------------------------

def test_category_tag_and_stock_filters(cli: Cli, in_archive: Path) -> None:
    assert len(paths(cli, "-zzzz", "--category", "emnews")) == 15
    assert len(paths(cli, "-zzzz", "--category", "emnews", "--category", "xinhuashe")) == 21
    assert set(paths(cli, "-zzzz", "--tag", "新华社新闻")) == set(paths(cli, "-zzzz", "--category", "xinhuashe"))
    assert set(paths(cli, "-zzzz", "--stock", "600519.SH")) == set(FACTS["600519"]["paths"])


def test_date_filters_are_inclusive_days_in_the_archive_zone(cli: Cli, in_archive: Path) -> None:
    june = [p for p in ALL_POSTS if p.startswith("_posts/")]
    assert sorted(paths(cli, "-zzzz", "--since", "2022-06-01")) == sorted(june)
    assert sorted(paths(cli, "-zzzz", "--since", "2022-06-01", "--until", "2022-06-01")) == \
        sorted(p for p in june if "2022-06-01-" in p)
    assert paths(cli, "-zzzz", "--since", "30000d") and paths(cli, "-zzzz", "--since", "1d") == []


def test_sort_by_date(cli: Cli, in_archive: Path) -> None:
    oldest = search_json(cli, "-zzzz", "--sort", "date", "--limit", "0")["results"]
    newest = search_json(cli, "-zzzz", "--sort", "-date", "--limit", "0")["results"]
    dates = [r["date"] for r in oldest]
    assert dates == sorted(dates) and len(dates) == len(ALL_POSTS)
    assert [r["date"] for r in newest] == sorted(dates, reverse=True)


def test_limit_and_offset_page_through_the_ranking(cli: Cli, in_archive: Path) -> None:
    everything = paths(cli, "信")
    assert len(everything) > 4
    pages = [cli("search", "信", "--format", "paths", "--limit", "2", "--offset", str(n)).stdout.splitlines()
             for n in range(0, len(everything), 2)]
    assert [p for page in pages for p in page] == everything
    assert cli("search", "信", "--format", "paths", "--offset", "1000").code == 1
    assert len(cli("search", "-zzzz", "--format", "paths").stdout.splitlines()) == 20  # the default limit


# ---- output formats -----------------------------------------------------------------------------

def test_json_schema(cli: Cli, in_archive: Path) -> None:
    data = search_json(cli, "信也科技", "--limit", "3")
    assert {k: data[k] for k in ("query", "total", "offset", "limit", "sort")} == \
        {"query": "信也科技", "total": 4, "offset": 0, "limit": 3, "sort": "relevance"}
    assert len(data["results"]) == 3
    for result in data["results"]:
        assert set(result) == {"id", "path", "title", "date", "categories", "tags", "stocks", "score", "snippet",
                               "highlights"}
        assert result["path"].endswith(f"-{result['id']}.md") and (in_archive / result["path"]).is_file()
        assert result["date"][10] == "T" and result["date"][-6:] == "+08:00"
        assert isinstance(result["score"], float) and result["score"] > 0
        assert all(isinstance(v, list) for v in (result["categories"], result["tags"], result["stocks"]))
        for name in ("title", "snippet"):
            for start, end in result["highlights"][name]:
                assert result[name][start:end] == "信也科技"
        assert result["highlights"]["snippet"]
    scores = [r["score"] for r in data["results"]]
    assert scores == sorted(scores, reverse=True)


def test_jsonl_is_one_result_object_per_line(cli: Cli, in_archive: Path) -> None:
    lines = cli("search", "马克", "--format", "jsonl").stdout.splitlines()
    assert [json.loads(line)["path"] for line in lines] == paths(cli, "马克")


def test_paths_are_relative_to_the_working_directory_or_absolute(cli: Cli, indexed: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(indexed / "_posts")
    relative = cli("--root", indexed, "search", "马克思", "--format", "paths").stdout.splitlines()
    assert [os.path.normpath(indexed / "_posts" / p) for p in relative] == \
        [str(indexed / p) for p in FACTS["马克思"]["paths"]]
    absolute = cli("--root", indexed, "search", "马克思", "--format", "paths", "--absolute").stdout.splitlines()
    assert absolute == [str(indexed / p) for p in FACTS["马克思"]["paths"]]


def test_plain_is_one_block_per_result_without_colour(cli: Cli, in_archive: Path) -> None:
    out = cli("search", "马克").stdout  # piped: plain by default
    blocks = [b for b in out.split("\n\n") if b.strip()]
    assert len(blocks) == 2 and "\x1b" not in out
    first = blocks[0].splitlines()
    assert first[0].startswith("1. 2022-05-24  北海资本策略师马克")
    assert first[1].strip().startswith(FACTS["马克"]["in_title"][0])
    assert "马克" in first[2]


def test_table_shows_rank_date_title_snippet_categories_path(cli: Cli, in_archive: Path) -> None:
    out = cli("search", "马克思", "--format", "table", env={"COLUMNS": "200"}).stdout
    assert "2022-05-20" in out and "xinhuashe" in out and "马克思主义" in out
    assert "old_post/2022-05-20-202205202384621162.md" in out and "1–1 of 1" in out


# ---- exit codes and messages -----------------------------------------------------------------------

def test_exit_codes(cli: Cli, in_archive: Path) -> None:
    assert cli("search", "信也科技").code == 0
    assert cli("search", "没有这个词组").code == 1


@pytest.mark.parametrize(("query", "message"), [
    ("(信也", "unclosed '(' at column 1"),
    ("信也)", "unmatched ')' at column 3"),
    ('信也 "科技', "the '\"' at column 4 is never closed"),
    ("信也 OR", "'OR' at column 4 needs a term after it"),
    ("OR 信也", "'OR' at column 1 needs a term before it"),
    ("title:", "'title:' at column 1 needs a value"),
    ('""', "empty phrase at column 1"),
    ("()", "empty parentheses at column 1"),
    ("   ", "empty query"),
])
def test_unparsable_query_is_one_line_naming_the_column(cli: Cli, in_archive: Path, query: str,
                                                         message: str) -> None:
    result = cli("search", "--", query)
    assert result.code == 2
    assert result.stderr.strip().count("\n") == 0 and message in result.stderr, result


def test_bad_dates_are_usage_errors(cli: Cli, in_archive: Path) -> None:
    for option, value in (("--since", "yesterday-ish"), ("--until", "2022-13-45"), ("--since", "9" * 300 + "d")):
        result = cli("search", "信也", option, value)
        assert result.code == 2 and option in result.stderr, result


# ---- the API used by `show --highlight` -----------------------------------------------------------

def test_highlight_spans_prefers_the_longest_match_and_merges() -> None:
    from newsctl.engine.searcher import highlight_spans

    text = "马克思主义与马克的观点；马克思"
    assert highlight_spans(text, "马克") == [(0, 2), (6, 8), (12, 14)]
    assert highlight_spans(text, "马克思") == [(0, 3), (12, 15)]
    assert highlight_spans(text, "马克 OR 马克思") == [(0, 3), (6, 8), (12, 15)]
    assert highlight_spans(text, "思主 马克") == [(0, 4), (6, 8), (12, 14)]  # overlapping: merged
    assert highlight_spans(text, "马克 -马克思") == [(0, 2), (6, 8), (12, 14)]  # negated: not marked


def test_highlight_spans_apply_to_the_original_text() -> None:
    from newsctl.engine.searcher import highlight_spans

    text = "資金流入ＡＢＣ創歷史新低"
    assert [text[a:b] for a, b in highlight_spans(text, "资金流入 abc 创历史新低")] == ["資金流入ＡＢＣ創歷史新低"]


def test_parse_query_errors_are_usage_errors() -> None:
    from newsctl.engine.querylang import QueryError, parse_query
    from newsctl.errors import UsageError

    assert issubclass(QueryError, UsageError)
    with pytest.raises(QueryError, match="column 4"):
        parse_query("信也 (科技")
