"""`newsctl stats`: count the archive's posts and read the index's state."""

from __future__ import annotations

from newsctl.config import Settings
from newsctl.stats import ArchiveStats, Progress, collect_stats


def run(settings: Settings, progress: Progress | None = None) -> ArchiveStats:
    """The statistics; `progress` hears (posts counted, posts in all) as the count goes."""
    return collect_stats(settings, progress=progress)
