"""validate's view of copies found by newsctl/dups: NC602/NC603 across every day and NC604 near
duplicates, for the given PATHS (pre-commit) or the whole archive.

Given PATHS, validate compares them with the posts of their own day (rules/duplicates.py); here
the store adds every other day, and the near copies. The findings for a given post are merged:
one NC602 and one NC603 per post, naming the copies of both searches.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from newsctl.cache import folder_lister
from newsctl.config import Settings
from newsctl.dups.compare import DEFAULT_THRESHOLD, NEAR, SAME_BODY, SAME_TITLE_DATE
from newsctl.dups.precommit import ArchiveMatch, check_against_archive
from newsctl.post import read_post
from newsctl.rules import CheckContext, Finding, PostFacts
from newsctl.rules.duplicates import DUPLICATE_BODY, DUPLICATE_TITLE_DATE, NEAR_DUPLICATE

CODES = frozenset({DUPLICATE_TITLE_DATE.code, DUPLICATE_BODY.code, NEAR_DUPLICATE.code})
SHOWN = 3


def with_archive_copies(findings: list[Finding], settings: Settings, ctx: CheckContext, paths: Sequence[str],
                        facts: Sequence[PostFacts], enabled: frozenset[str], use_store: bool = True) -> list[Finding]:
    """`findings` with the given posts' NC602/NC603 merged with their copies on other days, and
    NC604 for their near copies anywhere in the archive."""
    if not CODES & enabled:
        return findings
    root = str(settings.root)
    given = set(paths)
    matches = check_against_archive(settings, ctx, [read_post(Path(path)) for path in paths],
                                    listdir=folder_lister(settings, use_store), use_store=use_store)
    others: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)  # (path, code) -> other -> note
    for code, same in ((DUPLICATE_BODY.code, _same_body), (DUPLICATE_TITLE_DATE.code, _same_title_date)):
        for fact in facts:
            if fact.path in given:
                for other in facts:
                    if other.path != fact.path and same(fact, other):
                        others[(fact.path, code)][_relative(other.path, root)] = ""
    for match in matches:
        others[(match.path, _code(match))].setdefault(match.other, f"{match.similarity:.2f}")
    lines = {fact.path: (fact.title_line, fact.body_line) for fact in facts}
    kept = [finding for finding in findings if not (finding.path in given and finding.code in
                                                   (DUPLICATE_BODY.code, DUPLICATE_TITLE_DATE.code))]
    for (path, code), named in sorted(others.items()):
        title_line, body_line = lines.get(path, (1, 1))
        kept.append(_finding(path, code, named, title_line if code == DUPLICATE_TITLE_DATE.code else body_line))
    return kept


def near_duplicates_everywhere(settings: Settings, ctx: CheckContext, notes: list[str],
                               use_store: bool = True) -> list[Finding]:
    """NC604 for every post of the archive that nearly copies another (`newsctl dups`' groups)."""
    from newsctl.dups.finder import Selection, find_groups  # local: the pre-commit path needs neither

    found = find_groups(settings, ctx, Selection(DEFAULT_THRESHOLD), notes, use_store)
    named: dict[str, dict[str, str]] = defaultdict(dict)
    for group in found.groups:
        for link in group.links:
            if link.reason == NEAR:
                named[link.first][link.second] = f"{link.similarity:.2f}"
                named[link.second][link.first] = f"{link.similarity:.2f}"
    root = str(settings.root)
    return [_finding(f"{root}/{path}", NEAR_DUPLICATE.code, others, 1) for path, others in sorted(named.items())]


def _same_body(one: PostFacts, other: PostFacts) -> bool:
    return bool(one.body_key) and one.body_key == other.body_key


def _same_title_date(one: PostFacts, other: PostFacts) -> bool:
    return bool(one.title_key) and one.moment is not None and (one.title_key, one.moment) == (other.title_key,
                                                                                                other.moment)


def _code(match: ArchiveMatch) -> str:
    return {SAME_BODY: DUPLICATE_BODY.code, SAME_TITLE_DATE: DUPLICATE_TITLE_DATE.code}.get(match.reason,
                                                                                             NEAR_DUPLICATE.code)


def _finding(path: str, code: str, named: dict[str, str], line: int) -> Finding:
    listed = sorted(named, key=lambda other: (-float(named[other] or 1), other))
    if code == NEAR_DUPLICATE.code:
        shown = ", ".join(f"{other} (similarity {named[other]})" for other in listed[:SHOWN])
        template, rule = "nearly the same story as {}", NEAR_DUPLICATE
    else:
        shown = ", ".join(listed[:SHOWN])
        rule = DUPLICATE_BODY if code == DUPLICATE_BODY.code else DUPLICATE_TITLE_DATE
        template = "same body text as {}" if rule is DUPLICATE_BODY else "same title and date as {}"
    if len(listed) > SHOWN:
        shown += f" and {len(listed) - SHOWN} more"
    return rule.finding_in(path, template.format(shown), line)


def _relative(path: str, root: str) -> str:
    prefix = root.rstrip("/") + "/"
    return path[len(prefix):] if path.startswith(prefix) else path
