"""Queries over the index files, without Whoosh: engine-neutral query nodes (built by
engine.querylang from the user's query), matching as set algebra over the decoded posting arrays
(C-level) with Python work only per candidate document, BM25F ranking, and look-up by id.
See docs/search.md."""

from __future__ import annotations

import math
import struct
import time
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain, repeat
from operator import add, itemgetter, mul, rshift
from pathlib import Path
from typing import Any, Literal

from newsctl.analysis import normalize, query_ngrams
from newsctl.config import Settings
from newsctl.discovery import iter_post_paths
from newsctl.engine.postings import SINGLE, DamagedFile, Postings
from newsctl.engine.store import (
    VALUE_FIELDS,
    IndexMissing,
    SegmentView,
    State,
    latest_generation,
    read_state,
    stale_reason,
    unusable_reason,
)
from newsctl.errors import NewsctlError

TITLE_BOOST = 10.0  # BM25F weight of a title occurrence: posts with the query in the title come first
BM25_K1, BM25_B = 1.2, 0.75
MAX_WORD_CHARS = 6  # longest query substring looked up as a jieba word for ranking
MAX_WORD_LOOKUPS = 200  # distinct substrings looked up per query string (bounds a pasted paragraph)

# ---- query nodes (querylang builds them from the user's query) ---------------------------------------

@dataclass(frozen=True)
class TextQuery:
    """A string that must occur in the title or body text (or in the title only)."""

    text: str
    title_only: bool = False


@dataclass(frozen=True)
class ValueQuery:
    """An exact value of categories, tags or stocks (compared normalised)."""

    field: str
    value: str


@dataclass(frozen=True)
class AllOf:
    parts: tuple[QueryNode, ...]


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[QueryNode, ...]


@dataclass(frozen=True)
class NotQuery:
    part: QueryNode


QueryNode = TextQuery | ValueQuery | AllOf | AnyOf | NotQuery
SortOrder = Literal["relevance", "date", "-date"]  # BM25F then newest; oldest first; newest first


@dataclass
class Filters:
    categories: list[str] = field(default_factory=list)  # any of them
    tags: list[str] = field(default_factory=list)
    stocks: list[str] = field(default_factory=list)
    since: datetime | None = None
    until: datetime | None = None
    status: list[str] = field(default_factory=list)  # ["published"]: what Jekyll publishes only


@dataclass
class Hit:
    path: str  # relative to the archive root
    id: str
    title: str
    date: str  # ISO 8601 with zone
    categories: list[str]
    tags: list[str]
    stocks: list[str]
    score: float


@dataclass
class _Item:
    """One ranking signal of a query string: the string itself (exact occurrences) or a word in it."""

    title: list[Any]  # per segment: doc -> frequency in the title (a dict, or a word's Postings)
    body: list[Any]
    df: int  # documents that hold it (title and body counted apart: an upper bound)
    idf: float = 0.0


class Hits:
    """Ranked matches; records are read only for the page asked for."""

    def __init__(self, total: int, page: list[tuple[float, SegmentView, int]]) -> None:
        self.total = total
        self.page = page

    def paths(self) -> list[str]:
        """The page's paths: a segment with many of them decodes all its paths in one call."""
        counts = Counter(map(itemgetter(1), self.page))
        whole = {segment for segment, count in counts.items() if 8 * count > segment.side.doc_count}
        return [segment.side.paths[docnum] if segment in whole else segment.side.path(docnum)
                for _, segment, docnum in self.page]

    def hits(self) -> list[Hit]:
        found = []
        for score, segment, docnum in self.page:
            record = segment.side.record(docnum)
            found.append(Hit(path=segment.side.path(docnum), id=record["id"], title=record["title"],
                             date=record["date"], categories=record["categories"], tags=record["tags"],
                             stocks=record["stocks"], score=round(score, 4)))
        return found


@contextmanager
def _damage_as_missing(index_dir: Path) -> Iterator[None]:
    """Unreadable index files (a disk error, junk written over them) become one clear message (exit 4);
    a file that fails its checksums says which (DamagedFile)."""
    try:
        yield
    except DamagedFile:
        raise
    except (OSError, ValueError, IndexError, KeyError, TypeError, struct.error) as exc:
        raise IndexMissing(f"the index in {index_dir} is damaged ({type(exc).__name__}: {exc}): "
                           "run `newsctl index` to repair it") from exc


