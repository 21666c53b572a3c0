"""NC7xx, style: NC701 trailing whitespace (fixable)."""

from __future__ import annotations

import re

from newsctl.post import Post
from newsctl.rules.rule import WARNING, CheckContext, Finding, FixContext, Rule

_TRAILING = re.compile(r"[ \t]+(?=\r?\n|\Z)")


def _trailing_whitespace(post: Post, ctx: CheckContext) -> list[Finding]:
    raw = post.raw
    if not any(mark in raw for mark in (" \n", "\t\n", " \r\n", "\t\r\n")) and not raw.endswith((" ", "\t")):
        return []  # substring tests are far cheaper than the regex on space-rich HTML
    findings = []
    line, scanned = 1, 0
    for match in _TRAILING.finditer(raw):
        line += raw.count("\n", scanned, match.start())
        scanned = match.start()
        column = match.start() - (raw.rfind("\n", 0, match.start()) + 1) + 1
        findings.append(TRAILING_WHITESPACE.finding(post, "trailing whitespace", line, column, fixable=True))
    return findings


def _strip_trailing(text: str, fix: FixContext) -> str | None:
    return _TRAILING.sub("", text)


TRAILING_WHITESPACE = Rule(
    "NC701", "trailing-whitespace", WARNING,
    what="A line ends with spaces or tabs.",
    why="Trailing whitespace is invisible noise in diffs (two spaces are a Markdown line break; use `<br>` "
        "if you mean one).",
    how="Run `newsctl validate --fix`.",
    scope="file", check=_trailing_whitespace, repair=_strip_trailing, fix="always")
