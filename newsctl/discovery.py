"""Discovery: listing the archive's post files (the `posts` globs), expanding the PATHS a user or
pre-commit gives, and the neighbour search that `validate PATHS` and `add` compare new posts with.

Listing 100k names is most of a pre-commit run, so names stay strings, `.md` names can be trusted
as files, folders are listed through cache.NameCache, and the neighbour search runs in a forked
child while the rules are imported (neighbours_in_background).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import cache, partial
from pathlib import Path

from newsctl.cache import folder_lister
from newsctl.config import Settings, literal_prefix
from newsctl.names import day_and_id, is_neighbour, neighbour_names


def glob_to_regex(pattern: str) -> re.Pattern[str]:
    """Translate a glob with `**` (any depth), `*` and `?` into a regex over posix paths."""
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def is_archive_post(settings: Settings, relative: str) -> bool:
    """Whether a path (relative to the root) is one of the archive's posts by the `posts` globs."""
    return not relative.startswith(("/", "../")) and any(regex.match(relative)
                                                        for regex in _post_regexes(tuple(settings.posts)))


@cache
def _post_regexes(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    return tuple(glob_to_regex(pattern) for pattern in patterns)


def walk_files(base: Path) -> Iterator[Path]:
    """Files under `base`, sorted, never following directory symlinks (no loops)."""
    for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
        dirnames.sort()
        for name in sorted(filenames):
            yield Path(dirpath, name)


def iter_post_paths(settings: Settings) -> Iterator[Path]:
    """Every post file of the archive, each once, in a stable order."""
    return (Path(path) for path in list_archive_posts(settings))


def list_archive_posts(settings: Settings) -> list[str]:
    """Absolute paths of every post, as strings (Path objects for 100k files cost too much on the
    pre-commit path). Directory symlinks are not followed (no loops)."""
    return [f"{folder}/{name}" for folder, names in archive_names(settings, trust_md_names=False)
            for name in names]


Listing = list[tuple[str, list[str]]]  # (absolute folder, file names), as archive_names gives it


def archive_names(settings: Settings, trust_md_names: bool,
                  listdir: Callable[[str], list[str]] = os.listdir) -> list[tuple[str, list[str]]]:
    """(absolute folder, file names) of the posts, folder by folder. With `trust_md_names`, names
    ending in .md are taken for files without asking the file system (enough for comparing names),
    and `listdir` lists a folder (cache.NameCache.listdir may answer from its cache)."""
    root = str(settings.root)
    folders: dict[str, list[str]] = {}
    for pattern in settings.posts:
        base = literal_prefix(pattern)
        suffix, keep = _name_filter(pattern, base)
        for rel_dir, names, all_md in _walk(root, base, trust_md_names, listdir):
            folder = f"{root}/{rel_dir}" if rel_dir else root
            # names all ending in .md end in a suffix such as ".md" too: no second look at 100k names
            kept = names if all_md and suffix is not None and ".md".endswith(suffix) else keep(rel_dir, names)
            if folder in folders:  # two patterns reach the same folder: keep each name once
                known = set(folders[folder])
                folders[folder] += [name for name in kept if name not in known]
            elif kept:
                folders[folder] = kept
    return list(folders.items())


FindNeighbours = Callable[[set[str], set[str]], Listing]  # (days, ids) -> the names names.is_neighbour accepts


def find_neighbours(settings: Settings, days: set[str], ids: set[str],
                    listdir: Callable[[str], list[str]] = os.listdir) -> Listing:
    """The archive's post names of one of the days or with one of the ids (see names.is_neighbour)."""
    return _with_names((folder, neighbour_names("\0".join(names), days, ids))
                       for folder, names in archive_names(settings, trust_md_names=True, listdir=listdir))


def _with_names(listing: Iterable[tuple[str, list[str]]]) -> Listing:
    return [(folder, names) for folder, names in listing if names]


@contextmanager
def neighbours_in_background(settings: Settings, paths: Iterable[Path], use_cache: bool) -> Iterator[FindNeighbours]:
    """find_neighbours for the days and ids that the names of `paths` give, computed by a forked
    child while the body of the `with` runs: listing a folder of 100k names takes ~0.07 s of
    system time (unless cache.NameCache has them), and searching them ~0.03 s, about what
    importing the rules takes. Days or ids the names did not give (a front-matter date of another
    day, a folder argument) are searched here, as is everything when the child failed."""
    from newsctl.background import in_child

    listdir = folder_lister(settings, use_cache)
    days: set[str] = set()
    ids: set[str] = set()
    for path in paths:
        if path.name.endswith(".md"):  # (a folder's posts are known only once it is walked)
            day, post_id = day_and_id(path.name)
            ids.add(post_id)
            if day:
                days.add(day)
    work = partial(find_neighbours, settings, days, ids, listdir)
    with in_child(lambda send: send(pack_listing(work()))) as child:
        @cache
        def received() -> Listing | None:
            data = child.receive()
            return None if data is None else unpack_listing(data)

        def find(wanted_days: set[str], wanted_ids: set[str]) -> Listing:
            listing = received() if wanted_days <= days and wanted_ids <= ids else None
            if listing is None:
                return find_neighbours(settings, wanted_days, wanted_ids, listdir)
            return _with_names((folder, [name for name in names if is_neighbour(name, wanted_days, wanted_ids)])
                               for folder, names in listing)

        yield find


def pack_listing(listing: Listing) -> bytes:
    """A listing as one byte string: each folder NUL-joined with its names, folders separated by
    two NULs (no name is empty or holds a NUL). Undecodable names survive (surrogateescape)."""
    return "\0\0".join("\0".join([folder, *names]) for folder, names in listing).encode(
        "utf-8", "surrogateescape")


def unpack_listing(data: bytes) -> Listing:
    text = data.decode("utf-8", "surrogateescape")
    return [(folder, names) for folder, *names in (part.split("\0") for part in text.split("\0\0")) if folder]


UNSURE = -2  # the mark of a folder that must be listed again (no mtime is negative)
FOLDER_RACY_NS = 50_000_000  # a folder changed this recently may change again within its timestamp's tick
TICK_SECONDS = 0.02  # longer than the kernel's coarse timestamp tick (1-10 ms)


def folder_mtimes(root: Path, folders: Iterable[str]) -> dict[str, int]:
    """mtime_ns of folders relative to root; -1 for an absent one (it appears when created)."""
    mtimes = {}
    for folder in folders:
        try:
            mtimes[folder] = os.stat(root / folder).st_mtime_ns
        except (OSError, ValueError):  # (ValueError: a NUL in a damaged record)
            mtimes[folder] = -1
    return mtimes


def marked_listing(settings: Settings, known_dirs: Iterable[str], relist: bool, trust_md_names: bool = True,
                   listdir: Callable[[str], list[str]] = os.listdir) -> tuple[Listing, dict[str, int]]:
    """archive_names and the marks of the folders that hold posts or may
    receive them (relative to the root -> mtime_ns), each taken BEFORE the folder was listed: a
    post added meanwhile moves its folder past its mark, and whoever compares the marks later
    lists it again.

    `known_dirs` (the last run's folders) and the post globs' bases are marked first. A folder
    first seen in the listing is marked after it; that mark is sure only when older than the
    listing (by the tick the kernel's timestamps may lag). Unsure folders (also any changed
    within that tick) are listed again after a tick (`relist`), or marked UNSURE, which no later
    mtime equals."""
    root = settings.root
    marks = folder_mtimes(root, {*known_dirs, *(literal_prefix(pattern) for pattern in settings.posts)})
    marked_at = time.time_ns()
    listed: dict[str, list[str]] = {}

    def listing_once(folder: str) -> list[str]:
        names = listed[folder] = listdir(folder)
        return names

    listing = archive_names(settings, trust_md_names, listdir=listing_once)
    folders = _post_folders(settings, root, listed, listing)
    marks.update(folder_mtimes(root, (folder for folder in folders if folder not in marks)))
    unsure = {rel for rel, mark in marks.items() if mark > marked_at - FOLDER_RACY_NS}
    if unsure and relist:
        time.sleep(TICK_SECONDS)  # later changes get a later timestamp than the marks
        again = {f"{root}/{rel}" if rel else str(root) for rel in unsure}
        first = dict(listed)
        listing = archive_names(settings, trust_md_names,
                                listdir=lambda folder: listing_once(folder) if folder in again or folder not in first
                                else first[folder])
        # A folder first seen now was listed after the marks: unsure until the next run marks it.
        unsure = _post_folders(settings, root, listed, listing) - folders
        folders |= unsure
    return listing, {folder: UNSURE if folder in unsure else marks[folder] for folder in folders}


def _post_folders(settings: Settings, root: Path, listed: Iterable[str], listing: Listing) -> set[str]:
    """The folders that hold posts or may receive them (relative to the root): the globs' bases,
    every folder listed or holding posts, and the folders between them and the root."""
    cut = len(str(root)) + 1
    folders: set[str] = {literal_prefix(pattern) for pattern in settings.posts}
    for folder in [*listed, *(folder for folder, _ in listing)]:
        rel_dir = folder[cut:]
        while rel_dir and rel_dir not in folders:
            folders.add(rel_dir)
            rel_dir = rel_dir.rpartition("/")[0]
    return folders


def _name_filter(pattern: str, base: str) -> tuple[str | None, Callable[[str, list[str]], list[str]]]:
    """The names of one folder that the glob selects, and the suffix that alone decides that if
    there is one: `<base>/**/*.md` needs no regex."""
    tail = pattern[len(base):].lstrip("/")
    if tail.startswith("**/*") and not any(ch in tail[4:] for ch in "*?[/"):
        suffix = tail[4:]
        return suffix, lambda rel_dir, names: ending_with(names, suffix)
    regex = glob_to_regex(pattern)
    return None, lambda rel_dir, names: [name for name in names
                                         if regex.match(f"{rel_dir}/{name}" if rel_dir else name)]


def _walk(root: str, base: str, trust_md_names: bool,
          listdir: Callable[[str], list[str]]) -> Iterator[tuple[str, list[str], bool]]:
    """(relative folder, file names, whether all of them are known to end in .md) under root/base;
    directory symlinks are not followed."""
    stack = [base]
    while stack:
        rel_dir = stack.pop()
        folder = f"{root}/{rel_dir}" if rel_dir else root
        prefix = f"{rel_dir}/" if rel_dir else ""
        try:
            if trust_md_names:
                names = listdir(folder)
                files = ending_with(names, ".md")
                all_md = files is names
                subdirs: list[str] = []
                if not all_md:  # only names without .md are asked whether they are folders
                    others = [name for name in names if not name.endswith(".md")]
                    subdirs = [name for name in others if _is_real_dir(f"{folder}/{name}")]
                    files = files + [name for name in others if name not in subdirs]
            else:
                entries = list(os.scandir(folder))
                all_md = False  # not looked at
                subdirs = [entry.name for entry in entries if _is_real_dir(entry)]
                files = [entry.name for entry in entries if entry.name not in subdirs] if subdirs else \
                    [entry.name for entry in entries]
        except OSError:
            continue
        stack += [prefix + name for name in subdirs]
        yield rel_dir, files, all_md


def ending_with(names: list[str], suffix: str) -> list[str]:
    """The names that end with `suffix`, in order: `names` itself when all do (the usual post folder).
    That is checked in C, not name by name: no file name holds NUL, so in the names joined by NUL
    each occurrence of suffix + NUL ends a different name (all but the last)."""
    if not names:
        return names
    if ("\0" not in suffix and names[-1].endswith(suffix)
            and "\0".join(names).count(suffix + "\0") == len(names) - 1):
        return names
    return [name for name in names if name.endswith(suffix)]


def _is_real_dir(item: str | os.DirEntry[str]) -> bool:
    try:
        if isinstance(item, str):
            return os.path.isdir(item) and not os.path.islink(item)
        return item.is_dir() and not item.is_symlink()
    except OSError:
        return False


def expand_paths(paths: Iterable[Path]) -> Iterator[Path]:
    """Paths as a user or pre-commit gives them: files as they are, folders recursed for *.md."""
    for path in paths:
        if path.is_dir():
            yield from (p for p in walk_files(path) if p.suffix == ".md")
        else:
            yield path