class SearchIndex:
    """The latest generation of the index, open for queries; it never blocks or waits for a writer."""

    def __init__(self, settings: Settings) -> None:
        index_dir = settings.index_path
        if latest_generation(index_dir) < 0:
            raise IndexMissing(f"no index yet in {index_dir}: run `newsctl index` first (or search with --update)")
        state = self._read_state(index_dir)
        unusable = unusable_reason(state)
        if unusable:
            raise IndexMissing(f"{unusable}: run `newsctl index` to rebuild it (or search with --update)")
        self.stale = stale_reason(settings, state)
        with _damage_as_missing(index_dir):
            self.segments = [SegmentView(index_dir, info) for info in state.segments]
        self.live_count = max(1, sum(s.doc_count - len(s.deleted) for s in self.segments))
        self.index_dir = index_dir

    @staticmethod
    def _read_state(index_dir: Path) -> State:
        for _ in range(5):  # a writer may commit between the listing and the read
            state = read_state(index_dir, latest_generation(index_dir))
            if state is not None:
                return state
            time.sleep(0.05)
        raise IndexMissing(f"the index in {index_dir} is damaged (it has no state file): "
                           "run `newsctl index` to repair it")

    def __enter__(self) -> SearchIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.segments = []

    # -- matching

    def run(self, node: QueryNode, filters: Filters, sort: SortOrder, limit: int | None, offset: int) -> Hits:
        """Matching posts, ranked (`relevance`: BM25F, then newest) or by date (`date`, `-date`)."""
        with _damage_as_missing(self.index_dir):
            return self._run(node, filters, sort, limit, offset)

    def _run(self, node: QueryNode, filters: Filters, sort: SortOrder, limit: int | None, offset: int) -> Hits:
        evidence: dict[TextQuery, tuple[list[dict[int, int]], list[dict[int, int]]]] = {}
        matches = [self._filtered(index, self._match(node, index, evidence), filters)
                   for index in range(len(self.segments))]
        ranked: list[tuple[float, int, int, int]] = []  # sort keys first: plain tuple comparison
        if sort == "relevance":
            positive = [n for n in dict.fromkeys(_positive_texts(node)) if n in evidence]
            for index, scores in enumerate(self._scores(matches, positive, evidence)):
                dates = self.segments[index].side.dates
                ranked += [(-score, -dates[d], index, d) for d, score in scores.items()]
            ranked.sort()
        else:
            sign = -1 if sort == "-date" else 1
            for index, docs in enumerate(matches):
                dates = self.segments[index].side.dates
                ranked += [(0.0, sign * dates[d], index, d) for d in docs]
            ranked.sort()
        page = ranked[offset:offset + limit if limit else None]
        return Hits(len(ranked), [(-key or 0.0, self.segments[index], docnum) for key, _, index, docnum in page])

    def _match(self, node: QueryNode, index: int, evidence: dict[Any, Any]) -> set[int]:
        segment = self.segments[index]
        if isinstance(node, TextQuery):
            title, body = self._text(node, index, evidence)
            return set(title).union(body)
        if isinstance(node, ValueQuery):
            postings = segment.postings(node.field, normalize(node.value))
            return set(postings.ids) if postings else set()
        if isinstance(node, AnyOf):
            return set().union(*(self._match(part, index, evidence) for part in node.parts))
        if isinstance(node, NotQuery):
            return segment.live() - self._match(node.part, index, evidence)
        positive = [self._match(p, index, evidence) for p in node.parts if not isinstance(p, NotQuery)]
        docs = set.intersection(*sorted(positive, key=len)) if positive else segment.live()
        for part in node.parts:
            if isinstance(part, NotQuery) and docs:
                docs -= self._match(part.part, index, evidence)
        return docs

    def _text(self, node: TextQuery, index: int, evidence: dict[Any, Any]) -> tuple[dict[int, int], dict[int, int]]:
        """Documents where the string occurs: doc -> occurrences, in the title and in the body."""
        if node not in evidence:
            evidence[node] = ([], [])
            norm = normalize(node.text).strip()
            terms = query_ngrams(norm)
            prefix_last = bool(norm) and len(norm.split()[-1]) == 1
            for segment in self.segments:
                evidence[node][0].append(_phrase(segment, "title_ngrams", terms, prefix_last))
                evidence[node][1].append({} if node.title_only else
                                         _phrase(segment, "body_ngrams", terms, prefix_last))
        titles, bodies = evidence[node]
        return titles[index], bodies[index]

    def _filtered(self, index: int, docs: set[int], filters: Filters) -> set[int]:
        segment = self.segments[index]
        docs -= segment.deleted
        for name in VALUE_FIELDS:
            values = getattr(filters, name)
            if values and docs:
                allowed: set[int] = set()
                for value in values:
                    postings = segment.postings(name, normalize(value))
                    allowed.update(postings.ids if postings else ())
                docs &= allowed
        if (filters.since or filters.until) and docs:
            low = int(filters.since.timestamp()) if filters.since else -(1 << 62)
            high = int(filters.until.timestamp()) if filters.until else 1 << 62
            dates = segment.side.dates
            docs = {d for d in docs if low <= dates[d] <= high}
        return docs

    # -- ranking

    def _scores(self, matches: list[set[int]], positive: list[TextQuery],
                evidence: dict[Any, Any]) -> list[dict[int, float]]:
        """BM25F over each query string and the jieba words inside it; a title occurrence weighs
        TITLE_BOOST body occurrences. Strings under NOT are not scored."""
        scores: list[dict[int, float]] = [dict.fromkeys(docs, 0.0) for docs in matches]
        if not any(matches):
            return scores
        items = [item for node in positive for item in self._items(node, evidence[node])]
        docs_total = sum(s.side.doc_count for s in self.segments) or 1
        avg_title = max(1.0, sum(s.side.title_total for s in self.segments) / docs_total)
        avg_body = max(1.0, sum(s.side.body_total for s in self.segments) / docs_total)
        for index, docs in enumerate(matches):
            side, score = self.segments[index].side, scores[index]
            title_len, body_len = side.title_lengths, side.body_lengths
            title_norm, body_norm, flat = BM25_B / avg_title, BM25_B / avg_body, 1 - BM25_B
            for item in items:
                weights = {doc: freq / (flat + body_norm * body_len[doc])
                           for doc, freq in _frequencies_in(item.body[index], docs).items()}
                for doc, freq in _frequencies_in(item.title[index], docs).items():
                    weights[doc] = weights.get(doc, 0.0) + TITLE_BOOST * freq / (flat + title_norm * title_len[doc])
                saturation, idf = BM25_K1 + 1, item.idf
                for doc, weight in weights.items():
                    score[doc] += idf * weight * saturation / (BM25_K1 + weight)
        return scores

    def _items(self, node: TextQuery, phrase: tuple[list[dict[int, int]], list[dict[int, int]]]) -> list[_Item]:
        """The string's own occurrences, then each indexed jieba word inside it (the words jieba's
        search mode found at index time: no segmenter, and no dictionary load, at query time)."""
        titles, bodies = phrase
        items = [_Item(titles, bodies, sum(max(len(t), len(b)) for t, b in zip(titles, bodies, strict=True)))]
        norm = normalize(node.text).strip()
        for word in _substrings(norm):
            if word == norm:
                continue  # already counted exactly above
            body = [None if node.title_only else s.postings("body_words", word) for s in self.segments]
            if not node.title_only and not any(body):
                continue  # not a word of any body (looking it up in the titles is not worth it)
            title = [s.postings("title_words", word) for s in self.segments]
            df = sum(max(len(t.ids) if t else 0, len(b.ids) if b else 0) for t, b in zip(title, body, strict=True))
            if df:
                items.append(_Item(title, body, df))
        for item in items:
            item.idf = math.log(1 + (self.live_count - item.df + 0.5) / (item.df + 0.5))
        return items


