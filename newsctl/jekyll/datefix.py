"""`validate --fix` for a date without zone (NC306), and what the fix moves.

Jekyll reads a plain `date: 2021-12-08 10:46:18` as UTC and publishes it at 18:46:18 +0800.
Writing the zone makes the date say one thing to everyone, but which thing is a choice:

- `keep` (the default): write the instant Jekyll publishes today, `2021-12-08 18:46:18 +0800`.
  Nothing on the site moves: not the published time, not the URL (links from elsewhere keep
  working). The clock written in the file changes.
- `zone`: write the archive zone after the clock as written, `2021-12-08 10:46:18 +0800` (what
  the scraper meant). The published instant moves 8 hours earlier and, for a clock before
  08:00, the URL moves to the day before.

Either way the finding, the `--diff` and the summary name the change (`ZoneFix.note`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from newsctl.jekyll.model import Publication, publish
from newsctl.jekyll.psych import PsychTime, load_psych
from newsctl.jekyll.site import Site

__all__ = ["DATE_FIX_CHOICES", "ZoneFix", "plan_zone_fix"]

DATE_FIX_CHOICES = ("keep", "zone")
_DATE_LINE = re.compile(r"^(?P<head>date[ \t]*:[ \t]*)(?P<value>[^\"'#\r\n]*?)(?P<tail>[ \t]*(?:#.*)?)(?=\r?$)",
                        re.MULTILINE)


@dataclass(frozen=True)
class ZoneFix:
    text: str  # the file with the date rewritten
    written: str  # the new date value
    before: Publication
    after: Publication
    note: str  # what moves, in words


def plan_zone_fix(relpath: str, text: str, site: Site, mode: str = "keep",
                  now: datetime | None = None) -> ZoneFix | None:
    """The NC306 fix for the post at `relpath`, or None when its date is not a zone-less timestamp."""
    end = _front_matter_end(text)
    if end is None:
        return None
    match = _DATE_LINE.search(text, 0, end)
    if match is None:
        return None
    value = match["value"].strip()
    try:
        typed = load_psych(f"x: {value}")["x"]
    except Exception:
        return None
    if not isinstance(typed, PsychTime) or typed.has_zone:
        return None
    if mode == "keep":
        moment = typed.instant.astimezone(site.zone)
    else:
        naive = typed.instant.replace(tzinfo=None)
        moment = naive.replace(tzinfo=site.zone)
    written = moment.strftime("%Y-%m-%d %H:%M:%S %z")
    fixed = text[:match.start("value")] + written + text[match.end("value"):]
    now = now or datetime.now(timezone.utc)  # one build time for both readings
    before = publish(relpath, text, site, now, check_liquid=False)
    after = publish(relpath, fixed, site, now, check_liquid=False)
    return ZoneFix(fixed, written, before, after, _note(before, after, mode))


def _front_matter_end(text: str) -> int | None:
    if not re.match(r"\ufeff?---[ \t]*\r?\n", text):
        return None
    closing = re.compile(r"^(?:---|\.\.\.)[ \t]*\r?$", re.MULTILINE).search(text, text.find("\n") + 1)
    return closing.start() if closing else None


def _note(before: Publication, after: Publication, mode: str) -> str:
    if before.instant is None or after.instant is None:
        return "the published instant cannot be told"
    if "build-time" in (before.date_rule, after.date_rule):  # the front matter does not read as YAML yet
        return ("cannot tell what moves while Jekyll cannot read the front matter (it publishes the post "
                "at the build time); run --fix again once the front matter reads")
    was = f"{before.instant:%Y-%m-%d %H:%M:%S %z}"
    if before.instant == after.instant:
        return f"keeps the published instant {was} and the URL"
    now = f"{after.instant:%Y-%m-%d %H:%M:%S %z}"
    url = (f"; the URL moves from {before.url} to {after.url}" if before.url != after.url
           else f"; the URL {before.url} stays")
    return f"moves the published instant from {was} to {now}{url}"
