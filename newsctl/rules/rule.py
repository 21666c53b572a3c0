"""What a rule is, and what it finds: `Rule`, `Finding` and the contexts checks and fixes get.

This module is the bottom of the rules package: `newsctl.post` imports the reading codes from
rules/reading.py, which builds on this module, so neither imports `newsctl.post`, not even for
the type checker: what they need of a post is the `PostView` protocol below.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, Literal, Protocol

Severity = Literal["error", "warning"]
ERROR: Severity = "error"
WARNING: Severity = "warning"
Fixability = Literal["always", "sometimes", "never"]  # can `--fix` repair it
# Where a rule's findings come from: the reader (post.py's problems), a check of one post
# (that needs the front matter read, or not), or the archive-wide duplicate pass.
Scope = Literal["reading", "file", "front-matter", "archive"]


class PostView(Protocol):
    """What a finding and a fix need of a `newsctl.post.Post`."""

    @property
    def path(self) -> Path: ...
    @property
    def raw(self) -> str: ...
    @property
    def meta(self) -> dict[str, Any]: ...
    @property
    def key_lines(self) -> dict[str, int]: ...
    @property
    def ok(self) -> bool: ...


@dataclass(frozen=True)
class Finding:
    """One problem in one file; line and column are 1-based, in the file."""

    path: str
    line: int
    column: int
    code: str
    message: str
    fixable: bool = False
    severity: Severity = ERROR


@dataclass(frozen=True)
class CheckContext:
    """What the checks need from the settings; small and picklable for worker processes."""

    zone_name: str
    tz: tzinfo
    now: datetime
    future_tolerance: timedelta
    layouts: frozenset[str]
    max_title_length: int
    site: Any = None  # newsctl.jekyll.site.Site: what Jekyll publishes (None: the Jekyll rules stay quiet)
    date_fix: str = "keep"  # NC306's fix: "keep" the instant Jekyll publishes, or write the "zone" (docs/jekyll.md)


@dataclass(frozen=True)
class FixContext:
    """What a fix needs besides the text. The reader comes in here (rather than by import)
    because post.py imports the reading rules."""

    path: Path
    tz: tzinfo
    parse: Callable[[bytes, Path], PostView]  # post.parse_post
    quote: Callable[[str], str]  # post.quote_yaml
    site: Any = None  # newsctl.jekyll.site.Site
    date_fix: str = "keep"


Check = Callable[[Any, CheckContext], list[Finding]]  # Any: a newsctl.post.Post (see the module docs)
Repair = Callable[[str, FixContext], "str | None"]  # the repaired text, or None when it cannot


_FIX_LABELS: dict[Fixability, str] = {"always": "fixable", "sometimes": "sometimes fixable", "never": "not fixable"}


@dataclass(frozen=True)
class Rule:
    """One validation rule: its identity, how it is found and fixed, and its docs (What/Why/Fix)."""

    code: str
    name: str
    severity: Severity
    what: str
    why: str
    how: str  # how to fix it (the "Fix:" text)
    scope: Scope
    check: Check | None = None  # None for reading and archive rules, found elsewhere
    repair: Repair | None = None
    fix: Fixability = "never"

    def __post_init__(self) -> None:
        if (self.repair is None) != (self.fix == "never"):
            raise ValueError(f"{self.code}: a rule has a repair exactly when it is fixable")
        if (self.check is None) != (self.scope in ("reading", "archive")):
            raise ValueError(f"{self.code}: only reading and archive rules have no check")

    @property
    def fix_label(self) -> str:
        """How the docs and `newsctl rules` say whether `--fix` repairs it."""
        return _FIX_LABELS[self.fix]

    def finding(self, post: PostView, message: str, line: int = 1, column: int = 1,
                fixable: bool = False) -> Finding:
        return self.finding_in(str(post.path), message, line, column, fixable)

    def finding_in(self, path: str, message: str, line: int = 1, column: int = 1,
                   fixable: bool = False) -> Finding:
        return Finding(path, line, column, self.code, message, fixable, self.severity)

    def key_finding(self, post: PostView, key: str, message: str, fixable: bool = False) -> Finding:
        """A finding on the value of front-matter `key`."""
        line = post.key_lines.get(key, 1)
        return self.finding(post, message, line, value_column(post.raw, line, key), fixable)


def value_column(raw: str, line: int, key: str) -> int:
    """1-based column where the value of `key:` starts on `line` (1 when it cannot be told)."""
    lines = raw.split("\n", line)
    if len(lines) < line:
        return 1
    text = lines[line - 1].lstrip("\ufeff")
    match = re.match(rf"{re.escape(key)}[ \t]*:[ \t]*(?=\S)", text)
    return match.end() + 1 if match else 1


def front_matter_line(text: str, key: str) -> tuple[int, int] | None:
    """(start, end) offsets of the first `key:` line inside the front matter, end before the EOL."""
    if not re.match(r"\ufeff?---[ \t]*\r?\n", text):
        return None
    pattern = re.compile(rf"^(?:---[ \t]*\r?$|{re.escape(key)}[ \t]*:.*?(?=\r?$))", re.MULTILINE)
    for match in pattern.finditer(text, text.find("\n") + 1):
        if match[0].startswith("---"):
            return None
        return match.start(), match.end()
    return None
