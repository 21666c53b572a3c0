"""NC305 unparseable dates, NC306 dates without a zone (fixable), NC307 future dates, and
NC402 a file name whose date is not the front-matter date's day (a date of the wrong kind is
NC302, rules/fields.py)."""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from functools import lru_cache

from newsctl.post import Post
from newsctl.post import parse_date as _parse_date_uncached
from newsctl.rules.fields import is_blank
from newsctl.rules.rule import ERROR, CheckContext, Finding, FixContext, Rule, front_matter_line


@lru_cache(maxsize=64)  # the date checks and the duplicate facts parse the same value
def parse_date(value: str) -> datetime | None:
    return _parse_date_uncached(value)


def _date_text(post: Post) -> str | None:
    """The front-matter date when it is non-blank text (the other cases are NC301/NC302/NC305)."""
    value = post.meta.get("date")
    return value if isinstance(value, str) and value.strip() else None


def _moment(post: Post, ctx: CheckContext) -> datetime | None:
    """The front-matter date, in the archive zone when it has none; None when it is not a date."""
    value = _date_text(post)
    parsed = parse_date(value) if value is not None else None
    if parsed is None:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=ctx.tz)


def _unparseable(post: Post, ctx: CheckContext) -> list[Finding]:
    if "date" not in post.meta:
        return []
    value = post.meta["date"]
    if is_blank(value):
        return [UNPARSEABLE_DATE.key_finding(post, "date", "date is empty")]
    if not isinstance(value, str) or parse_date(value) is not None:
        return []
    return [UNPARSEABLE_DATE.key_finding(post, "date", f"date {_clip(value)!r} is not a date and time "
                                                       "(expected YYYY-MM-DD HH:MM:SS +0800)")]


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _without_zone(post: Post, ctx: CheckContext) -> list[Finding]:
    value = _date_text(post)
    parsed = parse_date(value) if value is not None else None
    if value is None or parsed is None or parsed.tzinfo is not None:
        return []
    return [DATE_WITHOUT_ZONE.key_finding(post, "date", f"date {value.strip()!r} has no time zone "
                                          f"(it is taken as {ctx.zone_name})",
                                          fixable=add_date_zone(post.raw, ctx.tz) is not None)]


def _future(post: Post, ctx: CheckContext) -> list[Finding]:
    moment = _moment(post, ctx)
    if moment is None or moment <= ctx.now + ctx.future_tolerance:
        return []
    return [FUTURE_DATE.key_finding(post, "date", f"date {str(post.meta['date']).strip()!r} is in the future")]


def _file_date_mismatch(post: Post, ctx: CheckContext) -> list[Finding]:
    moment = _moment(post, ctx)
    file_day = post.file_date
    if moment is None or file_day is None:
        return []
    local_day = moment.astimezone(ctx.tz).date()
    if file_day == local_day:
        return []
    value = str(post.meta["date"]).strip()
    return [FILE_DATE_MISMATCH.key_finding(post, "date", f"file name says {file_day} but the date {value!r} "
                                                         f"is {local_day} in {ctx.zone_name}")]


_DATE_VALUE = re.compile(r"(?P<head>date[ \t]*:[ \t]*)(?P<quote>[\"']?)(?P<value>[^\"'#\r\n]*?)"
                         r"(?P=quote)(?P<tail>[ \t]*(?:#.*)?)")


def add_date_zone(text: str, tz: tzinfo) -> str | None:
    """`text` with the archive zone's offset appended to a date that has none."""
    span = front_matter_line(text, "date")
    if span is None:
        return None
    match = _DATE_VALUE.fullmatch(text, span[0], span[1])
    if match is None:
        return None
    value = match["value"].strip()
    naive = parse_date(value)
    if naive is None or naive.tzinfo is not None:
        return None
    offset = naive.replace(tzinfo=tz).strftime("%z")
    has_clock = ":" in value
    zoned = f"{value} {offset}" if has_clock else f"{value} 00:00:00 {offset}"
    if parse_date(zoned) != naive.replace(tzinfo=tz):
        return None
    quote = match["quote"]
    return text[:span[0]] + f"{match['head']}{quote}{zoned}{quote}{match['tail']}" + text[span[1]:]


def _add_zone(text: str, fix: FixContext) -> str | None:
    return add_date_zone(text, fix.tz)


UNPARSEABLE_DATE = Rule(
    "NC305", "unparseable-date", ERROR,
    what="The date is empty or not a date and time (e.g. `+0800` alone, `2022-02-30`, `06/01/2022`).",
    why="Jekyll refuses the post, and newsctl cannot sort or filter it by date.",
    how="Write the date as `YYYY-MM-DD HH:MM:SS +0800`.",
    scope="front-matter", check=_unparseable)

DATE_WITHOUT_ZONE = Rule(
    "NC306", "date-without-zone", ERROR,
    what="The date has no time zone offset (e.g. `2021-12-08 10:46:18`).",
    why="Without a zone the moment depends on the machine that builds the site; near midnight the post moves "
        "to another day.",
    how="Run `newsctl validate --fix`: it appends the archive zone's offset (from `timezone:` in "
        "_config.yml) for that date, e.g. `+0800`.",
    scope="front-matter", check=_without_zone, repair=_add_zone, fix="always")

FUTURE_DATE = Rule(
    "NC307", "future-date", ERROR,
    what="The date lies in the future by more than `future_tolerance_hours` (default 24).",
    why="Jekyll does not publish future posts by default; the post silently disappears.",
    how="Correct the date (a wrong year or zone is the usual cause).",
    scope="front-matter", check=_future)

FILE_DATE_MISMATCH = Rule(
    "NC402", "file-date-mismatch", ERROR,
    what="The date in the file name differs from the front-matter date taken in the archive zone "
         "(`2022-05-31 20:30:00 +0000` is 2022-06-01 in Asia/Shanghai).",
    why="Permalinks use one date and listings the other; the post appears under the wrong day.",
    how="Rename the file to the front-matter date in the archive zone, or correct the date.",
    scope="front-matter", check=_file_date_mismatch)

DATE_RULES = (UNPARSEABLE_DATE, DATE_WITHOUT_ZONE, FUTURE_DATE, FILE_DATE_MISMATCH)
