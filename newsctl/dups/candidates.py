"""Candidate pairs: posts sharing an LSH band key (numpy, over the table's signature array) or
the headline, kept when the similarity their signatures and sizes estimate comes near the
threshold. Only candidates are judged. The pre-commit path estimates in plain Python
(estimate_pair, stored_estimate)."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence
from itertools import pairwise
from typing import TYPE_CHECKING

from newsctl.dups.compare import HEADLINE_WEIGHT, similarity_from
from newsctl.dups.store import Entry, RowSource, headline_key

if TYPE_CHECKING:
    import numpy as np

HEADLINE_BUCKET = 64  # posts under one headline: beyond this, a chain (a headline that recurs daily)
BUCKET_PAIRS = 16  # a band bucket larger than this is linked as a chain, not as every pair
ESTIMATE_MARGIN = 0.15  # the MinHash estimate's error at 64 permutations is ~0.06


def candidate_pairs(entries: Sequence[Entry], signatures: np.ndarray, threshold: float,
                    bands: np.ndarray | None = None) -> list[tuple[int, int]]:
    """Index pairs (i < j, sorted) of entries sharing an LSH band key or the headline, kept when
    the similarity their signatures and sizes estimate comes within ESTIMATE_MARGIN of the
    threshold (the estimate's error at 64 permutations is ~0.06); a large bucket is linked as a
    chain. `signatures`: row n is entries[n]'s (NO_SIGNATURE: no text, never a candidate);
    `bands`: their band keys, when known (else computed here)."""
    import numpy as np

    from newsctl.dups.signature import band_keys_numpy

    signed = (signatures != 0xFFFFFFFF).any(axis=1)
    rows = np.flatnonzero(signed)
    if len(rows) < 2:
        return []
    keys = band_keys_numpy(signatures[rows]) if bands is None else bands[rows]
    members = np.repeat(rows.astype(np.int64), keys.shape[1])
    flat = keys.reshape(-1)
    order = np.argsort(flat, kind="stable")  # stable: a bucket's members in row order (its chain)
    flat, members = flat[order], members[order]
    del keys, order
    starts = np.flatnonzero(np.r_[True, flat[1:] != flat[:-1]])
    sizes = np.diff(np.r_[starts, len(flat)])
    del flat
    firsts, seconds = _bucket_pairs(starts, sizes, members)
    by_headline = np.array(headline_pairs(entries, signed.tolist()), dtype=np.int64).reshape(-1, 2)
    firsts = np.concatenate([firsts, by_headline[:, 0]])
    seconds = np.concatenate([seconds, by_headline[:, 1]])
    if not len(firsts):
        return []
    low, high = np.minimum(firsts, seconds), np.maximum(firsts, seconds)
    codes = np.sort(low * len(entries) + high)
    codes = codes[np.r_[True, codes[1:] != codes[:-1]]]
    low, high = codes // len(entries), codes % len(entries)
    keep = _estimates(entries, signatures, low, high) >= threshold - ESTIMATE_MARGIN
    return list(zip(low[keep].tolist(), high[keep].tolist(), strict=True))


def headline_pairs(entries: Sequence[Entry], signed: Sequence[bool]) -> list[tuple[int, int]]:
    """Index pairs of signed entries under the same headline: a one-line story with a paragraph
    added shares too few shingles for the bands, and reposts keep the headline."""
    buckets: dict[str, list[int]] = defaultdict(list)
    for number, (entry, has_text) in enumerate(zip(entries, signed, strict=True)):
        if entry.headline and has_text:
            buckets[entry.headline].append(number)
    pairs: list[tuple[int, int]] = []
    for bucket in buckets.values():
        if len(bucket) == 1:
            continue
        if len(bucket) > HEADLINE_BUCKET:
            pairs += pairwise(bucket)
        else:
            pairs += itertools.combinations(bucket, 2)
    return pairs


def _bucket_pairs(starts: np.ndarray, sizes: np.ndarray, members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair in a bucket of at most BUCKET_PAIRS members, consecutive members in a larger
    one; one vectorised step per bucket size."""
    import numpy as np

    firsts: list[np.ndarray] = [np.array([], dtype=np.int64)]
    seconds: list[np.ndarray] = [np.array([], dtype=np.int64)]
    for size in range(2, BUCKET_PAIRS + 1):
        bucket_starts = starts[sizes == size]
        if not len(bucket_starts):
            continue
        left, right = np.triu_indices(size, 1)
        firsts.append(members[(bucket_starts[:, None] + left[None, :]).reshape(-1)])
        seconds.append(members[(bucket_starts[:, None] + right[None, :]).reshape(-1)])
    large = sizes > BUCKET_PAIRS
    if large.any():
        in_large = np.repeat(large, sizes)  # positions inside a large bucket ...
        last = np.zeros(len(members), dtype=bool)
        last[(starts + sizes - 1)[large]] = True  # ... but its last member: each links to the next
        chained = np.flatnonzero(in_large & ~last)
        firsts.append(members[chained])
        seconds.append(members[chained + 1])
    return np.concatenate(firsts), np.concatenate(seconds)


def _estimates(entries: Sequence[Entry], signatures: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """compare.similarity_from for each pair, from the signatures' agreement and the sizes (the
    same sums as estimate_pair, in float64)."""
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


def stored_estimate(entry: Entry, generation: RowSource, row: int) -> float:
    """_estimate_pair of a given post and a stored row, from the store's arrays alone."""
    assert entry.signature is not None
    values, shingle_count, headline = generation.estimate_inputs(row)
    agreement = sum(a == b for a, b in zip(entry.signature, values, strict=True)) / len(values)
    same_title = bool(entry.headline) and headline == headline_key(entry.headline or "")
    return similarity_from(agreement, entry.shingles, shingle_count, same_title)


def estimate_pair(one: Entry, other: Entry) -> float:
    """compare.similarity_from with the signatures' agreement for the Jaccard similarity."""
    assert one.signature is not None and other.signature is not None
    agreement = sum(a == b for a, b in zip(one.signature, other.signature, strict=True)) / len(one.signature)
    same_title = bool(one.headline) and one.headline == other.headline
    return similarity_from(agreement, one.shingles, other.shingles, same_title)
