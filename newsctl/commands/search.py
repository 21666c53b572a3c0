"""`newsctl search`: parse the query, (optionally) update the index, run the query, and build the
records of the page shown (docs/search.md has their JSON schema). Printing is render.results'."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from newsctl.config import Settings
from newsctl.engine.querylang import parse_query
from newsctl.engine.reader import Hit, QueryNode, SearchIndex, SortOrder
from newsctl.engine.searcher import body_text, make_filters, make_snippet, positive_strings, spans_of

SearchFormat = Literal["table", "plain", "json", "jsonl", "paths", "csv", "line"]
Record = dict[str, Any]


@dataclass
class SearchOptions:
    query: str
    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    stocks: list[str] = field(default_factory=list)
    since: str | None = None
    until: str | None = None
    sort: SortOrder = "relevance"
    limit: int = 20  # 0: all
    offset: int = 0
    output: SearchFormat = "plain"
    absolute: bool = False
    update: bool = False
    include_unpublished: bool = False  # also posts Jekyll does not publish (published: false, future, ...)


@dataclass
class SearchResult:
    """The page of results: `paths` for --format paths (no record is read), else `records`."""

    query: str
    total: int
    offset: int
    limit: int
    sort: SortOrder
    output: SearchFormat
    stale: str | None  # why the index is out of date, when it is
    paths: list[str] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 0 if self.paths or self.records else 1


def run(settings: Settings, options: SearchOptions) -> SearchResult:
    node = parse_query(options.query)
    filters = make_filters(settings, options.categories, options.tags, options.stocks, options.since,
                           options.until, options.include_unpublished)
    if options.update:
        from newsctl.engine.updater import IndexOptions, update_index  # the writer: Whoosh, jieba, YAML

        update_index(settings, IndexOptions())
    with SearchIndex(settings) as index:
        hits = index.run(node, filters, options.sort, options.limit or None, options.offset)
        result = SearchResult(options.query, hits.total, options.offset, options.limit, options.sort,
                              options.output, index.stale)
        show_path = _path_shower(settings.root, options.absolute)
        if options.output == "paths":
            result.paths = [show_path(rel) for rel in hits.paths()]
        else:
            result.records = [_record(hit, show_path, node, settings.root) for hit in hits.hits()]
    return result


def _path_shower(root: Path, absolute: bool) -> Callable[[str], str]:
    """How to print a root-relative posix path: absolute, or relative to the working directory.

    One prefix for all (os.path.relpath per result would cost more than the search).
    """
    if absolute:
        return lambda rel: str(root / rel)
    try:
        prefix = os.path.relpath(root)
    except ValueError:  # another drive (Windows)
        return lambda rel: str(root / rel)
    if prefix == "." and os.sep == "/":
        return lambda rel: rel
    prefix = "" if prefix == "." else prefix + os.sep
    return lambda rel: prefix + rel.replace("/", os.sep)


def _record(hit: Hit, show_path: Callable[[str], str], node: QueryNode, root: Path) -> dict[str, Any]:
    """One result in the documented JSON schema (docs/search.md), used by every format but paths."""
    strings = positive_strings(node)
    snippet, snippet_spans = make_snippet(body_text(root / hit.path), strings)
    return {
        "id": hit.id,
        "path": show_path(hit.path),
        "title": hit.title,
        "date": hit.date,
        "categories": hit.categories,
        "tags": hit.tags,
        "stocks": hit.stocks,
        "score": hit.score,
        "snippet": snippet,
        "highlights": {"title": [list(s) for s in spans_of(strings, hit.title)],
                       "snippet": [list(s) for s in snippet_spans]},
    }
