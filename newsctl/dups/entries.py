"""Posts into store entries (facts, headline, MinHash signature), the store kept current, and
stories read on demand to judge candidate pairs, in worker processes for many.

`refresh` is the incremental step: a post whose size and mtime are those the store recorded is
not read again; new and changed posts are read (in worker processes for many), signed, and the
store rewritten. `dups`, `index` and the pre-commit check call it.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from datetime import datetime
from pathlib import Path

from newsctl.config import Settings
from newsctl.discovery import marked_listing
from newsctl.dups.compare import Verdict, judge
from newsctl.dups.normalise import Story, story_of
from newsctl.dups.signature import shingle_hashes, shingles, signature
from newsctl.dups.store import Entry, Generation, Store, recordable, trusted_marks
from newsctl.parallel import map_chunks
from newsctl.post import Post, read_post
from newsctl.rules import CheckContext, front_matter_read, post_facts

PARALLEL_THRESHOLD = 2000  # posts to read: below this, worker processes cost more than they save
FILES_PER_TASK = 500
NUMPY_THRESHOLD = 200  # signatures to compute: below this, importing numpy costs more than it saves
CACHED_STORIES = 4096
PARALLEL_PAIRS = 4000  # candidate pairs: below this, worker processes cost more than they save
PAIRS_PER_TASK = 2000


def entry_of(post: Post, relative: str, ctx: CheckContext) -> tuple[Entry, Story | None]:
    """The store's entry for a post (without signature) and its story (None when unreadable)."""
    try:
        info = os.stat(post.path)
        size, mtime = info.st_size, info.st_mtime_ns
    except OSError:
        size, mtime = -1, 0
    facts = post_facts(post, ctx)
    entry = Entry(relative, size, mtime, facts.id, facts.day, facts.title_key, facts.moment, facts.body_key,
                  facts.title_line, facts.body_line)
    if not front_matter_read(post):
        problem = next((p for p in post.problems if p.code not in ("NC102", "NC104")), None)
        entry.problem = f"{problem.code} {problem.message}" if problem else "unreadable"
        return entry, None
    entry.local_day = (datetime.fromtimestamp(facts.moment, ctx.tz).date().isoformat()
                       if facts.moment is not None else facts.day)
    entry.categories = tuple(post.categories)
    story = story_of(post.title, post.body)
    entry.headline = story.title or None
    return entry, story


def _read_chunk(paths: Sequence[str], root: str, ctx: CheckContext) -> list[Entry]:
    """Entries with signatures for these absolute paths (one worker's share)."""
    entries: list[Entry] = []
    texts: list[str] = []
    for path in paths:
        entry, story = entry_of(read_post(Path(path)), relative(path, root), ctx)
        entries.append(entry)
        texts.append(story.text if story and story.body else "")
    _sign(entries, texts)
    return entries


def _sign(entries: Sequence[Entry], texts: Sequence[str]) -> None:
    if len(texts) >= NUMPY_THRESHOLD:
        from newsctl.dups.signature import signatures_numpy

        rows, counts = signatures_numpy(texts)
        for entry, text, row, count in zip(entries, texts, rows, counts.tolist(), strict=True):
            entry.signature = tuple(row.tolist()) if text else None
            entry.shingles = count
        return
    for entry, text in zip(entries, texts, strict=True):
        hashes = shingle_hashes(text)
        entry.signature = signature(hashes) if hashes else None
        entry.shingles = len(hashes)


def read_entries(paths: Sequence[str], root: str, ctx: CheckContext, notes: list[str] | None = None) -> list[Entry]:
    """Entries of these posts, in worker processes for many; in input order."""
    return [entry for chunk in map_chunks(_read_chunk, paths, root, ctx, chunk_size=FILES_PER_TASK,
                                          threshold=PARALLEL_THRESHOLD, notes=notes) for entry in chunk]


