"""Values for Typer's shell completion (bash, zsh, fish): the archive's categories and tags (from
the index's term dictionary) and post ids (from the file names). Cheap: no post is read, and a
missing archive or index completes nothing instead of failing the shell."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from newsctl.config import Settings

MAX_CANDIDATES = 200  # a shell shows no more usefully; listing stops there


def categories(ctx: Any, incomplete: str) -> list[str]:
    return _field_values(ctx, "categories", incomplete)


def tags(ctx: Any, incomplete: str) -> list[str]:
    return _field_values(ctx, "tags", incomplete)


def post_ids(ctx: Any, incomplete: str) -> list[str]:
    """Ids of `YYYY-MM-DD-<id>.md` files whose id starts with `incomplete` (newest day first)."""
    settings = _settings(ctx)
    if settings is None or os.sep in incomplete or "/" in incomplete:
        return []
    from newsctl.names import day_and_id

    found: dict[str, None] = {}
    try:
        from newsctl.discovery import iter_post_paths

        for path in sorted(iter_post_paths(settings), key=lambda p: p.name, reverse=True):
            post_id = day_and_id(path.name)[1]
            if post_id.startswith(incomplete):
                found[post_id] = None
                if len(found) >= MAX_CANDIDATES:
                    break
    except Exception:  # completion must never print a traceback into the user's shell
        return []
    return list(found)


def _field_values(ctx: Any, fieldname: str, incomplete: str) -> list[str]:
    settings = _settings(ctx)
    if settings is None:
        return []
    try:
        from newsctl.engine.reader import SearchIndex

        with SearchIndex(settings) as index:
            values = {value for segment in index.segments for value in segment.expand_prefix(fieldname, incomplete)}
    except Exception:  # no index, a damaged one: nothing to offer
        return []
    return sorted(values)[:MAX_CANDIDATES]


def _settings(ctx: Any) -> Settings | None:
    """The archive as the command would find it: --root on the line, else $NEWSCTL_ROOT or the folders above."""
    from newsctl.config import find_root, load_settings

    root = ctx.find_root().params.get("root") if ctx is not None else None
    try:
        found, origin = find_root(Path(root) if root else None)
        return load_settings(found, origin)
    except Exception:
        return None
