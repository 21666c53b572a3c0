"""NC5xx, the body: empty (NC501), only the title (NC502), an empty link `<>` (NC503), no source
link (NC504). What is boilerplate (source line, footer) comes from newsctl/boilerplate.py, as
for the index; the HTML stack is not imported (validate runs under pre-commit)."""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache

from newsctl.boilerplate import is_boilerplate, source_url
from newsctl.post import Post
from newsctl.rules.rule import ERROR, WARNING, CheckContext, Finding, Rule

_EMPTY_LINK = re.compile(r"<[ \t]*>")
_TAG = re.compile(r"<!--.*?-->|<[A-Za-z/!][^<>]*>", re.DOTALL)
_MEDIA = re.compile(r"<img\b|!\[[^\]\n]*\]\([^)\s]+", re.IGNORECASE)
_NOT_WORD = re.compile(r"[\W_]+")
_SPACE = re.compile(r"\s+")


@lru_cache(maxsize=8)  # the body rules and post_facts all need it for the same post
def body_content(body: str) -> str:
    """The body's text without source link, `<>`, footer and markup; "" when nothing is left (and
    without the `{% raw %}` markers that protect Liquid-looking text: what Jekyll publishes)."""
    if "{%" in body:
        from newsctl.jekyll.escape import without_raw_markers

        body = without_raw_markers(body)
    kept = [line for line in body.split("\n") if not is_boilerplate(line)]
    text = "\n".join(kept)
    if "<" in text:
        text = _TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    return text.strip()


def squash(text: str) -> str:
    """Text for equality tests: NFKC, case-folded, without spaces and punctuation."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text).casefold())


def _is_empty(post: Post) -> bool:
    return not body_content(post.body) and not _MEDIA.search(post.body)


def _empty_body(post: Post, ctx: CheckContext) -> list[Finding]:
    if not _is_empty(post):
        return []
    line = post.body_line if post.body.strip() else max(post.body_line - 1, 1)
    return [EMPTY_BODY.finding(post, "body is empty (no text besides links and footer)", line)]


def _repeats_title(post: Post, ctx: CheckContext) -> list[Finding]:
    title = post.title
    if _is_empty(post) or not title or not _same_words(body_content(post.body), title):
        return []
    return [BODY_REPEATS_TITLE.finding(post, "body only repeats the title", post.body_line)]


def _same_words(body: str, title: str) -> bool:
    """Equal apart from spacing and width; a one-sentence flash that ends in "。" is not a repeat."""
    if len(body) > 2 * len(title) + 16:  # cheap way out for real articles
        return False
    return _SPACE.sub("", unicodedata.normalize("NFKC", body)) == _SPACE.sub("", unicodedata.normalize("NFKC", title))


def _empty_links(post: Post, ctx: CheckContext) -> list[Finding]:
    body = post.body
    findings = []
    for match in _EMPTY_LINK.finditer(body):
        offset = match.start()
        line_start = body.rfind("\n", 0, offset) + 1
        findings.append(EMPTY_LINK.finding(post, "empty link <> (the source URL is missing)",
                                           post.body_line + body.count("\n", 0, offset), offset - line_start + 1))
    return findings


def _no_source_link(post: Post, ctx: CheckContext) -> list[Finding]:
    if _is_empty(post) or any(source_url(line) for line in post.body.split("\n") if "<" in line):
        return []
    return [MISSING_SOURCE_LINK.finding(post, "no source link (a line holding only <http://…>)", post.body_line)]


EMPTY_BODY = Rule(
    "NC501", "empty-body", ERROR,
    what="The body holds no text besides the source link and the footer.",
    why="An empty post is a failed scrape; it shows as a blank page.",
    how="Restore the article text from the source, or delete the post.",
    scope="front-matter", check=_empty_body)

BODY_REPEATS_TITLE = Rule(
    "NC502", "body-repeats-title", WARNING,
    what="The body only repeats the title.",
    why="The scraper got the headline but not the article.",
    how="Restore the article text from the source link.",
    scope="front-matter", check=_repeats_title)

EMPTY_LINK = Rule(
    "NC503", "empty-link", ERROR,
    what="The body has an empty link `<>`.",
    why="It renders as a literal `<>`; the source URL was lost when the post was written.",
    how="Put the source URL between the brackets, or delete the line.",
    scope="front-matter", check=_empty_links)

MISSING_SOURCE_LINK = Rule(
    "NC504", "missing-source-link", WARNING,
    what="The body has no source link line (`<http://…>`).",
    why="Every news post should credit and link its source.",
    how="Add the original article's URL on its own line: `<http://…>`.",
    scope="front-matter", check=_no_source_link)

BODY_RULES = (EMPTY_BODY, BODY_REPEATS_TITLE, EMPTY_LINK, MISSING_SOURCE_LINK)
