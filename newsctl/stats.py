"""Archive statistics: posts per category, tag and month, invalid posts, and the index's state.

Every post is read with `read_post`, so the counts agree with `validate` and `index`
(correctness first). Measured cost: about 0.2 ms of CPU per post (mostly YAML, with libyaml)
plus ~25 µs per file for the folder walk, i.e. ~25 s of CPU for 100k posts. From
`PARALLEL_THRESHOLD` files on, chunks are counted in worker processes (one per core) that
return only their small tallies, so 100k posts take ~15 s on an idle 2-core machine.

The JSON form (`newsctl stats --format json`) is a stable schema, version 1:

    {
      "schema": 1,
      "posts": 123,                      # post files found by the `posts` globs
      "invalid": 2,                      # not usable (post.unusable_reason): a reading error
                                         # (not a BOM or CRLF), no title or no valid date
      "unpublished": 1,                  # valid posts Jekyll does not publish (published: false,
                                         # a name Jekyll does not read, a build-stopping post)
      "future": 0,                       # valid posts dated after now (Jekyll's future: false)
      "categories": {"emnews": 80, ...}, # posts per category, most first, then by name
      "tags": {"东财滚动新闻": 80, ...},  # posts per tag, the same order
      "months": {"2022-06": 40, ...},    # posts per month of their date in the archive zone,
                                         # oldest first; a post without a usable front-matter
                                         # date counts under its file-name date, if any
      "index": {"exists": true, "doc_count": 121, "size_bytes": 123456,
                "updated_at": "2022-06-01T12:00:00+08:00" | null, "stale": false | null,
                "reason": "why it is stale or unusable" | null,   # stale/reason null: no index
                "damaged": false}                  # true: `newsctl index` rebuilds it
    }
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newsctl.config import Settings, load_zone
from newsctl.discovery import iter_post_paths
from newsctl.post import Post, read_post, unusable_reason

if TYPE_CHECKING:
    from newsctl.engine.status import IndexStatus

SCHEMA_VERSION = 1
PARALLEL_THRESHOLD = 2000  # below this, starting processes costs more than it saves
CHUNK_SIZE = 500

Progress = Callable[[int, int], None]  # called with (posts counted so far, posts in all)


@dataclass
class Tally:
    """Counts over some posts; tallies of disjoint sets of posts add up."""

    posts: int = 0
    invalid: int = 0
    unpublished: int = 0  # usable posts that Jekyll does not publish
    future: int = 0  # usable posts dated after now: Jekyll does not publish them yet
    categories: Counter[str] = field(default_factory=Counter)
    tags: Counter[str] = field(default_factory=Counter)
    months: Counter[str] = field(default_factory=Counter)

    def add(self, other: Tally) -> None:
        self.posts += other.posts
        self.invalid += other.invalid
        self.unpublished += other.unpublished
        self.future += other.future
        self.categories.update(other.categories)
        self.tags.update(other.tags)
        self.months.update(other.months)


@dataclass
class ArchiveStats:
    tally: Tally
    index: IndexStatus


def collect_stats(settings: Settings, jobs: int = 0, progress: Progress | None = None) -> ArchiveStats:
    """Count every post of the archive and read the index's state (`jobs` 0: one process per core)."""
    from newsctl.engine.status import index_status

    tally = tally_paths([str(path) for path in iter_post_paths(settings)], settings.timezone, jobs, progress,
                        root=str(settings.root))
    return ArchiveStats(tally=tally, index=index_status(settings))


def tally_paths(paths: Sequence[str], timezone: str, jobs: int = 0, progress: Progress | None = None,
                root: str | None = None) -> Tally:
    """The tally of these posts, in worker processes from PARALLEL_THRESHOLD posts on."""
    from newsctl.parallel import map_chunks

    total = Tally()
    parts = map_chunks(tally_chunk, paths, timezone, root, chunk_size=CHUNK_SIZE, threshold=PARALLEL_THRESHOLD,
                       workers=jobs, read_ahead=True)
    add_parts(total, parts, len(paths), progress)
    return total


def add_parts(total: Tally, parts: Iterable[Tally], count: int, progress: Progress | None) -> None:
    for part in parts:
        total.add(part)
        if progress:
            progress(total.posts, count)


def tally_chunk(paths: Iterable[str], timezone: str, root: str | None = None) -> Tally:
    """The tally of some posts (run in a worker process for big archives)."""
    tz = load_zone(timezone)
    tally = Tally()
    for path in paths:
        count_post(read_post(Path(path)), tz, tally, Path(root) if root else None)
    return tally


def count_post(post: Post, tz: tzinfo, tally: Tally, root: Path | None = None) -> None:
    moment = post.date(tz)
    tally.posts += 1
    if unusable_reason(post) is not None:  # as the index decides: a CRLF post is valid
        tally.invalid += 1
    elif root is not None:
        _count_publication(post, tz, tally, root)
    tally.categories.update(set(post.categories))
    tally.tags.update(set(post.tags))
    month = post_month(post, moment, tz)
    if month:
        tally.months[month] += 1


def _count_publication(post: Post, tz: tzinfo, tally: Tally, root: Path) -> None:
    """Posts Jekyll does not publish, apart (newsctl.jekyll, as `search` leaves them out)."""
    from newsctl.jekyll.view import publication_of, site_for

    pub = publication_of(post, root, site_for(root, tz), check_liquid=False)
    if pub.future:
        tally.future += 1
    elif not pub.published or pub.kind not in ("post", "page"):
        tally.unpublished += 1


def post_month(post: Post, moment: datetime | None, tz: tzinfo) -> str | None:
    """'YYYY-MM' of the post's date in the archive zone, else of its file name, else None."""
    if moment is not None:
        return moment.astimezone(tz).strftime("%Y-%m")
    day = post.file_date
    return day.strftime("%Y-%m") if day else None


# ---- the JSON schema ----------------------------------------------------------------------

def by_count(counts: Counter[str]) -> dict[str, int]:
    """Most first, ties by name: the order of the JSON objects and the tables."""
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def index_dict(status: IndexStatus) -> dict[str, Any]:
    return {
        "exists": status.exists,
        "doc_count": status.doc_count,
        "size_bytes": status.size_bytes,
        "updated_at": status.updated_at.isoformat() if status.updated_at else None,
        "stale": status.stale,
        "reason": status.reason,
        "damaged": status.damaged,
    }


def stats_dict(stats: ArchiveStats) -> dict[str, Any]:
    tally = stats.tally
    return {
        "schema": SCHEMA_VERSION,
        "posts": tally.posts,
        "invalid": tally.invalid,
        "unpublished": tally.unpublished,
        "future": tally.future,
        "categories": by_count(tally.categories),
        "tags": by_count(tally.tags),
        "months": dict(sorted(tally.months.items())),
        "index": index_dict(stats.index),
    }
