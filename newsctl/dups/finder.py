"""Groups of copies over the archive (`newsctl dups`), and the check of given posts against the
whole archive (`validate FILE...`, the pre-commit hook).

Both start from the store (store.py): posts whose size and mtime are those recorded are not
read again; new and changed posts are read, their signatures computed and the store rewritten.
Candidate pairs are posts sharing an LSH band key; each candidate is then read and judged
(compare.judge). Exact copies (same id, same title and date, same body: the NC601-NC603 facts)
are grouped from the facts alone.
"""

from __future__ import annotations

import itertools
import os
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

from newsctl.config import Settings, list_archive_posts
from newsctl.dups.compare import DEFAULT_THRESHOLD, NEAR, TEMPLATE, Verdict, judge
from newsctl.dups.normalise import Story, story_of
from newsctl.dups.signature import band_keys, shingle_hashes, signature
from newsctl.dups.store import Entry, Generation, Store, exact_keys, folder_mtimes
from newsctl.post import Post, read_post
from newsctl.rules import CheckContext, front_matter_read, post_facts

if TYPE_CHECKING:
    import numpy as np

SAME_ID = "same id"
SAME_TITLE_DATE = "same title and date"
SAME_BODY = "same body"
REASON_ORDER = (SAME_ID, SAME_TITLE_DATE, SAME_BODY, NEAR)
PARALLEL_THRESHOLD = 2000  # posts to read: below this, worker processes cost more than they save
FILES_PER_TASK = 500
NUMPY_THRESHOLD = 200  # signatures to compute: below this, importing numpy costs more than it saves
HEADLINE_BUCKET = 64  # posts under one headline: beyond this, a chain (a headline that recurs daily)
BUCKET_PAIRS = 16  # a band bucket larger than this is linked as a chain, not as every pair
MAX_UNKNOWN = 300  # posts added since the store was written that a pre-commit run reads itself
ESTIMATE_FLOOR = 0.2  # candidate pairs whose signatures agree less than this are not read


@dataclass(frozen=True)
class Link:
    first: str  # paths relative to the root
    second: str
    similarity: float
    reason: str
    detail: str = ""


@dataclass
class Group:
    paths: list[str]
    similarity: float  # the lowest similarity of the links that joined the group
    reasons: list[str]
    links: list[Link]

    @property
    def reason(self) -> str:
        return ", ".join(self.reasons)


@dataclass
class Found:
    groups: list[Group] = field(default_factory=list)
    templates: list[Group] = field(default_factory=list)  # near only through a shared template
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path relative to the root, reason)
    checked: int = 0


@dataclass
class Selection:
    threshold: float = DEFAULT_THRESHOLD
    since: date | None = None
    until: date | None = None
    categories: frozenset[str] = frozenset()

    def admits(self, entry: Entry) -> bool:
        day = entry.local_day or entry.day
        if (self.since or self.until) and not day:
            return False
        if self.since and day and day < self.since.isoformat():
            return False
        if self.until and day and day > self.until.isoformat():
            return False
        return not self.categories or bool(self.categories.intersection(entry.categories))


# ---- reading posts into entries -----------------------------------------------------------------------

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
        entry, story = entry_of(read_post(Path(path)), _relative(path, root), ctx)
        entries.append(entry)
        texts.append(story.text if story and story.body else "")
    _sign(entries, texts)
    return entries


def _sign(entries: Sequence[Entry], texts: Sequence[str]) -> None:
    if len(texts) >= NUMPY_THRESHOLD:
        from newsctl.dups.signature import signatures_numpy

        rows = signatures_numpy(texts)
        for entry, text, row in zip(entries, texts, rows, strict=True):
            entry.signature = tuple(int(value) for value in row) if text else None
        return
    for entry, text in zip(entries, texts, strict=True):
        entry.signature = signature(shingle_hashes(text)) if text else None


