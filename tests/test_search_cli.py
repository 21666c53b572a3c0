"""`newsctl search` end to end: the sample archive (indexed once per module) through the real CLI.

Expected result sets come from tests/data/sample_facts.json or are computed here from the posts'
own text (title + newsctl.text.extract(body).text, normalised), never from the index.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, SAMPLE_POSTS, Cli, post_text, run_newsctl

from newsctl.analysis import normalize, word_tokens
from newsctl.post import read_post
from newsctl.text import extract

FACTS = json.loads((REPO / "tests" / "data" / "sample_facts.json").read_text(encoding="utf-8"))
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
ISO_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$")
RESULT_KEYS = {"id", "path", "title", "date", "categories", "tags", "stocks", "score", "snippet", "highlights"}
CHINA = timezone(timedelta(hours=8))


def fact(string: str) -> set[str]:
    return set(FACTS["facts"][string]["paths"])


@cache
def sample_texts() -> dict[str, tuple[str, str]]:
    """Root-relative path -> (normalised title, normalised body text) of every sample post."""
    texts: dict[str, tuple[str, str]] = {}
    for rel in FACTS["post_paths"]:
        post = read_post(SAMPLE_POSTS / rel)
        texts[rel] = (normalize(post.title or ""), normalize(extract(post.body).text))
    return texts


def containing(string: str) -> set[str]:
    """The sample posts whose title or body text holds `string` (normalised)."""
    needle = normalize(string)
    return {rel for rel, (title, body) in sample_texts().items() if needle in title or needle in body}


def copy_samples(target: Path) -> Path:
    shutil.copytree(SAMPLE_POSTS, target, ignore=shutil.ignore_patterns(".newsctl"))
    return target


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One indexed copy of sample_posts for the read-only tests of this module."""
    root = copy_samples(tmp_path_factory.mktemp("search") / "archive")
    result = Cli()("--root", root, "index", "--quiet")
    assert result.code == 0, result
    return root


class Searcher:
    def __init__(self, root: Path) -> None:
        self.root, self.cli = root, Cli()

    def __call__(self, *args: str) -> Any:
        return self.cli("--root", self.root, "search", *args)

    def paths(self, *args: str) -> list[str]:
        """Root-relative result paths in order (--format paths --absolute; --limit 0 unless given)."""
        extra = () if "--limit" in args else ("--limit", "0")
        result = self(*args, *extra, "--format", "paths", "--absolute")
        assert result.code in (0, 1), result
        assert (result.code == 0) == bool(result.stdout.strip()), result
        return [Path(line).relative_to(self.root).as_posix() for line in result.stdout.splitlines()]

    def found(self, *args: str) -> set[str]:
        found = self.paths(*args)
        assert len(found) == len(set(found)), f"duplicate results: {found}"
        return set(found)

    def json(self, *args: str) -> dict[str, Any]:
        """The JSON output, with result paths made root-relative (--absolute)."""
        result = self(*args, "--format", "json", "--absolute")
        assert result.code in (0, 1), result
        data: dict[str, Any] = json.loads(result.stdout)
        for record in data["results"]:
            record["path"] = Path(record["path"]).relative_to(self.root).as_posix()
        return data


@pytest.fixture(scope="module")
def search(indexed: Path) -> Searcher:
    return Searcher(indexed)


# ---- what is found -------------------------------------------------------------------------------

@pytest.mark.parametrize("string", sorted(FACTS["facts"]))
def test_each_fact_string_finds_exactly_its_posts(search: Searcher, string: str) -> None:
    assert search.found(string) == fact(string)


@pytest.mark.parametrize("string", [s for s, f in sorted(FACTS["facts"].items())
                                    if f["in_title"] and set(f["in_title"]) != set(f["paths"])])
def test_title_matches_rank_before_body_only_matches(search: Searcher, string: str) -> None:
    in_title = set(FACTS["facts"][string]["in_title"])
    ranked = search.paths(string)
    assert set(ranked[:len(in_title)]) == in_title, ranked


def test_traditional_query_finds_the_simplified_posts(search: Searcher) -> None:
    assert search.found("資金流入") == fact("资金流入") == search.found("资金流入")


def test_full_width_and_upper_case_query_is_normalised(search: Searcher) -> None:
    assert search.found("２０２２Ｑ１") == fact("2022Q1")


