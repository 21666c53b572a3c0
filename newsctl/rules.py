"""Validation rules: their codes and docs, the per-post checks, the archive-wide duplicate
checks and the text fixes behind `newsctl validate --fix`.

Codes: NC1xx file and encoding, NC2xx front matter and YAML (both found by `post.py` while
reading), NC3xx fields, NC4xx file name, NC5xx body, NC6xx duplicates, NC7xx style.
Selection works like ruff's: codes or prefixes, and the most specific match between
`select` and `ignore` wins.

This module is on the start-up path of `newsctl validate` (run by pre-commit): it imports
nothing beyond the standard library and `newsctl.post`.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from newsctl import post as P
from newsctl.errors import UsageError
from newsctl.names import FILENAME_RE, day_and_id
from newsctl.post import Post, parse_post, quote_yaml
from newsctl.post import parse_date as _parse_date_uncached

try:  # hashlib's own blake2b, without hashlib loading OpenSSL first (~4 ms of every pre-commit run)
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - a Python built without its own hash modules
    from hashlib import blake2b

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: str  # "error" or "warning"
    fix: str  # "always", "sometimes" or "never": can `--fix` repair it
    what: str
    why: str
    how: str


def _rule(code: str, name: str, severity: str, fix: str, what: str, why: str, how: str) -> Rule:
    return Rule(code, name, severity, fix, what, why, how)


RULE_LIST: tuple[Rule, ...] = (
    # ---- NC1xx: the file itself (found by post.read_post)
    _rule(P.UNREADABLE, "unreadable-file", ERROR, "never",
          "The file cannot be read: permissions, a broken or looping symlink, or not a regular file.",
          "Jekyll and newsctl skip a post they cannot read, so it silently disappears from the site.",
          "Fix the permissions, replace the symlink by the real file, or remove the entry."),
    _rule(P.NOT_UTF8, "not-utf8", ERROR, "never",
          "The file is not valid UTF-8 (for example UTF-16, GBK, or damaged bytes).",
          "The archive is UTF-8; other encodings show as mojibake or stop the site build.",
          "Re-save the file as UTF-8 (e.g. `iconv -f GBK -t UTF-8`)."),
    _rule(P.BOM, "byte-order-mark", WARNING, "always",
          "The file starts with a UTF-8 byte order mark (BOM).",
          "The BOM is invisible and useless in UTF-8; tools that do not strip it miss the front matter.",
          "Run `newsctl validate --fix`, or save the file as UTF-8 without BOM."),
    _rule(P.NUL_BYTES, "nul-bytes", ERROR, "never",
          "The file contains NUL bytes.",
          "NUL bytes mean binary data or a damaged download, not a post.",
          "Restore the post from its source, or delete the file."),
    _rule(P.CRLF, "crlf-line-endings", WARNING, "always",
          "The file uses Windows line endings (CRLF).",
          "Mixed line endings make diffs noisy; the archive uses LF.",
          "Run `newsctl validate --fix`, or set your editor to LF line endings."),
    _rule(P.TOO_LARGE, "file-too-large", ERROR, "never",
          "The file is larger than the limit for a post (5 MB).",
          "No news post is that large; it is most likely a dump or a binary put in the wrong place.",
          "Remove the file or move it out of the post folders."),
    # ---- NC2xx: front matter and YAML (found by post.parse_post)
    _rule(P.NO_FRONT_MATTER, "missing-front-matter", ERROR, "never",
          "The file does not start with a `---` line that opens the front matter.",
          "Without front matter Jekyll copies the file as it is instead of rendering a post.",
          "Start the file with `---`, the keys (layout, title, date, categories, tags), and `---`."),
    _rule(P.UNTERMINATED, "unterminated-front-matter", ERROR, "never",
          "The front matter is opened by `---` but never closed by a second `---` line.",
          "The whole file would be read as YAML; the post has no body.",
          "Add a `---` line after the last front-matter key."),
    _rule(P.YAML_SYNTAX, "yaml-syntax-error", ERROR, "sometimes",
          "The front matter is not valid YAML; the finding gives the line and column.",
          "Jekyll stops or drops the post; newsctl cannot read its title or date.",
          "Correct the YAML at the reported position. A title with unescaped quotes or a `: ` inside is "
          "fixed by `--fix`, which puts the title in double quotes with the quotes escaped."),
    _rule(P.UNSAFE_TAG, "unsafe-yaml-tag", ERROR, "never",
          "The front matter uses a YAML tag such as `!!python/object` or a custom `!tag`.",
          "Such tags can run code in unsafe loaders and are never needed in a post.",
          "Remove the tag and write the value as plain text."),
    _rule(P.YAML_ALIAS, "yaml-alias", ERROR, "never",
          "The front matter uses YAML anchors and aliases (`&name`, `*name`, `<<:`).",
          "Posts never need them, and nested aliases can blow up to gigabytes (an alias bomb).",
          "Write the values out in full."),
    _rule(P.DUPLICATE_KEY, "duplicate-key", ERROR, "never",
          "A key appears twice in the front matter.",
          "YAML keeps only one of the values, silently; which one depends on the tool.",
          "Keep one line for the key and delete the other."),
    _rule(P.NOT_MAPPING, "front-matter-not-mapping", ERROR, "never",
          "The front matter is a list or a single value, not `key: value` lines.",
          "Jekyll needs a mapping to find the title, date and layout.",
          "Write the front matter as `key: value` lines."),
    _rule(P.TOO_COMPLEX, "front-matter-too-complex", ERROR, "never",
          "The front matter is longer than 64 KiB or nested too deeply.",
          "Real front matter is a few short lines; this is data put in the wrong place or an attack.",
          "Shorten the front matter to the keys a post needs."),
    # ---- NC3xx: fields
    _rule("NC301", "missing-key", ERROR, "never",
          "A required front-matter key (layout, title, date, categories, tags) is missing.",
          "The site's templates, feeds and newsctl's index all rely on these keys.",
          "Add the key on its own line before the closing `---`."),
    _rule("NC302", "wrong-type", ERROR, "never",
          "A required key has the wrong kind of value: e.g. a title that is a list, a date that is a "
          "number, categories or tags that are empty or hold nested lists or mappings.",
          "Templates expect text (and words for categories/tags); other values render wrongly or break the build.",
          "Write the title in double quotes, the date as `YYYY-MM-DD HH:MM:SS +0800`, categories and tags "
          "as a word or `[word, word]`."),
    _rule("NC303", "empty-title", ERROR, "never",
          "The title is empty.",
          "A post without a title shows as a blank line in lists and cannot be found by title.",
          "Write the headline in `title:`."),
    _rule("NC304", "title-too-long", WARNING, "never",
          "The title is longer than `max_title_length` characters (default 200).",
          "Headlines are short; an absurdly long title usually means the body ended up in the title.",
          "Move the text into the body and keep the headline in `title:`."),
    _rule("NC305", "unparseable-date", ERROR, "never",
          "The date is empty or not a date and time (e.g. `+0800` alone, `2022-02-30`, `06/01/2022`).",
          "Jekyll refuses the post, and newsctl cannot sort or filter it by date.",
          "Write the date as `YYYY-MM-DD HH:MM:SS +0800`."),
    _rule("NC306", "date-without-zone", ERROR, "always",
          "The date has no time zone offset (e.g. `2021-12-08 10:46:18`).",
          "Without a zone the moment depends on the machine that builds the site; near midnight the post "
          "moves to another day.",
          "Run `newsctl validate --fix`: it appends the archive zone's offset (from `timezone:` in "
          "_config.yml) for that date, e.g. `+0800`."),
    _rule("NC307", "future-date", ERROR, "never",
          "The date lies in the future by more than `future_tolerance_hours` (default 24).",
          "Jekyll does not publish future posts by default; the post silently disappears.",
          "Correct the date (a wrong year or zone is the usual cause)."),
    _rule("NC308", "unknown-layout", ERROR, "never",
          "The layout is not one of the known layouts (setting `layouts`, plus `_layouts/*` of the archive).",
          "Jekyll renders a post with an unknown layout without any page around it.",
          "Use `layout: post`, or add the layout to the `layouts` setting."),
    # ---- NC4xx: file name
    _rule("NC401", "bad-file-name", ERROR, "never",
          "The file name is not `YYYY-MM-DD-<id>.md` with a real date and an id of letters, digits, "
          "`-`, `_` or `.`.",
          "Jekyll only publishes files in `_posts/` named this way; the id is how newsctl finds a post.",
          "Rename the file, e.g. `git mv _posts/-123.md _posts/2022-05-26-123.md`."),
    _rule("NC402", "file-date-mismatch", ERROR, "never",
          "The date in the file name differs from the front-matter date taken in the archive zone "
          "(`2022-05-31 20:30:00 +0000` is 2022-06-01 in Asia/Shanghai).",
          "Permalinks use one date and listings the other; the post appears under the wrong day.",
          "Rename the file to the front-matter date in the archive zone, or correct the date."),
    # ---- NC5xx: body
    _rule("NC501", "empty-body", ERROR, "never",
          "The body holds no text besides the source link and the footer.",
          "An empty post is a failed scrape; it shows as a blank page.",
          "Restore the article text from the source, or delete the post."),
    _rule("NC502", "body-repeats-title", WARNING, "never",
          "The body only repeats the title.",
          "The scraper got the headline but not the article.",
          "Restore the article text from the source link."),
    _rule("NC503", "empty-link", ERROR, "never",
          "The body has an empty link `<>`.",
          "It renders as a literal `<>`; the source URL was lost when the post was written.",
          "Put the source URL between the brackets, or delete the line."),
    _rule("NC504", "missing-source-link", WARNING, "never",
          "The body has no source link line (`<http://…>`).",
          "Every news post should credit and link its source.",
          "Add the original article's URL on its own line: `<http://…>`."),
    # ---- NC6xx: duplicates, across the whole archive (`_posts/` and `old_post/` alike)
    _rule("NC601", "duplicate-id", ERROR, "never",
          "Another file has the same id (the part of the file name after the date).",
          "Ids must be unique: `newsctl show ID`, the index and permalinks pick one of the files at random.",
          "Delete the copy, or give one post a new id."),
    _rule("NC602", "duplicate-title-date", ERROR, "never",
          "Another post has the same title and the same date (the same moment, zones considered).",
          "The same article was written twice, e.g. once in `_posts/` and once in `old_post/`.",
          "Delete one of the copies."),
    _rule("NC603", "duplicate-body", ERROR, "never",
          "Another post has the same body text (compared without source link, footer, markup and spacing).",
          "The same article was stored twice, often with only the footer or the date changed.",
          "Delete one of the copies. When PATHS are given, only posts of the same day are compared."),
    # ---- NC7xx: style
    _rule("NC701", "trailing-whitespace", WARNING, "always",
          "A line ends with spaces or tabs.",
          "Trailing whitespace is invisible noise in diffs (two spaces are a Markdown line break; use "
          "`<br>` if you mean one).",
          "Run `newsctl validate --fix`."),
)

RULES: dict[str, Rule] = {rule.code: rule for rule in RULE_LIST}
ALWAYS_FIXABLE = frozenset(rule.code for rule in RULE_LIST if rule.fix == "always")


@dataclass(frozen=True)
class Finding:
    """One problem in one file; line and column are 1-based, in the file."""

    path: str
    line: int
    column: int
    code: str
    message: str
    fixable: bool = False

    @property
    def severity(self) -> str:
        return RULES[self.code].severity


# ---- selection ---------------------------------------------------------------------------------

def resolve_selection(select: Iterable[str], ignore: Iterable[str], origin: str = "--select/--ignore",
                      ) -> frozenset[str]:
    """The enabled codes; the longest matching prefix decides, `ignore` wins ties (as in ruff)."""
    chosen = [s.strip().upper() for s in select if s.strip()] or ["NC"]
    dropped = [s.strip().upper() for s in ignore if s.strip()]
    for code in (*chosen, *dropped):
        if code != "ALL" and not any(rule.startswith(code) for rule in RULES):
            raise UsageError(f"{origin}: unknown rule code or prefix {code!r} (see `newsctl rules`)")
    return frozenset(code for code in RULES if _wins(code, chosen, dropped))


def _wins(code: str, chosen: list[str], dropped: list[str]) -> bool:
    def best(prefixes: list[str]) -> int:
        lengths = [0 if p == "ALL" else len(p) for p in prefixes if p == "ALL" or code.startswith(p)]
        return max(lengths, default=-1)

    return best(chosen) > best(dropped)


@lru_cache(maxsize=64)  # the date checks and the duplicate facts parse the same value
def parse_date(value: str) -> datetime | None:
    return _parse_date_uncached(value)


# ---- per-post checks -----------------------------------------------------------------------------

@dataclass(frozen=True)
class CheckContext:
    """What the checks need from the settings; small and picklable for worker processes."""

    zone_name: str
    tz: tzinfo
    now: datetime
    future_tolerance: timedelta
    layouts: frozenset[str]
    max_title_length: int


class PostFacts(NamedTuple):
    """What the archive-wide duplicate rules compare; None where the post did not say.
    (A named tuple: built and pickled once per post, it must be cheap.)"""

    path: str
    id: str
    day: str | None  # the date in the file name
    title_key: str | None = None
    moment: float | None = None  # the front-matter date as a POSIX timestamp
    body_key: str | None = None
    title_line: int = 1
    body_line: int = 1


def check_post(post: Post, ctx: CheckContext) -> list[Finding]:
    """Every per-file finding for one post (all rules; the caller filters the selection)."""
    findings = [_problem_finding(post, problem) for problem in post.problems]
    findings += check_file_name(post)
    if front_matter_read(post):
        findings += check_fields(post, ctx)
        findings += check_body(post)
    if post.raw:
        findings += check_trailing_whitespace(post)
    return findings


def front_matter_read(post: Post) -> bool:
    """The front matter parsed into a mapping (only harmless reading problems)."""
    return bool(post.raw) and all(p.code in (P.CRLF, P.BOM) for p in post.problems)


def _problem_finding(post: Post, problem: P.Problem) -> Finding:
    fixable = problem.code in ALWAYS_FIXABLE or (
        problem.code == P.YAML_SYNTAX and requote_title(post.raw, post.path) is not None)
    return Finding(str(post.path), problem.line, problem.column, problem.code, problem.message, fixable)


def _finding(post: Post, code: str, message: str, line: int = 1, column: int = 1,
             fixable: bool = False) -> Finding:
    return Finding(str(post.path), line, column, code, message, fixable)


def check_file_name(post: Post) -> list[Finding]:
    name = post.path.name
    match = FILENAME_RE.match(name)
    if not match:
        return [_finding(post, "NC401", f"file name {name!r} is not YYYY-MM-DD-<id>.md")]
    if post.file_date is None:
        return [_finding(post, "NC401", f"file name {name!r} starts with an impossible date {match['date']}")]
    if not P.SAFE_ID_RE.match(match["id"]):
        return [_finding(post, "NC401", f"id {match['id']!r} in the file name has characters other than "
                                        "letters, digits, '-', '_' and '.'")]
    return []


# -- fields

def check_fields(post: Post, ctx: CheckContext) -> list[Finding]:
    closing_line = max(post.body_line - 1, 1)
    findings = [_finding(post, "NC301", f"required key {key!r} is missing", closing_line)
                for key in P.REQUIRED_KEYS if key not in post.meta]
    findings += _check_layout(post, ctx)
    findings += _check_title(post, ctx)
    findings += _check_date(post, ctx)
    for key in ("categories", "tags"):
        findings += _check_words(post, key)
    return findings


def _key_finding(post: Post, key: str, code: str, message: str, fixable: bool = False) -> Finding:
    line = post.key_lines.get(key, 1)
    return _finding(post, code, message, line, _value_column(post.raw, line, key), fixable)


def _value_column(raw: str, line: int, key: str) -> int:
    """1-based column where the value of `key:` starts on `line` (1 when it cannot be told)."""
    lines = raw.split("\n", line)
    if len(lines) < line:
        return 1
    text = lines[line - 1].lstrip("\ufeff")
    match = re.match(rf"{re.escape(key)}[ \t]*:[ \t]*(?=\S)", text)
    return match.end() + 1 if match else 1


def _kind(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def _check_layout(post: Post, ctx: CheckContext) -> list[Finding]:
    if "layout" not in post.meta:
        return []
    layout = post.meta["layout"]
    if not isinstance(layout, str) or not layout.strip():
        return [_key_finding(post, "layout", "NC302", f"layout is {_kind(layout) if layout else 'empty'}, "
                                                      "not a layout name")]
    if layout.strip() not in ctx.layouts:
        known = ", ".join(sorted(ctx.layouts))
        return [_key_finding(post, "layout", "NC308", f"unknown layout {layout!r} (known: {known})")]
    return []


def _check_title(post: Post, ctx: CheckContext) -> list[Finding]:
    if "title" not in post.meta:
        return []
    title = post.meta["title"]
    if title is None or (isinstance(title, str) and not title.strip()):
        return [_key_finding(post, "title", "NC303", "title is empty")]
    if not isinstance(title, str):
        return [_key_finding(post, "title", "NC302", f"title is {_kind(title)}, not text; "
                                                     "write it in double quotes")]
    length = len(title.strip())
    if length > ctx.max_title_length:
        return [_key_finding(post, "title", "NC304", f"title is {length} characters long "
                                                     f"(limit {ctx.max_title_length})")]
    return []


def _check_date(post: Post, ctx: CheckContext) -> list[Finding]:
    if "date" not in post.meta:
        return []
    value = post.meta["date"]
    if value is None or (isinstance(value, str) and not value.strip()):
        return [_key_finding(post, "date", "NC305", "date is empty")]
    if not isinstance(value, str):
        return [_key_finding(post, "date", "NC302", f"date is {_kind(value)}, not a date; "
                                                    "write YYYY-MM-DD HH:MM:SS +0800")]
    parsed = parse_date(value)
    if parsed is None:
        return [_key_finding(post, "date", "NC305", f"date {_clip(value)!r} is not a date and time "
                                                    "(expected YYYY-MM-DD HH:MM:SS +0800)")]
    findings = []
    if parsed.tzinfo is None:
        findings.append(_key_finding(post, "date", "NC306", f"date {value.strip()!r} has no time zone "
                                     f"(it is taken as {ctx.zone_name})",
                                     fixable=add_date_zone(post.raw, ctx.tz) is not None))
    moment = parsed if parsed.tzinfo else parsed.replace(tzinfo=ctx.tz)
    if moment > ctx.now + ctx.future_tolerance:
        findings.append(_key_finding(post, "date", "NC307", f"date {value.strip()!r} is in the future"))
    findings += _check_file_date(post, moment, value, ctx)
    return findings


def _check_file_date(post: Post, moment: datetime, value: str, ctx: CheckContext) -> list[Finding]:
    file_day = post.file_date
    local_day = moment.astimezone(ctx.tz).date()
    if file_day is None or file_day == local_day:
        return []
    return [_key_finding(post, "date", "NC402", f"file name says {file_day} but the date {value.strip()!r} "
                                                f"is {local_day} in {ctx.zone_name}")]


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _check_words(post: Post, key: str) -> list[Finding]:
    if key not in post.meta:
        return []
    value = post.meta[key]
    if isinstance(value, str) and value.strip():
        return []
    if isinstance(value, list) and value and all(_is_word(item) for item in value):
        return []
    if isinstance(value, list) and value:
        problem = "holds nested lists, mappings or empty items"
    elif value is None or value in ("", []):
        problem = "is empty"
    else:
        problem = f"is {_kind(value)}"
    return [_key_finding(post, key, "NC302", f"{key} {problem}; write a word or [word, word]")]


def _is_word(item: Any) -> bool:
    return isinstance(item, (str, int, float)) and not isinstance(item, bool) and bool(str(item).strip())


# -- body

# Mirrors text.py's definitions (an autolink alone on its line; the "[返回…](…)" footer),
# kept here so that validate does not import the HTML stack.
_AUTOLINK_LINE = re.compile(r"[ \t]*<(?:[A-Za-z][A-Za-z0-9+.\-]{1,31}:|//)[^<>\s]*>[ \t]*")
_FOOTER_LINE = re.compile(r"[ \t]*(?:\[返回[^\]\n]*\]\([^)\n]*\)[ \t]*[｜|]?[ \t]*)+")
_EMPTY_LINK = re.compile(r"<[ \t]*>")
_TAG = re.compile(r"<!--.*?-->|<[A-Za-z/!][^<>]*>", re.DOTALL)
_MEDIA = re.compile(r"<img\b|!\[[^\]\n]*\]\([^)\s]+", re.IGNORECASE)
_NOT_WORD = re.compile(r"[\W_]+")
_SPACE = re.compile(r"\s+")


def check_body(post: Post) -> list[Finding]:
    body = post.body
    findings = [_body_finding(post, match.start(), "NC503", "empty link <> (the source URL is missing)")
                for match in _EMPTY_LINK.finditer(body)]
    content = body_content(body)
    if not content and not _MEDIA.search(body):
        line = post.body_line if body.strip() else max(post.body_line - 1, 1)
        return [*findings, _finding(post, "NC501", "body is empty (no text besides links and footer)", line)]
    title = post.title
    if title and _same_words(content, title):
        findings.append(_finding(post, "NC502", "body only repeats the title", post.body_line))
    if not any(_AUTOLINK_LINE.fullmatch(line) for line in body.split("\n") if "<" in line):
        findings.append(_finding(post, "NC504", "no source link (a line holding only <http://…>)",
                                 post.body_line))
    return findings


def _body_finding(post: Post, offset: int, code: str, message: str) -> Finding:
    line_start = post.body.rfind("\n", 0, offset) + 1
    return _finding(post, code, message, post.body_line + post.body.count("\n", 0, offset),
                    offset - line_start + 1)


@lru_cache(maxsize=8)  # check_body and post_facts both need it for the same post
def body_content(body: str) -> str:
    """The body's text without source link, `<>`, footer and markup; "" when nothing is left."""
    kept = [line for line in body.split("\n") if not _is_boilerplate(line)]
    text = "\n".join(kept)
    if "<" in text:
        text = _TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    return text.strip()


