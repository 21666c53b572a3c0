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
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

from newsctl.config import Settings, list_archive_posts
from newsctl.dups.compare import DEFAULT_THRESHOLD, HEADLINE_WEIGHT, NEAR, TEMPLATE, Verdict, judge, similarity_from
from newsctl.dups.normalise import Story, story_of
from newsctl.dups.signature import band_keys, shingle_hashes, shingles, signature
from newsctl.dups.store import Entry, Generation, Store, exact_keys, folder_mtimes, headline_key
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
CACHED_STORIES = 4096
PARALLEL_PAIRS = 4000  # candidate pairs: below this, worker processes cost more than they save
PAIRS_PER_TASK = 2000
MAX_UNKNOWN = 300
NAMED_NEAR = 3
VERIFIED_NEAR = 12  # posts added since the store was written that a pre-commit run reads itself
ESTIMATE_MARGIN = 0.15


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

        rows, counts = signatures_numpy(texts)
        for entry, text, row, count in zip(entries, texts, rows, counts.tolist(), strict=True):
            entry.signature = tuple(row.tolist()) if text else None
            entry.shingles = count
        return
    for entry, text in zip(entries, texts, strict=True):
        hashes = shingle_hashes(text)
        entry.signature = signature(hashes) if hashes else None
        entry.shingles = len(hashes)


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


def judge_pairs(root: Path, pairs: Sequence[tuple[str, str]], threshold: float) -> list[Verdict | None]:
    """The verdict on each pair of paths (relative to root); None where a post cannot be read."""
    stories = _Stories(root)
    return [stories.judge(first, second, threshold) for first, second in pairs]


def judge_all(root: Path, pairs: Sequence[tuple[str, str]], threshold: float) -> list[Verdict | None]:
    """judge_pairs, in worker processes when there are many pairs (reading the posts is most of it)."""
    workers = os.cpu_count() or 1
    if len(pairs) <= PARALLEL_PAIRS or workers < 2:
        return judge_pairs(root, pairs, threshold)
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    chunks = [pairs[i:i + PAIRS_PER_TASK] for i in range(0, len(pairs), PAIRS_PER_TASK)]
    try:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            return [verdict for chunk in pool.map(judge_pairs, [root] * len(chunks), chunks,
                                                  [threshold] * len(chunks)) for verdict in chunk]
    except (OSError, NotImplementedError, BrokenProcessPool) as exc:
        sys.stderr.write(f"newsctl: warning: worker processes failed ({exc or type(exc).__name__}); "
                         "comparing in one process\n")
        return judge_pairs(root, pairs, threshold)


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
    pairs = [(chosen[first].path, chosen[second].path) for first, second in candidate_pairs(chosen, selection.threshold)
             if not (chosen[first].body_key and chosen[first].body_key == chosen[second].body_key)]  # linked already
    templates: list[Link] = []
    for (first, second), verdict in zip(pairs, judge_all(settings.root, pairs, selection.threshold), strict=True):
        if verdict is None or verdict.similarity < selection.threshold:
            continue
        link = Link(first, second, verdict.similarity, verdict.reason, verdict.detail)
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


def candidate_pairs(entries: Sequence[Entry], threshold: float) -> list[tuple[int, int]]:
    """Index pairs (i < j) of entries sharing an LSH band key or the headline, kept when the
    similarity their signatures and sizes estimate comes within ESTIMATE_MARGIN of the
    threshold (the estimate's error at 64 permutations is ~0.06); a large bucket is linked as a
    chain."""
    rows = [number for number, entry in enumerate(entries) if entry.signature is not None]
    if len(rows) < 2:
        return []
    if len(rows) < NUMPY_THRESHOLD:
        pairs = set(_band_pairs_python(entries, rows)) | set(headline_pairs(entries))
        return sorted(pair for pair in pairs if _estimate(entries, *pair) >= threshold - ESTIMATE_MARGIN)
    import numpy as np

    from newsctl.dups.signature import band_keys_numpy

    signatures = np.zeros((len(entries), len(entries[rows[0]].signature or ())), dtype=np.uint32)
    signatures[rows] = np.array([entries[row].signature for row in rows], dtype=np.uint32)
    keys = band_keys_numpy(signatures[rows])
    members = np.repeat(np.array(rows, dtype=np.int64), keys.shape[1])
    flat = keys.reshape(-1)
    order = np.argsort(flat, kind="stable")
    flat, members = flat[order], members[order]
    starts = np.flatnonzero(np.r_[True, flat[1:] != flat[:-1]])
    sizes = np.diff(np.r_[starts, len(flat)])
    firsts, seconds = _bucket_pairs(starts, sizes, members)
    by_headline = np.array(headline_pairs(entries), dtype=np.int64).reshape(-1, 2)
    firsts = np.concatenate([firsts, by_headline[:, 0]])
    seconds = np.concatenate([seconds, by_headline[:, 1]])
    if not len(firsts):
        return []
    low, high = np.minimum(firsts, seconds), np.maximum(firsts, seconds)
    codes = np.unique(low * len(entries) + high)
    low, high = codes // len(entries), codes % len(entries)
    keep = _estimates(entries, signatures, low, high) >= threshold - ESTIMATE_MARGIN
    return list(zip(low[keep].tolist(), high[keep].tolist(), strict=True))


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

    firsts: list[np.ndarray] = [np.array([], dtype=np.int64)]
    seconds: list[np.ndarray] = [np.array([], dtype=np.int64)]
    small = (sizes >= 2) & (sizes <= BUCKET_PAIRS)
    for start, size in zip(starts[small].tolist(), sizes[small].tolist(), strict=True):
        bucket = members[start:start + size]
        left, right = np.triu_indices(size, 1)
        firsts.append(bucket[left])
        seconds.append(bucket[right])
    large = sizes > BUCKET_PAIRS
    for start, size in zip(starts[large].tolist(), sizes[large].tolist(), strict=True):
        bucket = members[start:start + size]
        firsts.append(bucket[:-1])
        seconds.append(bucket[1:])
    return np.concatenate(firsts), np.concatenate(seconds)


