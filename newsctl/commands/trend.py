"""`newsctl trend QUERY`: how many posts match a query per day, ISO week or month.

The hits are the same as `newsctl search QUERY --limit 0` (same query language, same filters);
each is counted in the period of its date in the archive's zone. Periods between the first and
the last (or --since and --until) are all listed, those without hits with 0, so that a chart
shows the gaps."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from newsctl.config import Settings

Interval = Literal["day", "week", "month"]
INTERVALS: tuple[Interval, ...] = ("day", "week", "month")
AUTO_DAYS = 62  # up to about two months: one bar per day
AUTO_WEEKS_DAYS = 2 * 366  # up to two years: one bar per week; longer: per month


@dataclass(frozen=True)
class TrendOptions:
    query: str
    by: Interval | Literal["auto"] = "auto"
    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    stocks: list[str] = field(default_factory=list)
    since: str | None = None
    until: str | None = None


@dataclass(frozen=True)
class Period:
    label: str  # 2022-06-01, 2022-W22 (ISO week) or 2022-06
    start: date  # the first day of the period (a Monday for weeks)
    count: int


@dataclass(frozen=True)
class TrendResult:
    query: str
    by: Interval
    total: int
    periods: list[Period]
    stale: str | None = None  # why the index is out of date, if it is


def run(settings: Settings, options: TrendOptions) -> TrendResult:
    """Count the hits of `options.query` per period; raises the search's errors (a bad query: usage
    error; no index or an unusable one: its own exit code)."""
    days, stale = hit_days(settings, options)
    first = _day(options.since, "--since", settings) if options.since else None
    last = _day(options.until, "--until", settings) if options.until else None
    by = options.by if options.by != "auto" else choose_interval(first or min(days, default=None),
                                                                 last or max(days, default=None))
    return TrendResult(options.query, by, len(days), bucket(days, by, first, last), stale)


def hit_days(settings: Settings, options: TrendOptions) -> tuple[list[date], str | None]:
    """The day (archive zone) of every post the query matches, and the index's staleness."""
    from newsctl.engine.querylang import parse_query
    from newsctl.engine.reader import SearchIndex
    from newsctl.engine.searcher import make_filters

    node = parse_query(options.query)
    filters = make_filters(settings, options.categories, options.tags, options.stocks, options.since,
                           options.until)
    with SearchIndex(settings) as index:
        hits = index.run(node, filters, "date", None, 0)
        return [date.fromisoformat(hit.date[:10]) for hit in hits.hits()], index.stale or None


def _day(value: str, option: str, settings: Settings) -> date:
    from newsctl.engine.searcher import parse_when

    return parse_when(value, option, settings).astimezone(settings.tz).date()


def choose_interval(first: date | None, last: date | None) -> Interval:
    if first is None or last is None:
        return "day"
    span = (last - first).days
    return "day" if span <= AUTO_DAYS else "week" if span <= AUTO_WEEKS_DAYS else "month"


def bucket(days: Iterable[date], by: Interval, first: date | None = None, last: date | None = None) -> list[Period]:
    """Every period from `first` (default: the earliest day) to `last` (default: the latest), with
    the number of `days` in each."""
    counts = Counter(period_start(day, by) for day in days)
    if not counts and (first is None or last is None):
        return []
    start = period_start(first, by) if first else min(counts)
    end = period_start(last, by) if last else max(counts)
    periods = []
    while start <= end:
        periods.append(Period(period_label(start, by), start, counts.get(start, 0)))
        start = next_period(start, by)
    return periods


def period_start(day: date, by: Interval) -> date:
    if by == "week":
        return day - timedelta(days=day.weekday())
    if by == "month":
        return day.replace(day=1)
    return day


def next_period(start: date, by: Interval) -> date:
    if by == "week":
        return start + timedelta(weeks=1)
    if by == "month":
        return date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return start + timedelta(days=1)


def period_label(start: date, by: Interval) -> str:
    if by == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if by == "month":
        return f"{start.year:04d}-{start.month:02d}"
    return start.isoformat()
