"""The post model: read a post file safely, and write one with correct YAML quoting.

Reading never raises for bad content: every structural defect (encoding, front matter,
YAML) becomes a `Problem` with a rule code, so that `validate` can report it and `index`
can skip the post with a reason. The original text is kept, so an unchanged post is never
rewritten.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone, tzinfo
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from newsctl.dates import format_date
from newsctl.jekyll.psych import PLAIN_TAG, DisallowedClass, PsychDate, PsychResolution, PsychTime, psych_scalar
from newsctl.names import FILENAME_RE, day_and_id

# The codes of the problems found while reading; each rule (code, docs, fix) is in rules/reading.py.
from newsctl.rules.reading import (
    BOM,
    CRLF,
    DUPLICATE_KEY,
    NO_FRONT_MATTER,
    NOT_MAPPING,
    NOT_UTF8,
    NUL_BYTES,
    TOO_COMPLEX,
    TOO_LARGE,
    UNREADABLE,
    UNSAFE_TAG,
    UNTERMINATED,
    YAML_ALIAS,
    YAML_SYNTAX,
)

if TYPE_CHECKING:
    import frontmatter

MAX_POST_BYTES = 5 * 1024 * 1024  # far above any real post; bounds memory for junk files
MAX_FRONT_MATTER_CHARS = 64 * 1024
REQUIRED_KEYS = ("layout", "title", "date", "categories", "tags")


@dataclass(frozen=True)
class Problem:
    """A defect found while reading; line and column are 1-based, in the file."""

    code: str
    message: str
    line: int = 1
    column: int = 1


# ---- safe YAML --------------------------------------------------------------------------

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class UnsafeYAML(yaml.MarkedYAMLError):
    """Raised for YAML that is well-formed but not acceptable in a post."""

    def __init__(self, code: str, problem: str, mark: Any) -> None:
        super().__init__(problem=problem, problem_mark=mark)
        self.code = code


class PostLoader(PsychResolution, _BaseLoader):  # type: ignore[valid-type,misc]
    """A safe loader that types values as Jekyll's Ruby YAML (Psych) does, and refuses aliases and
    duplicate keys.

    Aliases are refused outright (posts never need them; that makes alias bombs harmless).
    Plain values are typed by `newsctl.jekyll.psych` (`1,000` is 1000, `12:30` is 45000, a
    timestamp is a `PsychTime`: the text as written, with the instant Jekyll reads from it).
    """

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        if node in self.constructed_objects or node in self.recursive_objects:
            raise UnsafeYAML(YAML_ALIAS, "YAML aliases (*name) are not allowed in posts", node.start_mark)
        return super().construct_object(node, deep=deep)

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[Hashable, Any]:
        if isinstance(node, yaml.MappingNode):
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else id(key_node)
                if key in seen:
                    raise UnsafeYAML(DUPLICATE_KEY, f"duplicate key {key!r}", key_node.start_mark)
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


PostLoader.add_constructor(PLAIN_TAG, PsychResolution.construct_psych_plain)


@cache
def front_matter_handler() -> frontmatter.YAMLHandler:
    """python-frontmatter's YAML handler, with the loader above. Built on first use: the simple
    front matter of nearly every post is read without it, so pre-commit and indexing need not
    import python-frontmatter at all."""
    import frontmatter

    class PostYAMLHandler(frontmatter.YAMLHandler):
        def load(self, fm: str, **kwargs: object) -> Any:
            return yaml.load(fm, Loader=PostLoader)

    return PostYAMLHandler()


_FENCE = re.compile(r"^---[ \t]*$", re.MULTILINE)
_CLOSING_FENCE = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.MULTILINE)  # Jekyll closes front matter with either


# ---- the model ----------------------------------------------------------------------------

SAFE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}\Z")  # \Z: "$" would accept a final newline


@dataclass
class Post:
    path: Path
    raw: str = ""  # the decoded text, as it is on disk ("" when unreadable)
    meta: dict[str, Any] = field(default_factory=dict)
    body: str = ""
    body_line: int = 1  # 1-based line of the file where the body starts
    key_lines: dict[str, int] = field(default_factory=dict)  # top-level key -> 1-based line
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the post is readable: its front matter was read (field-level defects may remain)."""
        return not reading_errors(self)

    @property
    def title(self) -> str:
        value = self.meta.get("title")
        return value.strip() if isinstance(value, str) else ("" if value is None else str(value))

    @property
    def categories(self) -> list[str]:
        return as_list(self.meta.get("categories"))

    @property
    def tags(self) -> list[str]:
        return as_list(self.meta.get("tags"))

    @property
    def file_date(self) -> date | None:
        match = FILENAME_RE.match(self.path.name)
        if not match:
            return None
        try:
            return date.fromisoformat(match["date"])
        except ValueError:
            return None

    @property
    def id(self) -> str:
        """The id in the file name (`YYYY-MM-DD-<id>.md`); see names.day_and_id for odd names."""
        return day_and_id(self.path.name)[1]

    def date(self, tz: tzinfo) -> datetime | None:
        """The instant Jekyll publishes the front-matter date at, in the site zone `tz` (a plain
        zone-less timestamp is UTC: newsctl.jekyll.dates); None without one Jekyll can read."""
        if "date" not in self.meta:
            return None
        value = self.meta["date"]
        if isinstance(value, PsychTime):  # the common case, read once by the loader
            return value.instant.replace(microsecond=0).astimezone(tz)
        from newsctl.jekyll.dates import read_post_date

        return read_post_date(value, True, None, tz).instant


