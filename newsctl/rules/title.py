"""NC303 empty titles and NC304 overlong ones (a title of the wrong kind is NC302, rules/fields.py)."""

from __future__ import annotations

from newsctl.post import Post
from newsctl.rules.fields import is_blank
from newsctl.rules.rule import ERROR, WARNING, CheckContext, Finding, Rule


def _empty_title(post: Post, ctx: CheckContext) -> list[Finding]:
    if "title" not in post.meta or not is_blank(post.meta["title"]):
        return []
    return [EMPTY_TITLE.key_finding(post, "title", "title is empty")]


def _long_title(post: Post, ctx: CheckContext) -> list[Finding]:
    title = post.meta.get("title")
    if not isinstance(title, str):
        return []
    length = len(title.strip())
    if length <= ctx.max_title_length:
        return []
    return [TITLE_TOO_LONG.key_finding(post, "title", f"title is {length} characters long "
                                                      f"(limit {ctx.max_title_length})")]


EMPTY_TITLE = Rule(
    "NC303", "empty-title", ERROR,
    what="The title is empty.",
    why="A post without a title shows as a blank line in lists and cannot be found by title.",
    how="Write the headline in `title:`.",
    scope="front-matter", check=_empty_title)

TITLE_TOO_LONG = Rule(
    "NC304", "title-too-long", WARNING,
    what="The title is longer than `max_title_length` characters (default 200).",
    why="Headlines are short; an absurdly long title usually means the body ended up in the title.",
    how="Move the text into the body and keep the headline in `title:`.",
    scope="front-matter", check=_long_title)

TITLE_RULES = (EMPTY_TITLE, TITLE_TOO_LONG)