def _frequencies_in(source: dict[int, int] | Postings | None, docs: set[int]) -> dict[int, int]:
    """doc -> frequency for the documents of `docs` that `source` holds."""
    if not source:
        return {}
    if isinstance(source, dict):
        if len(source) <= len(docs):
            return {doc: freq for doc, freq in source.items() if doc in docs}
        return {doc: source[doc] for doc in docs if doc in source}
    if 8 * len(docs) >= len(source.ids):
        return _frequencies_in(source.frequencies(), docs)
    found, ids, weights = {}, source.ids, source.weights
    for doc in docs:  # few documents, a long list: binary searches
        at = bisect_left(ids, doc)
        if at < len(ids) and ids[at] == doc:
            found[doc] = weights[at] if weights else 1
    return found


def _positive_texts(node: QueryNode) -> list[TextQuery]:
    """The strings a match contains: those not under a NOT."""
    if isinstance(node, TextQuery):
        return [node]
    if isinstance(node, (AllOf, AnyOf)):
        return [text for part in node.parts for text in _positive_texts(part)]
    return []


def _substrings(norm: str) -> list[str]:
    """The distinct substrings of 2..MAX_WORD_CHARS characters (or a lone character), at most
    MAX_WORD_LOOKUPS of them: the candidates for jieba words inside a query string."""
    found: dict[str, None] = {}
    for segment in norm.split():
        if len(segment) == 1:
            found[segment] = None
        for start in range(len(segment)):
            for end in range(min(len(segment), start + MAX_WORD_CHARS), start + 1, -1):
                found[segment[start:end]] = None
                if len(found) >= MAX_WORD_LOOKUPS:
                    return list(found)
    return list(found)