@pytest.mark.parametrize("rel", ["_posts/2022-06-01-202206012398184598.md",
                                 "old_post/2022-05-20-202205202384621162.md",
                                 "old_post/2022-05-30-NW202205302395910183.md"])
def test_substrings_across_word_boundaries_are_found(search: Searcher, rel: str) -> None:
    body = sample_texts()[rel][1]
    tokens = word_tokens(body)
    boundaries = {start for _, start, _ in tokens} | {end for _, _, end in tokens}
    rng = random.Random(rel)
    windows: list[str] = []
    while len(windows) < 8:
        size = rng.randint(3, 6)
        start = rng.randrange(0, len(body) - size)
        end = start + size
        window = body[start:end]
        inner_cut = any(start < b < end for b in boundaries)
        aligned = start in boundaries and end in boundaries
        if inner_cut and not aligned and all(ch.isalnum() for ch in window):
            windows.append(window)
    for window in windows:
        found = search.found(f'"{window}"')
        assert rel in found, window
        assert found == containing(window), window


@pytest.mark.parametrize(("query", "fact_key"), [("2022Q1", "2022Q1"), ("2022q1", "2022Q1"),
                                                 ("HFO-1234yf", "HFO-1234yf"), ("hfo-1234YF", "HFO-1234yf"),
                                                 ("600519", "600519")])
def test_ascii_and_digit_queries(search: Searcher, query: str, fact_key: str) -> None:
    assert search.found(query) == fact(fact_key)


def test_ascii_case_does_not_matter(search: Searcher) -> None:
    expected = containing("nio")
    assert expected, "the samples mention NIO"
    assert search.found("nio") == search.found("NIO") == search.found("Nio") == expected


def test_partial_ascii_word_does_not_leak_into_other_posts(search: Searcher) -> None:
    assert search.found("1234yf") == fact("HFO-1234yf")


def test_no_match_exits_1_with_empty_output(search: Searcher) -> None:
    result = search("鲸鱼迁徙观测站", "--format", "paths")
    assert (result.code, result.stdout) == (1, "")


# ---- highlights ----------------------------------------------------------------------------------

def spans_text(record: dict[str, Any], part: str) -> list[str]:
    text = record["title"] if part == "title" else record["snippet"]
    return [text[a:b] for a, b in record["highlights"][part]]


def test_highlight_of_marx_covers_three_characters(search: Searcher) -> None:
    (record,) = search.json("马克思")["results"]
    assert spans_text(record, "snippet") == ["马克思"]
    assert all(b - a == 3 for a, b in record["highlights"]["snippet"])


def test_highlight_of_shorter_query_covers_only_its_characters(search: Searcher) -> None:
    records = {r["path"]: r for r in search.json("马克")["results"]}
    assert set(records) == fact("马克")
    marx_post = records[next(iter(fact("马克思")))]
    assert spans_text(marx_post, "snippet") == ["马克"]
    title_post = records[FACTS["facts"]["马克"]["in_title"][0]]
    assert spans_text(title_post, "title") == ["马克"]


def test_overlapping_query_strings_merge_into_the_longest_span(search: Searcher) -> None:
    (record,) = search.json("马克 马克思")["results"]
    assert spans_text(record, "snippet") == ["马克思"]


@pytest.mark.parametrize("string", sorted(FACTS["facts"]))
def test_every_highlight_is_the_query_and_title_highlights_match_the_facts(search: Searcher, string: str) -> None:
    data = search.json(string, "--limit", "0")
    needle = normalize(string)
    titled = set()
    for record in data["results"]:
        assert record["highlights"]["snippet"], record
        for part in ("title", "snippet"):
            assert all(normalize(piece) == needle for piece in spans_text(record, part)), record
        if record["highlights"]["title"]:
            titled.add(record["path"])
    assert titled == set(FACTS["facts"][string]["in_title"])


def test_traditional_query_highlights_the_simplified_text(search: Searcher) -> None:
    for record in search.json("資金流入")["results"]:
        assert spans_text(record, "snippet") == ["资金流入"]


# ---- operators -----------------------------------------------------------------------------------

