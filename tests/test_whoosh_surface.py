"""The Whoosh APIs newsctl relies on (docs/dependencies.md lists them, each with its test here), and
the promise that the index is a genuine Whoosh index: Whoosh alone opens a multi-segment index
built by the CLI, parses queries with its own MultifieldParser and finds what `newsctl search`
finds; its readers' statistics work across segments; a plain Whoosh writer cannot break it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli, post_text
from test_index import MARX, found, index

INDEX = Path(".newsctl") / "index"
ANALYSED = {"title_words", "body_words", "title_ngrams", "body_ngrams"}
# Whoosh's default syntax and newsctl's agree on these: words, "phrases", AND, OR, NOT, ( ), field:value.
QUERIES = ["马克思", "马", "经济", "数字 经济", '"数字经济"', '"数字 经济"', "雪豹 OR 马克思", "经济 NOT 马克思",
           "(数字 OR 雪豹) AND 经济", "政治经济学", "中", "祁连山雪豹", "tags:雪豹", "GDP", "经济 tags:东财滚动新闻",
           "白鲟 OR 长江", "NOT 经济", "无此词语"]
EXTRA_POSTS = {
    "2022-06-10-xuebao.md": ("雪豹现身祁连山 数字经济新观察", "祁连山的雪豹再次出现在红外相机里。数字 经济也被提及。"),
    "2022-06-11-baixun.md": ("长江白鲟的消息", "长江里已多年不见白鲟。GDP 与马克思无关。"),
}


def add_posts(root: Path) -> None:
    for name, (title, body) in EXTRA_POSTS.items():
        (root / "_posts" / name).write_text(post_text(title=title, body=body, tag="雪豹" if "雪豹" in title else "x",
                                                      date="2022-06-10 08:00:00 +0800"), encoding="utf-8")


@pytest.fixture
def two_segments(cli: Cli, sample_archive: Path) -> Path:
    """The sample archive indexed, two posts added, indexed again: an index of two segments."""
    index(cli, sample_archive)
    add_posts(sample_archive)
    index(cli, sample_archive)
    state = json.loads(next((sample_archive / INDEX).glob("newsctl-state-*.json")).read_text())
    assert len(state["segments"]) == 2
    return sample_archive


def whoosh_alone(code: str, index_dir: Path) -> Any:
    """Run `code` in a fresh interpreter that imports Whoosh and not newsctl (unpickling the TOC
    imports newsctl.engine.codec by reference, as it does for any Whoosh user); its JSON result."""
    prelude = ("import json, sys\nfrom whoosh.index import open_dir\n"
               f"ix = open_dir({str(index_dir)!r}, indexname='MAIN')\n")
    result = subprocess.run([sys.executable, "-c", prelude + code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def newsctl_paths(cli: Cli, root: Path, query: str) -> list[str]:
    result = cli("--root", root, "search", query, "--format", "json", "--limit", "0", "--absolute")
    assert result.code in (0, 1), result
    return sorted(Path(r["path"]).relative_to(root).as_posix() for r in json.loads(result.stdout)["results"])


# ---- the held-out promise --------------------------------------------------------------------------

def test_whoosh_multifield_parser_finds_what_newsctl_search_finds(cli: Cli, two_segments: Path) -> None:
    code = f"""
from whoosh.qparser import MultifieldParser
fields = sorted(n for n, f in ix.schema.items() if f.analyzer is not None and f.scorable)
parser = MultifieldParser(fields, ix.schema)
with ix.searcher() as searcher:
    hits = {{q: sorted(h["path"] for h in searcher.search(parser.parse(q), limit=None)) for q in {QUERIES!r}}}
print(json.dumps({{"fields": fields, "hits": hits}}))
"""
    answer = whoosh_alone(code, two_segments / INDEX)
    assert set(answer["fields"]) == ANALYSED
    for query in QUERIES:
        assert answer["hits"][query] == newsctl_paths(cli, two_segments, query), query
    assert answer["hits"]["马克思"] == sorted([MARX, "_posts/2022-06-11-baixun.md"])
    assert answer["hits"]["tags:雪豹"] == ["_posts/2022-06-10-xuebao.md"]
    assert answer["hits"]["无此词语"] == []


def test_a_query_parser_over_one_field_matches_substrings(two_segments: Path) -> None:
    code = """
