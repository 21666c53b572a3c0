"""Search support around the reader: filters from the options, highlight spans and snippets
(from the files of the shown results only), and --since/--until dates. See docs/search.md."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

from newsctl.analysis import normalize
from newsctl.config import Settings
from newsctl.engine.querylang import parse_query
from newsctl.engine.reader import AllOf, AnyOf, Filters, QueryNode, TextQuery
from newsctl.errors import UsageError

SNIPPET_CHARS = 120  # characters of body text shown around the first match
SNIPPET_LEAD = 30  # of which, at most this many before it


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
    from newsctl.dates import parse_date

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


def make_filters(settings: Settings, categories: list[str], tags: list[str], stocks: list[str],
                 since: str | None, until: str | None, include_unpublished: bool = False) -> Filters:
    """The filters of a search. Unless `include_unpublished`, only what Jekyll publishes now:
    no `published: false` post, no post Jekyll does not read, none dated after now (`future: false`)."""
    latest = parse_when(until, "--until", settings) if until else None
    if not include_unpublished:
        now = datetime.now(settings.tz)
        latest = now if latest is None else min(latest, now)
    return Filters(categories=categories, tags=tags, stocks=stocks,
                   since=parse_when(since, "--since", settings) if since else None,
                   until=latest, status=[] if include_unpublished else ["published"])


def body_text(path: Path) -> str:
    """The plain text of a result's post (read now: the index keeps no body text)."""
    from newsctl.post import read_post
    from newsctl.text import extract

    post = read_post(path)
    return extract(post.body).text if post.body and post.ok else ""