def test_words_are_anded_by_default(search: Searcher) -> None:
    expected = containing("信也科技") & containing("一季度")
    assert expected and expected != containing("信也科技")
    assert search.found("信也科技", "一季度") == search.found("信也科技 AND 一季度") == expected


def test_or(search: Searcher) -> None:
    assert search.found("信也科技 OR 马克思") == fact("信也科技") | fact("马克思")


@pytest.mark.parametrize("negation", ["-一季度", "NOT 一季度"])
def test_negation(search: Searcher, negation: str) -> None:
    expected = containing("信也科技") - containing("一季度")
    assert expected and expected != containing("信也科技")
    assert search.found(f"信也科技 {negation}") == expected


def test_exact_phrase_is_narrower_than_its_words(search: Searcher) -> None:
    words = containing("科技") & containing("公司")
    phrase = containing("科技公司")
    assert phrase and phrase < words, "sample posts no longer show the difference"
    assert search.found("科技 公司") == words
    assert search.found('"科技公司"') == phrase


def test_parentheses_override_and_binding_tighter_than_or(search: Searcher) -> None:
    grouped = (fact("信也科技") | fact("马克思")) & containing("一季度")
    ungrouped = fact("信也科技") | (fact("马克思") & containing("一季度"))
    assert grouped != ungrouped
    assert search.found("(信也科技 OR 马克思) 一季度") == grouped
    assert search.found("信也科技 OR 马克思 一季度") == ungrouped


def test_title_prefix_only_searches_titles(search: Searcher) -> None:
    assert search.found("title:信也科技") == set(FACTS["facts"]["信也科技"]["in_title"])
    assert search.found("title:资金流入") == set()


def posts_with(attribute: str, value: str) -> set[str]:
    result = set()
    for rel in FACTS["post_paths"]:
        post = read_post(SAMPLE_POSTS / rel)
        values = {"categories": post.categories, "tags": post.tags,
                  "stocks": list(extract(post.body).stocks)}[attribute]
        if value in values:
            result.add(rel)
    return result


def test_category_and_tag_prefixes(search: Searcher) -> None:
    expected = fact("信也科技") & posts_with("categories", "emnews")
    assert expected and expected != fact("信也科技")
    assert search.found("category:emnews 信也科技") == expected
    assert search.found("信也科技", "--category", "emnews") == expected
    tagged = fact("信也科技") & posts_with("tags", "东财滚动新闻")
    assert tagged and search.found("tag:东财滚动新闻 信也科技") == tagged
    assert search.found("信也科技", "--tag", "东财滚动新闻") == tagged
    assert search.found("category:emnews") == posts_with("categories", "emnews")


def test_stock_prefix_and_filter(search: Searcher) -> None:
    holders = posts_with("stocks", "600519")
    assert holders
    assert search.found("stock:600519") == holders
    expected = fact("资金流入") & holders
    assert expected and expected != fact("资金流入")
    assert search.found("资金流入", "--stock", "600519") == expected


def test_unknown_category_finds_nothing(search: Searcher) -> None:
    assert search.found("信也科技", "--category", "no-such-category") == set()


# ---- dates, order, paging --------------------------------------------------------------------------

def post_moment(rel: str) -> datetime:
    moment = read_post(SAMPLE_POSTS / rel).date(CHINA)
    assert moment is not None
    return moment


def test_since_and_until_with_absolute_dates(search: Searcher) -> None:
    low, high = datetime(2022, 5, 26, tzinfo=CHINA), datetime(2022, 6, 2, tzinfo=CHINA)
    expected = {rel for rel in fact("信也科技") if low <= post_moment(rel) < high}
    assert expected and expected != fact("信也科技")
    assert search.found("信也科技", "--since", "2022-05-26", "--until", "2022-06-01") == expected


def test_until_includes_the_whole_day(search: Searcher) -> None:
    june_first = {rel for rel in fact("信也科技") if post_moment(rel).date().isoformat() == "2022-06-01"}
    assert june_first
    assert june_first <= search.found("信也科技", "--until", "2022-06-01")
    assert not june_first & search.found("信也科技", "--until", "2022-05-31")