from whoosh.qparser import QueryParser
parser = QueryParser("title_ngrams", ix.schema)
with ix.searcher() as searcher:
    print(json.dumps(sorted(h["path"] for h in searcher.search(parser.parse("白鲟"), limit=None))))
"""
    assert whoosh_alone(code, two_segments / INDEX) == ["_posts/2022-06-11-baixun.md"]


# ---- each API newsctl relies on --------------------------------------------------------------------

def test_reader_statistics_work_across_segments(two_segments: Path) -> None:
    """MultiReader combines the codec's TermInfo (it needs their first and last document numbers)."""
    code = """
with ix.reader() as reader:
    info = reader.term_info("body_ngrams", "雪豹")
    print(json.dumps({"segments": len(ix._segments()), "df": info.doc_frequency(),
                      "weight": info.weight(), "ids": [info.min_id(), info.max_id()],
                      "prefix": [t.decode() for t, _ in reader.iter_prefix("body_ngrams", "雪")],
                      "frequent": [t.decode() for _, t in reader.most_frequent_terms("tags", 3)],
                      "doc_frequency": reader.doc_frequency("body_words", "白鲟"),
                      "count": reader.doc_count()}))
"""
    answer = whoosh_alone(code, two_segments / INDEX)
    assert answer["segments"] == 2 and answer["count"] == 38
    assert answer["df"] >= 1 and answer["weight"] >= answer["df"] and answer["ids"][0] <= answer["ids"][1] < 38
    assert "雪豹" in answer["prefix"] and all(term.startswith("雪") for term in answer["prefix"])
    assert answer["frequent"][0] == "东财滚动新闻" and answer["doc_frequency"] == 1


def test_stored_fields_lengths_and_the_date_column(cli: Cli, two_segments: Path) -> None:
    """W3Codec's per-document files: stored fields, field lengths, the sortable date column."""
    code = """
from whoosh import query
with ix.searcher() as searcher:
    hit = searcher.search(query.Term("id", "202205202384621162"))[0]
    by_date = [h["path"] for h in searcher.search(query.Every(), sortedby="date", limit=None)]
    print(json.dumps({"stored": dict(hit.fields()), "length": searcher.doc_field_length(hit.docnum, "title_words"),
                      "by_date": by_date}))
"""
    answer = whoosh_alone(code, two_segments / INDEX)
    assert answer["stored"]["path"] == MARX and answer["stored"]["title"].startswith("政治经济学")
    assert answer["stored"]["date_text"].startswith("2022-05-20") and answer["length"] > 0
    oldest_first = cli("--root", two_segments, "search", "的 OR NOT 的", "--sort", "date", "--limit", "0",
                       "--format", "paths", "--absolute").stdout.split()
    assert answer["by_date"][0] == Path(oldest_first[0]).relative_to(two_segments).as_posix()


def test_phrase_sequence_and_prefix_queries_use_the_codecs_matcher(two_segments: Path) -> None:
    """ArrayMatcher (a ListMatcher) serves Term, Phrase (positions), Prefix and Sequence queries."""
    code = """
from whoosh import query
field = ix.schema["body_ngrams"]
with ix.searcher() as searcher:
    def paths(q):
        return sorted(h["path"] for h in searcher.search(q, limit=None))
    print(json.dumps({"phrase": paths(query.Phrase("body_ngrams", ["马克", "克思"])),
                      "sequence": paths(field.parse_query("body_ngrams", "数字 经")),
                      "sequence_type": type(field.parse_query("body_ngrams", "数字 经")).__name__,
                      "prefix_type": type(field.parse_query("body_ngrams", "马")).__name__,
                      "value": paths(ix.schema["tags"].parse_query("tags", "雪豹")),
                      "quoted_value": list(ix.schema["tags"].process_text("ＡＩ 雪豹"))}))
"""
    answer = whoosh_alone(code, two_segments / INDEX)
    assert answer["phrase"] == sorted([MARX, "_posts/2022-06-11-baixun.md"])
    assert answer["sequence_type"] == "Sequence" and answer["prefix_type"] == "Prefix"
    assert "_posts/2022-06-10-xuebao.md" in answer["sequence"]
    assert answer["value"] == ["_posts/2022-06-10-xuebao.md"]
    assert answer["quoted_value"] == ["ai 雪豹"]  # what the phrase plugin asks of a field without analyzer


