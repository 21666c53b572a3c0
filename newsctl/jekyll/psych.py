"""YAML as Ruby's Psych types it: the scalar rules of Psych 4's ScalarScanner, on PyYAML.

Jekyll reads front matter with `Psych.safe_load(yaml, permitted_classes: [Date, Time])`. The
parser underneath is libyaml, as for PyYAML's CSafeLoader, so only the typing of *plain*
(unquoted) scalars differs, and it differs a lot: `1,000` is the integer 1000, `12:30` is the
integer 45000 (base 60), `tRuE` is true, `1.5e3` is a string, `:name` is a Symbol (which
`safe_load` refuses), and a timestamp without a zone is UTC.

`psych_scalar` is `Psych::ScalarScanner#tokenize` written again, branch for branch, so that
the two can be compared line by line (tests/test_jekyll_psych.py compares them with the real
Psych). Timestamps and dates are returned as `PsychTime`/`PsychDate`: `str` subclasses that
keep the text the file holds (newsctl reports and rewrites that text) and carry the value
Psych gives Jekyll.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from typing import Any

import yaml

__all__ = ["DisallowedClass", "PsychDate", "PsychLoader", "PsychTime", "load_psych", "psych_scalar", "ruby_to_s"]


class PsychTime(str):
    """A plain scalar Psych reads as a Time; `.instant` is that Time (aware; UTC when the text
    has no zone, as Psych has it)."""

    instant: datetime
    has_zone: bool

    def __new__(cls, text: str, instant: datetime, has_zone: bool) -> PsychTime:
        obj = super().__new__(cls, text)
        obj.instant = instant
        obj.has_zone = has_zone
        return obj


class PsychDate(str):
    """A plain scalar Psych reads as a Date (`YYYY-M-D`); `.day` is that date."""

    day: date

    def __new__(cls, text: str, day: date) -> PsychDate:
        obj = super().__new__(cls, text)
        obj.day = day
        return obj


class DisallowedClass(yaml.YAMLError):
    """What `Psych.safe_load` raises for a value Jekyll does not permit (a Symbol, `:name`)."""

    def __init__(self, text: str) -> None:
        super().__init__(f"Tried to load unspecified class: Symbol ({text})")
        self.text = text


# ---- Psych::ScalarScanner, branch for branch -------------------------------------------
# Ruby's \d and \s are ASCII; [[:alpha:]] is any Unicode letter (Python: [^\W\d_]).
_ALPHA = r"[^\W\d_]"
_LOOKS_LIKE_STRING = re.compile(r"[^0-9.:\-]?(?:" + _ALPHA + r"|[_ \t\r\f\v!@#$%^&*(){}<>|/\\~;=])+")
_TIME = re.compile(r"-?[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t\r\f\v]+)[0-9]{1,2}:[0-9][0-9]:[0-9][0-9]"
                   r"(?:\.[0-9]*)?(?:[ \t\r\f\v]*(?:Z|[-+][0-9]{1,2}:?(?:[0-9][0-9])?))?")
_DATE = re.compile(r"[0-9]{4}-(?:1[012]|0[0-9]|[0-9])-(?:[12][0-9]|3[01]|0[0-9]|[0-9])")
_BASE60_INT = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9]){1,2}")
_BASE60_FLOAT = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9]){1,2}\.[0-9_]*")
_FLOAT = re.compile(r"[-+]?(?:[0-9][0-9_,]*)?\.[0-9]*(?:[eE][-+][0-9]+)?")
_INTEGER = re.compile(r"[-+]?0b[0-1_,]+|[-+]?0[0-7_,]+|[-+]?(?:0|[1-9](?:[0-9]|,[0-9]|_[0-9])*)|[-+]?0x[0-9a-fA-F_,]+")


def psych_scalar(text: str) -> Any:
    """The Ruby value Psych gives a plain scalar (None, bool, int, float, str, PsychTime,
    PsychDate); raises DisallowedClass for a Symbol."""
    if text in _KNOWN_TEXT:  # keys, layouts, categories, tags: the same few words in every post
        return text
    value = _scalar(text)
    if value is text and len(text) <= 64 and len(_KNOWN_TEXT) < _KNOWN_TEXT_MAX:  # (it depends on the text alone)
        _KNOWN_TEXT.add(text)
    return value


_KNOWN_TEXT: set[str] = set()  # plain scalars seen to be text
_KNOWN_TEXT_MAX = 4096


def _scalar(text: str) -> Any:
    if not text:
        return None
    if _LOOKS_LIKE_STRING.match(text) or "\n" in text:
        return _word(text)
    if _TIME.fullmatch(text):
        return _time(text)
    if _DATE.fullmatch(text):
        return _date(text)
    if re.fullmatch(r"\+?\.inf", text, re.IGNORECASE):
        return float("inf")
    if re.fullmatch(r"-\.inf", text, re.IGNORECASE):
        return float("-inf")
    if re.fullmatch(r"\.nan", text, re.IGNORECASE):
        return float("nan")
    if len(text) > 1 and text[0] == ":":
        raise DisallowedClass(text)
    if _BASE60_INT.fullmatch(text):
        return _base60(text, int)
    if _BASE60_FLOAT.fullmatch(text):
        return _base60(text, float)
    if _FLOAT.fullmatch(text):
        if re.fullmatch(r"[-+]?\.", text):
            return text
        return float(re.sub(r"[,_]|\.(?=[Ee]|$)", "", text))
    if _INTEGER.fullmatch(text):
        return _ruby_integer(text.replace(",", "").replace("_", ""))
    return text


def _word(text: str) -> Any:
    if len(text) > 5 or re.match(r"[^ytonf~]", text, re.IGNORECASE):
        return text
    lowered = text.lower()
    if text == "~" or lowered == "null":
        return None
    if lowered in ("yes", "true", "on"):
        return True
    if lowered in ("no", "false", "off"):
        return False
    return text


def _base60(text: str, kind: type) -> Any:
    total: Any = kind(0)
    parts = text.split(":")
    for position, part in enumerate(parts):
        # Psych's own weights: |e - 2| counted from the front (so `12:30` is 12 h 30 min in seconds)
        total += _ruby_to_number(part, kind) * 60 ** abs(position - 2)
    return total


def _ruby_to_number(part: str, kind: type) -> Any:
    """Ruby's String#to_i / #to_f on one base-60 part: leading digits, underscores ignored."""
    match = re.match(r"[-+]?[0-9_]*(?:\.[0-9_]*)?" if kind is float else r"[-+]?[0-9_]*", part)
    digits = (match[0] if match else "").replace("_", "")
    try:
        return kind(digits) if digits not in ("", "+", "-", ".") else kind(0)
    except ValueError:
        return kind(0)


