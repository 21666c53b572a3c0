"""Verdicts on candidate pairs, kept with the store's current generation (`verdicts.tsv`), so that
a run after a few posts were added, changed or removed judges only the pairs it has not judged.

A verdict (compare.judge) reads nothing but the two stories, so it is kept by the two posts'
story keys (normalise.story_key, in the order judged) and stays true for any two posts with
those stories, whatever their paths, sizes or mtimes. The candidate pairs themselves are found
again on every run (candidates.py, from the stored signatures): they depend on the whole
archive (a large LSH bucket is linked as a chain), and finding them costs a second or two;
reading and judging them is what is saved. So a run with kept verdicts gives exactly the groups
a run without them gives.

A verdict judged at threshold t0 says "below the threshold" without looking further when the
similarity is below t0; it serves another threshold t when its similarity is at least t0 (the
whole verdict is known) or below t (the pair is left out either way).

Each line: first key, second key (16 hex digits each), t0, similarity, reason, detail. A line
that does not parse is ignored; a missing or unreadable file is no verdicts.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from newsctl.dups.compare import NEAR, TEMPLATE, Verdict

FILE = "verdicts.tsv"
HEADER = "newsctl-dups-verdicts-1"
PairKey = tuple[int, int]


@dataclass
class KeptVerdicts:
    """(first story key, second story key) -> (threshold judged at, verdict)."""

    known: dict[PairKey, tuple[float, Verdict]] = field(default_factory=dict)
    added: int = 0  # verdicts recorded in this run (the file is rewritten only when there are some)

    def get(self, key: PairKey, threshold: float) -> Verdict | None:
        found = self.known.get(key)
        if found is None:
            return None
        judged_at, verdict = found
        return verdict if verdict.similarity >= judged_at or verdict.similarity < threshold else None

    def record(self, key: PairKey, threshold: float, verdict: Verdict) -> None:
        self.known[key] = (threshold, verdict)
        self.added += 1

    def still_needed(self, story_keys: Iterable[int]) -> KeptVerdicts:
        """Only the verdicts on pairs of stories some post still tells (a removed or edited post's
        old verdicts go)."""
        present = set(story_keys)
        return KeptVerdicts({key: value for key, value in self.known.items()
                             if key[0] in present and key[1] in present}, self.added)


def load(folder: Path | None) -> KeptVerdicts:
    """The verdicts kept in a generation folder (none when there is no file or it is damaged)."""
    kept = KeptVerdicts()
    if folder is None:
        return kept
    try:
        text = (folder / FILE).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return kept
    lines = text.split("\n")
    if not lines or lines[0] != HEADER:
        return kept
    for line in lines[1:]:
        parts = line.split("\t")
        if len(parts) != 6 or parts[4] not in (NEAR, TEMPLATE):
            continue
        try:
            key = (int(parts[0], 16), int(parts[1], 16))
            kept.known[key] = (float(parts[2]), Verdict(float(parts[3]), parts[4], parts[5]))
        except ValueError:
            continue
    return kept


def save(folder: Path, kept: KeptVerdicts) -> None:
    """Write the verdicts into a generation folder (atomic; best effort: a failure keeps none)."""
    lines = [HEADER]
    for (first, second), (judged_at, verdict) in kept.known.items():
        detail = verdict.detail.replace("\t", " ").replace("\n", " ").replace("\r", " ")
        lines.append(f"{first:016x}\t{second:016x}\t{judged_at!r}\t{verdict.similarity!r}\t{verdict.reason}\t{detail}")
    temporary = folder / f".{FILE}.{os.getpid()}.tmp"
    try:
        temporary.write_text("\n".join(lines) + "\n", encoding="utf-8")
        os.replace(temporary, folder / FILE)
    except (OSError, UnicodeError):
        with contextlib.suppress(OSError):
            temporary.unlink()
