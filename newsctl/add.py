"""`newsctl add`: write new posts in the archive's format, one from options or many from a feed.

Decisions where the issue left a choice:

- Output: `added PATH` per post on stdout (`--print-path`: the bare path, for scripts);
  a feed ends with `added N, skipped M (duplicates D), errors E` on stderr, where
  "skipped" counts duplicates plus posts whose file already exists. Paths are shown
  relative to the working folder when under it, else absolute. `--dry-run` prints the post
  text instead (a feed: each post after a `==> PATH <==` line) and writes nothing.
- Source link: the archive requires one. `--source-url URL` (or a feed's `url`) appends the
  line `<URL>` after the body (not twice if the body already ends with it); without one the
  body must already hold a `<http…>` line, else the post is refused (exit 2). No footer is
  written: footers vary across the archive and there is no footer setting.
- Duplicates: the same id anywhere in the archive (file names only), or the same title or
  the same body text on the same day (only the posts whose file name starts with that day
  are read), also within one feed, is refused (exit 1) naming the existing file. Titles and
  bodies are compared by validate's keys (NC602/NC603: case, width, spacing, punctuation,
  markup, source link and footer ignored). A body copied from another day is left to a
  whole-archive `validate`, as with `validate PATHS`. `--force` lets duplicates in but
  NEVER overwrites a file: an existing path is always refused.
- The validation rules gate every post: the rendered text goes through validate's
  per-file rules (with the `select`/`ignore` settings) before it is written; an error
  refuses it (exit 2, e.g. NC501 for a body that is only a link), a warning is shown.
- Bodies are written as given, except: CRLF/CR become LF, a BOM and trailing spaces at line
  ends (NC701) are dropped, blank lines at either end are trimmed, and a blank line
  separates the front matter from the body, as in the archive.
- Titles: any Unicode is written exactly (post.quote_yaml), but a title must be one line
  (line breaks, control characters and lone surrogates are refused, exit 2), not empty and
  not longer than `max_title_length`; surrounding whitespace is trimmed, as readers do.
- Categories and tags are single words (no whitespace or control characters); a feed
  string holding several words is split like Jekyll does. `--category`/`--tag` are
  defaults for feed records that have none. At least one of each is required.
- Dates: `YYYY-MM-DD HH:MM[:SS] [Z|+0800|+08:00]`, ISO 8601, and (feeds) epoch seconds or
  milliseconds; without a zone the archive zone applies. Dates before 1970 or later than
  `future_tolerance_hours` from now are refused. A feed record must carry a date.
- Ids: `--id` and feed ids must be safe file-name parts (letters, digits, `-`, `_`, `.`, no
  `..`); anything else is refused (exit 2 for `--id`, a bad record in a feed). Ids are
  written as given, but compared without the letters before an eastmoney infoCode's
  digits: the archive names a post both `…-NW202206012399054634.md` and
  `…-202206012399054634.md`, and those are the same article. A new id is the day's digits
  plus 10 random digits, never colliding with an existing id.
- Writes are atomic and never clobber: temp file in the destination folder, fsync, then
  os.link() to the final name (fails if it exists), unlink the temp file, fsync the
  folder. A write error (disk full, file size limit) leaves nothing behind and stops the
  run (exit 1).
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import re
import secrets
import shlex
import subprocess
import sys
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import typer

from newsctl.config import Settings, glob_to_regex, list_archive_posts, walk_files
from newsctl.errors import EXIT_FINDINGS, EXIT_OK, NewsctlError, UsageError
from newsctl.names import day_and_id
from newsctl.post import (
    MAX_POST_BYTES,
    SAFE_ID_RE,
    Post,
    parse_date,
    parse_post,
    read_post,
    render_post,
)
from newsctl.rules import ERROR, CheckContext, PostFacts, check_post, post_facts, resolve_selection, squash
from newsctl.text import find_source_links
from newsctl.validate import make_context

EDITOR_COMMENT = "#~"
BODY_LIMIT = MAX_POST_BYTES - 64 * 1024  # room for the front matter and the source line
MAX_RECORD_BYTES = 4 * MAX_POST_BYTES  # a feed line; JSON escapes can take 6 bytes per character
MIN_YEAR = 1970  # older local times carry odd offsets (LMT +080543) that a post cannot write
_TRAILING_SPACE = re.compile(r"[ \t]+$", re.MULTILINE)
_LEADING_BLANK_LINES = re.compile(r"\A(?:[ \t]*\n)+")
_INFOCODE_RE = re.compile(r"^[A-Za-z]{1,4}(\d{12,})$")
_SINGLE_ONLY = {"title": "--title", "date": "--date", "post_id": "--id", "source_url": "--source-url",
                "body_file": "--body-file"}


@dataclass
class AddOptions:
    title: str | None = None
    date: str | None = None
    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    post_id: str | None = None
    source_url: str | None = None
    body_file: str | None = None
    from_jsonl: str | None = None
    dest: Path | None = None
    force: bool = False
    dry_run: bool = False
    print_path: bool = False
    interactive: bool = False


class Refused(NewsctlError):
    """The post exists already (a duplicate or an existing file): exit 1."""

    def __init__(self, message: str, duplicate: bool) -> None:
        super().__init__(message)
        self.duplicate = duplicate


@dataclass
class Draft:
    """A new post, checked field by field; `post_id` None means: generate one."""

    title: str
    moment: datetime  # aware
    categories: list[str]
    tags: list[str]
    body: str  # with the source line already appended
    post_id: str | None = None


@dataclass
class Planned:
    day: str  # YYYY-MM-DD in the archive zone
    post_id: str
    title: str
    path: Path = Path()


# ---- entry point ----------------------------------------------------------------------------

def run_add(settings: Settings, options: AddOptions) -> int:
    """Write one post (options) or many (--from-jsonl); return the exit code."""
    writer = PostWriter(settings, resolve_dest(settings, options), options)
    if options.from_jsonl is not None:
        refuse_single_options(options)
        return add_from_feed(writer, options)
    return add_one(writer, options)


def resolve_dest(settings: Settings, options: AddOptions) -> Path:
    """--dest is relative to the working folder; the `dest` setting to the archive root."""
    dest = options.dest.absolute() if options.dest is not None else settings.root / settings.dest
    if dest.exists() and not dest.is_dir():
        raise UsageError(f"--dest {dest} is not a folder")
    return dest


def refuse_single_options(options: AddOptions) -> None:
    given = [flag for name, flag in _SINGLE_ONLY.items() if getattr(options, name) is not None]
    if given:
        raise UsageError(f"--from-jsonl cannot be combined with {', '.join(given)} (each record has its own)")


def add_one(writer: PostWriter, options: AddOptions) -> int:
    if options.title is None:
        raise UsageError("--title is required (or use --from-jsonl FILE for a feed)")
    title = check_title(options.title, writer.settings.max_title_length)
    moment = parse_moment(options.date, writer.tz) if options.date is not None else now(writer.tz)
    check_moment(moment, writer.settings)
    categories = check_words(options.categories, "category", "--category")
    tags = check_words(options.tags, "tag", "--tag")
    post_id = check_id(options.post_id, "--id") if options.post_id is not None else None
    source_url = check_url(options.source_url) if options.source_url is not None else None
    planned = writer.plan(title, moment, post_id)  # refuse duplicates before the editor opens
    body = with_source_line(read_single_body(options, title), source_url)
    writer.commit(planned, Draft(title, moment, categories, tags, body, post_id))
    return EXIT_OK


# ---- field checks (UsageError: exit 2 for one post, a bad record in a feed) -------------------

def check_title(title: str, max_length: int) -> str:
    for char in title:
        if unicodedata.category(char) in ("Cc", "Zl", "Zp", "Cs"):
            raise UsageError(f"title contains {describe_char(char)}; a title must be one line of text")
    title = title.strip()
    if not title:
        raise UsageError("title is empty")
    if len(title) > max_length:
        raise UsageError(f"title is {len(title)} characters long, more than max_title_length={max_length}")
    return title


def describe_char(char: str) -> str:
    kind = "a line break" if char in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029" else "a control character"
    if unicodedata.category(char) == "Cs":
        kind = "a lone surrogate"
    return f"{kind} (U+{ord(char):04X})"


def check_words(values: list[str], kind: str, flag: str) -> list[str]:
    """Categories/tags: single words, as Jekyll splits a string on whitespace."""
    words = []
    for value in values:
        if not value or any(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
            raise UsageError(f"{kind} {value!r} must be one word (no spaces or control characters)")
        if value not in words:
            words.append(value)
    if not words:
        raise UsageError(f"a {kind} is required ({flag} NAME); the archive files every post under one")
    return words


def check_id(post_id: str, what: str) -> str:
    if not SAFE_ID_RE.match(post_id) or ".." in post_id:
        raise UsageError(f"{what} {post_id!r} is not a safe id: use letters, digits, '-', '_' or '.' "
                         "(no '/', '..' or leading dot), at most 128 characters")
    return post_id


def check_url(url: str) -> str:
    url = url.strip()
    try:
        parts = urlsplit(url) if url.isprintable() else None
    except ValueError:  # e.g. an unclosed IPv6 bracket
        parts = None
    if (parts is None or parts.scheme not in ("http", "https") or not parts.netloc
            or any(ch.isspace() or ch in "<>" for ch in url)):
        raise UsageError(f"source URL {url!r} is not an http(s) URL without spaces or '<' '>'")
    return url


def check_body(body: str, where: str) -> str:
    """Newlines as LF, no BOM, no NUL or lone surrogates, not empty, within the size limit."""
    body = body.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    body = _TRAILING_SPACE.sub("", body)  # validate warns about it (NC701); use <br> for a line break
    if "\x00" in body:
        raise UsageError(f"{where}: the body contains NUL bytes (binary data?)")
    try:
        size = len(body.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise UsageError(f"{where}: the body contains a lone surrogate (U+{ord(body[exc.start]):04X})") from exc
    if size > BODY_LIMIT:
        raise UsageError(f"{where}: the body is {size / 1e6:.1f} MB, too large for a post")
    if not body.strip():
        raise UsageError(f"{where}: the body is empty")
    return body


def with_source_line(body: str, source_url: str | None) -> str:
    """The body, trimmed, ending with `<URL>`; refused when it would have no source link."""
    body = _LEADING_BLANK_LINES.sub("", body.rstrip())
    if source_url is not None:
        line = f"<{source_url}>"
        last_line = body.rsplit("\n", 1)[-1].strip()
        return body if last_line == line else f"{body}\n\n{line}"
    if not any(url.startswith(("http://", "https://")) for _, url in find_source_links(body)):
        raise UsageError("no source link: pass --source-url URL (a feed record: 'url'), or end the body "
                         "with a '<http…>' line; every post in the archive names its source")
    return body


# ---- dates --------------------------------------------------------------------------------------

def now(tz: tzinfo) -> datetime:
    return datetime.now(tz).replace(microsecond=0)


def parse_moment(value: Any, tz: tzinfo) -> datetime:
    """A date string (archive zone when none given) or epoch seconds/milliseconds -> aware datetime."""
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) > 8:  # not 20220601
        value = int(value.strip())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return from_epoch(value, tz)
    moment = parse_date(value) if isinstance(value, str) else None
    if moment is None and isinstance(value, str):
        with contextlib.suppress(ValueError):
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if moment is None:
        raise UsageError(f"date {value!r} is not 'YYYY-MM-DD HH:MM[:SS] [+0800]', ISO 8601 or epoch seconds")
    return (moment if moment.tzinfo else moment.replace(tzinfo=tz)).replace(microsecond=0)


def from_epoch(value: float, tz: tzinfo) -> datetime:
    try:
        seconds = value / 1000 if abs(value) >= 1e11 else value  # 1e11 s is the year 5138: must be ms
        if not math.isfinite(seconds):
            raise ValueError(value)
        return datetime.fromtimestamp(int(seconds), tz=timezone.utc).astimezone(tz)
    except (ValueError, OverflowError, OSError) as exc:
        raise UsageError(f"date {value!r} is not a usable epoch time") from exc


def check_moment(moment: datetime, settings: Settings) -> None:
    try:
        too_old = moment.astimezone(settings.tz).year < MIN_YEAR
        too_new = moment > now(settings.tz) + settings.future_tolerance
    except OverflowError as exc:  # year 1 or 9999 with a zone
        raise UsageError(f"date {moment.isoformat()} is out of range") from exc
    if too_old:
        raise UsageError(f"date {moment.isoformat()} is before {MIN_YEAR}")
    if too_new:
        raise UsageError(f"date {moment.isoformat()} is in the future (more than "
                         f"{settings.future_tolerance_hours:g} h ahead)")


# ---- bodies ---------------------------------------------------------------------------------------

def read_single_body(options: AddOptions, title: str) -> str:
    if options.body_file == "-":
        return check_body(decode_body(read_bounded(sys.stdin.buffer, "<stdin>"), "<stdin>"), "<stdin>")
    if options.body_file is not None:
        try:
            with Path(options.body_file).open("rb") as stream:
                data = read_bounded(stream, options.body_file)
        except OSError as exc:
            raise UsageError(f"--body-file {options.body_file}: cannot read: {exc.strerror or exc}") from exc
        return check_body(decode_body(data, options.body_file), options.body_file)
    if options.interactive:
        return body_from_editor(title)
    raise UsageError("no body: pass --body-file FILE, or --body-file - to read it from stdin")


def read_bounded(stream: BinaryIO, where: str) -> bytes:
    """At most BODY_LIMIT bytes: /dev/zero or a runaway pipe must not fill the memory."""
    data = stream.read(BODY_LIMIT + 1)
    if len(data) > BODY_LIMIT:
        raise UsageError(f"{where}: the body is larger than {BODY_LIMIT / 1e6:.1f} MB, too large for a post")
    return data


def decode_body(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{where}: not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})") from exc


def editor_template(title: str) -> str:
    return (f"\n{EDITOR_COMMENT} Write the body of “{title}” above (HTML or Markdown), save and quit.\n"
            f"{EDITOR_COMMENT} Lines starting with '{EDITOR_COMMENT}' are dropped; an empty body aborts.\n")


def body_from_editor(title: str) -> str:
    command = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if not command:
        raise UsageError("no body: set $VISUAL or $EDITOR, or pass --body-file FILE (or - for stdin)")
    handle, name = tempfile.mkstemp(prefix="newsctl-body-", suffix=".md")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(editor_template(title))
        run_editor(shlex.split(command), name)
        text = decode_body(Path(name).read_bytes(), "editor buffer")
    finally:
        os.unlink(name)
    body = "\n".join(line for line in text.splitlines() if not line.startswith(EDITOR_COMMENT))
    if not body.strip():
        raise NewsctlError("the body is empty; nothing written")
    return check_body(body, "editor buffer")


def run_editor(command: list[str], name: str) -> None:
    try:
        status = subprocess.run([*command, name], check=False).returncode
    except OSError as exc:
        raise UsageError(f"cannot start the editor {command[0]!r}: {exc.strerror or exc}") from exc
    if status != 0:
        raise NewsctlError(f"the editor exited with status {status}; nothing written")


# ---- feeds ----------------------------------------------------------------------------------------

@dataclass
class FeedTally:
    added: int = 0
    duplicates: int = 0
    existing: int = 0
    errors: int = 0

    def summary(self, dry_run: bool) -> str:
        verb = "would add" if dry_run else "added"
        return (f"{verb} {self.added}, skipped {self.duplicates + self.existing} "
                f"(duplicates {self.duplicates}), errors {self.errors}")


def add_from_feed(writer: PostWriter, options: AddOptions) -> int:
    name = "<stdin>" if options.from_jsonl == "-" else str(options.from_jsonl)
    tally = FeedTally()
    try:
        for line_no, line in feed_lines(options.from_jsonl or "-"):
            add_feed_line(writer, options, f"{name}:{line_no}", line, tally)
    except NewsctlError:
        typer.echo(tally.summary(options.dry_run), err=True)
        raise
    typer.echo(tally.summary(options.dry_run), err=True)
    return EXIT_OK if tally.errors + tally.duplicates + tally.existing == 0 else EXIT_FINDINGS


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


def add_feed_line(writer: PostWriter, options: AddOptions, where: str, line: bytes | None,
                  tally: FeedTally) -> None:
    try:
        if line is None:
            raise UsageError(f"record longer than {MAX_RECORD_BYTES / 1e6:.0f} MB")
        record = parse_record(line)
        writer.write(draft_from_record(record, writer, options))
        tally.added += 1
    except Refused as exc:
        typer.echo(f"{where}: {exc}", err=True)
        tally.duplicates += exc.duplicate
        tally.existing += not exc.duplicate
    except UsageError as exc:
        typer.echo(f"{where}: {exc}", err=True)
        tally.errors += 1


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


def draft_from_record(record: dict[str, Any], writer: PostWriter, options: AddOptions) -> Draft:
    """Check a feed record field by field, in the order a reader of the error expects."""
    fields = writer.settings.feed_fields
    title = check_title(require_text(record, fields.get("title", []), "title"), writer.settings.max_title_length)
    body = check_body(require_text(record, fields.get("body", []), "body"), "body")
    moment = record_moment(record, fields.get("date", []), writer)
    post_id = record_id(pick(record, fields.get("id", [])))
    url = pick(record, fields.get("url", []))
    if url is not None and not isinstance(url, str):
        raise UsageError(f"url must be a string, not {json_kind(url)}")
    categories = check_words(record_words(record, fields.get("category", []), options.categories),
                             "category", "'category' or --category")
    tags = check_words(record_words(record, fields.get("tag", []), options.tags), "tag", "'tag' or --tag")
    body = with_source_line(body, check_url(url) if url is not None else None)
    return Draft(title, moment, categories, tags, body, post_id)


def record_moment(record: dict[str, Any], keys: list[str], writer: PostWriter) -> datetime:
    raw_date = pick(record, keys)
    if raw_date is None:
        raise UsageError(f"missing date (one of {', '.join(keys)})")
    moment = parse_moment(raw_date, writer.tz)
    check_moment(moment, writer.settings)
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


def same_article_key(post_id: str) -> str:
    """`NW202206012399054634` and `202206012399054634` name the same eastmoney article."""
    infocode = _INFOCODE_RE.match(post_id)
    return infocode[1] if infocode else post_id


# ---- what the archive holds -------------------------------------------------------------------------

class KnownPosts:
    """Ids and days of the archive's posts from file names; a day's posts are read when needed.

    Titles and bodies are compared by validate's own keys (rules.post_facts), so that a post
    `add` accepts is never a duplicate that `validate` would report for the same day.
    """

    def __init__(self, paths: list[str], ctx: CheckContext) -> None:
        self.ctx = ctx
        self.by_id: dict[str, str] = {}  # paths stay strings: Path objects for 100k files cost seconds
        self.by_day: dict[str, list[str]] = {}
        self._facts: dict[str, list[PostFacts]] = {}
        for path in paths:
            name = path[path.rfind("/") + 1:]
            day, post_id = day_and_id(name)
            self.by_id.setdefault(same_article_key(post_id), path)
            if day:
                self.by_day.setdefault(day, []).append(path)

    def id_owner(self, post_id: str) -> Path | None:
        owner = self.by_id.get(same_article_key(post_id))
        return Path(owner) if owner else None

    def title_owner(self, day: str, title: str) -> Path | None:
        key = squash(title)
        return next((Path(f.path) for f in self.facts_of(day) if key and f.title_key == key), None)

    def body_owner(self, day: str, body_key: str | None) -> Path | None:
        return next((Path(f.path) for f in self.facts_of(day) if body_key and f.body_key == body_key), None)

    def facts_of(self, day: str) -> list[PostFacts]:
        if day not in self._facts:
            self._facts[day] = [post_facts(read_post(Path(path)), self.ctx) for path in self.by_day.get(day, [])]
        return self._facts[day]

    def remember(self, planned: Planned, facts: PostFacts) -> None:
        self.by_id.setdefault(same_article_key(planned.post_id), str(planned.path))
        self.facts_of(planned.day).append(facts)

    def new_id(self, day: str) -> str:
        while True:
            candidate = day.replace("-", "") + f"{secrets.randbelow(10**10):010d}"
            if candidate not in self.by_id:
                return candidate


# ---- writing ----------------------------------------------------------------------------------------

class PostWriter:
    """Turns drafts into files in `dest`: duplicate checks, the validation rules, then an atomic write."""

    def __init__(self, settings: Settings, dest: Path, options: AddOptions) -> None:
        self.settings, self.dest, self.options = settings, dest, options
        self.tz = settings.tz
        self.ctx = make_context(settings)
        self.enabled = resolve_selection(settings.select, settings.ignore)
        self.covered = dest_is_covered(settings, dest)
        self._known: KnownPosts | None = None
        self.planned_paths: set[Path] = set()  # written, or shown by --dry-run

    @property
    def known(self) -> KnownPosts:
        if self._known is None:
            paths = list_archive_posts(self.settings)
            if not self.covered and self.dest.is_dir():
                paths += [str(p) for p in walk_files(self.dest) if p.suffix == ".md"]
            self._known = KnownPosts(paths, self.ctx)
        return self._known

    def write(self, draft: Draft) -> Path:
        return self.commit(self.plan(draft.title, draft.moment, draft.post_id), draft)

    def plan(self, title: str, moment: datetime, post_id: str | None) -> Planned:
        """Where the post goes, after refusing duplicates and existing files."""
        day = moment.astimezone(self.tz).date().isoformat()
        planned = Planned(day, post_id or self.known.new_id(day), title)
        planned.path = self.dest / f"{day}-{planned.post_id}.md"
        self.refuse_duplicates(planned)
        return planned

    def commit(self, planned: Planned, draft: Draft) -> Path:
        path = planned.path
        text = render_post(title=draft.title, moment=draft.moment, tz=self.tz, categories=draft.categories,
                           tags=draft.tags, body=draft.body)
        post = parse_post(text, path)
        self.apply_rules(post)
        facts = post_facts(post, self.ctx)
        if not self.options.force:
            self.refuse_same_body(planned, facts)
        if self.options.dry_run:
            self.show_dry_run(path, text)
        else:
            write_new_file(path, text.encode("utf-8"))
            typer.echo(shown(path) if self.options.print_path else f"added {shown(path)}")
            self.warn_if_uncovered(path)
        self.planned_paths.add(path)
        self.known.remember(planned, facts)
        return path

    def apply_rules(self, post: Post) -> None:
        """validate's per-file rules on the new text: an error refuses the post, a warning is shown."""
        findings = [f for f in check_post(post, self.ctx) if f.code in self.enabled]
        errors = [f for f in findings if f.severity == ERROR]
        if errors:
            raise UsageError("the post would not pass validate: "
                             + "; ".join(f"{f.code} {f.message}" for f in errors))
        for finding in findings:
            typer.echo(f"newsctl: warning: {shown(post.path)}: {finding.code} {finding.message}", err=True)

    def refuse_duplicates(self, planned: Planned) -> None:
        path = planned.path
        if not self.options.force:
            self.refuse_same_article(planned)
        if path.exists() or path.is_symlink() or path in self.planned_paths:
            raise Refused(f"refused: {shown(path)} already exists; newsctl never overwrites a post "
                          "(not even with --force); choose another id", duplicate=False)

    def refuse_same_article(self, planned: Planned) -> None:
        post_id, day = planned.post_id, planned.day
        owner = self.known.id_owner(post_id)
        if owner is not None:
            raise Refused(f"refused: id {post_id} is already used by {shown(owner)} "
                          "(--force adds it anyway)", duplicate=True)
        owner = self.known.title_owner(day, planned.title)
        if owner is not None:
            raise Refused(f"refused: a post titled {planned.title!r} on {day} exists: {shown(owner)} "
                          "(--force adds it anyway)", duplicate=True)

    def refuse_same_body(self, planned: Planned, facts: PostFacts) -> None:
        owner = self.known.body_owner(planned.day, facts.body_key)
        if owner is not None:
            raise Refused(f"refused: {shown(owner)} of {planned.day} has the same body text "
                          "(--force adds it anyway)", duplicate=True)

    def show_dry_run(self, path: Path, text: str) -> None:
        if self.options.print_path:
            typer.echo(shown(path))
        elif self.options.from_jsonl is not None:
            typer.echo(f"==> {shown(path)} <==\n{text}", nl=False)
        else:
            typer.echo(text, nl=False)

    def warn_if_uncovered(self, path: Path) -> None:
        if not self.covered:
            typer.echo(f"newsctl: warning: {shown(path)} is outside the archive's post folders "
                       f"(posts = {self.settings.posts}); validate and index will not see it", err=True)
            self.covered = True  # once per run is enough