def _ruby_integer(digits: str) -> int:
    """Ruby's Integer(): 0b, 0x and a leading 0 (octal) prefixes."""
    sign = -1 if digits.startswith("-") else 1
    body = digits.lstrip("+-")
    if body.startswith(("0b", "0B")):
        return sign * int(body[2:], 2)
    if body.startswith(("0x", "0X")):
        return sign * int(body[2:], 16)
    if len(body) > 1 and body.startswith("0"):
        return sign * int(body[1:], 8)
    return sign * int(body)


_TIME_PARTS = re.compile(r"([0-9]+:[0-9]+:[0-9]+)(?:\.([0-9]*))?[ \t\r\f\v]*(Z|[-+][0-9]+(?::[0-9][0-9])?)?")


def _time(text: str) -> Any:
    """Psych's parse_time: UTC when no zone is written; a day past the month's end rolls over
    (Ruby's Time.utc), an impossible month or hour leaves the text a string."""
    day_text, clock_text = re.split(r"[ tT]", text, maxsplit=1)
    year, month, mday = (int(part) for part in re.match(r"(-?[0-9]{4})-([0-9]{1,2})-([0-9]{1,2})",
                                                        day_text).groups())  # type: ignore[union-attr]
    parts = _TIME_PARTS.search(clock_text)
    if parts is None:
        return text
    hour, minute, second = (int(x) for x in parts[1].split(":"))
    micro = int((parts[2] + "000000")[:6]) if parts[2] else 0  # Psych: Rational("0.#{frac}") * 1e6, truncated
    try:
        base = ruby_time_utc(year, month, mday, hour, minute, second)
    except ValueError:
        return text
    zone = parts[3]
    if not zone or zone == "Z":
        return PsychTime(text, base.replace(microsecond=micro), has_zone=bool(zone))
    fields = re.fullmatch(r"([+\-]?[0-9]{1,2}):?([0-9]{1,2})?", zone)
    if fields is None:
        return text
    hours = int(fields[1])
    minutes = int(fields[2] or 0)
    offset = hours * 3600 + (-minutes * 60 if hours < 0 or fields[1].startswith("-") else minutes * 60)
    try:
        zone_info = timezone(timedelta(seconds=offset))
    except ValueError:
        return text
    return PsychTime(text, base.replace(microsecond=micro, tzinfo=zone_info), has_zone=True)


