"""Posts into store entries (facts, headline, MinHash signature), the store kept current, and
stories read on demand to judge candidate pairs, in worker processes for many.

`refresh_table` is the incremental step: a post whose size and mtime are those the store
recorded is not read again; new and changed posts are read (in worker processes for many),
signed, and the store rewritten. `dups` and the pre-commit check call it (`refresh`). The
whole-archive path holds signatures in one numpy array (`Table`), never as Python ints: 100k
tuples of 64 ints would take ~250 MB, and every worker process forked after them again.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from newsctl.config import Settings
from newsctl.discovery import marked_listing
from newsctl.dups.compare import Verdict, judge
from newsctl.dups.normalise import Story, pack, story_key, story_of, unpack
from newsctl.dups.signature import NUM_PERM, shingles
from newsctl.dups.store import Entry, Generation, Store, hashes_of, recordable, trusted_marks
from newsctl.parallel import map_chunks
from newsctl.post import Post, read_post
from newsctl.rules import CheckContext, front_matter_read, post_facts

if TYPE_CHECKING:
    import numpy as np

PARALLEL_THRESHOLD = 2000  # posts to read: below this, worker processes cost more than they save
FILES_PER_TASK = 500
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
    entry.story_key = story_key(story)
    return entry, story


@dataclass
class Chunk:
    """Posts read and signed: entries (without Entry.signature), their signatures as rows of one
    array, and their packed stories (None: unreadable), so that candidate pairs among them are
    judged without reading the posts again."""

    entries: list[Entry]
    signatures: np.ndarray  # (len(entries), NUM_PERM) uint32; NO_SIGNATURE rows without text
    stories: list[str | None]
    bands: np.ndarray  # (len(entries), BANDS) uint64: each signature's LSH band keys


def _read_chunk(paths: Sequence[str], root: str, ctx: CheckContext) -> Chunk:
    """One worker's share: these absolute paths read and signed."""
    from newsctl.dups.signature import band_keys_numpy, signatures_numpy

    entries: list[Entry] = []
    texts: list[str] = []
    stories: list[str | None] = []
    for path in paths:
        entry, story = entry_of(read_post(Path(path)), relative(path, root), ctx)
        entries.append(entry)
        texts.append(story.text if story and story.body else "")
        stories.append(pack(story) if story else None)
    rows, counts = signatures_numpy(texts)  # a text-less post's row stays NO_SIGNATURE
    for entry, count in zip(entries, counts.tolist(), strict=True):
        entry.shingles = count
        hashes_of(entry)  # here, in the worker, not in the process that saves the store
    return Chunk(entries, rows, stories, band_keys_numpy(rows))


def read_chunks(paths: Sequence[str], root: str, ctx: CheckContext, notes: list[str] | None = None) -> list[Chunk]:
    """These posts read and signed, in worker processes for many; in input order."""
    return list(map_chunks(_read_chunk, paths, root, ctx, chunk_size=FILES_PER_TASK, threshold=PARALLEL_THRESHOLD,
                           notes=notes, read_ahead=True))


def read_entries(paths: Sequence[str], root: str, ctx: CheckContext, notes: list[str] | None = None) -> list[Entry]:
    """Entries of these posts with Entry.signature (a few, or `validate --no-cache`); in input order."""
    found = []
    for chunk in read_chunks(paths, root, ctx, notes):
        for entry, row in zip(chunk.entries, chunk.signatures.tolist(), strict=True):
            entry.signature = None if min(row) == 0xFFFFFFFF == max(row) else tuple(row)
            found.append(entry)
    return found


@dataclass
class Table:
    """Every post's entry, its signature as a row of one array, and the packed stories of the
    posts read in this run (by path; the others are read again if a pair needs them)."""

    entries: list[Entry]
    signatures: np.ndarray  # (len(entries), NUM_PERM) uint32; NO_SIGNATURE rows: no text
    bands: np.ndarray  # (len(entries), BANDS) uint64: the LSH band keys of each row's signature
    stories: dict[str, str] = field(default_factory=dict)
    pending_save: Callable[[], None] | None = None  # refresh_table(save_later=True): the store's save

    def signed(self) -> np.ndarray:
        """Which rows have a signature (a story text)."""
        return (self.signatures != 0xFFFFFFFF).any(axis=1)


def refresh(settings: Settings, ctx: CheckContext, paths: Sequence[str] | None = None,
            notes: list[str] | None = None, use_store: bool = True) -> list[Entry]:
    """refresh_table's entries (without Entry.signature)."""
    return refresh_table(settings, ctx, paths, notes, use_store).entries


