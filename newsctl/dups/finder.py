"""Groups of copies over the archive (`newsctl dups`).

Entries come from the store (entries.refresh_table: only new and changed posts are read). Exact
copies (same id, same title and date, same body: the NC601-NC603 facts) are linked from the
facts; candidate pairs (candidates.py) are judged (compare.judge), in worker processes for many,
unless the store keeps their verdict (verdicts.py: by the two stories, so only pairs with a new
or changed post are judged again). Links form groups; pairs alike only through a template are
grouped apart.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date

from newsctl.config import Settings
from newsctl.dups import verdicts as kept_verdicts
from newsctl.dups.candidates import candidate_pairs
from newsctl.dups.compare import DEFAULT_THRESHOLD, NEAR, SAME_BODY, SAME_ID, SAME_TITLE_DATE, TEMPLATE, Verdict
from newsctl.dups.entries import PairToJudge, Table, judge_all, refresh_table
from newsctl.dups.store import Entry, Generation, Store
from newsctl.rules import CheckContext

REASON_ORDER = (SAME_ID, SAME_TITLE_DATE, SAME_BODY, NEAR)


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
    judged: int = 0  # candidate pairs judged in this run (the others' verdicts were kept in the store)


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


def find_groups(settings: Settings, ctx: CheckContext, selection: Selection, notes: list[str] | None = None,
                use_store: bool = True) -> Found:
    """Groups of exact and near copies among the selected posts, and template look-alikes apart."""
    with fewer_collections():
        return _find_groups(settings, ctx, selection, notes, use_store)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """The cyclic garbage collector run less often: a whole-archive table is 100k long-lived
    objects, which the default thresholds would traverse again and again while it is built
    (nothing here makes cycles that matter)."""
    threshold = gc.get_threshold()
    gc.set_threshold(max(threshold[0], 100_000), *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)


def _find_groups(settings: Settings, ctx: CheckContext, selection: Selection, notes: list[str] | None,
                 use_store: bool) -> Found:
    store = Store(settings) if use_store else None
    generation = store.load() if store else None
    kept = kept_verdicts.load(generation.folder if generation else None)  # before refresh replaces it
    table = refresh_table(settings, ctx, notes=notes, use_store=use_store, save_later=True)
    found = Found(checked=len(table.entries))
    chosen = []
    for row, entry in enumerate(table.entries):
        if entry.problem:
            found.skipped.append((entry.path, entry.problem))
        elif selection.admits(entry):
            chosen.append(row)
    entries = [table.entries[row] for row in chosen]
    links = exact_links(entries)
    pairs = [(entries[first], entries[second])
             for first, second in candidate_pairs(entries, table.signatures[chosen], selection.threshold,
                                                  table.bands[chosen])
             if not (entries[first].body_key and entries[first].body_key == entries[second].body_key)]  # linked
    del chosen
    verdicts, found.judged = _verdicts(settings, table, pairs, selection.threshold, kept, notes)
    if table.pending_save is not None:
        table.pending_save()  # (a no-op when it ran while the pairs were judged)
    if store:
        _keep_verdicts(store, kept, table, generation)
    templates: list[Link] = []
    for (one, other), verdict in zip(pairs, verdicts, strict=True):
        if verdict is None or verdict.similarity < selection.threshold:
            continue
        first, second = one.path, other.path
        link = Link(first, second, verdict.similarity, verdict.reason, verdict.detail)
        (templates if verdict.reason == TEMPLATE else links).append(link)
    found.groups = group_links(links)
    in_groups = {path: number for number, group in enumerate(found.groups) for path in group.paths}
    found.templates = group_links([link for link in templates if in_groups.get(link.first, -1)
                                   != in_groups.get(link.second, -2)])
    return found


def _verdicts(settings: Settings, table: Table, pairs: Sequence[tuple[Entry, Entry]], threshold: float,
              kept: kept_verdicts.KeptVerdicts, notes: list[str] | None) -> tuple[list[Verdict | None], int]:
    """The verdict on each pair: kept, or judged now (and then recorded in `kept`); and how many
    were judged now."""
    found: list[Verdict | None] = []
    to_judge: list[PairToJudge] = []
    where: list[int] = []
    for one, other in pairs:
        verdict = kept.get((one.story_key, other.story_key), threshold) if one.story_key and other.story_key else None
        if verdict is None:
            where.append(len(found))
            to_judge.append((one.path, other.path, table.stories.get(one.path), table.stories.get(other.path)))
        found.append(verdict)
    judged = judge_all(settings.root, to_judge, threshold, notes, meanwhile=table.pending_save)
    for number, (verdict, first_key, second_key) in zip(where, judged, strict=True):
        found[number] = verdict
        if verdict is not None:
            kept.record((first_key, second_key), threshold, verdict)
    return found, len(to_judge)


def _keep_verdicts(store: Store, kept: kept_verdicts.KeptVerdicts, table: Table, read_from: Generation | None,
                   ) -> None:
    """The verdicts into the store's current generation, but those on stories no post tells now:
    when some were judged, or when the generation they were read from is no longer current (a
    refresh wrote a new one, which would otherwise start without them)."""
    current = store.load()
    if current is None or not store.writable:
        return
    if kept.added or (kept.known and (read_from is None or current.folder != read_from.folder)):
        kept_verdicts.save(current.folder, kept.still_needed(entry.story_key for entry in table.entries))


def exact_links(entries: Sequence[Entry]) -> list[Link]:
    """Links between posts with the same id, title and date, or body (each group chained)."""
    by_id: dict[str, list[str]] = defaultdict(list)
    by_title_date: dict[tuple[str, float], list[str]] = defaultdict(list)
    by_body: dict[str, list[str]] = defaultdict(list)
    for entry in entries:
        by_id[entry.id].append(entry.path)
        if entry.title_key and entry.moment is not None:
            by_title_date[(entry.title_key, entry.moment)].append(entry.path)
        if entry.body_key:
            by_body[entry.body_key].append(entry.path)
    links = []
    for reason, keyed in ((SAME_ID, by_id), (SAME_TITLE_DATE, by_title_date), (SAME_BODY, by_body)):
        for paths in keyed.values():
            if len(paths) > 1:
                links += [Link(paths[0], other, 1.0, reason) for other in paths[1:]]
    return links


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