def test_relative_dates(tmp_path: Path) -> None:
    root = copy_samples(tmp_path / "archive")
    now = datetime.now(CHINA)
    for days, post_id in ((3, "recent"), (10, "older")):
        moment = (now - timedelta(days=days)).replace(microsecond=0)
        text = post_text(title=f"信也科技近况{post_id}", date=moment.strftime("%Y-%m-%d %H:%M:%S +0800"),
                         body="信也科技发布最新公告。", post_id="202206012399054634")
        (root / "_posts" / f"{moment:%Y-%m-%d}-{post_id}.md").write_text(text, encoding="utf-8")
    assert Cli()("--root", root, "index", "-q").code == 0
    search = Searcher(root)
    recent, older = {p for p in search.found("信也科技") if "recent" in p}, {p for p in search.found("信也科技")
                                                                           if "older" in p}
    assert len(recent) == len(older) == 1
    assert search.found("信也科技", "--since", "7d") == recent
    assert search.found("信也科技", "--since", "2w") == recent | older
    assert search.found("信也科技", "--until", "7d") == older | fact("信也科技")
    assert search("信也科技", "--since", "1d", "--format", "paths").code == 1


def test_unreadable_date_is_a_usage_error(search: Searcher) -> None:
    result = search("信也科技", "--since", "last tuesday")
    assert result.code == 2 and "--since" in result.stderr


def test_sort_by_date_both_ways(search: Searcher) -> None:
    oldest_first = sorted(fact("信也科技"), key=post_moment)
    assert search.paths("信也科技", "--sort", "date") == oldest_first
    assert search.paths("信也科技", "--sort", "-date") == oldest_first[::-1]
    assert search.paths("信也科技", "--sort", "relevance") != oldest_first


def test_limit_offset_and_limit_zero(search: Searcher) -> None:
    everything = search.paths("信也科技", "--limit", "0")
    assert len(everything) == 4
    assert search.paths("信也科技", "--limit", "2") == everything[:2]
    assert search.paths("信也科技", "--limit", "2", "--offset", "1") == everything[1:3]
    assert search.paths("信也科技", "--limit", "0", "--offset", "3") == everything[3:]
    data = search.json("信也科技", "--limit", "2", "--offset", "1")
    assert [r["path"] for r in data["results"]] == everything[1:3]
    assert data["total"] == 4


def test_default_limit_is_20(search: Searcher) -> None:
    assert len(FACTS["post_paths"]) > 20
    data = search.json("category:emnews OR category:xinhuashe OR category:zhengquanshibao")
    assert data["total"] > 20 and len(data["results"]) == 20


# ---- output formats -----------------------------------------------------------------------------------

def test_json_schema(search: Searcher) -> None:
    data = search.json("信也科技")
    assert {"query", "total", "results"} <= set(data)
    assert data["total"] == len(data["results"]) == 4
    for record in data["results"]:
        assert set(record) == RESULT_KEYS
        post = read_post(SAMPLE_POSTS / record["path"])
        assert record["id"] == post.id and record["title"] == post.title
        assert ISO_DATE.match(record["date"]), record["date"]
        assert datetime.fromisoformat(record["date"]) == post.date(CHINA)
        assert record["categories"] == post.categories and record["tags"] == post.tags
        assert "FINV" in record["stocks"]
        assert isinstance(record["score"], (int, float)) and record["score"] > 0
        assert "\n" not in record["snippet"] and "信也科技" in record["snippet"]
        assert set(record["highlights"]) == {"title", "snippet"}
    scores = [r["score"] for r in data["results"]]
    assert scores == sorted(scores, reverse=True)


def test_json_with_no_results_is_still_json(search: Searcher) -> None:
    result = search("鲸鱼迁徙观测站", "--format", "json")
    assert result.code == 1
    assert json.loads(result.stdout)["results"] == []


def test_jsonl_is_one_object_per_line(search: Searcher) -> None:
    result = search("信也科技", "--format", "jsonl")
    lines = result.stdout.splitlines()
    assert result.code == 0 and len(lines) == 4
    records = [json.loads(line) for line in lines]
    assert all(set(record) == RESULT_KEYS for record in records)
    assert [r["id"] for r in records] == [r["id"] for r in search.json("信也科技")["results"]]


