"""The instant Jekyll 4.3 publishes a post at.

Jekyll takes the front-matter value as Psych typed it, turns it into text with Ruby's `to_s`
and reads that with `Time.parse` in the site zone (`Utils.parse_date`; Jekyll sets `TZ` from
`timezone:`). So:

- a plain full timestamp with no zone (`2021-12-08 10:46:18`) is a Psych Time in **UTC**, and is
  published at 18:46:18 +0800 whatever `timezone:` says;
- `2021-12-08 10:46` (no seconds), a quoted timestamp, and a date alone are text or a Date, and
  `Time.parse` reads them in the **site zone**;
- a day past the month's end rolls over (`2022-02-30` is 2022-03-02), an impossible month,
  day or hour, or text with no date in it (`+0800`, an empty `date:`) makes Jekyll raise
  `InvalidDateError`, which **aborts the whole build**.

`ruby_time_parse` covers the forms a news archive writes (ISO-like dates, `/` separators,
numeric zones and Ruby's few zone names); anything else is `UnknownDate`, which newsctl
reports rather than guesses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any

from newsctl.jekyll.psych import PsychDate, PsychTime, ruby_time_utc

__all__ = ["DateReading", "InvalidDate", "UnknownDate", "read_post_date", "ruby_time_parse"]


class InvalidDate(ValueError):
    """`Time.parse` raises: Jekyll stops the build with `Invalid date '<text>'`."""


class UnknownDate(ValueError):
    """A form newsctl does not emulate `Time.parse` for."""


# Time::ZoneOffset: the only zone names Time.parse knows; any other word is ignored (local time).
_ZONE_NAMES = {"UTC": 0, "Z": 0, "UT": 0, "GMT": 0, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5,
               "MST": -7, "MDT": -6, "PST": -8, "PDT": -7}
_PARSE = re.compile(
    r"\s*(?P<y>\d{4}|\d{2})(?P<sep>[-/])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})"
    r"(?:(?:[Tt]|\s+)(?P<H>\d{1,2}):(?P<M>\d{1,2})(?::(?P<S>\d{1,2})(?:\.(?P<frac>\d+))?)?)?"
    r"\s*(?P<zone>Z|[+-]\d{1,2}(?::?\d{2})?|[A-Za-z]{1,5})?\s*"
)

_ZONE_ALONE = re.compile(r"\s*(?:Z|[+-]\d{1,4}(?::\d\d)?|UTC|GMT)\s*", re.IGNORECASE)


def ruby_time_parse(text: str, zone: tzinfo) -> datetime:
    """`Time.parse(text).localtime` for the forms above; raises InvalidDate or UnknownDate."""
    match = _PARSE.fullmatch(text)
    if match is None:
        if _ZONE_ALONE.fullmatch(text):  # Date._parse finds a zone and no day
            raise InvalidDate("mday out of range")
        if not re.search(r"\d", text):
            raise InvalidDate(f"no time information in {text!r}")
        raise UnknownDate(text)
    year = int(match["y"])
    if len(match["y"]) == 2:  # Date._parse completes a two-digit year: 69-99 -> 19xx, else 20xx
        year += 1900 if year >= 69 else 2000
    month, mday = int(match["m"]), int(match["d"])
    if not 1 <= month <= 12:
        raise InvalidDate("mon out of range")
    if mday == 0:
        raise InvalidDate("mday out of range")
    hour, minute = int(match["H"] or 0), int(match["M"] or 0)
    second = int(match["S"] or 0)
    if hour > 24:
        raise InvalidDate("hour out of range")
    if minute > 59:
        raise InvalidDate("min out of range")
    offset = _zone_offset(match["zone"])
    try:
        if offset is None:
            local = ruby_time_utc(year, month, mday, hour, minute, second, tz=zone)
            return _normalise_local(local, zone)
        moment = ruby_time_utc(year, month, mday, hour, minute, second, tz=offset)
    except ValueError as exc:
        raise InvalidDate(str(exc)) from exc
    return moment.astimezone(zone)


def _normalise_local(moment: datetime, zone: tzinfo) -> datetime:
    """A wall-clock time built by adding days to the 1st keeps its zone's offset for that day."""
    naive = moment.replace(tzinfo=None)
    return naive.replace(tzinfo=zone).astimezone(zone)


