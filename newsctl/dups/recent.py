"""The store as the pre-commit check reads it: the whole generation and the recent layer.

A scraper adds posts every few minutes; the whole generation is written by `newsctl dups` (and
whenever a check finds too many posts it does not know). In between, each check would read and
sign the posts added since, again on every commit, and list the folders they were added to.
Instead, a check that had to read such posts writes them, with its own given posts, to a small
recent layer (a generation of the same format), with the folder marks it took before listing,
and names it in CURRENT after the whole generation. The next check finds every mark unchanged
and reads nothing but its own posts.

Posts changed in the last seconds are kept there too, named as racy: the next check reads them
again (precommit._unknown_posts), rather than listing their folder again.

A row of the view is a row of the whole generation, or `count` plus a row of the recent layer.
A post in both is found twice; whoever reads a row checks the post's size and mtime anyway
(precommit._as_it_is), so a stale row is never trusted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from newsctl.dups.store import Entry, Generation, Store, exact_keys, recordable, storable, trusted_marks

MAX_RECENT = 2000  # posts in the recent layer; beyond, the check rewrites the whole generation


@dataclass
class View:
    store: Store
    base: Generation
    base_token: str
    recent: Generation | None = None

    @property
    def marks(self) -> dict[str, int]:
        """Folder marks (relative folder -> mtime_ns) of the newest layer."""
        marks = (self.recent or self.base).meta.get("folders")
        return marks if isinstance(marks, dict) else {}

    @property
    def racy(self) -> set[str]:
        """Posts of the recent layer changed within cache.RACY_NS of being recorded: a change
        in the same timestamp tick could hide behind their size and mtime, so every check reads
        them again (their rows are not trusted) until a layer records them older."""
        racy = self.recent.meta.get("racy") if self.recent is not None else None
        return set(racy) if isinstance(racy, list) else set()

    def rows_with(self, kind: str, keys: Iterable[int]) -> set[int]:
        keys = list(keys)
        rows = self.base.rows_with(kind, keys)
        if self.recent is not None:
            rows |= {self.base.count + row for row in self.recent.rows_with(kind, keys)}
        return rows

    def entry(self, row: int, with_signature: bool = False) -> Entry | None:
        generation, row = self._locate(row)
        return generation.entry(row, with_signature)

    def estimate_inputs(self, row: int) -> tuple[tuple[int, ...], int, int]:
        generation, row = self._locate(row)
        return generation.estimate_inputs(row)

    def known_names(self, folder: str) -> dict[str, tuple[int, int]]:
        """The file names the store holds in a folder (relative to the root), with the size and
        mtime_ns recorded (the recent layer's over the whole generation's)."""
        names = dict(self.base.names.get(folder, {}))
        if self.recent is not None:
            names.update(self.recent.names.get(folder, {}))
        return names

    def stored_as_is(self, entry: Entry) -> Entry | None:
        """The stored entry, with its signature, of the same file unchanged (path, size, mtime,
        and the same exact-copy keys), found by those keys; None if the store has no such row or
        the post is racy."""
        if entry.path in self.racy:
            return None
        for row in sorted(self.rows_with("exact", exact_keys(entry)), reverse=True):  # newest layer first
            stored = self.entry(row, with_signature=True)
            if stored is not None and (stored.path, stored.size, stored.mtime_ns, stored.body_key) == (
                    entry.path, entry.size, entry.mtime_ns, entry.body_key):
                return stored
        return None

    def _locate(self, row: int) -> tuple[Generation, int]:
        if row >= self.base.count and self.recent is not None:
            return self.recent, row - self.base.count
        return self.base, row

    def remember(self, entries: Sequence[Entry], marks: dict[str, int]) -> bool:
        """Write a recent layer holding the current one's entries and these (signed) ones, with
        these folder marks (those of folders holding an entry not recorded are left out). Best
        effort; False only when the layer would hold more than MAX_RECENT posts: the caller
        then rewrites the whole generation."""
        older = self.recent.entries() if self.recent is not None else []
        paths = {entry.path for entry in entries}
        merged = [entry for entry in older if entry.path not in paths] + list(entries)
        if len(merged) > MAX_RECENT:
            return False
        kept = [entry for entry in merged if storable(entry.path)]
        racy = [entry.path for entry in kept if not recordable(entry)]
        layered_on = [self.base_token] + ([self.recent.token] if self.recent is not None else [])
        extra = {"folders": trusted_marks(marks, merged, kept), "base": self.base_token, "racy": racy}
        token = self.store.publish(kept, extra, layered_on)
        if token is not None:
            self.store.remove_old(self.base_token, token)
        return True


def load_view(store: Store) -> View | None:
    """The whole generation and its recent layer; None when there is no whole generation."""
    tokens = store.current_tokens()
    base = store.open_generation(tokens[0]) if tokens else None
    if base is None:
        return None
    recent = store.open_generation(tokens[1]) if len(tokens) == 2 else None
    if recent is not None and recent.meta.get("base") != tokens[0]:
        recent = None
    return View(store, base, tokens[0], recent)