# ---- the readable-post predicate: one answer for validate, index, stats and show -------------

HARMLESS_PROBLEMS = frozenset({BOM, CRLF})  # warnings: the post reads the same without them


def reading_errors(post: Post) -> list[Problem]:
    """The problems that kept the post from being read (all but a BOM and CRLF line ends)."""
    return [problem for problem in post.problems if problem.code not in HARMLESS_PROBLEMS]


def unusable_reason(post: Post) -> str | None:
    """Why the post cannot serve as a post (the index skips it, `stats` counts it invalid): a
    reading error, no title, or no valid date; None for a usable post."""
    errors = reading_errors(post)
    if errors:
        first = errors[0]
        return f"{first.code} {first.message} (line {first.line})"
    if not post.title:
        return "no title"
    if post.date(timezone.utc) is None:  # the zone does not decide whether there is a date
        return "no valid date"
    return None


def as_list(value: Any) -> list[str]:
    """Jekyll's categories/tags: a string (space separated) or a list."""
    if value is None:
        return []
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [str(item) for item in value if item is not None and str(item).strip()]
    return [str(value)]


# ---- reading ------------------------------------------------------------------------------

def read_post(path: Path) -> Post:
    """Read and parse one post file; never raises for what the file holds."""
    post = Post(path=path)
    try:
        data = _read_regular_file(path, post)
    except OSError as exc:
        post.problems.append(Problem(UNREADABLE, f"cannot read file: {exc.strerror or exc}"))
        return post
    return parse_post(data, path, post) if data is not None else post


