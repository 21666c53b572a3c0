"""`newsctl add`, its drafts: the options and each field checked, dates, bodies (a file, stdin or
the editor). feed.py reads a feed's records into drafts; postwriter.py writes them; the command
(commands/add.py) ties them together and render/add.py prints what happened.

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
import math
import os
import re
import shlex
import subprocess
import sys
import tempfile
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from newsctl.config import Settings
from newsctl.dates import parse_date
from newsctl.errors import NewsctlError, UsageError
from newsctl.post import MAX_POST_BYTES, SAFE_ID_RE
from newsctl.text import find_source_links

EDITOR_COMMENT = "#~"
BODY_LIMIT = MAX_POST_BYTES - 64 * 1024  # room for the front matter and the source line
MIN_YEAR = 1970  # older local times carry odd offsets (LMT +080543) that a post cannot write
_TRAILING_SPACE = re.compile(r"[ \t]+$", re.MULTILINE)
_LEADING_BLANK_LINES = re.compile(r"\A(?:[ \t]*\n)+")


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


@dataclass
class Draft:
    """A new post, checked field by field; `post_id` None means: generate one."""

    title: str
    moment: datetime  # aware
    categories: list[str]
    tags: list[str]
    body: str  # with the source line already appended
    post_id: str | None = None


# ---- one post from the options -------------------------------------------------------------

def draft_from_options(options: AddOptions, settings: Settings) -> tuple[Draft, str | None]:
    """The draft of `add --title ...` with its fields checked but no body yet, and the checked
    source URL: the body is read (the editor opened) only once the post is known not to be refused."""
    if options.title is None:
        raise UsageError("--title is required (or use --from-jsonl FILE for a feed)")
    title = check_title(options.title, settings.max_title_length)
    moment = parse_moment(options.date, settings.tz) if options.date is not None else now(settings.tz)
    check_moment(moment, settings)
    categories = check_words(options.categories, "category", "--category")
    tags = check_words(options.tags, "tag", "--tag")
    post_id = check_id(options.post_id, "--id") if options.post_id is not None else None
    source_url = check_url(options.source_url) if options.source_url is not None else None
    return Draft(title, moment, categories, tags, "", post_id), source_url


def body_from_options(options: AddOptions, title: str, source_url: str | None) -> str:
    """The body of `add --title ...` (a file, stdin or the editor), ending with its source line."""
    return with_source_line(read_single_body(options, title), source_url)


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


def clean_body(body: str, where: str) -> str:
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
        return clean_body(decode_body(read_bounded(sys.stdin.buffer, "<stdin>"), "<stdin>"), "<stdin>")
    if options.body_file is not None:
        try:
            with Path(options.body_file).open("rb") as stream:
                data = read_bounded(stream, options.body_file)
        except OSError as exc:
            raise UsageError(f"--body-file {options.body_file}: cannot read: {exc.strerror or exc}") from exc
        return clean_body(decode_body(data, options.body_file), options.body_file)
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
    return clean_body(body, "editor buffer")


def run_editor(command: list[str], name: str) -> None:
    try:
        status = subprocess.run([*command, name], check=False).returncode
    except OSError as exc:
        raise UsageError(f"cannot start the editor {command[0]!r}: {exc.strerror or exc}") from exc
    if status != 0:
        raise NewsctlError(f"the editor exited with status {status}; nothing written")