def refresh(settings: Settings, ctx: CheckContext, paths: Sequence[str] | None = None,
            notes: list[str] | None = None, use_store: bool = True) -> list[Entry]:
    """Every post's entry, from the store where the post is unchanged (size and mtime), else read;
    the store is rewritten when anything changed. `index` calls this to keep it current."""
    root = str(settings.root)
    generation = Store(settings).load() if use_store else None
    marks: dict[str, int] = {}  # given paths: no folder is known to be complete
    if paths is None:
        paths, marks = listed_with_marks(settings, generation)
    known = {entry.path: entry for entry in generation.entries()} if generation else {}
    entries: list[Entry | None] = []
    missing: list[str] = []
    for path in paths:
        cached = known.get(relative(path, root))
        if cached is not None and _unchanged(path, cached):
            entries.append(cached)
        else:
            entries.append(None)
            missing.append(path)
    fresh = read_entries(missing, root, ctx, notes) if missing else []
    unread = iter(fresh)
    result = [entry if entry is not None else next(unread) for entry in entries]
    # Rewritten when it would record something new, or forget a post that is gone (posts changed
    # in the last seconds are not recorded: rewriting for them alone would change nothing).
    if use_store and (any(map(recordable, fresh)) or len(known) > len(result) - len(missing)
                      or (generation is not None and generation.meta.get("folders") != trusted_marks(
                          marks, result, [entry for entry in result if recordable(entry)]))):
        Store(settings).save(result, marks)
    return result


def listed_with_marks(settings: Settings, generation: Generation | None) -> tuple[list[str], dict[str, int]]:
    """Every post (absolute paths, real files only) and the marks of their folders, taken before
    listing them (discovery.marked_listing; the store's last marks say which folders to mark first)."""
    known = generation.meta.get("folders") if generation is not None else None
    listing, marks = marked_listing(settings, known if isinstance(known, dict) else (), relist=False,
                                    trust_md_names=False)
    return [f"{folder}/{name}" for folder, names in listing for name in names], marks


def _unchanged(path: str, entry: Entry) -> bool:
    try:
        info = os.stat(path)
    except OSError:
        return False
    return info.st_size == entry.size and info.st_mtime_ns == entry.mtime_ns


def relative(path: str, root: str) -> str:
    prefix = root.rstrip("/") + "/"
    return path[len(prefix):] if path.startswith(prefix) else path


class Stories:
    """Stories read on demand (candidates only), with their shingle hashes; the most recent
    CACHED_STORIES are kept (pairs come sorted, so a post's pairs are mostly together)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.known: OrderedDict[str, tuple[Story, AbstractSet[str]] | None] = OrderedDict()
        self.pinned: set[str] = set()

    def get(self, relative: str) -> tuple[Story, AbstractSet[str]] | None:
        if relative in self.known:
            self.known.move_to_end(relative)
            return self.known[relative]
        post = read_post(self.root / relative)
        story = story_of(post.title, post.body) if front_matter_read(post) else None
        found = (story, shingles(story.text)) if story else None
        self.known[relative] = found
        if len(self.known) > CACHED_STORIES:
            oldest = next(iter(self.known))
            if oldest not in self.pinned:
                del self.known[oldest]
        return found

    def judge(self, first: str, second: str, threshold: float = 0.0) -> Verdict | None:
        one, other = self.get(first), self.get(second)
        if one is None or other is None:
            return None
        return judge(one[0], other[0], (one[1], other[1]), threshold)


def judge_pairs(pairs: Sequence[tuple[str, str]], root: Path, threshold: float) -> list[Verdict | None]:
    """The verdict on each pair of paths (relative to root); None where a post cannot be read."""
    stories = Stories(root)
    return [stories.judge(first, second, threshold) for first, second in pairs]


def judge_all(root: Path, pairs: Sequence[tuple[str, str]], threshold: float,
              notes: list[str] | None = None) -> list[Verdict | None]:
    """judge_pairs, in worker processes when there are many pairs (reading the posts is most of it)."""
    return [verdict for chunk in map_chunks(judge_pairs, pairs, root, threshold, chunk_size=PAIRS_PER_TASK,
                                            threshold=PARALLEL_PAIRS, notes=notes) for verdict in chunk]