def read_entries(paths: Sequence[str], root: str, ctx: CheckContext) -> list[Entry]:
    """Entries of these posts, in worker processes for many; in input order."""
    workers = os.cpu_count() or 1
    if len(paths) <= PARALLEL_THRESHOLD or workers < 2:
        return _read_chunk(paths, root, ctx)
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    chunks = [paths[i:i + FILES_PER_TASK] for i in range(0, len(paths), FILES_PER_TASK)]
    try:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            return [entry for chunk in pool.map(_read_chunk, chunks, [root] * len(chunks), [ctx] * len(chunks))
                    for entry in chunk]
    except (OSError, NotImplementedError, BrokenProcessPool) as exc:
        sys.stderr.write(f"newsctl: warning: worker processes failed ({exc or type(exc).__name__}); "
                         "reading in one process\n")
        return _read_chunk(paths, root, ctx)


def refresh(settings: Settings, ctx: CheckContext, paths: Sequence[str] | None = None,
            progress: Callable[[int, int], None] | None = None) -> list[Entry]:
    """Every post's entry, from the store where the post is unchanged (size and mtime), else read;
    the store is rewritten when anything changed. `index` calls this to keep it current."""
    root = str(settings.root)
    if paths is None:
        paths = list_archive_posts(settings)
    generation = Store(settings).load()
    known = {entry.path: entry for entry in generation.entries()} if generation else {}
    entries: list[Entry | None] = []
    missing: list[str] = []
    for path in paths:
        cached = known.get(_relative(path, root))
        if cached is not None and _unchanged(path, cached):
            entries.append(cached)
        else:
            entries.append(None)
            missing.append(path)
    fresh = iter(read_entries(missing, root, ctx)) if missing else iter(())
    result = [entry if entry is not None else next(fresh) for entry in entries]
    if missing or len(known) != len(result):
        folders = folder_mtimes({path.rsplit("/", 1)[0] for path in paths})
        Store(settings).save(result, folders)
    return result


def _unchanged(path: str, entry: Entry) -> bool:
    try:
        info = os.stat(path)
    except OSError:
        return False
    return info.st_size == entry.size and info.st_mtime_ns == entry.mtime_ns


def _relative(path: str, root: str) -> str:
    prefix = root.rstrip("/") + "/"
    return path[len(prefix):] if path.startswith(prefix) else path


# ---- the whole archive ---------------------------------------------------------------------------------

