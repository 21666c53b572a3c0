"""Scanning the archive for `newsctl index`: every post's size, mtime, ctime and inode (stat only,
no read), and the mtimes of the folders that hold posts (taken before they are listed)."""

from __future__ import annotations

import os
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property

from newsctl.background import in_child
from newsctl.config import Settings
from newsctl.discovery import marked_listing
from newsctl.engine.store import Manifest

STAT_SPLIT_MIN = 20_000  # posts from which two processes share the stat calls


@dataclass
class Scan:
    paths: list[str]  # relative to the root, in listing order
    sizes: array  # "q", -1 when the file cannot be stat()ed (a broken symlink: read once, skipped)
    mtimes: array
    ctimes: array
    inodes: array
    dirs: dict[str, int]  # every folder that holds posts or may receive them -> mtime_ns before listing

    def same_files(self, manifest: Manifest) -> bool:
        return (self.paths == manifest.paths and self.sizes == manifest.sizes and self.mtimes == manifest.mtimes
                and self.ctimes == manifest.ctimes and self.inodes == manifest.inodes)

    def changed(self, i: int, previous: Manifest, j: int) -> bool:
        """Whether post i of the scan differs, by its stat, from post j of the previous manifest."""
        return (self.sizes[i] != previous.sizes[j] or self.mtimes[i] != previous.mtimes[j]
                or self.ctimes[i] != previous.ctimes[j] or self.inodes[i] != previous.inodes[j])

    @cached_property
    def positions(self) -> dict[str, int]:
        return dict(zip(self.paths, range(len(self.paths)), strict=True))


Stats = tuple[array, array, array, array]  # sizes, mtimes, ctimes, inodes


def scan_archive(settings: Settings, split: bool = True, while_waiting: Callable[[], None] | None = None,
                 known_dirs: Iterable[str] = ()) -> Scan:
    """Every post's size, mtime, ctime and inode, and the mtimes of the folders that hold posts or may
    receive them.

    Every post is stat()ed, so that an edit written in place (which leaves its folder's mtime alone)
    is found too. The stat calls are the cost of a no-change update (100k posts: ~0.45 s of system
    calls on the benchmark machine). With `split`, a forked child makes half of them (on a large
    archive), or, given `while_waiting` (loading what reading posts needs, when posts will be read),
    four fifths of them while this process runs it.

    The folders' mtimes (`known_dirs`: those of the last run) are taken BEFORE they are listed
    (discovery.marked_listing), so a post added while `index` runs moves its folder past the
    recorded mark and the index reads as stale until the next run.
    """
    listing, marks = marked_listing(settings, known_dirs, relist=True)
    stats = _stat(listing, split, while_waiting)
    cut = len(str(settings.root)) + 1
    paths: list[str] = []
    for folder, names in listing:
        rel_dir = folder[cut:]
        paths += map(f"{rel_dir}/".__add__, names) if rel_dir else names
    return Scan(paths, *stats, marks)


def _stat(listing: list[tuple[str, list[str]]], split: bool, while_waiting: Callable[[], None] | None) -> Stats:
    forking = split and hasattr(os, "fork")
    if forking and while_waiting:  # loading takes ~0.25 s, 100k stat calls ~0.45 s: finish together
        return _stat_split(listing, 0.8, while_waiting)
    if forking and sum(len(names) for _, names in listing) >= STAT_SPLIT_MIN:
        return _stat_split(listing, 0.5)
    return _stat_names(listing)


def _stat_names(listing: Iterable[tuple[str, list[str]]]) -> Stats:
    sizes, mtimes, ctimes, inodes = array("q"), array("q"), array("q"), array("q")
    add_size, add_mtime, add_ctime, add_inode, stat_of = sizes.append, mtimes.append, ctimes.append, \
        inodes.append, os.stat
    for folder, names in listing:
        for name in names:
            try:
                info = stat_of(f"{folder}/{name}")
            except OSError:
                add_size(-1)
                add_mtime(-1)
                add_ctime(-1)
                add_inode(-1)
            else:
                add_size(info.st_size)
                add_mtime(info.st_mtime_ns)
                add_ctime(info.st_ctime_ns)
                add_inode(info.st_ino & 0x7FFFFFFFFFFFFFFF)
    return sizes, mtimes, ctimes, inodes


def _split(listing: list[tuple[str, list[str]]],
           share: float) -> tuple[list[tuple[str, list[str]]], list[tuple[str, list[str]]]]:
    """The listing cut in two: the first part holds `share` of the names."""
    cut = int(sum(len(names) for _, names in listing) * share)
    first: list[tuple[str, list[str]]] = []
    second: list[tuple[str, list[str]]] = []
    seen = 0
    for folder, names in listing:
        take = max(0, min(len(names), cut - seen))
        if take:
            first.append((folder, names[:take]))
        if take < len(names):
            second.append((folder, names[take:]))
        seen += len(names)
    return first, second


def _stat_split(listing: list[tuple[str, list[str]]], child_share: float,
                meanwhile: Callable[[], None] | None = None) -> Stats:
    """_stat_names with a forked child doing `child_share` of the calls while this process runs
    `meanwhile` and then does the rest (stat is a system call: it scales with cores, where threads
    would contend for the GIL)."""
    first, second = _split(listing, child_share)
    count = sum(len(names) for _, names in first)
    with in_child(lambda send: send(b"".join(part.tobytes() for part in _stat_names(first)))) as child:
        if meanwhile:
            meanwhile()
        rest = _stat_names(second)
        data = child.receive()
    if data is None or len(data) != 32 * count or not child.finish():
        return _stat_names(listing)
    parts = []
    for number, values in enumerate(rest):
        head = array("q")
        head.frombytes(data[8 * count * number:8 * count * (number + 1)])
        parts.append(head + values)
    return parts[0], parts[1], parts[2], parts[3]
