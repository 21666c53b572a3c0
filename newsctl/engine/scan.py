"""Scanning the archive for `newsctl index`: every post's size and mtime (stat only, no read),
and the mtimes of the folders that hold posts."""

from __future__ import annotations

import os
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property

from newsctl.background import in_child
from newsctl.config import Settings
from newsctl.discovery import archive_names, literal_prefix
from newsctl.engine.store import Manifest, folder_mtimes

STAT_SPLIT_MIN = 20_000  # posts from which two processes share the stat calls


@dataclass
class Scan:
    paths: list[str]  # relative to the root, in listing order
    sizes: array  # "q", -1 when the file cannot be stat()ed (a broken symlink: read once, skipped)
    mtimes: array
    dirs: dict[str, int]  # every folder that holds posts or may receive them -> mtime_ns

    def same_files(self, manifest: Manifest) -> bool:
        return self.paths == manifest.paths and self.sizes == manifest.sizes and self.mtimes == manifest.mtimes

    @cached_property
    def positions(self) -> dict[str, int]:
        return dict(zip(self.paths, range(len(self.paths)), strict=True))


def scan_archive(settings: Settings, split: bool = True, while_waiting: Callable[[], None] | None = None) -> Scan:
    """Every post's size and mtime and the mtimes of the folders that hold posts or may receive them.

    Every post is stat()ed, so that an edit written in place (which leaves its folder's mtime alone)
    is found too. The stat calls are the cost of a no-change update (100k posts: ~0.45 s of system
    calls on the benchmark machine). With `split`, a forked child makes half of them (on a large
    archive), or, given `while_waiting` (loading what reading posts needs, when posts will be read),
    four fifths of them while this process runs it.
    """
    listing = archive_names(settings, trust_md_names=True)
    forking = split and hasattr(os, "fork")
    if forking and while_waiting:  # loading takes ~0.25 s, 100k stat calls ~0.45 s: finish together
        sizes, mtimes = _stat_split(listing, 0.8, while_waiting)
    elif forking and sum(len(names) for _, names in listing) >= STAT_SPLIT_MIN:
        sizes, mtimes = _stat_split(listing, 0.5)
    else:
        sizes, mtimes = _stat_names(listing)
    root = str(settings.root)
    cut = len(root) + 1
    paths: list[str] = []
    folders: set[str] = {literal_prefix(pattern) for pattern in settings.posts}
    for folder, names in listing:
        rel_dir = folder[cut:]
        paths += map(f"{rel_dir}/".__add__, names) if rel_dir else names
        while rel_dir and rel_dir not in folders:
            folders.add(rel_dir)
            rel_dir = rel_dir.rpartition("/")[0]
    return Scan(paths, sizes, mtimes, folder_mtimes(settings.root, folders))


def _stat_names(listing: Iterable[tuple[str, list[str]]]) -> tuple[array, array]:
    sizes, mtimes = array("q"), array("q")
    add_size, add_mtime, stat_of = sizes.append, mtimes.append, os.stat
    for folder, names in listing:
        for name in names:
            try:
                info = stat_of(f"{folder}/{name}")
            except OSError:
                add_size(-1)
                add_mtime(-1)
            else:
                add_size(info.st_size)
                add_mtime(info.st_mtime_ns)
    return sizes, mtimes


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
                meanwhile: Callable[[], None] | None = None) -> tuple[array, array]:
    """_stat_names with a forked child doing `child_share` of the calls while this process runs
    `meanwhile` and then does the rest (stat is a system call: it scales with cores, where threads
    would contend for the GIL)."""
    first, second = _split(listing, child_share)
    count = sum(len(names) for _, names in first)
    with in_child(lambda send: send(b"".join(part.tobytes() for part in _stat_names(first)))) as child:
        if meanwhile:
            meanwhile()
        sizes, mtimes = _stat_names(second)
        data = child.receive()
    if data is None or len(data) != 16 * count or not child.finish():
        return _stat_names(listing)
    first_sizes, first_mtimes = array("q"), array("q")
    first_sizes.frombytes(data[:8 * count])
    first_mtimes.frombytes(data[8 * count:])
    return first_sizes + sizes, first_mtimes + mtimes

