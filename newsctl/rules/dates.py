"""NC305 dates Jekyll cannot read (the build stops), NC306 timestamps without a zone (Jekyll reads
them as UTC; fixable, with a choice), NC307 dates after the build time (not published), and
NC402 a file name whose day is not the day Jekyll publishes the post at. All four come from the
model of what Jekyll publishes (rules/jekyll.py, newsctl/jekyll/); a date of the wrong kind is
NC302 (rules/fields.py)."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from newsctl.dates import parse_date as _parse_date_uncached
from newsctl.post import Post
from newsctl.rules.jekyll import as_findings, publication
from newsctl.rules.rule import ERROR, WARNING, CheckContext, Finding, FixContext, Rule

if TYPE_CHECKING:
    from newsctl.jekyll.datefix import ZoneFix
    from newsctl.jekyll.site import Site


@lru_cache(maxsize=64)
def parse_date(value: str) -> datetime | None:
    return _parse_date_uncached(value)


def _unparseable(post: Post, ctx: CheckContext) -> list[Finding]:
    return as_findings(UNPARSEABLE_DATE, post, ctx)


def _without_zone(post: Post, ctx: CheckContext) -> list[Finding]:
    findings = as_findings(DATE_WITHOUT_ZONE, post, ctx)
    if not findings:
        return []
    plan = _zone_fix(post.raw, str(post.path), ctx.site, ctx.date_fix)
    if plan is None:
        return findings
    return [Finding(f.path, f.line, f.column, f.code, f"{f.message}; --fix ({ctx.date_fix}) {plan.note}", True,
                    f.severity) for f in findings]


def _future(post: Post, ctx: CheckContext) -> list[Finding]:
    pub = publication(post, ctx)
    if pub is None or pub.instant is None or pub.instant <= ctx.now + ctx.future_tolerance:
        return []
    return as_findings(FUTURE_DATE, post, ctx)


def _file_date_mismatch(post: Post, ctx: CheckContext) -> list[Finding]:
    return as_findings(FILE_DATE_MISMATCH, post, ctx)


def _zone_fix(text: str, path: str, site: Site | None, mode: str) -> ZoneFix | None:
    from newsctl.jekyll.datefix import plan_zone_fix  # only for posts with a zone-less date
    from newsctl.jekyll.view import relative_path

    if site is None or site.root is None:
        return None
    return plan_zone_fix(relative_path(Path(path), site.root), text, site, mode)


def _add_zone(text: str, fix: FixContext) -> str | None:
    plan = _zone_fix(text, str(fix.path), fix.site, fix.date_fix)
    return plan.text if plan is not None else None


def add_date_zone(text: str, fix: FixContext) -> str | None:
    """NC306's repair (kept under its old name for the rules package's exports)."""
    return _add_zone(text, fix)


UNPARSEABLE_DATE = Rule(
    "NC305", "unparseable-date", ERROR,
    what="The date is one Jekyll cannot read: empty, a zone alone (`+0800`), an impossible month, day or hour "
         "(`2022-13-01`, `2022-06-01 25:00`), or a form newsctl does not read as Ruby's Time.parse does.",
    why="Jekyll 4.3 raises `Invalid date` while reading the post, which stops the whole site build, not "
        "only this post.",
    how="Write the date as `YYYY-MM-DD HH:MM:SS +0800`.",
    scope="front-matter", check=_unparseable)

DATE_WITHOUT_ZONE = Rule(
    "NC306", "date-without-zone", WARNING,
    what="The date is a full timestamp without a zone offset (e.g. `2021-12-08 10:46:18`).",
    why="Jekyll 4.3 reads front matter with Ruby's YAML (Psych), which takes such a timestamp as UTC: it is "
        "published at 18:46:18 +0800, whatever `timezone:` says, and a clock after 16:00 moves the URL to the "
        "next day. (A time without seconds, a quoted timestamp and a date alone are read in the site zone.)",
    how="Run `newsctl validate --fix`. With `date_fix = \"keep\"` (the default) it writes the instant Jekyll "
        "publishes today (`2021-12-08 18:46:18 +0800`: nothing on the site moves); with `date_fix = \"zone\"` "
        "it writes the archive zone after the clock as written (`2021-12-08 10:46:18 +0800`: the published "
        "time moves 8 hours earlier, and the URL may move a day). The finding says what moves.",
    scope="front-matter", check=_without_zone, repair=_add_zone, fix="always")

FUTURE_DATE = Rule(
    "NC307", "future-date", ERROR,
    what="The date lies after the build time by more than `future_tolerance_hours` (default 24).",
    why="Jekyll 4.3 (`future: false`, its default) does not publish a post dated after the build time; "
        "newsctl leaves it out of search until then.",
    how="Correct the date (a wrong year or zone is the usual cause).",
    scope="front-matter", check=_future)

FILE_DATE_MISMATCH = Rule(
    "NC402", "file-date-mismatch", WARNING,
    what="The date in the file name differs from the day Jekyll publishes the post at (its front-matter date "
         "in the site zone: `2022-05-31 20:30:00 +0000` is 2022-06-01 in Asia/Shanghai).",
    why="Jekyll 4.3 takes the date and the URL from the front matter and ignores the file name's date, without "
        "a warning; listings by file name put the post under another day.",
    how="Rename the file to the published day, or correct the date.",
    scope="front-matter", check=_file_date_mismatch)

DATE_RULES = (UNPARSEABLE_DATE, DATE_WITHOUT_ZONE, FUTURE_DATE, FILE_DATE_MISMATCH)
