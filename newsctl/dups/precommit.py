"""Given posts (pre-commit's staged ones) against the whole archive, every day included: exact
copies (NC602 title and date, NC603 body) from the store's keys, near copies from its LSH bands,
judged. No numpy, no datasketch: the store is read in place (store.Generation), and the few
given posts are signed in plain Python.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path

from newsctl.config import Settings
from newsctl.discovery import Listing, folder_mtimes, is_archive_post, marked_listing
from newsctl.dups.candidates import ESTIMATE_MARGIN, estimate_pair, stored_estimate
from newsctl.dups.compare import DEFAULT_THRESHOLD, NEAR, SAME_BODY, SAME_TITLE_DATE
from newsctl.dups.entries import Stories, entry_of, refresh, relative
from newsctl.dups.normalise import Story
from newsctl.dups.recent import View, load_view
from newsctl.dups.signature import band_keys, shingle_hashes, shingles, signature
from newsctl.dups.store import Entry, Store, exact_keys
from newsctl.post import Post, read_post
from newsctl.rules import CheckContext

MAX_UNKNOWN = 300  # posts added since the store was written that a pre-commit run reads itself
MAX_EXACT = 32  # stored exact copies named per post (a message names 3 and counts the rest)
NAMED_NEAR = 3
VERIFIED_NEAR = 12


@dataclass(frozen=True)
class ArchiveMatch:
    path: str  # the checked post (absolute, as validate reports it)
    other: str  # the other post, relative to the root
    reason: str  # SAME_TITLE_DATE, SAME_BODY or NEAR
    similarity: float
    detail: str = ""


def check_against_archive(settings: Settings, ctx: CheckContext, posts: Sequence[Post],
                          threshold: float = DEFAULT_THRESHOLD,
                          listdir: Callable[[str], list[str]] = os.listdir,
                          use_store: bool = True) -> list[ArchiveMatch]:
    """Copies of the given posts anywhere in the archive (every day): exact (title and date,
    body) and near. Uses the store; posts it does not know yet (added since it was written) are
    read here and kept in its recent layer for the next check, and the whole store is rebuilt
    only when it is missing or many posts are new. Without the store (`validate --no-cache`),
    every post is read and nothing is written."""
    root = str(settings.root)
    given = {relative(str(post.path), root): post for post in posts}
    view: View | None = None
    memory: dict[int, list[Entry]] = {}
    newcomers: list[tuple[Entry, Story | None]] = []
    marks: dict[str, int] | None = None
    if use_store:
        store = Store(settings)
        view = load_view(store)
        found = _unknown_posts(settings, ctx, view, set(given), listdir, MAX_UNKNOWN) if view else None
        if found is None:  # no store yet, or many posts added since
            refresh(settings, ctx)
            view = load_view(store)
            # what it could not record (changed in the last seconds) is read here
            found = _unknown_posts(settings, ctx, view, set(given), listdir) if view else ([], None)
        assert found is not None  # (no limit)
        newcomers, marks = found
    if view is None:  # --no-cache, or no store could be written (outside an archive, all posts new)
        memory = _in_memory(settings, ctx, set(given))
    pool = [entry_of(post, path, ctx) for path, post in given.items()] + newcomers
    stories = Stories(settings.root)
    own: dict[str, tuple[Entry, AbstractSet[str]]] = {}
    for entry, story in pool:
        if story is None:
            continue
        stored = view.stored_as_is(entry) if view is not None else None
        if stored is not None:  # the store signed this very file: no need to sign it again
            entry.signature, entry.shingles = stored.signature, stored.shingles
        else:
            hashes = shingle_hashes(story.text) if story.body else set()
            entry.signature = signature(hashes) if hashes else None
            entry.shingles = len(hashes)
        shingle_set = shingles(story.text)
        stories.known[entry.path] = (story, shingle_set)
        stories.pinned.add(entry.path)
        own[entry.path] = (entry, shingle_set)
    matches: list[ArchiveMatch] = []
    for path in given:
        if path in own:
            matches += _matches_of(own[path][0], own, view, memory, stories, threshold, settings.root, ctx)
    archive_posts = [entry for entry, _ in pool if is_archive_post(settings, entry.path)]  # not drafts
    if view is not None and marks is not None and not view.remember(archive_posts, marks):
        refresh(settings, ctx)  # the recent layer is full: the whole generation takes it in
    return matches


def _unknown_posts(settings: Settings, ctx: CheckContext, view: View, given: set[str],
                   listdir: Callable[[str], list[str]], limit: int | None = None,
                   ) -> tuple[list[tuple[Entry, Story | None]], dict[str, int] | None] | None:
    """Posts the store does not hold, other than the given ones, read, and the folder marks taken
    before listing (None when nothing was read). There are some only in folders whose mtime moved
    on since the store was written (only those are compared with the store's names), and the
    recent layer's racy posts. None when there are more than `limit` (the whole store is then
    refreshed, and holds them)."""
    recorded = view.marks
    root = str(settings.root)
    racy = [f"{root}/{path}" for path in sorted(view.racy)]
    if recorded and folder_mtimes(settings.root, recorded) == recorded:
        if not racy:
            return [], None
        listing: Listing = []
        marks = recorded
    else:
        listing, marks = marked_listing(settings, recorded, relist=False, listdir=listdir)
    unchanged = {folder for folder, mark in recorded.items() if marks.get(folder) == mark}
    cut = len(root) + 1
    unknown: list[str] = racy
    for folder, names in listing:
        if folder[cut:] not in unchanged:
            unknown += _not_as_recorded(folder, names, view.known_names(folder[cut:]))
    unknown = [path for path in dict.fromkeys(unknown) if relative(path, root) not in given and os.path.isfile(path)]
    if limit is not None and len(unknown) > limit:
        return None
    return [entry_of(read_post(Path(path)), relative(path, root), ctx) for path in unknown], marks


def _not_as_recorded(folder: str, names: list[str], known: dict[str, tuple[int, int]]) -> list[str]:
    """The posts of a folder that moved on which the store does not hold, or holds with another
    size or mtime (an editor's save by rename moves the folder too)."""
    found = []
    for name in names:
        path = f"{folder}/{name}"
        recorded = known.get(name)
        if recorded is not None:
            try:
                info = os.stat(path)
            except OSError:
                continue
            if (info.st_size, info.st_mtime_ns) == recorded:
                continue
        found.append(path)
    return found


def _in_memory(settings: Settings, ctx: CheckContext, given: set[str]) -> dict[int, list[Entry]]:
    """Every other post's entry by its exact and band keys, read now (no store)."""
    from newsctl.discovery import list_archive_posts
    from newsctl.dups.entries import read_entries

    root = str(settings.root)
    paths = [path for path in list_archive_posts(settings) if relative(path, root) not in given]
    memory: dict[int, list[Entry]] = {}
    for entry in read_entries(paths, root, ctx):
        keys = exact_keys(entry) + (band_keys(entry.signature) if entry.signature is not None else [])
        for key in keys:
            memory.setdefault(key, []).append(entry)
    return memory


def _matches_of(entry: Entry, own: dict[str, tuple[Entry, AbstractSet[str]]], generation: View | None,
                memory: dict[int, list[Entry]], stories: Stories, threshold: float, root: Path,
                ctx: CheckContext) -> list[ArchiveMatch]:
    """The copies of one given post: among the other given or new posts, and in the store. Exact
    copies are known from the keys; near ones are read and judged, most likely first, until
    NAMED_NEAR are confirmed or VERIFIED_NEAR were read (a story reposted a hundred times must
    not cost a hundred reads on every commit; `newsctl dups` lists them all)."""
    absolute = f"{root}/{entry.path}"
    keys = set(exact_keys(entry))
    bands = set(band_keys(entry.signature)) if entry.signature is not None else set()
    others = [other for other, _ in own.values() if other.path != entry.path
              and (keys.intersection(exact_keys(other))
                   or (other.signature is not None and bands.intersection(band_keys(other.signature))))]
    others += [other for key in keys | bands for other in memory.get(key, ())]
    if generation is not None:
        exact_rows = sorted(generation.rows_with("exact", keys))[:MAX_EXACT]
        band_rows = generation.rows_with("bands", bands) - set(exact_rows)
        likely = sorted(((stored_estimate(entry, generation, row), row) for row in band_rows), reverse=True)
        rows = exact_rows + [row for estimate, row in likely[:VERIFIED_NEAR] if estimate >= threshold - ESTIMATE_MARGIN]
        stored = (generation.entry(row, with_signature=True) for row in rows)
        others += [current for other in stored if other and other.path not in own
                   and (current := _as_it_is(root, other, ctx)) is not None]
    matches: list[ArchiveMatch] = []
    near: list[tuple[float, Entry]] = []
    seen = {entry.path}
    for other in others:
        if other.path in seen:
            continue
        seen.add(other.path)
        reason = _exact_reason(entry, other)
        if reason:
            matches.append(ArchiveMatch(absolute, other.path, reason, 1.0))
        elif entry.signature is not None and other.signature is not None:
            estimate = estimate_pair(entry, other)
            if estimate >= threshold - ESTIMATE_MARGIN:
                near.append((estimate, other))
    named = 0
    for _, other in sorted(near, key=lambda item: (-item[0], item[1].path))[:VERIFIED_NEAR]:
        verdict = stories.judge(entry.path, other.path, threshold)
        if verdict and verdict.reason == NEAR and verdict.similarity >= threshold:
            matches.append(ArchiveMatch(absolute, other.path, NEAR, verdict.similarity, verdict.detail))
            named += 1
            if named == NAMED_NEAR:
                break
    return matches


def _exact_reason(entry: Entry, other: Entry) -> str:
    """SAME_BODY or SAME_TITLE_DATE when the two are exact copies, else ""."""
    if entry.body_key and entry.body_key == other.body_key:
        return SAME_BODY
    if entry.title_key and entry.moment is not None and (entry.title_key, entry.moment) == (other.title_key,
                                                                                            other.moment):
        return SAME_TITLE_DATE
    return ""


def _as_it_is(root: Path, entry: Entry, ctx: CheckContext) -> Entry | None:
    """The stored entry while the post's size and mtime are those recorded; read again when they
    changed (the store was written before the edit); None when the post is gone."""
    path = f"{root}/{entry.path}"
    try:
        info = os.stat(path)
    except OSError:
        return None
    if (info.st_size, info.st_mtime_ns) == (entry.size, entry.mtime_ns):
        return entry
    fresh, story = entry_of(read_post(Path(path)), entry.path, ctx)
    if story is not None:
        hashes = shingle_hashes(story.text)
        fresh.signature = signature(hashes) if hashes else None
        fresh.shingles = len(hashes)
    return fresh