def dest_is_covered(settings: Settings, dest: Path) -> bool:
    """True when a post written to `dest` matches the archive's `posts` globs."""
    try:
        rel = (dest.resolve() / "x.md").relative_to(settings.root.resolve()).as_posix()
    except ValueError:
        return False
    return any(glob_to_regex(pattern).match(rel) for pattern in settings.posts)


def write_new_file(path: Path, data: bytes) -> None:
    """Write `data` to the new file `path` atomically; never replace an existing file."""
    tmp_name = str(path.parent / f".newsctl-add-{secrets.token_hex(8)}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # 0o666 and O_EXCL: the umask applies as for any new file; a stray name is never reused
        handle = os.open(tmp_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        link_no_clobber(tmp_name, path)
    except OSError as exc:
        raise NewsctlError(f"cannot write {shown(path)}: {exc.strerror or exc}; nothing was written") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
    fsync_dir(path.parent)


def link_no_clobber(tmp_name: str, path: Path) -> None:
    try:
        os.link(tmp_name, path)
    except FileExistsError as exc:  # another writer got there between the check and now
        raise Refused(f"refused: {shown(path)} appeared meanwhile; newsctl never overwrites a post",
                      duplicate=False) from exc
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        reserve_then_replace(tmp_name, path)  # file systems without hard links


def reserve_then_replace(tmp_name: str, path: Path) -> None:
    """Claim the name with O_EXCL, then rename over our own empty claim."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
    except FileExistsError as exc:
        raise Refused(f"refused: {shown(path)} appeared meanwhile; newsctl never overwrites a post",
                      duplicate=False) from exc
    os.replace(tmp_name, path)


def fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform can open or sync a folder
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def shown(path: Path) -> str:
    """`path` relative to the working folder when under it, else absolute."""
    absolute = path.absolute()
    try:
        return str(absolute.relative_to(Path.cwd()))
    except ValueError:
        return str(absolute)
