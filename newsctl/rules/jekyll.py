"""Rules that come from the model of what Jekyll 4.3 publishes (newsctl/jekyll/): NC309 dates
that roll over, NC310 unpublished posts, NC311 titles that are not text, NC312 singular keys,
NC313 typed categories, NC314 front matter Jekyll fails to read, NC403 files Jekyll does not
read, NC505 Liquid that stops the build, NC506 Liquid that changes the text. The date rules
NC305-NC307 and NC402 (rules/dates.py) read the same model.

The model runs once per post: `jekyll_issues` keeps the last post's answer, and the checks of
one post run one after another (in a worker process too).
"""

from __future__ import annotations

from typing import Any

from newsctl.jekyll.findings import RULE_TEXTS, JekyllFinding, jekyll_findings
from newsctl.jekyll.model import Publication
from newsctl.jekyll.view import jekyll_text, publication_of
from newsctl.post import Post
from newsctl.rules.rule import CheckContext, Finding, Rule, Scope

_last: list[Any] = [None, None, None]  # [post, publication, issues]


def publication(post: Post, ctx: CheckContext) -> Publication | None:
    """What Jekyll does with `post` (None when the context has no site, as in a bare unit check)."""
    if _last[0] is post:
        return _last[1]
    site = ctx.site
    if site is None or site.root is None:
        return None
    pub = publication_of(post, site.root, site, ctx.now)
    meta = post.meta if post.ok else (pub.front_matter.data if pub.front_matter else {})
    _last[:] = [post, pub, jekyll_findings(pub, meta, ctx.now, site.zone)]
    return pub


def jekyll_issues(post: Post, ctx: CheckContext, code: str) -> list[JekyllFinding]:
    if publication(post, ctx) is None:
        return []
    return [issue for issue in _last[2] if issue.code == code]


def as_findings(rule: Rule, post: Post, ctx: CheckContext) -> list[Finding]:
    """The model's findings with `rule`'s code, placed on their key's line or the body's."""
    found = []
    for issue in jekyll_issues(post, ctx, rule.code):
        if issue.key and issue.key in post.key_lines:
            found.append(rule.key_finding(post, issue.key, issue.message))
        elif issue.body_offset_line is not None:
            found.append(rule.finding(post, issue.message, _body_line(post, issue.body_offset_line,
                                                                      publication(post, ctx))))
        else:
            found.append(rule.finding(post, issue.message, max(post.body_line - 1, 1) if issue.key else 1))
    return found


def _body_line(post: Post, line_in_body: int, pub: Publication | None) -> int:
    """The file line of line `line_in_body` of the body Jekyll renders (which starts after the
    blank lines that follow the closing `---`). Where newsctl could not read the front matter,
    Jekyll's own split says where the body starts: Jekyll renders it all the same."""
    fm = pub.front_matter if pub is not None else None
    if post.ok and post.raw:
        body, start = post.body, post.body_line
    elif fm is not None and fm.found:
        text = jekyll_text(post).removeprefix("\ufeff")  # (split_front_matter drops the BOM)
        body, start = fm.body, text.count("\n", 0, fm.body_offset) + 1
    else:
        body, start = post.raw, 1
    blank = len(body) - len(body.lstrip("\n"))
    return start + body.count("\n", 0, blank) + line_in_body - 1


def _rule(code: str, scope: Scope) -> Rule:
    name, severity, _, what, why, how = RULE_TEXTS[code]

    def check(post: Post, ctx: CheckContext) -> list[Finding]:
        return as_findings(rule, post, ctx)

    rule = Rule(code, name, severity, what=what, why=why, how=how, scope=scope, check=check)  # type: ignore[arg-type]
    return rule


DATE_ROLLS_OVER = _rule("NC309", "front-matter")
UNPUBLISHED = _rule("NC310", "front-matter")
TITLE_NOT_TEXT = _rule("NC311", "front-matter")
SINGULAR_KEY = _rule("NC312", "front-matter")
TYPED_CATEGORIES = _rule("NC313", "front-matter")
FRONT_MATTER_READ_FAILS = _rule("NC314", "front-matter")
NOT_READ_BY_JEKYLL = _rule("NC403", "file")
LIQUID_ERROR = _rule("NC505", "file")
LIQUID_CHANGES_TEXT = _rule("NC506", "file")

JEKYLL_RULES = (DATE_ROLLS_OVER, UNPUBLISHED, TITLE_NOT_TEXT, SINGULAR_KEY, TYPED_CATEGORIES,
                FRONT_MATTER_READ_FAILS, NOT_READ_BY_JEKYLL, LIQUID_ERROR, LIQUID_CHANGES_TEXT)