def _read_regular_file(path: Path, post: Post) -> bytes | None:
    """The file's bytes; None (with a problem) for special or oversized files.

    O_NONBLOCK: opening a FIFO for reading must not wait for a writer; fstat then tells.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            post.problems.append(Problem(UNREADABLE, "not a regular file (a directory, FIFO, socket or device)"))
            return None
        if info.st_size > MAX_POST_BYTES:
            post.problems.append(Problem(TOO_LARGE, f"file is {info.st_size / 1e6:.1f} MB, larger than the "
                                         f"{MAX_POST_BYTES // (1024 * 1024)} MB limit for a post"))
            return None
        return handle.read()


def parse_post(data: bytes | str, path: Path, post: Post | None = None) -> Post:
    post = post or Post(path=path)
    text = data if isinstance(data, str) else _decode(data, post)
    if text is None:
        return post
    post.raw = text
    if "\r\n" in text:
        post.problems.append(Problem(CRLF, "Windows line endings (CRLF)", _line_of(text, text.index("\r\n"))))
        text = text.replace("\r\n", "\n")
    if text.startswith("\ufeff"):
        text = text[1:]
    _split_front_matter(text, post)
    return post


def _decode(data: bytes, post: Post) -> str | None:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        post.problems.append(Problem(NOT_UTF8, "file is UTF-16 encoded; posts must be UTF-8"))
        return None
    nul = data.find(b"\x00")
    if nul >= 0:
        post.problems.append(Problem(NUL_BYTES, "file contains NUL bytes (binary data?)", *_line_col(data, nul)))
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _line_col(data, exc.start)
        post.problems.append(Problem(NOT_UTF8, f"not valid UTF-8 (byte 0x{data[exc.start]:02x})", line, col))
        return None
    if text.startswith("\ufeff"):
        post.problems.append(Problem(BOM, "file starts with a UTF-8 byte order mark (BOM)"))
    return text


def _line_col(data: bytes, offset: int) -> tuple[int, int]:
    line_start = data.rfind(b"\n", 0, offset) + 1
    return data.count(b"\n", 0, offset) + 1, offset - line_start + 1


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _split_front_matter(text: str, post: Post) -> None:
    if not _FENCE.match(text):
        post.problems.append(Problem(NO_FRONT_MATTER, "no front matter: the file must start with a '---' line"))
        post.body = text
        return
    closing = _CLOSING_FENCE.search(text, text.find("\n") + 1) if "\n" in text else None
    if closing is None:
        post.problems.append(Problem(UNTERMINATED, "front matter is not closed by a '---' line"))
        return
    fm_text = text[text.find("\n") + 1 : closing.start()]
    post.body = text[closing.end() + 1 :] if closing.end() < len(text) else ""
    post.body_line = _line_of(text, closing.end()) + 1
    if len(fm_text) > MAX_FRONT_MATTER_CHARS:
        post.problems.append(Problem(TOO_COMPLEX, f"front matter is longer than {MAX_FRONT_MATTER_CHARS} characters"))
        return
    _load_front_matter(fm_text, post)


def _load_front_matter(fm_text: str, post: Post) -> None:
    first_line = 2  # the YAML starts on the line after the opening fence
    simple = _simple_front_matter(fm_text, first_line)
    if simple is not None:
        post.meta, post.key_lines = simple
        return
    try:
        data = front_matter_handler().load(fm_text)
    except UnsafeYAML as exc:
        found = _marked_problem(exc.code, str(exc.problem), exc, first_line)
        if exc.code == YAML_ALIAS:  # the mark is the anchored node's; show where it is used
            found = _first_alias(fm_text, first_line) or found
        post.problems.append(found)
        return
    except yaml.constructor.ConstructorError as exc:
        problem = str(exc.problem or exc)
        code = UNSAFE_TAG if "constructor for the tag" in problem else YAML_SYNTAX
        if code == UNSAFE_TAG:
            tag = re.search(r"tag '([^']*)'", problem)
            problem = f"unsafe or unknown YAML tag {tag[1] if tag else ''} (only plain YAML is allowed)"
        post.problems.append(_marked_problem(code, problem, exc, first_line))
        return
    except yaml.MarkedYAMLError as exc:
        context = f"{exc.context}: " if exc.context and _at_end(exc.problem_mark, fm_text) else ""
        post.problems.append(_marked_problem(YAML_SYNTAX, f"invalid YAML: {context}{exc.problem}", exc,
                                             first_line, fm_text))
        return
    except yaml.YAMLError as exc:
        post.problems.append(Problem(YAML_SYNTAX, f"invalid YAML: {exc}", first_line))
        return
    except RecursionError:
        post.problems.append(Problem(TOO_COMPLEX, "front matter is nested too deeply", first_line))
        return
    if data is None:
        data = {}
    if not isinstance(data, dict):
        post.problems.append(Problem(NOT_MAPPING, f"front matter is a {_yaml_kind(data)}, not a mapping of keys",
                                     first_line))
        return
    post.meta = {str(key): value for key, value in data.items()}
    post.key_lines = _key_lines(fm_text, first_line)


# The usual front matter is `key: "text"` and `key: plain words` lines. Those are read here
# without PyYAML's Python-level constructor (a third of `validate`'s time on a large archive);
# anything else, or anything doubtful, returns None and goes through PostLoader.
_SIMPLE_LINE = re.compile(r'([A-Za-z_][A-Za-z0-9_-]*):[ ]+(?:"([^"\\]*)"|([^\s\-?:,\[\]{}#&*!|>\'"%@`][^\t]*?))[ ]*')
_SPECIAL_CHARS = "\r\x85\u2028\u2029\ufeff"  # breaks and the BOM, which YAML treats on its own


def _simple_front_matter(fm_text: str, first_line: int) -> tuple[dict[str, Any], dict[str, int]] | None:
    """(meta, key_lines) exactly as PostLoader would read them, or None when not that simple."""
    if any(char in fm_text for char in _SPECIAL_CHARS) or yaml.reader.Reader.NON_PRINTABLE.search(fm_text):
        return None  # (yaml's own compiled pattern: compiling a copy costs every start-up 5 ms)
    lines = fm_text.split("\n")
    if lines[-1] == "":
        lines.pop()
    meta: dict[str, Any] = {}
    key_lines: dict[str, int] = {}
    for number, line in enumerate(lines, first_line):
        match = _SIMPLE_LINE.fullmatch(line)
        if match is None:
            return None
        key: str = match[1]
        quoted, plain = match[2], match[3]
        if key in meta or _plain_value(key) is not key:
            return None
        if plain is None:
            meta[key] = quoted
        else:
            if ": " in plain or " #" in plain or plain.endswith(":"):
                return None
            value = _plain_value(plain)
            if value is None:
                return None
            meta[key] = value
        key_lines[key] = number
    return meta, key_lines


def _plain_value(plain: str) -> str | None:
    """A plain scalar as PostLoader reads it when that is text (`plain` itself, or a PsychTime or
    PsychDate, which are text too); None for a number, boolean, null or Symbol."""
    try:
        value = psych_scalar(plain)
    except DisallowedClass:
        return None
    if type(value) is str:
        return plain
    return value if isinstance(value, (PsychTime, PsychDate)) else None


def _marked_problem(code: str, message: str, exc: yaml.MarkedYAMLError, first_line: int,
                    fm_text: str = "") -> Problem:
    mark = exc.problem_mark or exc.context_mark
    if exc.context_mark is not None and fm_text and _at_end(mark, fm_text):
        # "found unexpected end of stream": the quote or bracket that was never closed is the place to show
        mark = exc.context_mark
    if mark is None:
        return Problem(code, message, first_line)
    return Problem(code, message, first_line + mark.line, mark.column + 1)


_ALIAS = re.compile(r"(?:^|(?<=[\s\[{,]))(?:\*|<<:[ \t]*\*)(?P<name>[^\s,\[\]{}]+)")


def _first_alias(fm_text: str, first_line: int) -> Problem | None:
    """The first `*name` use of an anchor `&name` defined in the front matter."""
    for match in _ALIAS.finditer(fm_text):
        if f"&{match['name']}" in fm_text[:match.start()]:
            line_start = fm_text.rfind("\n", 0, match.start()) + 1
            return Problem(YAML_ALIAS, "YAML aliases (*name) are not allowed in posts",
                           first_line + fm_text.count("\n", 0, match.start()), match.start() - line_start + 1)
    return None


def _at_end(mark: Any, fm_text: str) -> bool:
    """The mark lies after the last character of the YAML (an error found at the end of the stream)."""
    return mark is not None and not fm_text[mark.index:].strip()


def _yaml_kind(value: Any) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(
        type(value), type(value).__name__)


_KEY_LINE = re.compile(r"^([A-Za-z_][\w-]*)[ \t]*:", re.MULTILINE)


def _key_lines(fm_text: str, first_line: int) -> dict[str, int]:
    lines: dict[str, int] = {}
    for match in _KEY_LINE.finditer(fm_text):
        lines.setdefault(match[1], first_line + fm_text.count("\n", 0, match.start()))
    return lines


# ---- writing ------------------------------------------------------------------------------

# U+FFFE/U+FFFF are escaped too: YAML readers refuse them raw.
_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff\ufffe\uffff]')
_NAMED_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match[0]
    return _NAMED_ESCAPES.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def quote_yaml(value: str) -> str:
    """A YAML double-quoted scalar that reads back as exactly `value`, on one line.

    Printable text, emoji and full-width punctuation stay as they are; only the quote,
    the backslash and characters YAML would treat as breaks or controls are escaped.
    """
    return '"' + _NEEDS_ESCAPE.sub(_escape, value) + '"'


def yaml_scalar(value: str) -> str:
    """`value` plain when YAML reads it back unchanged as a string, else double-quoted."""
    if value and re.fullmatch(r"[\w\u4e00-\u9fff\u3400-\u4dbf.\-]+", value) and value[0] not in "-.":
        try:
            if yaml.load(value, Loader=PostLoader) == value:
                return value
        except yaml.YAMLError:
            pass
    return quote_yaml(value)


def yaml_words(values: Iterable[str]) -> str:
    """categories/tags: one plain word as Jekyll archives write it, else a flow list."""
    items = [v for v in values if v]
    if len(items) == 1:
        return yaml_scalar(items[0])
    return "[" + ", ".join(yaml_scalar(v) for v in items) + "]"


def render_post(*, title: str, moment: datetime, tz: tzinfo, categories: list[str], tags: list[str],
                body: str, layout: str = "post", extra: dict[str, str] | None = None) -> str:
    """The text of a new post, in the archive's own format (a blank line after the front matter);
    Liquid-looking body text protected so that Jekyll publishes it as written (jekyll/escape.py)."""
    from newsctl.jekyll.escape import protect_liquid

    body = protect_liquid(body)
    lines = ["---", f"layout: {yaml_scalar(layout)}", f"title: {quote_yaml(title)}",
             f"date: {format_date(moment, tz)}", f"categories: {yaml_words(categories)}",
             f"tags: {yaml_words(tags)}"]
    lines += [f"{key}: {quote_yaml(value)}" for key, value in (extra or {}).items()]
    lines.append("---")
    return "\n".join(lines) + "\n\n" + body.strip("\n") + "\n"