def _is_boilerplate(line: str) -> bool:
    if "<" in line and (_AUTOLINK_LINE.fullmatch(line) or _EMPTY_LINK.fullmatch(line.strip())):
        return True
    return "[返回" in line and _FOOTER_LINE.fullmatch(line) is not None


def _same_words(body: str, title: str) -> bool:
    """Equal apart from spacing and width; a one-sentence flash that ends in "。" is not a repeat."""
    if len(body) > 2 * len(title) + 16:  # cheap way out for real articles
        return False
    return _SPACE.sub("", unicodedata.normalize("NFKC", body)) == _SPACE.sub("", unicodedata.normalize("NFKC", title))


def squash(text: str) -> str:
    """Text for equality tests: NFKC, case-folded, without spaces and punctuation."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text).casefold())


# -- style

_TRAILING = re.compile(r"[ \t]+(?=\r?\n|\Z)")


def check_trailing_whitespace(post: Post) -> list[Finding]:
    raw = post.raw
    if not any(mark in raw for mark in (" \n", "\t\n", " \r\n", "\t\r\n")) and not raw.endswith((" ", "\t")):
        return []  # substring tests are far cheaper than the regex on space-rich HTML
    findings = []
    line, scanned = 1, 0
    for match in _TRAILING.finditer(raw):
        line += raw.count("\n", scanned, match.start())
        scanned = match.start()
        column = match.start() - (raw.rfind("\n", 0, match.start()) + 1) + 1
        findings.append(_finding(post, "NC701", "trailing whitespace", line, column, fixable=True))
    return findings


# ---- archive-wide duplicates -----------------------------------------------------------------------

def name_facts(path: str) -> PostFacts:
    """Facts known from the file name alone (for files that are not read)."""
    day, post_id = day_and_id(path.rsplit("/", 1)[-1])
    return PostFacts(path, post_id, day)


def post_facts(post: Post, ctx: CheckContext) -> PostFacts:
    base = name_facts(str(post.path))
    if not front_matter_read(post):
        return base
    title = post.meta.get("title")
    title_key = squash(title) if isinstance(title, str) and title.strip() else None
    parsed = parse_date(post.meta.get("date")) if isinstance(post.meta.get("date"), str) else None
    moment = None
    if parsed is not None:
        aware = parsed if parsed.tzinfo else parsed.replace(tzinfo=ctx.tz)
        moment = aware.timestamp()
    # Copies differ in footer, source link, markup and spacing, not in characters: no NFKC here.
    squashed = "".join(body_content(post.body).split())
    body_key = blake2b(squashed.encode("utf-8"), digest_size=16).hexdigest() if squashed else None
    return PostFacts(base.path, base.id, base.day, title_key, moment, body_key,
                     post.key_lines.get("title", 1), post.body_line)


def duplicate_findings(facts: Iterable[PostFacts], report: set[str] | None, root: str) -> list[Finding]:
    """NC601-NC603 for the files in `report` (every file when None), naming the other copies."""
    by_id: dict[str, list[PostFacts]] = defaultdict(list)
    by_title_date: dict[tuple[str, float], list[PostFacts]] = defaultdict(list)
    by_body: dict[str, list[PostFacts]] = defaultdict(list)
    for fact in facts:
        by_id[fact.id].append(fact)
        if fact.title_key and fact.moment is not None:
            by_title_date[(fact.title_key, fact.moment)].append(fact)
        if fact.body_key:
            by_body[fact.body_key].append(fact)
    findings: list[Finding] = []
    findings += _group_findings(by_id.values(), report, root, "NC601", "id is also used by {}",
                                lambda f: 1)
    findings += _group_findings(by_title_date.values(), report, root, "NC602",
                                "same title and date as {}", lambda f: f.title_line)
    findings += _group_findings(by_body.values(), report, root, "NC603", "same body text as {}",
                                lambda f: f.body_line)
    return findings


def _group_findings(groups: Iterable[list[PostFacts]], report: set[str] | None, root: str, code: str,
                    template: str, line_of: Callable[[PostFacts], int]) -> list[Finding]:
    findings = []
    for group in groups:
        if len(group) < 2:
            continue
        for fact in group:
            if report is not None and fact.path not in report:
                continue
            others = [_relative(other.path, root) for other in group if other.path != fact.path]
            shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
            findings.append(Finding(fact.path, line_of(fact), 1, code, template.format(shown)))
    return findings


def _relative(path: str, root: str) -> str:
    prefix = root.rstrip("/") + "/"
    return path[len(prefix):] if path.startswith(prefix) else path


# ---- fixes --------------------------------------------------------------------------------------------

def fix_text(raw: str, codes: set[str], path: Path, tz: tzinfo) -> str:
    """`raw` with the problems in `codes` repaired; every other byte stays as it was."""
    text = raw
    if P.BOM in codes and text.startswith("\ufeff"):
        text = text[1:]
    if P.CRLF in codes:
        text = text.replace("\r\n", "\n")
    if "NC701" in codes:
        text = _TRAILING.sub("", text)
    if P.YAML_SYNTAX in codes:
        text = requote_title(text, path) or text
    if "NC306" in codes:
        text = add_date_zone(text, tz) or text
    return text


def _front_matter_line(text: str, key: str) -> tuple[int, int] | None:
    """(start, end) offsets of the first `key:` line inside the front matter, end before the EOL."""
    if not re.match(r"\ufeff?---[ \t]*\r?\n", text):
        return None
    pattern = re.compile(rf"^(?:---[ \t]*\r?$|{re.escape(key)}[ \t]*:.*?(?=\r?$))", re.MULTILINE)
    for match in pattern.finditer(text, text.find("\n") + 1):
        if match[0].startswith("---"):
            return None
        return match.start(), match.end()
    return None


def requote_title(text: str, path: Path) -> str | None:
    """`text` with a title that breaks the YAML re-quoted, when that makes the post parse."""
    span = _front_matter_line(text, "title")
    if span is None:
        return None
    line = text[span[0]:span[1]]
    raw = line.split(":", 1)[1].strip()
    quoted = len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'"
    if not quoted and raw[:1] in ("\"", "'"):
        return None  # an unbalanced opening quote: whether it belongs to the title is a guess
    inner = raw[1:-1] if quoted else raw
    if not inner:
        return None
    candidate = text[:span[0]] + "title: " + quote_yaml(inner) + text[span[1]:]
    reparsed = parse_post(candidate.encode("utf-8"), path)
    if front_matter_read(reparsed) and reparsed.meta.get("title") == inner:
        return candidate
    return None


_DATE_VALUE = re.compile(r"(?P<head>date[ \t]*:[ \t]*)(?P<quote>[\"']?)(?P<value>[^\"'#\r\n]*?)"
                         r"(?P=quote)(?P<tail>[ \t]*(?:#.*)?)")


def add_date_zone(text: str, tz: tzinfo) -> str | None:
    """`text` with the archive zone's offset appended to a date that has none."""
    span = _front_matter_line(text, "date")
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
