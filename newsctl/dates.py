"""Jekyll dates: parsing a front-matter date as Jekyll (Ruby's Time) accepts it, and writing the
archive's own `YYYY-MM-DD HH:MM:SS +0800`. Pure functions, no YAML."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any

_DATE_RE = re.compile(
    r"^\s*(?P<date>\d{4}-\d{1,2}-\d{1,2})"
    r"(?:[ T]+(?P<time>\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?"
    r"\s*(?P<zone>Z|[+-]\d{2}:?\d{2}|[+-]\d{1,2})?\s*$"
)


def parse_date(value: Any) -> datetime | None:
    """Parse a Jekyll date; naive when it has no zone; None when it is not a date."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if not isinstance(value, str):
        return None
    canonical = _CANONICAL_DATE.fullmatch(value)
    if canonical:  # the archive's own `YYYY-MM-DD HH:MM:SS +0800`: the common case, parsed directly
        return _canonical_date(canonical)
    match = _DATE_RE.match(value)
    if not match:
        return None
    try:
        day = date.fromisoformat("-".join(part.zfill(2) for part in match["date"].split("-")))
        clock = _parse_clock(match["time"] or "00:00:00")
    except ValueError:
        return None
    moment = datetime(day.year, day.month, day.day) + clock
    zone = match["zone"]
    if not zone:
        return moment
    try:
        return moment.replace(tzinfo=_parse_zone(zone))
    except ValueError:  # +9999 and the like
        return None


_CANONICAL_DATE = re.compile(r"(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)")
_FIXED_ZONES: dict[str, tzinfo] = {}


def _canonical_date(match: re.Match[str]) -> datetime | None:
    sign, hours, minutes = match[7], int(match[8]), int(match[9])
    if hours > 14 or minutes > 59:
        return None
    key = match[7] + match[8] + match[9]
    zone = _FIXED_ZONES.get(key)
    if zone is None:
        offset = timedelta(hours=hours, minutes=minutes)
        zone = _FIXED_ZONES[key] = timezone(-offset if sign == "-" else offset)
    try:
        return datetime(int(match[1]), int(match[2]), int(match[3]), int(match[4]), int(match[5]),
                        int(match[6]), tzinfo=zone)
    except ValueError:  # 2022-02-30, 25:61:00
        return None


def _parse_clock(text: str) -> timedelta:
    parts = text.split(":")
    hours, minutes = int(parts[0]), int(parts[1])
    seconds = float(parts[2]) if len(parts) > 2 else 0.0
    if hours > 23 or minutes > 59 or seconds >= 60:
        raise ValueError(text)
    return timedelta(hours=hours, minutes=minutes, seconds=int(seconds))


def _parse_zone(zone: str) -> tzinfo:
    if zone == "Z":
        return timezone.utc
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    hours, minutes = (int(digits[:2]), int(digits[2:] or 0)) if len(digits) > 2 else (int(digits), 0)
    if hours > 14 or minutes > 59:
        raise ValueError(zone)
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def format_date(moment: datetime, tz: tzinfo) -> str:
    """`YYYY-MM-DD HH:MM:SS +0800`, in the archive zone (naive input is taken as already there)."""
    local = moment.astimezone(tz) if moment.tzinfo else moment.replace(tzinfo=tz)
    return local.strftime("%Y-%m-%d %H:%M:%S %z")
