"""Recall and precision of substring search on the real archive (../shared; skipped without it).

Random substrings (2..8 characters) of each post's searchable text are searched in-process through
newsctl.engine.querylang.parse_query and newsctl.engine.reader.SearchIndex; every post whose normalised title or body
text holds the query must come back (recall 100%), and nearly nothing else (precision >= 98%).
"""

from __future__ import annotations

import random
import re
import unicodedata
from pathlib import Path

from conftest import Cli

from newsctl.analysis import normalize
from newsctl.config import load_settings
from newsctl.discovery import iter_post_paths
from newsctl.engine.querylang import parse_query
from newsctl.engine.reader import Filters, SearchIndex
from newsctl.post import read_post
from newsctl.text import extract

QUERIES = 300
SKIPPED_LINE = re.compile(r"^(?P<path>\S.*?): skipped", re.M)


def searchable_texts(root: Path, skipped: set[str]) -> dict[str, tuple[str, str]]:
    """Root-relative path -> (normalised title, normalised body text) of every indexed post."""
    texts: dict[str, tuple[str, str]] = {}
    for path in iter_post_paths(load_settings(root)):
        rel = path.relative_to(root).as_posix()
        if rel not in skipped:
            post = read_post(path)
            texts[rel] = (normalize(post.title or ""), normalize(extract(post.body).text))
    return texts


def is_usable(query: str) -> bool:
    """No whitespace, and not only punctuation or symbols."""
    if any(ch.isspace() for ch in query):
        return False
    return any(unicodedata.category(ch)[0] in "LN" for ch in query)


def sample_queries(texts: dict[str, tuple[str, str]], count: int) -> list[str]:
    rng = random.Random(20220601)
    sources = [text for pair in texts.values() for text in pair if len(text) >= 8]
    queries: dict[str, None] = {}
    while len(queries) < count:
        text = rng.choice(sources)
        size = rng.randint(2, 8)
        start = rng.randrange(0, len(text) - size + 1)
        query = text[start:start + size]
        if is_usable(query):
            queries[query] = None
    return list(queries)


def as_phrase(query: str) -> str:
    """The query as one quoted phrase, so that (, -, OR and : are plain text."""
    return '"' + query.replace("\\", "\\\\").replace('"', '\\"') + '"'


def test_substring_recall_and_precision_on_the_real_archive(finews_copy: Path) -> None:
    result = Cli()("--root", finews_copy, "index")
    assert result.code == 0, result
    skipped = {match["path"] for match in SKIPPED_LINE.finditer(result.stderr)}
    texts = searchable_texts(finews_copy, skipped)
    assert len(texts) >= 100
    queries = sample_queries(texts, QUERIES)
    settings = load_settings(finews_copy)
    missed: list[tuple[str, list[str]]] = []
    returned = extra = 0
    with SearchIndex(settings) as index:
        for query in queries:
            expected = {rel for rel, (title, body) in texts.items() if query in title or query in body}
            assert expected, query
            got = set(index.run(parse_query(as_phrase(query)), Filters(), "relevance", None, 0).paths())
            if expected - got:
                missed.append((query, sorted(expected - got)))
            returned += len(got)
            extra += len(got - expected)
    assert not missed, f"{len(missed)} of {len(queries)} queries missed posts: {missed[:10]}"
    precision = 1 - extra / returned
    assert precision >= 0.98, f"precision {precision:.3f}: {extra} of {returned} results lack the query"
