"""`newsctl dups`: groups of exact and near copies of a story over the archive (no printing).

The groups come from newsctl.dups.finder: exact copies (same id, same title and date, same
body) and near copies (reposts: another title mark, source line or footer, a paragraph dropped
or added, other punctuation). Pairs that are near only through a shared template with other
figures or names are listed apart (`templates`), never as duplicates. See docs/dups.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from newsctl.config import Settings
from newsctl.dups.compare import DEFAULT_THRESHOLD
from newsctl.dups.finder import Found, Group, Selection, find_groups
from newsctl.errors import EXIT_FINDINGS, EXIT_OK, UsageError


@dataclass
class DupsOptions:
    threshold: float = DEFAULT_THRESHOLD
    since: str | None = None  # as `search` takes them: 2022-06-01, "2022-06-01 12:00", 7d, 2w
    until: str | None = None
    categories: list[str] = field(default_factory=list)


@dataclass
class DupsResult:
    threshold: float
    groups: list[Group]
    templates: list[Group]
    skipped: list[tuple[str, str]]  # (path relative to the root, reason)
    checked: int
    notes: list[str] = field(default_factory=list)  # e.g. worker processes that failed

    @property
    def exit_code(self) -> int:
        """1 when duplicates were found (template look-alikes alone do not count), else 0."""
        return EXIT_FINDINGS if self.groups else EXIT_OK


def run(settings: Settings, options: DupsOptions) -> DupsResult:
    if not 0.0 < options.threshold <= 1.0:
        raise UsageError(f"--threshold must be above 0 and at most 1, not {options.threshold}")
    since, until = _day(settings, options.since, "--since"), _day(settings, options.until, "--until")
    if since and until and since > until:
        raise UsageError(f"--since {options.since} is after --until {options.until}")
    from newsctl.validate import make_context

    notes: list[str] = []
    selection = Selection(options.threshold, since, until, frozenset(options.categories))
    found: Found = find_groups(settings, make_context(settings), selection, notes)
    return DupsResult(options.threshold, found.groups, found.templates, found.skipped, found.checked, notes)


def _day(settings: Settings, value: str | None, option: str) -> date | None:
    if value is None:
        return None
    from newsctl.engine.searcher import parse_when

    return parse_when(value, option, settings).astimezone(settings.tz).date()
