"""NC6xx, duplicates across the whole archive (`_posts/` and `old_post/` alike): the same id
(NC601), the same title and date (NC602), the same body text (NC603), nearly the same story
(NC604, found by newsctl/dups). Each post is reduced to its `PostFacts`; validate.py decides
which posts' facts are compared (see its module docs)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import NamedTuple

from newsctl.names import day_and_id
from newsctl.post import Post
from newsctl.rules.body import body_content, squash
from newsctl.rules.rule import ERROR, WARNING, CheckContext, Finding, Rule

try:  # hashlib's own blake2b, without hashlib loading OpenSSL first (~4 ms of every pre-commit run)
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - a Python built without its own hash modules
    from hashlib import blake2b


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


def name_facts(path: str) -> PostFacts:
    """Facts known from the file name alone (for files that are not read)."""
    day, post_id = day_and_id(path.rsplit("/", 1)[-1])
    return PostFacts(path, post_id, day)


def post_facts(post: Post, ctx: CheckContext) -> PostFacts:
    base = name_facts(str(post.path))
    if not (post.raw and post.ok):
        return base
    title = post.meta.get("title")
    title_key = squash(title) if isinstance(title, str) and title.strip() else None
    instant = post.date(ctx.tz)  # the instant Jekyll publishes
    moment = instant.timestamp() if instant is not None else None
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
    findings += _group_findings(by_id.values(), report, root, DUPLICATE_ID, "id is also used by {}",
                                lambda f: 1)
    findings += _group_findings(by_title_date.values(), report, root, DUPLICATE_TITLE_DATE,
                                "same title and date as {}", lambda f: f.title_line)
    findings += _group_findings(by_body.values(), report, root, DUPLICATE_BODY, "same body text as {}",
                                lambda f: f.body_line)
    return findings


def _group_findings(groups: Iterable[list[PostFacts]], report: set[str] | None, root: str, rule: Rule,
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
            findings.append(rule.finding_in(fact.path, template.format(shown), line_of(fact)))
    return findings


def _relative(path: str, root: str) -> str:
    prefix = root.rstrip("/") + "/"
    return path[len(prefix):] if path.startswith(prefix) else path


DUPLICATE_ID = Rule(
    "NC601", "duplicate-id", ERROR,
    what="Another file has the same id (the part of the file name after the date).",
    why="Ids must be unique: `newsctl show ID`, the index and permalinks pick one of the files at random.",
    how="Delete the copy, or give one post a new id.",
    scope="archive")

DUPLICATE_TITLE_DATE = Rule(
    "NC602", "duplicate-title-date", ERROR,
    what="Another post has the same title and the same date (the same moment, zones considered).",
    why="The same article was written twice, e.g. once in `_posts/` and once in `old_post/`.",
    how="Delete one of the copies.",
    scope="archive")

DUPLICATE_BODY = Rule(
    "NC603", "duplicate-body", ERROR,
    what="Another post has the same body text (compared without source link, footer, markup and spacing).",
    why="The same article was stored twice, often with only the footer or the date changed.",
    how="Delete one of the copies. Given PATHS (pre-commit), posts of every day are compared too, through "
        "the signatures `newsctl dups` keeps in `.newsctl/cache/`.",
    scope="archive")

NEAR_DUPLICATE = Rule(
    "NC604", "near-duplicate", WARNING,
    what="Another post tells nearly the same story: a repost under another id, with a `【转载】` title, "
         "another source or editor line, a paragraph dropped or added, other punctuation or spacing.",
    why="The archive holds the story twice, and search and the site show it twice. Templated news told "
        "again with other figures or for another company (market closes, approvals, results) is not "
        "reported: `newsctl dups` lists it apart as \"same template, other figures\".",
    how="Delete the repost, or keep both (`--ignore NC604`). `newsctl dups` lists every group of copies. "
        "Given PATHS (pre-commit), each is compared with every post of the archive; a whole-archive "
        "`validate` compares all posts with each other only with `--select NC604` (or NC604 in the "
        "settings' `select`), since that costs what `newsctl dups` costs.",
    scope="archive")

DUPLICATE_RULES = (DUPLICATE_ID, DUPLICATE_TITLE_DATE, DUPLICATE_BODY, NEAR_DUPLICATE)
