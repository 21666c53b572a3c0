"""`newsctl index`: bring the index up to date; the summary is printed by render.progress."""

from __future__ import annotations

from newsctl.config import Settings
from newsctl.engine.updater import IndexOptions, Summary, update_index


def run(settings: Settings, options: IndexOptions) -> Summary:
    """Raises IndexBusy when another writer holds the lock for longer than options.wait."""
    return update_index(settings, options)