def _zone_offset(text: str | None) -> tzinfo | None:
    if not text:
        return None
    if text[0] in "+-":
        digits = text[1:].replace(":", "")
        hours, minutes = (int(digits[:-2]), int(digits[-2:])) if len(digits) > 2 else (int(digits), 0)
        sign = -1 if text[0] == "-" else 1
        try:
            return timezone(sign * timedelta(hours=hours, minutes=minutes))
        except ValueError as exc:
            raise InvalidDate(f"utc_offset out of range: {text}") from exc
    named = _ZONE_NAMES.get(text.upper())
    return None if named is None else timezone(timedelta(hours=named))


@dataclass(frozen=True)
class DateReading:
    """How Jekyll reads a post's date: the instant, and by which rule."""

    instant: datetime | None  # aware, in the site zone; None when Jekyll stops (error) or newsctl cannot tell
    rule: str  # "utc-timestamp", "offset", "site-zone", "file-name", "build-time"
    error: str | None = None  # Jekyll's own message when the build stops
    unknown: bool = False  # a form newsctl does not emulate


def ruby_to_s_for_date(value: Any) -> str:
    """What `data["date"].to_s` gives before Jekyll's Time.parse."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (PsychTime, PsychDate)):
        return str(value)
    if isinstance(value, float):
        from newsctl.jekyll.psych import ruby_float

        return ruby_float(value)
    return str(value)


def read_post_date(value: Any, has_key: bool, file_day: str | None, zone: tzinfo,
                   now: datetime | None = None) -> DateReading:
    """Jekyll's `merge_date!` then `modify_date` for a post in `_posts`.

    `value` is the Psych-typed front-matter date (only looked at when `has_key`); `file_day`
    the date part of a dated file name (`2022-06-01`, `22-6-1`), or None.
    """
    if has_key:
        reading = _front_matter_date(value, zone)
        if reading.instant is not None or reading.error or reading.unknown:
            return reading
    if file_day is not None:  # no date in the front matter: the file name's, at local midnight
        try:
            return DateReading(ruby_time_parse(file_day, zone), "file-name")
        except InvalidDate as exc:
            return DateReading(None, "file-name", error=f"Invalid date '{file_day}': {exc}")
        except UnknownDate:
            return DateReading(None, "file-name", unknown=True)
    return DateReading((now or datetime.now(timezone.utc)).astimezone(zone), "build-time")


def _front_matter_date(value: Any, zone: tzinfo) -> DateReading:
    if isinstance(value, PsychTime):
        return DateReading(value.instant.replace(microsecond=0).astimezone(zone),
                           "offset" if value.has_zone else "utc-timestamp")
    if isinstance(value, (date, datetime)) and not isinstance(value, str):  # not from Psych; be exact
        moment = value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
        return DateReading(moment if moment.tzinfo else moment.replace(tzinfo=zone), "site-zone")
    text = ruby_to_s_for_date(value)
    if isinstance(value, (list, dict)):
        return DateReading(None, "site-zone", unknown=True)
    try:
        moment = ruby_time_parse(text, zone)
    except InvalidDate as exc:
        return DateReading(None, "site-zone", error=f"Invalid date '{text}': {exc}")
    except UnknownDate:
        return DateReading(None, "site-zone", unknown=True)
    has_zone = bool(_PARSE.fullmatch(text) and _PARSE.fullmatch(text)["zone"])  # type: ignore[index]
    return DateReading(moment, "offset" if has_zone else "site-zone")