def refresh_table(settings: Settings, ctx: CheckContext, paths: Sequence[str] | None = None,
                  notes: list[str] | None = None, use_store: bool = True, save_later: bool = False) -> Table:
    """Every post's entry, from the store where the post is unchanged (size and mtime), else read;
    the store is rewritten when anything changed (`save_later`: by Table.pending_save, which the
    caller runs, e.g. while worker processes judge pairs)."""
    import numpy as np

    from newsctl.dups.signature import BANDS, band_keys_numpy
    from newsctl.dups.tables import columns, tables_of

    root = str(settings.root)
    generation = Store(settings).load() if use_store else None
    marks: dict[str, int] = {}  # given paths: no folder is known to be complete
    if paths is None:
        paths, marks = listed_with_marks(settings, generation)
    stored, stored_signatures, _ = columns(generation) if generation else ([], None, None)
    known = {entry.path: row for row, entry in enumerate(stored)}
    entries: list[Entry | None] = []
    from_store: list[int] = []  # (row in the table, row in `stored`)
    stored_rows: list[int] = []
    missing: list[str] = []
    for path in paths:
        row = known.get(relative(path, root))
        if row is not None and _unchanged(path, stored[row]):
            from_store.append(len(entries))
            stored_rows.append(row)
            entries.append(stored[row])
        else:
            entries.append(None)
            missing.append(path)
    signatures = np.empty((len(entries), NUM_PERM), dtype=np.uint32)
    bands = np.empty((len(entries), BANDS), dtype=np.uint64)
    if stored_signatures is not None and from_store:
        signatures[from_store] = stored_signatures[stored_rows]
        bands[from_store] = band_keys_numpy(signatures[from_store])
    del stored_signatures
    chunks = read_chunks(missing, root, ctx, notes) if missing else []
    stories: dict[str, str] = {}
    fresh = [entry for chunk in chunks for entry in chunk.entries]
    fresh_rows = [number for number, entry in enumerate(entries) if entry is None]
    if chunks:
        signatures[fresh_rows] = np.concatenate([chunk.signatures for chunk in chunks])
        bands[fresh_rows] = np.concatenate([chunk.bands for chunk in chunks])
        for chunk in chunks:
            stories.update((entry.path, story) for entry, story in zip(chunk.entries, chunk.stories, strict=True)
                           if story is not None)
    for row, entry in zip(fresh_rows, fresh, strict=True):
        entries[row] = entry
    result = [entry for entry in entries if entry is not None]
    table = Table(result, signatures, bands, stories)
    # Rewritten when it would record something new, or forget a post that is gone (posts changed
    # in the last seconds are not recorded: rewriting for them alone would change nothing).
    if use_store and (any(map(recordable, fresh)) or len(known) > len(result) - len(missing)
                      or (generation is not None and generation.meta.get("folders") != trusted_marks(
                          marks, result, [entry for entry in result if recordable(entry)]))):
        table.pending_save = _once(lambda: Store(settings).save(result, marks, tables_of(result, signatures, bands)))
        if not save_later:
            table.pending_save()
    return table


def _once(action: Callable[[], object]) -> Callable[[], None]:
    """`action`, run by the first call only."""
    done = False

    def run() -> None:
        nonlocal done
        if not done:
            done = True
            action()

    return run


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

    def get(self, relative: str, packed: str | None = None) -> tuple[Story, AbstractSet[str]] | None:
        """The post's story and shingles; `packed`: its story as read already (normalise.pack)."""
        if relative in self.known:
            self.known.move_to_end(relative)
            return self.known[relative]
        if packed is not None:
            story: Story | None = unpack(packed)
        else:
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


# A pair to judge: both paths (relative to the root) and, when read in this run, their packed stories
PairToJudge = tuple[str, str, "str | None", "str | None"]
Judged = tuple["Verdict | None", int, int]  # the verdict and the story keys of the stories judged


def judge_pairs(pairs: Sequence[PairToJudge], root: Path, threshold: float) -> list[Judged]:
    """The verdict on each pair (None where a post cannot be read), with the two stories' keys
    (normalise.story_key: what the verdict is kept by)."""
    stories = Stories(root)
    keys: dict[str, int] = {}
    judged: list[Judged] = []
    for first, second, first_story, second_story in pairs:
        one, other = stories.get(first, first_story), stories.get(second, second_story)
        if one is None or other is None:
            judged.append((None, 0, 0))
            continue
        for path, story in ((first, one[0]), (second, other[0])):
            if path not in keys:
                keys[path] = story_key(story)
        judged.append((judge(one[0], other[0], (one[1], other[1]), threshold), keys[first], keys[second]))
        if len(keys) > 4 * CACHED_STORIES:
            keys.clear()
    return judged


def judge_all(root: Path, pairs: Sequence[PairToJudge], threshold: float,
              notes: list[str] | None = None, meanwhile: Callable[[], object] | None = None) -> list[Judged]:
    """judge_pairs, in worker processes when there are many pairs (`meanwhile`: run here while
    they work, parallel.map_chunks). The workers are spawned, not forked: a fork would share the
    whole table's pages, and each would count in the tree's RSS."""
    return [judged for chunk in map_chunks(judge_pairs, pairs, root, threshold, chunk_size=PAIRS_PER_TASK,
                                           threshold=PARALLEL_PAIRS, notes=notes, start_method="spawn",
                                           meanwhile=meanwhile)
            for judged in chunk]