def _estimates(entries: Sequence[Entry], signatures: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """compare.similarity_from for each pair, from the signatures' agreement and the sizes."""
    import numpy as np

    agreement = np.empty(len(low), dtype=np.float64)
    for start in range(0, len(low), 100_000):
        part = slice(start, start + 100_000)
        agreement[part] = (signatures[low[part]] == signatures[high[part]]).mean(axis=1)
    sizes = np.array([entry.shingles for entry in entries], dtype=np.float64)
    headline_ids: dict[str | None, int] = {None: -1}
    headlines = np.array([headline_ids.setdefault(entry.headline, len(headline_ids)) if entry.headline else -1
                          for entry in entries], dtype=np.int64)
    first, second = sizes[low], sizes[high]
    small, large = np.minimum(first, second), np.maximum(first, second)
    with np.errstate(divide="ignore", invalid="ignore"):
        contained = np.minimum(1.0, agreement * (first + second) / (1 + agreement) / small)
    contained = np.nan_to_num(contained)
    same_title = (headlines[low] == headlines[high]) & (headlines[low] >= 0)
    titled = HEADLINE_WEIGHT + (1 - HEADLINE_WEIGHT) * contained
    balanced = np.where(small >= large / 2, contained * (0.5 + 0.5 * small / np.maximum(large, 1)), 0.0)
    return np.maximum(agreement, np.where(same_title, titled, balanced))


def _band_pairs_python(entries: Sequence[Entry], rows: list[int]) -> list[tuple[int, int]]:
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
            pairs.update(itertools.combinations(bucket, 2))
    return [(min(pair), max(pair)) for pair in pairs]


def _estimate(entries: Sequence[Entry], first: int, second: int) -> float:
    return _estimate_pair(entries[first], entries[second])


def _stored_estimate(entry: Entry, generation: Generation, row: int) -> float:
    """_estimate_pair of a given post and a stored row, from the store's arrays alone."""
    assert entry.signature is not None
    values, shingle_count, headline = generation.estimate_inputs(row)
    agreement = sum(a == b for a, b in zip(entry.signature, values, strict=True)) / len(values)
    same_title = bool(entry.headline) and headline == headline_key(entry.headline or "")
    return similarity_from(agreement, entry.shingles, shingle_count, same_title)


def _estimate_pair(one: Entry, other: Entry) -> float:
    """compare.similarity_from with the signatures' agreement for the Jaccard similarity."""
    assert one.signature is not None and other.signature is not None
    agreement = sum(a == b for a, b in zip(one.signature, other.signature, strict=True)) / len(one.signature)
    same_title = bool(one.headline) and one.headline == other.headline
    return similarity_from(agreement, one.shingles, other.shingles, same_title)


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
    own: dict[str, tuple[Entry, AbstractSet[str]]] = {}
    for entry, story in pool:
        if story is None:
            continue
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
    known = generation.paths()
    unknown = [f"{folder}/{name}" for folder, names in archive_names(settings, True, listdir) for name in names
               if _relative(f"{folder}/{name}", root) not in known]
    unknown = [path for path in unknown if _relative(path, root) not in given and os.path.isfile(path)]
    if len(unknown) > MAX_UNKNOWN:
        return None
    return [entry_of(read_post(Path(path)), _relative(path, root), ctx) for path in unknown]


def _matches_of(entry: Entry, own: dict[str, tuple[Entry, AbstractSet[str]]], generation: Generation | None,
                stories: _Stories, threshold: float, root: Path) -> list[ArchiveMatch]:
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
    if generation is not None:
        exact_rows = generation.rows_with("exact", keys)
        band_rows = generation.rows_with("bands", bands) - exact_rows
        rows = exact_rows | {row for row in band_rows if _stored_estimate(entry, generation, row)
                             >= threshold - ESTIMATE_MARGIN}
        stored = (generation.entry(row, with_signature=True) for row in sorted(rows))
        others += [other for other in stored if other and other.path not in own and _still_there(root, other)]
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
            estimate = _estimate_pair(entry, other)
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


def _still_there(root: Path, entry: Entry) -> bool:
    return os.path.isfile(f"{root}/{entry.path}")
