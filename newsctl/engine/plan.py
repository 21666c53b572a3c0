"""What an update must read and delete: the new scan aligned with the previous manifest."""

from __future__ import annotations

from dataclasses import dataclass, field

from newsctl.engine.scan import Scan
from newsctl.engine.store import Manifest


@dataclass
class Plan:
    to_read: dict[str, str | None]  # path -> digest it had (None: index it whatever it holds)
    to_delete: list[str]  # gone from the archive
    previous: Manifest
    scan_at: dict[str, int] = field(default_factory=dict)  # path to read -> its place in the scan
    old_at: dict[str, int] = field(default_factory=dict)  # path to read -> its place in `previous`
    head: int = 0  # the listings agree on their first `head` paths
    tail: int = 0  # and then on their last `tail`
    middle_at: dict[str, int] = field(default_factory=dict)  # the old paths in between -> place

    def read_again(self, rel: str, scan: Scan) -> None:
        """Read a post whatever it holds (its segment is folded)."""
        self.to_read[rel] = None
        self.scan_at.setdefault(rel, scan.positions[rel])
        self.old_at.setdefault(rel, self.previous.positions[rel])


def make_plan(scan: Scan, previous: Manifest) -> Plan:
    """What to read and what to delete. Paths common to both ends of the two listings are compared
    in place (an update rarely reorders a listing: 100k posts in a few ms); the rest by path."""
    plan = Plan({}, [], previous)
    new, old = scan.paths, previous.paths
    plan.head, plan.tail = head, tail = common_ends(new, old)
    shift = len(old) - len(new)
    for low, high, offset in ((0, head, 0), (len(new) - tail, len(new), shift)):
        for i in _stat_changes(scan, previous, low, high, offset):
            plan.to_read[new[i]], plan.scan_at[new[i]], plan.old_at[new[i]] = previous.digest(i + offset), i, i + offset
    old_middle = old[head:len(old) - tail]
    plan.middle_at = position = dict(zip(old_middle, range(head, head + len(old_middle)), strict=True))
    for i in range(head, len(new) - tail):
        rel = new[i]
        j = position.get(rel)
        if j is None:
            plan.to_read[rel], plan.scan_at[rel] = None, i
        elif scan.sizes[i] != previous.sizes[j] or scan.mtimes[i] != previous.mtimes[j]:
            plan.to_read[rel], plan.scan_at[rel], plan.old_at[rel] = previous.digest(j), i, j
    new_middle = set(new[head:len(new) - tail])
    plan.to_delete = [rel for rel in old_middle if rel not in new_middle]
    return plan


def common_ends(new: list[str], old: list[str]) -> tuple[int, int]:
    """How many paths the two lists share at their start and, after that, at their end."""
    head = _common_prefix(new, old)
    tail = _common_prefix(new[:head - 1:-1] if head else new[::-1], old[:head - 1:-1] if head else old[::-1])
    return head, tail


def _common_prefix(first: list[str], second: list[str]) -> int:
    at, end, step = 0, min(len(first), len(second)), 4096
    while at + step <= end and first[at:at + step] == second[at:at + step]:  # C-speed, block by block
        at += step
    while at < end and first[at] == second[at]:
        at += 1
    return at


def _stat_changes(scan: Scan, previous: Manifest, low: int, high: int, offset: int) -> list[int]:
    """Places in scan[low:high] whose size or mtime differ from previous[low + offset:high + offset]."""
    sizes, mtimes, old_sizes, old_mtimes = scan.sizes, scan.mtimes, previous.sizes, previous.mtimes
    if sizes[low:high] == old_sizes[low + offset:high + offset] and \
            mtimes[low:high] == old_mtimes[low + offset:high + offset]:
        return []
    return [i for i in range(low, high) if sizes[i] != old_sizes[i + offset] or mtimes[i] != old_mtimes[i + offset]]


