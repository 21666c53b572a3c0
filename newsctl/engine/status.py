"""Existence, size and freshness of the index (for `stats`): cheap, no post read, no Whoosh."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone

from newsctl.config import Settings
from newsctl.engine.store import latest_generation, read_state, stale_reason, unusable_reason


@dataclass
class IndexStatus:
    exists: bool
    doc_count: int = 0
    size_bytes: int = 0
    updated_at: datetime | None = None
    stale: bool | None = None  # None when there is no index to judge
    reason: str | None = None  # why it is stale or unusable


def index_status(settings: Settings) -> IndexStatus:
    """Existence, size and freshness of the index (for `stats`). Cheap: no post is read."""
    index_dir = settings.index_path
    generation = latest_generation(index_dir)
    if generation < 0:
        return IndexStatus(exists=False)
    size = sum(entry.stat().st_size for entry in os.scandir(index_dir) if entry.is_file())
    state = read_state(index_dir, generation)
    if state is None:
        return IndexStatus(True, 0, size, None, stale=True, reason="the index has no state file")
    updated = datetime.fromtimestamp(state.built_at, tz=timezone.utc).astimezone(settings.tz)
    reason = unusable_reason(state) or stale_reason(settings, state)
    return IndexStatus(True, state.doc_count, size, updated, stale=reason is not None, reason=reason)

