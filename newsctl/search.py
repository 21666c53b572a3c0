"""`newsctl search`: the query language, filters, snippets and highlights.

The query is parsed here into the engine-neutral nodes of `newsctl.query` (TextQuery,
ValueQuery, AllOf, AnyOf, NotQuery), which runs them over the index files. Snippets come
from the files of the shown results only. See docs/search.md.

Grammar (AND binds tighter than OR; both are case-sensitive keywords):

    query   := or_expr
    or_expr := and_expr ("OR" and_expr)*
    and_expr:= unary (["AND"] unary)*
    unary   := ("-" | "NOT") unary | primary
    primary := "(" or_expr ")" | [field ":"] (word | "quoted phrase")
    field   := title | tag | category | stock   (also tags, categories, stocks)
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from newsctl.analysis import normalize
from newsctl.config import Settings
from newsctl.errors import UsageError
from newsctl.query import (
    AllOf,
    AnyOf,
    Filters,
    Hit,
    NotQuery,
    QueryNode,
    SearchIndex,
    TextQuery,
    ValueQuery,
)

MAX_NESTING = 100  # parentheses and NOTs inside each other (the parser recurses)
SNIPPET_CHARS = 120  # characters of body text shown around the first match
SNIPPET_LEAD = 30  # of which, at most this many before it


class QueryError(UsageError):
    """A query that cannot be parsed; the message names the column."""


@dataclass
class SearchOptions:
    query: str
    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    stocks: list[str] = field(default_factory=list)
    since: str | None = None
    until: str | None = None
    sort: str = "relevance"  # relevance, date, -date
    limit: int = 20  # 0: all
    offset: int = 0
    output: str = "plain"  # table, plain, json, jsonl, paths
    absolute: bool = False
    update: bool = False


# ---- lexer ----------------------------------------------------------------------------------------

FIELD_NAMES = {"title": "title", "tag": "tags", "tags": "tags", "category": "categories",
               "categories": "categories", "stock": "stocks", "stocks": "stocks"}
_FIELD_PREFIX = re.compile(r"(?P<name>[A-Za-z]+):")
_WORD_END = re.compile(r'[\s"()]')


@dataclass(frozen=True)
class Lexeme:
    kind: str  # word, phrase, lparen, rparen, or, and, not, minus, field
    text: str
    column: int  # 1-based, in the query as given


def tokenize_query(query: str) -> list[Lexeme]:
    lexemes: list[Lexeme] = []
    i = 0
    while i < len(query):
        char = query[i]
        if char.isspace():
            i += 1
        elif char in "()":
            lexemes.append(Lexeme("lparen" if char == "(" else "rparen", char, i + 1))
            i += 1
        elif char == '"':
            text, i = _read_phrase(query, i)
            lexemes.append(Lexeme("phrase", text, i + 1 - len(text)))
        elif char == "-" and (i + 1 < len(query) and not query[i + 1].isspace()):
            lexemes.append(Lexeme("minus", "-", i + 1))
            i += 1
        else:
            field_match = _FIELD_PREFIX.match(query, i)
            if field_match and field_match["name"].lower() in FIELD_NAMES:
                lexemes.append(Lexeme("field", FIELD_NAMES[field_match["name"].lower()], i + 1))
                i = field_match.end()
                continue
            lexemes.append(_word(query, i))
            i += len(lexemes[-1].text)
    return lexemes


def _read_phrase(query: str, start: int) -> tuple[str, int]:
    """The text between double quotes (backslash escapes the next character); returns (text, end)."""
    chars: list[str] = []
    i = start + 1
    while i < len(query):
        char = query[i]
        if char == "\\" and i + 1 < len(query):
            chars.append(query[i + 1])
            i += 2
        elif char == '"':
            if not "".join(chars).strip():
                raise QueryError(f"empty phrase at column {start + 1}")
            return "".join(chars), i + 1
        else:
            chars.append(char)
            i += 1
    raise QueryError(f"unterminated quote: the '\"' at column {start + 1} is never closed")


def _word(query: str, start: int) -> Lexeme:
    end_match = _WORD_END.search(query, start)
    end = end_match.start() if end_match else len(query)
    text = query[start:end]
    kind = {"OR": "or", "AND": "and", "NOT": "not"}.get(text, "word")
    return Lexeme(kind, text, start + 1)


# ---- parser ---------------------------------------------------------------------------------------

class _Parser:
    def __init__(self, query: str) -> None:
        self.lexemes = tokenize_query(query)
        self.at = 0
        self.end_column = len(query) + 1
        self.depth = 0

    def peek(self) -> Lexeme | None:
        return self.lexemes[self.at] if self.at < len(self.lexemes) else None

    def take(self) -> Lexeme:
        lexeme = self.lexemes[self.at]
        self.at += 1
        return lexeme

    def parse(self) -> QueryNode:
        if not self.lexemes:
            raise QueryError("empty query: give at least one word")
        node = self.or_expr()
        extra = self.peek()
        if extra is not None:  # only a stray ")" stops or_expr early
            raise QueryError(f"unmatched ')' at column {extra.column}")
        return node

    def or_expr(self) -> QueryNode:
        parts = [self.and_expr()]
        while (lexeme := self.peek()) is not None and lexeme.kind == "or":
            self.take()
            self._need_operand(lexeme)
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else AnyOf(tuple(parts))

    def and_expr(self) -> QueryNode:
        parts = [self.unary()]
        while (lexeme := self.peek()) is not None and lexeme.kind not in ("or", "rparen"):
            if lexeme.kind == "and":
                self.take()
                self._need_operand(lexeme)
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else AllOf(tuple(parts))

    def unary(self) -> QueryNode:
        lexeme = self.peek()
        if lexeme is None:
            raise QueryError(f"the query ends where a term is expected (column {self.end_column})")
        if lexeme.kind in ("minus", "not"):
            self.take()
            self._need_operand(lexeme)
            with self._nested(lexeme):
                return NotQuery(self.unary())
        return self.primary()

    @contextmanager
    def _nested(self, lexeme: Lexeme) -> Iterator[None]:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise QueryError(f"the query nests more than {MAX_NESTING} levels deep at column {lexeme.column}")
        yield
        self.depth -= 1

    def primary(self) -> QueryNode:
        lexeme = self.take()
        if lexeme.kind == "lparen":
            if (inner := self.peek()) is not None and inner.kind == "rparen":
                raise QueryError(f"empty parentheses at column {lexeme.column}")
            with self._nested(lexeme):
                node = self.or_expr()
            closing = self.peek()
            if closing is None or closing.kind != "rparen":
                raise QueryError(f"unclosed '(' at column {lexeme.column}")
            self.take()
            return node
        if lexeme.kind == "field":
            return self.field_value(lexeme)
        if lexeme.kind in ("word", "phrase"):
            return TextQuery(lexeme.text)
        if lexeme.kind == "rparen":
            raise QueryError(f"unmatched ')' at column {lexeme.column}")
        raise QueryError(f"'{lexeme.text}' at column {lexeme.column} needs a term before it")

    def field_value(self, prefix: Lexeme) -> QueryNode:
        value = self.peek()
        name = next(k for k, v in FIELD_NAMES.items() if v == prefix.text)
        if value is None or value.kind not in ("word", "phrase", "or", "and", "not"):
            raise QueryError(f"'{name}:' at column {prefix.column} needs a value right after the colon")
        self.take()
        if prefix.text == "title":
            return TextQuery(value.text, title_only=True)
        return ValueQuery(prefix.text, value.text)

    def _need_operand(self, operator: Lexeme) -> None:
        following = self.peek()
        if following is None or following.kind in ("or", "and", "rparen"):
            raise QueryError(f"'{operator.text}' at column {operator.column} needs a term after it")


def parse_query(query: str) -> QueryNode:
    """The query as index nodes; raises QueryError (a UsageError) that names the column."""
    return _Parser(query).parse()


# ---- highlighting ---------------------------------------------------------------------------------

def positive_strings(node: QueryNode) -> list[str]:
    """The normalised strings a matching post contains (negated parts and field values excluded)."""
    found: dict[str, None] = {}

    def walk(part: QueryNode) -> None:
        if isinstance(part, TextQuery):
            text = normalize(part.text).strip()
            if text:
                found[text] = None
        elif isinstance(part, (AllOf, AnyOf)):
            for child in part.parts:
                walk(child)

    walk(node)
    return sorted(found, key=len, reverse=True)


def spans_of(strings: list[str], text: str) -> list[tuple[int, int]]:
    """Where any of `strings` (normalised) occurs in `text`: merged, non-overlapping, in order.

    Every occurrence of every string is found (not only the tokens an analyzer picked), so
    a query for 马克思 marks all three characters; touching or overlapping spans merge.
    `normalize` keeps lengths, so the offsets apply to the original text.
    """
    if not strings or not text:
        return []
    norm = normalize(text)
    found: list[tuple[int, int]] = []
    for string in strings:
        if any(ch.isspace() for ch in string):
            pattern = re.compile(r"\s+".join(re.escape(piece) for piece in string.split()))
            found += [m.span() for m in pattern.finditer(norm)]
        else:
            found += _occurrences(norm, string)
    return _merge(found)


def _occurrences(text: str, string: str) -> Iterator[tuple[int, int]]:
    start = text.find(string)
    while start >= 0:
        yield start, start + len(string)
        start = text.find(string, start + 1)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def highlight_spans(text: str, query: str) -> list[tuple[int, int]]:
    """Character spans of `text` to highlight for `query` (for `show --highlight`)."""
    return spans_of(positive_strings(parse_query(query)), text)


def make_snippet(text: str, strings: list[str]) -> tuple[str, list[tuple[int, int]]]:
    """About SNIPPET_CHARS characters of `text` around its longest first match, on one line."""
    flat = " ".join(text.split())
    spans = spans_of(strings, flat)
    if not spans:
        return _clip(flat, 0), []
    first = max(spans, key=lambda span: (span[1] - span[0], -span[0]))
    start = max(0, min(first[0] - SNIPPET_LEAD, len(flat) - SNIPPET_CHARS))
    snippet = _clip(flat, start)
    return snippet, spans_of(strings, snippet)


def _clip(text: str, start: int) -> str:
    end = start + SNIPPET_CHARS
    return ("…" if start > 0 else "") + text[start:end] + ("…" if end < len(text) else "")


# ---- dates ----------------------------------------------------------------------------------------

_RELATIVE = re.compile(r"^(\d+)\s*([hdwmy])$")
_RELATIVE_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1),
                   "m": timedelta(days=30), "y": timedelta(days=365)}
_DATE_ONLY = re.compile(r"^\s*\d{4}-\d{1,2}-\d{1,2}\s*$")


def parse_when(value: str, option: str, settings: Settings, now: datetime | None = None) -> datetime:
    """--since/--until: a date or time (taken in the archive zone), or 7d, 2w, 12h, 3m, 1y ago.

    A bare date given to --until means the end of that day (the day is included).
    """
    from newsctl.post import parse_date

    now = now or datetime.now(settings.tz)
    relative = _RELATIVE.match(value.strip().lower())
    if relative:
        try:
            return now - int(relative[1]) * _RELATIVE_UNITS[relative[2]]
        except (OverflowError, ValueError):
            raise UsageError(f"{option}: {value!r} reaches back before the year 1") from None
    moment = parse_date(value)
    if moment is None:
        raise UsageError(f"{option}: cannot read {value!r} as a date "
                         "(use 2022-06-01, '2022-06-01 12:00', or 7d, 2w, 12h, 3m, 1y)")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=settings.tz)
    if option == "--until" and _DATE_ONLY.match(value):
        moment += timedelta(days=1, microseconds=-1)
    return moment


# ---- the command ----------------------------------------------------------------------------------

def run_search(settings: Settings, options: SearchOptions) -> int:
    from newsctl.render.results import print_paths, print_results

    node = parse_query(options.query)
    filters = Filters(categories=options.categories, tags=options.tags, stocks=options.stocks,
                      since=parse_when(options.since, "--since", settings) if options.since else None,
                      until=parse_when(options.until, "--until", settings) if options.until else None)
    if options.update:
        from newsctl.index import IndexOptions, update_index  # the writer: Whoosh, jieba, YAML

        update_index(settings, IndexOptions(quiet=True))
    with SearchIndex(settings) as index:
        if index.stale:
            _warn(f"the index is out of date ({index.stale}); run `newsctl index`, or search with --update")
        hits = index.run(node, filters, options.sort, options.limit or None, options.offset)
        show_path = _path_shower(settings.root, options.absolute)
        if options.output == "paths":
            paths = [show_path(rel) for rel in hits.paths()]
            print_paths(paths)
            return 0 if paths else 1
        records = [_record(hit, show_path, node, settings.root) for hit in hits.hits()]
    print_results(records, options.output, query=options.query, total=hits.total, offset=options.offset,
                  limit=options.limit, sort=options.sort)
    return 0 if records else 1


def _warn(message: str) -> None:
    import sys

    print(f"newsctl: warning: {message}", file=sys.stderr)


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
    snippet, snippet_spans = make_snippet(_body_text(root / hit.path), strings)
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


def _body_text(path: Path) -> str:
    """The plain text of a result's post (read now: the index keeps no body text)."""
    from newsctl.post import read_post
    from newsctl.text import extract

    post = read_post(path)
    return extract(post.body).text if post.body and post.ok else ""