def ruby_time_utc(year: int, month: int, mday: int, hour: int = 0, minute: int = 0, second: int = 0,
                  tz: Any = timezone.utc) -> datetime:
    """Ruby's Time.utc/Time.local argument rules: a day up to 31 rolls into the next month, hour 24
    is midnight of the next day, second 60 is the next minute; anything else out of range raises."""
    if not (1 <= month <= 12 and 1 <= mday <= 31 and 0 <= minute <= 59 and 0 <= second <= 60):
        raise ValueError("argument out of range")
    if not (0 <= hour <= 23 or (hour == 24 and minute == 0 and second == 0)):
        raise ValueError("argument out of range")
    first = datetime(year, month, 1, tzinfo=tz)
    return first + timedelta(days=mday - 1, hours=hour, minutes=minute, seconds=second)


def _date(text: str) -> Any:
    year, month, mday = (int(part) for part in text.split("-"))
    try:
        return PsychDate(text, date(year, month, mday))
    except ValueError:  # Date.strptime refuses 2022-02-30: Psych keeps the text
        return text


# ---- how Ruby prints a value (what `{{ page.title }}` shows) -----------------------------

def ruby_to_s(value: Any, zone: Any) -> str:
    """Liquid's output of a front-matter value: Ruby's to_s (nil is empty, floats as Ruby
    prints them, a Time in the site zone)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, PsychTime):
        return value.instant.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %z")
    if isinstance(value, PsychDate):
        return value.day.isoformat()
    if isinstance(value, float):
        return ruby_float(value)
    if isinstance(value, list):
        return "".join(ruby_to_s(item, zone) for item in value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{ruby_inspect(k)}=>{ruby_inspect(v)}" for k, v in value.items()) + "}"
    return str(value)


def ruby_inspect(value: Any) -> str:
    if isinstance(value, str) and not isinstance(value, (PsychTime, PsychDate)):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if value is None:
        return "nil"
    return ruby_to_s(value, timezone.utc)


def ruby_float(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    text = repr(value)
    mantissa, _, exponent = text.partition("e")
    magnitude = abs(value)
    if magnitude and (magnitude >= 1e15 or magnitude < 1e-4):
        digits = mantissa if "." in mantissa else mantissa + ".0"
        power = int(exponent) if exponent else len(str(int(magnitude))) - 1
        if not exponent:
            digits = repr(value / 10**power)
        return f"{digits}e{'+' if power >= 0 else '-'}{abs(power):02d}"
    if exponent:  # Python writes 1e+16-ish values in exponent form earlier than Ruby
        text = format(value, "f").rstrip("0")
    return text if "." in text else text + ".0"


# ---- the loader ---------------------------------------------------------------------------

PLAIN_TAG = "tag:newsctl,2026:psych-plain"
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class PsychResolution:
    """Mixin for a PyYAML loader: plain scalars are typed by `psych_scalar`, quoted ones stay text."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is yaml.ScalarNode and implicit[0]:
            if value == "<<":
                return "tag:yaml.org,2002:merge"
            return PLAIN_TAG
        return super().resolve(kind, value, implicit)  # type: ignore[misc]

    def construct_psych_plain(self, node: yaml.ScalarNode) -> Any:
        try:
            return psych_scalar(node.value)
        except DisallowedClass as exc:
            raise yaml.constructor.ConstructorError(None, None, str(exc), node.start_mark) from exc


class PsychLoader(PsychResolution, _BaseLoader):  # type: ignore[valid-type,misc]
    """A safe loader that types values as Jekyll's `Psych.safe_load` does."""


PsychLoader.add_constructor(PLAIN_TAG, PsychResolution.construct_psych_plain)


def load_psych(text: str) -> Any:
    """`Psych.safe_load(text, permitted_classes: [Date, Time], aliases: true)`, in Python."""
    return yaml.load(text, Loader=PsychLoader)