class _Stories:
    """Stories read on demand (candidates only), with their shingle hashes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.known: dict[str, tuple[Story, set[int]] | None] = {}

    def get(self, relative: str) -> tuple[Story, set[int]] | None:
        if relative not in self.known:
            post = read_post(self.root / relative)
            story = story_of(post.title, post.body) if front_matter_read(post) else None
            self.known[relative] = (story, shingle_hashes(story.text)) if story else None
        return self.known[relative]

    def judge(self, first: str, second: str) -> Verdict | None:
        one, other = self.get(first), self.get(second)
        if one is None or other is None:
            return None
        return judge(one[0], other[0], (one[1], other[1]))


def find_groups(settings: Settings, ctx: CheckContext, selection: Selection,
                progress: Callable[[int, int], None] | None = None) -> Found:
    """Groups of exact and near copies among the selected posts, and template look-alikes apart."""
    entries = refresh(settings, ctx, progress=progress)
    found = Found(checked=len(entries))
    chosen = []
    for entry in entries:
        if entry.problem:
            found.skipped.append((entry.path, entry.problem))
        elif selection.admits(entry):
            chosen.append(entry)
    links = exact_links(chosen)
    stories = _Stories(settings.root)
    templates: list[Link] = []
    for first, second in sorted(set(candidate_pairs(chosen)) | set(headline_pairs(chosen))):
        one, other = chosen[first], chosen[second]
        if one.body_key and one.body_key == other.body_key:
            continue  # already linked as an exact copy
        verdict = stories.judge(one.path, other.path)
        if verdict is None or verdict.similarity < selection.threshold:
            continue
        link = Link(one.path, other.path, verdict.similarity, verdict.reason, verdict.detail)
        (templates if verdict.reason == TEMPLATE else links).append(link)
    found.groups = group_links(links)
    in_groups = {path: number for number, group in enumerate(found.groups) for path in group.paths}
    found.templates = group_links([link for link in templates if in_groups.get(link.first, -1)
                                   != in_groups.get(link.second, -2)])
    return found


def exact_links(entries: Sequence[Entry]) -> list[Link]:
    """Links between posts with the same id, title and date, or body (each group chained)."""
    keyed: dict[tuple[str, object], list[str]] = defaultdict(list)
    for entry in entries:
        keyed[(SAME_ID, entry.id)].append(entry.path)
        if entry.title_key and entry.moment is not None:
            keyed[(SAME_TITLE_DATE, (entry.title_key, entry.moment))].append(entry.path)
        if entry.body_key:
            keyed[(SAME_BODY, entry.body_key)].append(entry.path)
    links = []
    for (reason, _), paths in keyed.items():
        links += [Link(paths[0], other, 1.0, reason) for other in paths[1:]]
    return links


def candidate_pairs(entries: Sequence[Entry]) -> list[tuple[int, int]]:
    """Index pairs (i < j) of entries sharing an LSH band key, pruned by their signatures'
    agreement; a large bucket is linked as a chain from its first member."""
    rows = [number for number, entry in enumerate(entries) if entry.signature is not None]
    if len(rows) < 2:
        return []
    if len(rows) < NUMPY_THRESHOLD:
        return _candidate_pairs_python(entries, rows)
    import numpy as np

    from newsctl.dups.signature import band_keys_numpy

    signatures = np.array([entries[row].signature for row in rows], dtype=np.uint32)
    keys = band_keys_numpy(signatures)
    members = np.repeat(np.arange(len(rows), dtype=np.int64), keys.shape[1])
    flat = keys.reshape(-1)
    order = np.argsort(flat, kind="stable")
    flat, members = flat[order], members[order]
    starts = np.flatnonzero(np.r_[True, flat[1:] != flat[:-1]])
    sizes = np.diff(np.r_[starts, len(flat)])
    firsts, seconds = _bucket_pairs(starts, sizes, members)
    if not len(firsts):
        return []
    low, high = np.minimum(firsts, seconds), np.maximum(firsts, seconds)
    codes = np.unique(low * len(rows) + high)
    low, high = codes // len(rows), codes % len(rows)
    agreement = _agreement(signatures, low, high)
    keep = agreement >= ESTIMATE_FLOOR
    mapped = np.array(rows, dtype=np.int64)
    return list(zip(mapped[low[keep]].tolist(), mapped[high[keep]].tolist(), strict=True))


def headline_pairs(entries: Sequence[Entry]) -> list[tuple[int, int]]:
    """Index pairs of entries under the same headline: a one-line story with a paragraph added
    shares too few shingles for the bands, and reposts keep the headline."""
    buckets: dict[str, list[int]] = defaultdict(list)
    for number, entry in enumerate(entries):
        if entry.headline and entry.signature is not None:
            buckets[entry.headline].append(number)
    pairs: list[tuple[int, int]] = []
    for bucket in buckets.values():
        if len(bucket) > HEADLINE_BUCKET:
            pairs += pairwise(bucket)
        else:
            pairs += itertools.combinations(bucket, 2)
    return pairs


def _bucket_pairs(starts: np.ndarray, sizes: np.ndarray, members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import numpy as np

    firsts: list[np.ndarray] = []
    seconds: list[np.ndarray] = []
    shared = sizes >= 2
    for start, size in zip(starts[shared & (sizes <= BUCKET_PAIRS)].tolist(),
                           sizes[shared & (sizes <= BUCKET_PAIRS)].tolist(), strict=True):
        bucket = members[start:start + size]
        left, right = np.triu_indices(size, 1)
        firsts.append(bucket[left])
        seconds.append(bucket[right])
    for start, size in zip(starts[sizes > BUCKET_PAIRS].tolist(), sizes[sizes > BUCKET_PAIRS].tolist(),
                           strict=True):
        bucket = members[start:start + size]
        firsts.append(bucket[:-1])
        seconds.append(bucket[1:])
    if not firsts:
        return np.array([], dtype=np.int64), np.array([], dtype=np.int64)
    return np.concatenate(firsts), np.concatenate(seconds)


def _agreement(signatures: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    import numpy as np

    result = np.empty(len(low), dtype=np.float64)
    for start in range(0, len(low), 100_000):
        part = slice(start, start + 100_000)
        result[part] = (signatures[low[part]] == signatures[high[part]]).mean(axis=1)
    return result


def _candidate_pairs_python(entries: Sequence[Entry], rows: list[int]) -> list[tuple[int, int]]:
    buckets: dict[int, list[int]] = defaultdict(list)
    for row in rows:
        signature_values = entries[row].signature
        assert signature_values is not None
        for key in band_keys(signature_values):
            buckets[key].append(row)
    pairs: set[tuple[int, int]] = set()
    for bucket in buckets.values():
        if len(bucket) > BUCKET_PAIRS:
            pairs.update(pairwise(bucket))
        else:
            pairs.update((a, b) for i, a in enumerate(bucket) for b in bucket[i + 1:])
    return sorted((min(pair), max(pair)) for pair in pairs if _estimate(entries, *pair) >= ESTIMATE_FLOOR)


def _estimate(entries: Sequence[Entry], first: int, second: int) -> float:
    one, other = entries[first].signature, entries[second].signature
    assert one is not None and other is not None
    return sum(a == b for a, b in zip(one, other, strict=True)) / len(one)


def group_links(links: Iterable[Link]) -> list[Group]:
    """Connected groups of linked paths, largest similarity first, paths sorted."""
    parent: dict[str, str] = {}

    def top(path: str) -> str:
        parent.setdefault(path, path)
        while parent[path] != path:
            parent[path] = parent[parent[path]]
            path = parent[path]
        return path

    listed = list(links)
    for link in listed:
        parent[top(link.first)] = top(link.second)
    members: dict[str, list[Link]] = defaultdict(list)
    for link in listed:
        members[top(link.first)].append(link)
    groups = []
    for group_links_ in members.values():
        paths = sorted({path for link in group_links_ for path in (link.first, link.second)})
        reasons = sorted({link.reason for link in group_links_},
                         key=lambda reason: REASON_ORDER.index(reason) if reason in REASON_ORDER else 99)
        ordered = sorted(group_links_, key=lambda link: (link.first, link.second, link.reason))
        groups.append(Group(paths, min(link.similarity for link in group_links_), reasons, ordered))
    return sorted(groups, key=lambda group: (-group.similarity, group.paths))


# ---- given posts against the whole archive (pre-commit) ---------------------------------------------

@dataclass(frozen=True)
class ArchiveMatch:
    path: str  # the checked post (absolute, as validate reports it)
    other: str  # the other post, relative to the root
    reason: str  # SAME_TITLE_DATE, SAME_BODY or NEAR
    similarity: float
    detail: str = ""


def check_against_archive(settings: Settings, ctx: CheckContext, posts: Sequence[Post],
                          threshold: float = DEFAULT_THRESHOLD,
                          listdir: Callable[[str], list[str]] = os.listdir) -> list[ArchiveMatch]:
    """Copies of the given posts anywhere in the archive (every day): exact (title and date,
    body) and near. Uses the store; posts the store does not know yet (added since it was
    written) are read here, and the store is rebuilt only when it is missing."""
    root = str(settings.root)
    given = {_relative(str(post.path), root): post for post in posts}
    generation = Store(settings).load()
    newcomers = _unknown_posts(settings, ctx, generation, set(given), listdir) if generation else None
    if generation is None or newcomers is None:  # no store yet, or many posts added since
        refresh(settings, ctx)
        generation = Store(settings).load()
        newcomers = []
    pool = [entry_of(post, path, ctx) for path, post in given.items()] + newcomers
    stories = _Stories(settings.root)
    own: dict[str, tuple[Entry, set[int]]] = {}
    for entry, story in pool:
        if story is None:
            continue
        hashes = shingle_hashes(story.text) if story.body else set()
        entry.signature = signature(hashes) if hashes else None
        stories.known[entry.path] = (story, hashes)
        own[entry.path] = (entry, hashes)
    matches: list[ArchiveMatch] = []
    for path in given:
        if path in own:
            matches += _matches_of(own[path][0], own, generation, stories, threshold, settings.root)
    return matches


def _unknown_posts(settings: Settings, ctx: CheckContext, generation: Generation, given: set[str],
                   listdir: Callable[[str], list[str]]) -> list[tuple[Entry, Story | None]] | None:
    """Posts the store does not hold, other than the given ones: there are some only when a post
    folder's mtime moved on since the store was written. Read here when few; when many, the
    store is refreshed instead (and then holds them)."""
    recorded = generation.meta.get("folders")
    if isinstance(recorded, dict) and recorded and folder_mtimes(recorded) == recorded:
        return []
    from newsctl.config import archive_names

    root = str(settings.root)
    known = {line.split("\t", 1)[0] for line in generation.lines}
    unknown = [f"{folder}/{name}" for folder, names in archive_names(settings, True, listdir) for name in names
               if _relative(f"{folder}/{name}", root) not in known]
    unknown = [path for path in unknown if _relative(path, root) not in given and os.path.isfile(path)]
    if len(unknown) > MAX_UNKNOWN:
        return None
    return [entry_of(read_post(Path(path)), _relative(path, root), ctx) for path in unknown]


def _matches_of(entry: Entry, own: dict[str, tuple[Entry, set[int]]], generation: Generation | None,
                stories: _Stories, threshold: float, root: Path) -> list[ArchiveMatch]:
    absolute = f"{root}/{entry.path}"
    matches: list[ArchiveMatch] = []
    seen: set[str] = {entry.path}
    keys = set(exact_keys(entry))
    exact_hits: list[tuple[str, str]] = []
    for other, _ in own.values():
        if other.path not in seen and keys.intersection(exact_keys(other)):
            exact_hits.append((other.path, _exact_reason(entry, other)))
    if generation is not None:
        for row in generation.rows_with("exact", keys):
            stored = generation.entry(row)
            if stored and stored.path not in own and _still_there(root, stored):
                exact_hits.append((stored.path, _exact_reason(entry, stored)))
    for other_path, reason in exact_hits:
        if other_path not in seen:
            seen.add(other_path)
            matches.append(ArchiveMatch(absolute, other_path, reason, 1.0))
    if entry.signature is None:
        return matches
    band = set(band_keys(entry.signature))
    candidates = [other.path for other, _ in own.values()
                  if other.signature is not None and band.intersection(band_keys(other.signature))]
    if generation is not None:
        for row in generation.rows_with("bands", band):
            stored = generation.entry(row)
            if stored and stored.path not in own and _still_there(root, stored):
                candidates.append(stored.path)
    for other_path in sorted(set(candidates) - seen):
        verdict = stories.judge(entry.path, other_path)
        if verdict and verdict.reason == NEAR and verdict.similarity >= threshold:
            matches.append(ArchiveMatch(absolute, other_path, NEAR, verdict.similarity, verdict.detail))
    return matches


def _exact_reason(entry: Entry, other: Entry) -> str:
    return SAME_BODY if entry.body_key and entry.body_key == other.body_key else SAME_TITLE_DATE


def _still_there(root: Path, entry: Entry) -> bool:
    return os.path.isfile(f"{root}/{entry.path}")
