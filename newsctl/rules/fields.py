"""NC301 missing keys, NC302 wrong kinds of values, NC308 unknown layouts."""

from __future__ import annotations

from typing import Any

from newsctl.post import REQUIRED_KEYS, Post
from newsctl.rules.rule import ERROR, CheckContext, Finding, Rule


def kind(value: Any) -> str:
    """How a message names the kind of a YAML value."""
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


def is_blank(value: Any) -> bool:
    """None or blank text: "empty" for the title and date rules."""
    return value is None or (isinstance(value, str) and not value.strip())


def _missing_keys(post: Post, ctx: CheckContext) -> list[Finding]:
    closing_line = max(post.body_line - 1, 1)
    return [MISSING_KEY.finding(post, f"required key {key!r} is missing", closing_line)
            for key in REQUIRED_KEYS if key not in post.meta and key not in post.key_lines]


def _wrong_types(post: Post, ctx: CheckContext) -> list[Finding]:
    meta = post.meta
    findings = []
    layout = meta.get("layout", "post")
    if not isinstance(layout, str) or not layout.strip():
        findings.append(WRONG_TYPE.key_finding(post, "layout", f"layout is {kind(layout) if layout else 'empty'}, "
                                                               "not a layout name"))
    title = meta.get("title")
    if isinstance(title, (list, dict)):  # a number, boolean or date is NC311's: Jekyll shows it as text
        findings.append(WRONG_TYPE.key_finding(post, "title", f"title is {kind(title)}, not text; "
                                                              "write it in double quotes"))
    date = meta.get("date")
    if not is_blank(date) and not isinstance(date, str):
        findings.append(WRONG_TYPE.key_finding(post, "date", f"date is {kind(date)}, not a date; "
                                                             "write YYYY-MM-DD HH:MM:SS +0800"))
    for key in ("categories", "tags"):
        if key == "categories" and isinstance(meta.get(key), (int, float, bool, dict)):
            continue  # NC314's: Jekyll fails reading such a post
        problem = _words_problem(meta[key]) if key in meta else None
        if problem:
            findings.append(WRONG_TYPE.key_finding(post, key, f"{key} {problem}; write a word or [word, word]"))
    return findings


def _words_problem(value: Any) -> str | None:
    """What is wrong with categories or tags (None: a word, or a list of words)."""
    if isinstance(value, str) and value.strip():
        return None
    if isinstance(value, list) and value and all(_is_word(item) for item in value):
        return None
    if isinstance(value, list) and value:
        return "holds nested lists, mappings or empty items"
    if value is None or value in ("", []):
        return "is empty"
    return f"is {kind(value)}"


def _is_word(item: Any) -> bool:
    return isinstance(item, (str, int, float)) and not isinstance(item, bool) and bool(str(item).strip())


def _unknown_layout(post: Post, ctx: CheckContext) -> list[Finding]:
    layout = post.meta.get("layout")
    if not isinstance(layout, str) or not layout.strip() or layout.strip() in ctx.layouts:
        return []
    known = ", ".join(sorted(ctx.layouts))
    return [UNKNOWN_LAYOUT.key_finding(post, "layout", f"unknown layout {layout!r} (known: {known})")]


MISSING_KEY = Rule(
    "NC301", "missing-key", ERROR,
    what="A required front-matter key (layout, title, date, categories, tags) is missing.",
    why="The site's templates, feeds and newsctl's index all rely on these keys.",
    how="Add the key on its own line before the closing `---`.",
    scope="front-matter", check=_missing_keys)

WRONG_TYPE = Rule(
    "NC302", "wrong-type", ERROR,
    what="A required key has the wrong kind of value: e.g. a title that is a list, a date that is a number, "
         "categories or tags that are empty or hold nested lists or mappings.",
    why="Templates expect text (and words for categories/tags); other values render wrongly or break the build.",
    how="Write the title in double quotes, the date as `YYYY-MM-DD HH:MM:SS +0800`, categories and tags as a "
        "word or `[word, word]`.",
    scope="front-matter", check=_wrong_types)

UNKNOWN_LAYOUT = Rule(
    "NC308", "unknown-layout", ERROR,
    what="The layout is not one of the known layouts (setting `layouts`, plus `_layouts/*` of the archive).",
    why="Jekyll renders a post with an unknown layout without any page around it.",
    how="Use `layout: post`, or add the layout to the `layouts` setting.",
    scope="front-matter", check=_unknown_layout)

FIELD_RULES = (MISSING_KEY, WRONG_TYPE, UNKNOWN_LAYOUT)
