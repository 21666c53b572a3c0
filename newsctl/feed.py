"""`newsctl add --from-jsonl`: a JSON-lines feed read line by line into drafts (add.Draft).

Lines are streamed (a feed may be larger than the memory) and bounded (a line longer than a
record can be is skipped, not kept); each record's keys are found through the `feed_fields`
setting, and each field goes through the same checks as the command-line options.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from newsctl.add import (
    AddOptions,
    Draft,
    check_id,
    check_moment,
    check_title,
    check_url,
    check_words,
    clean_body,
    parse_moment,
    with_source_line,
)
from newsctl.config import Settings
from newsctl.errors import UsageError
from newsctl.post import MAX_POST_BYTES

MAX_RECORD_BYTES = 4 * MAX_POST_BYTES  # a feed line; JSON escapes can take 6 bytes per character


@dataclass
class FeedTally:
    """What became of a feed's records."""

    added: int = 0
    duplicates: int = 0
    existing: int = 0
    errors: int = 0


def feed_lines(source: str) -> Iterator[tuple[int, bytes | None]]:
    """(1-based line number, line) of the feed, streamed; blank lines skipped."""
    if source == "-":
        yield from numbered(sys.stdin.buffer)
        return
    with open_feed(source) as stream:
        yield from numbered(stream)


def open_feed(source: str) -> BinaryIO:
    try:
        return Path(source).open("rb")
    except OSError as exc:
        raise UsageError(f"--from-jsonl {source}: cannot read: {exc.strerror or exc}") from exc


def numbered(stream: BinaryIO) -> Iterator[tuple[int, bytes | None]]:
    """Lines with their numbers; None stands for a line too long to be a record (not kept)."""
    line_no = 0
    while line := stream.readline(MAX_RECORD_BYTES + 1):
        line_no += 1
        if len(line) > MAX_RECORD_BYTES and not line.endswith(b"\n"):
            while (rest := stream.readline(1 << 20)) and not rest.endswith(b"\n"):
                pass
            yield line_no, None
        elif line.strip():
            yield line_no, line


def parse_record(line: bytes) -> dict[str, Any]:
    try:
        text = line.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise UsageError(f"not valid UTF-8 (byte 0x{line[exc.start]:02x} at column {exc.start + 1})") from exc
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"invalid JSON at column {exc.colno}: {exc.msg.removesuffix(' at')}") from exc
    except ValueError as exc:  # e.g. a number of thousands of digits
        raise UsageError(f"invalid JSON: {str(exc).split(';')[0]}") from exc
    except RecursionError as exc:
        raise UsageError("invalid JSON: nested too deeply") from exc
    if not isinstance(record, dict):
        raise UsageError(f"a record must be a JSON object, not {json_kind(record)}")
    return record


def json_kind(value: Any) -> str:
    return {list: "an array", dict: "an object", str: "a string", bool: "a boolean",
            type(None): "null"}.get(type(value), repr(value))


def pick(record: dict[str, Any], keys: list[str]) -> Any:
    """The first of `keys` that the record holds with a value."""
    for key in keys:
        value = record.get(key)
        if value is not None and value != "" and value != []:
            return value
    return None


def draft_from_record(record: dict[str, Any], settings: Settings, defaults: AddOptions) -> Draft:
    """Check a feed record field by field, in the order a reader of the error expects; `defaults`
    gives the categories and tags of a record that has none."""
    fields = settings.feed_fields
    title = check_title(require_text(record, fields.get("title", []), "title"), settings.max_title_length)
    body = clean_body(require_text(record, fields.get("body", []), "body"), "body")
    moment = record_moment(record, fields.get("date", []), settings)
    post_id = record_id(pick(record, fields.get("id", [])))
    url = pick(record, fields.get("url", []))
    if url is not None and not isinstance(url, str):
        raise UsageError(f"url must be a string, not {json_kind(url)}")
    categories = check_words(record_words(record, fields.get("category", []), defaults.categories),
                             "category", "'category' or --category")
    tags = check_words(record_words(record, fields.get("tag", []), defaults.tags), "tag", "'tag' or --tag")
    body = with_source_line(body, check_url(url) if url is not None else None)
    return Draft(title, moment, categories, tags, body, post_id)


def record_moment(record: dict[str, Any], keys: list[str], settings: Settings) -> datetime:
    raw_date = pick(record, keys)
    if raw_date is None:
        raise UsageError(f"missing date (one of {', '.join(keys)})")
    moment = parse_moment(raw_date, settings.tz)
    check_moment(moment, settings)
    return moment


def require_text(record: dict[str, Any], keys: list[str], name: str) -> str:
    value = pick(record, keys)
    if value is None:
        raise UsageError(f"missing {name} (one of {', '.join(keys)})")
    if not isinstance(value, str):
        raise UsageError(f"{name} must be a string, not {json_kind(value)}")
    return value


def record_words(record: dict[str, Any], keys: list[str], defaults: list[str]) -> list[str]:
    value = pick(record, keys)
    if value is None:
        return list(defaults)
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    raise UsageError(f"{keys[0]} must be a string or a list of strings, not {json_kind(value)}")


def record_id(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        value = str(value)
    if not isinstance(value, str):
        raise UsageError(f"id must be a string or a whole number, not {json_kind(value)}")
    return check_id(value, "id")