def test_paths_are_relative_to_the_working_directory(indexed: Path) -> None:
    expected = sorted(fact("信也科技"))
    for cwd in (indexed, indexed.parent, indexed / "old_post"):
        run = run_newsctl("--root", indexed, "search", "信也科技", "--format", "paths", cwd=cwd)
        assert run.returncode == 0, run.stderr
        shown = run.stdout.decode().splitlines()
        assert all(not os.path.isabs(line) for line in shown), shown
        assert sorted(Path(os.path.normpath(cwd / line)).relative_to(indexed).as_posix()
                      for line in shown) == expected


def test_absolute_paths(indexed: Path, tmp_path: Path) -> None:
    run = run_newsctl("--root", indexed, "search", "信也科技", "--format", "paths", "--absolute", cwd=tmp_path)
    shown = run.stdout.decode().splitlines()
    assert run.returncode == 0 and all(os.path.isabs(line) and Path(line).is_file() for line in shown)
    data = json.loads(run_newsctl("--root", indexed, "search", "信也科技", "--format", "json", "--absolute",
                                  cwd=tmp_path).stdout)
    assert all(os.path.isabs(r["path"]) for r in data["results"])


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("FORCE_COLOR", "NO_COLOR", "CLICOLOR_FORCE", "COLUMNS", "TERM")}
    env.update(extra)
    return env


def test_piped_default_is_plain_without_ansi(indexed: Path) -> None:
    run = run_newsctl("--root", indexed, "search", "信也科技", cwd=indexed, env=clean_env())
    out = run.stdout.decode()
    assert run.returncode == 0, run.stderr
    assert "\x1b" not in out
    for rel in fact("信也科技"):
        assert read_post(SAMPLE_POSTS / rel).title in out and rel in out
    assert out.lstrip().startswith("1.")


def test_table_format_shows_titles(indexed: Path) -> None:
    env = clean_env(FORCE_COLOR="1", COLUMNS="200", TERM="xterm-256color")
    run = run_newsctl("--root", indexed, "search", "信也科技", "--format", "table", cwd=indexed, env=env)
    assert run.returncode == 0, run.stderr
    out = run.stdout.decode()
    assert ANSI.search(out), "FORCE_COLOR asks for colour"
    plain = ANSI.sub("", out)
    for rel in fact("信也科技"):
        assert read_post(SAMPLE_POSTS / rel).title in plain


# ---- errors, missing and stale index -------------------------------------------------------------------

@pytest.mark.parametrize("query", ['"信也科技', "(信也科技", "信也科技)", "信也科技 OR", "title:", '""'])
def test_unparsable_query_exits_2_with_one_line(search: Searcher, query: str) -> None:
    result = search(query)
    assert result.code == 2, result
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("newsctl: error:"), result
    assert result.stdout == ""


def test_quoted_operator_words_are_plain_text(search: Searcher) -> None:
    assert search.found('"OR"') == containing("or")
    assert containing("(NYSE:FINV)")
    assert search.found('"(NYSE:FINV)"') == containing("(NYSE:FINV)")


def test_no_index_says_to_run_index(tmp_path: Path) -> None:
    root = copy_samples(tmp_path / "archive")
    result = Cli()("--root", root, "search", "信也科技")
    assert result.code == 4, result  # no index: its own exit code
    assert "newsctl index" in result.stderr and result.stdout == ""
    assert len([line for line in result.stderr.splitlines() if line.strip()]) == 1


def test_stale_index_warns_and_update_finds_the_new_post(tmp_path: Path) -> None:
    root = copy_samples(tmp_path / "archive")
    cli = Cli()
    assert cli("--root", root, "index", "-q").code == 0
    (root / "_posts" / "2022-06-03-whale.md").write_text(
        post_text(title="鲸鱼迁徙观测站启用", date="2022-06-03 10:00:00 +0800", body="观测站今日启用。"),
        encoding="utf-8")
    stale = cli("--root", root, "search", "信也科技", "--format", "paths")
    assert stale.code == 0 and "newsctl index" in stale.stderr
    assert cli("--root", root, "search", "鲸鱼迁徙", "--format", "paths").code == 1
    updated = cli("--root", root, "search", "鲸鱼迁徙", "--update", "--format", "paths", "--absolute")
    assert updated.code == 0, updated
    assert [Path(p).name for p in updated.stdout.splitlines()] == ["2022-06-03-whale.md"]
    fresh = cli("--root", root, "search", "鲸鱼迁徙", "--format", "paths")
    assert fresh.code == 0 and fresh.stderr == ""