def test_the_analyzers_give_newsctls_token_streams() -> None:
    from newsctl.analysis import ngram_tokens, normalize, query_ngrams, word_tokens
    from newsctl.engine.codec import build_schema

    schema = build_schema()
    text = "雪豹現身祁連山，ＧＤＰ增長"
    norm = normalize(text)
    ngrams = [(t.text, t.pos, t.startchar, t.endchar) for t in schema["body_ngrams"].analyzer(
        text, positions=True, chars=True, mode="index")]
    assert ngrams == [(term, pos, start, end) for pos, (term, start, end) in enumerate(ngram_tokens(norm))]
    assert [t.text for t in schema["body_words"].analyzer(text, mode="index")] == [t[0] for t in word_tokens(norm)]
    assert [t.text for t in schema["body_ngrams"].analyzer(text, mode="query")] == query_ngrams(norm)
    assert [t.text for t in schema["body_words"].analyzer(f" {text} ", mode="query")] == [norm]
    assert [term for term, *_ in schema["tags"].index(["科技", "ＡＩ", "科技"])] == ["科技".encode(), b"ai"]


def test_a_plain_whoosh_writer_commit_is_refused_and_the_index_still_works(cli: Cli, two_segments: Path) -> None:
    index_dir = two_segments / INDEX
    before = sorted(p.name for p in index_dir.iterdir())
    code = """
writer = ix.writer()
writer.add_document(path="_posts/x.md", id="x", title="白鲟", body_ngrams="长江白鲟", tags=["鱼"])
try:
    writer.commit()
except Exception as exc:
    writer.cancel()
    print(json.dumps([type(exc).__name__, str(exc)]))
else:
    print(json.dumps(None))
"""
    refused = whoosh_alone(code, index_dir)
    assert refused is not None and refused[0] == "ForeignWriteRefused" and "newsctl index" in refused[1]
    after = sorted(p.name for p in index_dir.iterdir())
    orphans = set(after) - set(before)  # the refused writer's own segment, in no TOC
    assert set(before) <= set(after) and all(name.endswith(".seg") for name in orphans)
    assert found(cli, two_segments, "白鲟") == ["_posts/2022-06-11-baixun.md"]
    assert "0 read" in index(cli, two_segments)
    (two_segments / "_posts/2022-06-12-later.md").write_text(post_text(title="后来", body="鲥鱼。"), encoding="utf-8")
    index(cli, two_segments)  # a commit of newsctl's removes what no TOC lists
    assert not orphans & {p.name for p in index_dir.iterdir()}
    assert found(cli, two_segments, "鲥鱼") == ["_posts/2022-06-12-later.md"]


def test_a_whoosh_writer_holds_off_newsctl_index(cli: Cli, two_segments: Path) -> None:
    """The same lock file (MAIN_WRITELOCK), flock()ed by both."""
    from whoosh.index import open_dir

    writer = open_dir(str(two_segments / INDEX), indexname="MAIN").writer()
    try:
        busy = cli("--root", two_segments, "index", "--wait", "0.2")
        assert busy.code == 1 and "another `newsctl index`" in busy.stderr
    finally:
        writer.cancel()
    assert "0 read" in index(cli, two_segments)


def test_an_index_of_the_previous_format_is_rebuilt_with_a_message(cli: Cli, two_segments: Path) -> None:
    """Format 2 (before the analyzers) named its classes newsctl.index.*: it is refused, then rebuilt."""
    state_file = next((two_segments / INDEX).glob("newsctl-state-*.json"))
    state = json.loads(state_file.read_text())
    state["format"] = 2
    state_file.write_text(json.dumps(state))
    refused = cli("--root", two_segments, "search", "马克思")
    assert refused.code == 1 and "format 2" in refused.stderr and "run `newsctl index`" in refused.stderr
    assert "rebuilt the index (the index format changed (2 -> 4))" in index(cli, two_segments)
    assert found(cli, two_segments, "马克思") == sorted([MARX, "_posts/2022-06-11-baixun.md"])
