"""The lines of a post body that are not the article: the source autolink and the footer.

One definition for every stage that needs it: `validate` (rules/body.py: empty bodies,
duplicate bodies) and the index (text.py: what is indexed and shown) must agree on what
is boilerplate, or a post is empty for one and full for the other.

Only `re`: this module is on the start-up path of `newsctl validate` (pre-commit).
"""

from __future__ import annotations

import re

# A line holding only an autolink (any scheme, or protocol-relative //host), or an empty <>;
# group 1 is the URL (None for <>).
SOURCE_LINE = re.compile(r"[ \t]*<((?:[A-Za-z][A-Za-z0-9+.\-]{1,31}:|//)[^<>\s]*)?>[ \t]*")
# The "[返回…](…)｜[返回首页](…)" links the scraper appends.
FOOTER_LINE = re.compile(r"[ \t]*(?:\[返回[^\[\]\n]*\]\([^()\n]*\)[ \t]*(?:[｜|][ \t]*)?)+")
FOOTER_MARK = "[返回"  # every footer line holds it: a substring test before the regex


def source_url(line: str) -> str | None:
    """The URL of a source line ("" for an empty <>), None when `line` is not one."""
    match = SOURCE_LINE.fullmatch(line) if "<" in line else None
    if match is None:
        return None
    return match.group(1) or ""


def is_footer(line: str) -> bool:
    return FOOTER_MARK in line and FOOTER_LINE.fullmatch(line) is not None


def is_boilerplate(line: str) -> bool:
    """A source line, an empty <> or a footer line (without its line ending)."""
    return source_url(line) is not None or is_footer(line)


# Credits and outlet marks (near-duplicate detection strips them: reposts change them first).
# A whole line that only credits: "来源：…", "责任编辑：…", "原标题：…", "编辑：… 校对：…"
CREDIT_LINE = re.compile(
    r"\s*[（(【\[]?\s*(?:(?:文章|本文|信息)?来源|责任编辑|责编|编辑|校对|审核|审校|原标题|转载自|转自|出品|监制)"
    r"\s*[:：︰][^\n]{0,80}")
# ...and the same credit at the end of a line of text: "……增长5%。责任编辑：王某"
TRAILING_CREDIT = re.compile(r"[（(【\[]?\s*(?:责任编辑|责编|编辑|校对|审核|原标题)\s*[:：︰][^\n。！？]{0,40}$")
# "（财联社）", "（央视新闻客户端）": the outlet's name closing a paragraph (no digits: "(2888.HK)" stays)
OUTLET_MARK = re.compile(r"[（(][^（）()\d\n]{2,14}[）)]\s*$")