def _phrase(segment: SegmentView, fieldname: str, terms: list[str], prefix_last: bool) -> dict[int, int]:
    """doc -> occurrences of the consecutive `terms` in a bigram field (the last term as a prefix
    when `prefix_last`). Set intersections first; then positions, either per candidate document
    (few candidates) or as one intersection of (document, start) keys (C-level, many candidates)."""
    if not terms:
        return {}
    slots = [[segment.postings(fieldname, t)] for t in terms[:-1]]
    if prefix_last:
        slots.append([segment.postings(fieldname, t) for t in segment.expand_prefix(fieldname, terms[-1])])
    else:
        slots.append([segment.postings(fieldname, terms[-1])])
    lists = [[p for p in slot if p is not None] for slot in slots]
    if not all(lists):
        return {}
    if len(lists) == 1:
        if len(lists[0]) == 1:
            return lists[0][0].frequencies()
        return dict.fromkeys(set().union(*(p.ids for p in lists[0])), 1)
    slot_docs = [p[0].doc_set() if len(p) == 1 else set().union(*(q.ids for q in p)) for p in lists]
    candidates = set.intersection(*sorted(slot_docs, key=len))
    postings_total = sum(len(p.ids) for slot in lists for p in slot)
    if len(candidates) * CANDIDATE_COST < postings_total:
        return _phrase_per_candidate(lists, candidates)
    return _phrase_by_keys(lists) if candidates else {}


CANDIDATE_COST = 8  # a candidate checked in Python costs about as much as this many postings in C


def _phrase_per_candidate(lists: list[list[Postings]], candidates: set[int]) -> dict[int, int]:
    found = {}
    for doc in candidates:
        starts: set[int] | None = None
        for offset, slot in enumerate(lists):
            here = {pos - offset for postings in slot for pos in (postings.positions_of(doc) or ())}
            starts = here if starts is None else starts & here
            if not starts:
                break
        if starts:
            found[doc] = len(starts)
    return found


def _phrase_by_keys(lists: list[list[Postings]]) -> dict[int, int]:
    """Each slot's postings as keys doc << 32 | (position + distance to the last slot): a phrase
    start is a key present in every slot. Built with map/zip chains, so no bytecode per posting."""
    starts: set[int] | None = None
    last = len(lists) - 1
    for offset, slot in enumerate(lists):
        keys: set[int] = set()
        for postings in slot:
            assert postings.positions is not None
            ids: Iterable[int] = postings.ids if postings.weights is None else \
                chain.from_iterable(map(repeat, postings.ids, postings.weights))
            keys.update(map(add, map(mul, ids, repeat(SINGLE)), map(add, postings.positions, repeat(last - offset))))
        starts = keys if starts is None else starts & keys
    return dict(Counter(map(rshift, starts or (), repeat(32))))


def find_post_path(settings: Settings, post_id: str) -> Path | None:
    """The file of a post id: through the index when there is one, else by file name."""
    found = find_post_paths(settings, post_id)
    return found[0] if found else None


def find_post_paths(settings: Settings, post_id: str) -> list[Path]:
    """Every file of a post id (an id the archive holds twice has two), in path order: through the
    index when it knows the id, else by file name."""
    try:
        index = SearchIndex(settings)
    except NewsctlError:
        index = None
    if index is not None and post_id.encode("utf-8", "surrogatepass").decode("utf-8", "ignore") == post_id:
        try:
            found = sorted(segment.side.path(docnum) for segment in index.segments
                           for docnum in _ids_of(segment, post_id) if docnum not in segment.deleted)
        except NewsctlError:  # a damaged index: the file names still tell
            found = []
        existing = [settings.root / rel for rel in dict.fromkeys(found) if (settings.root / rel).is_file()]
        if existing:
            return existing
    suffix = f"-{post_id}.md"
    return sorted(path for path in iter_post_paths(settings) if path.name.endswith(suffix))


def _ids_of(segment: SegmentView, post_id: str) -> Sequence[int]:
    postings = segment.postings("id", post_id)
    return postings.ids if postings else ()
