"""Property-based tests (hypothesis): `add` round-trips any title, tags and date and `validate` is
clean; `search` finds any substring of any indexed post; `parse_query` raises only QueryError."""

from __future__ import annotations

import json
import shutil
import tempfile
import unicodedata
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import SAMPLE_POSTS
from hostile import invoke, run_bounded
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from newsctl.post import read_post

LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"  # what str.splitlines() splits on
PROPERTY_SETTINGS = settings(max_examples=50, deadline=None, derandomize=True,
                             suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                    HealthCheck.too_slow])

titles = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=80)
words = st.text(st.characters(exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp"), exclude_characters="\x85"),
                min_size=1, max_size=12).filter(lambda w: not any(c.isspace() for c in w))
zones = st.sampled_from([timezone.utc, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30)),
                         timezone(timedelta(hours=14)), timezone(timedelta(hours=-12))])
moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2025, 12, 31),
                       timezones=zones).map(lambda m: m.replace(microsecond=0))


def new_archive() -> Path:
    root = Path(tempfile.mkdtemp(prefix="newsctl-prop-"))
    (root / "_posts").mkdir()
    (root / "_config.yml").write_text("timezone: Asia/Shanghai\n", encoding="utf-8")
    return root


def add(root: Path, title: str, tags: list[str], moment: datetime) -> tuple[int, str]:
    args = ["--root", str(root), "add", "--title", title, "--date", moment.strftime("%Y-%m-%d %H:%M:%S %z"),
            "--category", "emnews", "--source-url", "http://example.com/news/1", "--body-file", "-",
            "--print-path"]
    for tag in tags:
        args += ["--tag", tag]
    run = invoke(args, input="<p>港口作业正常，航线运力稳定。</p>")
    assert "Traceback" not in run.output and "internal error" not in run.stderr, run
    return run.code, run.output


def refusable(title: str) -> bool:
    """Titles add may refuse (exit 2): blank, or holding control characters (documented)."""
    return not title.strip() or any(unicodedata.category(c) == "Cc" for c in title)


@PROPERTY_SETTINGS
@given(title=titles, tags=st.lists(words, min_size=1, max_size=4), moment=moments)
@example(title="信也科技2022Q1财报：\"科技\"赋能\\创新", tags=["东财"],
         moment=datetime(2022, 6, 1, 12, tzinfo=timezone.utc))
@example(title="- [a, b]: {c} # d & *e !f |g >h %i @j `k", tags=["a:b", "#c"],
         moment=datetime(2022, 1, 1, tzinfo=timezone.utc))
@example(title="\ufeff\u200b\u3000全角　空格\U0001F4C8\ufffd\uffff\U0010FFFF", tags=["x\u200by"],
         moment=datetime(1999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-12))))
@example(title="yes", tags=["true", "null", "123", "1e3", "~"], moment=datetime(2000, 2, 29, tzinfo=timezone.utc))
def test_add_then_parse_gives_the_same_values(title: str, tags: list[str], moment: datetime) -> None:
    root = new_archive()
    try:
        code, output = add(root, title, tags, moment)
        if any(c in LINE_BREAKS for c in title):
            assert code == 2 and "title" in output, (code, output)
            return
        if refusable(title) and code == 2:
            return
        assert code == 0, output
        [path] = list((root / "_posts").glob("*.md"))
        post = read_post(path)
        assert not post.problems, post.problems
        assert post.meta["title"] == title.strip()
        assert post.tags == list(dict.fromkeys(tags))
        assert post.date(timezone.utc) == moment
        check = invoke(["--root", root, "validate", "--strict", "--format", "concise"])
        assert check.code == 0, check
    finally:
        shutil.rmtree(root)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(title=st.text(min_size=1, max_size=20).map(lambda t: t[:5] + "\n" + t[5:]))
def test_add_refuses_titles_with_newlines(title: str) -> None:
    root = new_archive()
    try:
        code, output = add(root, title, ["东财"], datetime(2022, 6, 1, tzinfo=timezone.utc))
        assert code == 2, output
        assert not list((root / "_posts").iterdir())
    finally:
        shutil.rmtree(root)


# ---- search finds every substring ---------------------------------------------------------------

@pytest.fixture(scope="module")
def indexed_texts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[tuple[str, str]]]:
    """The indexed sample archive and, per post, (relative path, title + newline + body text)."""
    from newsctl.text import extract

    root = tmp_path_factory.mktemp("props") / "archive"
    shutil.copytree(SAMPLE_POSTS, root, ignore=shutil.ignore_patterns(".newsctl"))
    run_bounded("--root", root, "index", "--quiet", timeout=90).assert_clean(allowed=(0,))
    texts = []
    for path in sorted(root.glob("*/*.md")):
        post = read_post(path)
        texts.append((path.relative_to(root).as_posix(), post.title + "\n" + extract(post.body).text))
    return root, texts


def searchable(fragment: str) -> bool:
    """A phrase query can hold it: no double quote, and at least one letter or digit."""
    return '"' not in fragment and any(c.isalnum() for c in fragment)


@PROPERTY_SETTINGS
@given(data=st.data())
def test_search_finds_any_substring_of_an_indexed_post(indexed_texts: tuple[Path, list[tuple[str, str]]],
                                                      data: st.DataObject) -> None:
    root, texts = indexed_texts
    rel, text = data.draw(st.sampled_from(texts), label="post")
    part = data.draw(st.sampled_from(text.split("\n")).filter(lambda p: any(c.isalnum() for c in p)),
                     label="title or paragraph")
    start = data.draw(st.integers(0, len(part) - 1), label="start")
    length = data.draw(st.integers(1, min(30, len(part) - start)), label="length")
    fragment = part[start : start + length]
    if not searchable(fragment):
        return
    result = invoke(["--root", root, "search", "--format", "json", "--limit", "0", f'"{fragment}"'])
    assert result.code == 0, (fragment, result)
    found = json.loads(result.stdout)
    if isinstance(found, dict):
        found = found.get("results", [])
    assert any(str(hit["path"]).endswith(rel) for hit in found), (fragment, rel, [h["path"] for h in found])


# ---- the query parser --------------------------------------------------------------------------

query_text = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(['"', "(", ")", "OR", "AND", "NOT", "-", "title:", "tag:", "category:", "stock:",
                              "信也", "科技", "x", " ", "*", ":", "\\", "😀", "\x00", "\u3000", "ＯＲ", "（"]),
             max_size=12).map("".join),
    st.lists(st.sampled_from(['"', "(", ")", "OR", "AND", "NOT", "-", "title:", "信也", "a"]),
             max_size=12).map(" ".join),
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(query=query_text)
@example(query="(" * 5000)
@example(query="-" * 10000)
@example(query='"' * 5001)
@example(query=" ".join(["NOT"] * 3000))
def test_parse_query_raises_only_query_error(query: str) -> None:
    from newsctl.engine.querylang import QueryError, parse_query

    try:
        parse_query(query)
    except QueryError as exc:
        assert str(exc).strip()
