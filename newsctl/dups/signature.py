"""Shingles, their hashes and MinHash signatures; LSH band keys.

The signature is datasketch's MinHash in its "affine32" scheme (datasketch >= 2.0): each
shingle's 32-bit hash is pre-mixed with MurmurHash3's finalizer, then permuted by
`a * h + b mod 2^32` for each of NUM_PERM (a, b) pairs, and the minimum kept. The pairs below
are `datasketch.MinHash(num_perm=64, seed=1).permutations`; tests/test_dups.py checks that
both the pure-Python and the numpy signatures here equal datasketch's, value for value.

Two implementations, one result: `signature` in pure Python for the few posts of a pre-commit
run (importing numpy and datasketch costs more than the whole check there), and
`signatures_numpy` for whole archives, which hashes the shingles of many posts in one
vectorised pass (datasketch's `update_batch` calls a Python hash function per shingle; see
docs/dups.md for the measurements).

A shingle is SHINGLE consecutive characters of the normalised story (normalise.Story.text);
its hash is the polynomial sum of its code points modulo 2^64, folded to 32 bits.
"""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

SHINGLE = 4
NUM_PERM = 64
# LSH banding: BANDS bands of ROWS values; a pair whose Jaccard similarity is s shares a band
# with probability 1 - (1 - s^ROWS)^BANDS. datasketch.MinHashLSH(threshold=0.3, num_perm=64)
# chooses these (b, r) for its weighting of false positives and negatives.
CANDIDATE_THRESHOLD = 0.3
BANDS = 21
ROWS = 3

_M32 = 0xFFFFFFFF
_M64 = 0xFFFFFFFFFFFFFFFF
_BASE = 0x100000001B3  # the FNV-64 prime, odd: the polynomial hash of a shingle
_BAND_BASE = 0x9E3779B97F4A7C15

_PERM_A = (
    3582191691, 4270784983, 1892572953, 3715639441, 982527, 1100580627, 2597016983, 4286725387, 1260623519,
    2027988865, 793182497, 3406602499, 1599963033, 3332127887, 2968344027, 1458107385, 3408206605, 3741252147,
    333433189, 2974788137, 3600853501, 2690998987, 1591023397, 210867113, 1756231447, 3809231353, 3248004053,
    1972053305, 235257659, 295613213, 1464304741, 3555906697, 3584620975, 3927359407, 504141779, 3699672547,
    1205914607, 3772079037, 1701678785, 2391345325, 2583376155, 1855172563, 4022336275, 2600667151, 2692293247,
    797152891, 1652038701, 155929203, 3233158147, 3135500033, 3389645433, 2827350435, 730524177, 2831271345,
    335478043, 2345481447, 1458832223, 508895189, 3248219379, 1464824721, 844792893, 799426703, 3617286919,
    1474497421,
)
_PERM_B = (
    4114104213, 1768615473, 2289927481, 848474627, 2971589572, 1243949848, 1355129329, 610401323, 2948499020,
    3364310042, 3584689972, 1771840848, 78547565, 146764659, 3221845289, 2680188370, 4247126031, 2837408832,
    3213347012, 1282027545, 1204497775, 1916133090, 3389928919, 954017671, 443352346, 315096729, 1923688040,
    2015364118, 3902387977, 413056707, 1261063143, 3879945342, 1235985687, 513207677, 558468452, 2253996187,
    83180453, 359158073, 2915576403, 3937889446, 908935816, 3910346016, 1140514210, 1283895050, 2111290647,
    2509932175, 229190383, 2430573655, 2465816345, 2636844999, 630194419, 4108289372, 2531048010, 1120896190,
    3005439278, 992203680, 439523032, 2291143831, 1778356919, 4079953217, 2982425969, 2117674829, 1778886403,
    2321861504,
)


def shingles(text: str) -> set[str]:
    """The text's shingles themselves (what exact similarities are computed on: within one
    process, a set of short strings is cheaper to build than their stable hashes)."""
    if len(text) <= SHINGLE:
        return {text} if text else set()
    return {text[start:start + SHINGLE] for start in range(len(text) - SHINGLE + 1)}


def shingle_hashes(text: str) -> set[int]:
    """32-bit hashes of the text's shingles (the whole text when shorter than one shingle)."""
    if not text:
        return set()
    codes = [ord(char) for char in text]
    if len(codes) <= SHINGLE:
        return {_fold(_poly(codes))}
    return {_fold(_poly(codes[start:start + SHINGLE])) for start in range(len(codes) - SHINGLE + 1)}


def _poly(codes: Sequence[int]) -> int:
    value = 0
    for code in codes:
        value = (value * _BASE + code) & _M64
    return value


def _fold(value: int) -> int:
    return (value ^ (value >> 32)) & _M32


def _fmix32(value: int) -> int:
    value ^= value >> 16
    value = (value * 0x85EBCA6B) & _M32
    value ^= value >> 13
    value = (value * 0xC2B2AE35) & _M32
    return value ^ (value >> 16)


def signature(hashes: set[int]) -> tuple[int, ...]:
    """The MinHash signature of a set of shingle hashes (all 2^32 - 1 for the empty set)."""
    if not hashes:
        return (_M32,) * NUM_PERM
    mixed = [_fmix32(value) for value in hashes]
    return tuple(min([(a * value + b) & _M32 for value in mixed]) for a, b in zip(_PERM_A, _PERM_B, strict=True))


def band_keys(values: Sequence[int]) -> list[int]:
    """One 64-bit key per band: posts that share a key are candidate pairs."""
    keys = []
    for band in range(BANDS):
        key = band + 1
        for value in values[band * ROWS:(band + 1) * ROWS]:
            key = (key * _BAND_BASE + value) & _M64
        keys.append(_fmix64(key))
    return keys


def _fmix64(value: int) -> int:
    value ^= value >> 33
    value = (value * 0xFF51AFD7ED558CCD) & _M64
    value ^= value >> 33
    value = (value * 0xC4CEB9FE1A85EC53) & _M64
    return value ^ (value >> 33)


def jaccard(first: AbstractSet[object], second: AbstractSet[object]) -> float:
    if not first and not second:
        return 1.0
    shared = len(first & second)  # (cheaper than building the union)
    return shared / (len(first) + len(second) - shared)


def containment(first: AbstractSet[object], second: AbstractSet[object]) -> float:
    """The share of the smaller set found in the larger one."""
    if not first or not second:
        return 0.0
    return len(first & second) / min(len(first), len(second))


# ---- numpy: many posts at once ----------------------------------------------------------------------

def signatures_numpy(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """signature(shingle_hashes(text)) for each text, as a (len(texts), NUM_PERM) uint32 array,
    and len(shingle_hashes(text)) for each. Texts are hashed a batch at a time, as one array."""
    import numpy as np

    result = np.full((len(texts), NUM_PERM), _M32, dtype=np.uint32)
    counts = np.zeros(len(texts), dtype=np.int64)
    batch: list[int] = []
    size = 0
    for row, text in enumerate(texts):
        if len(text) < SHINGLE:  # empty, or one shingle of the whole text
            if text:
                hashes = shingle_hashes(text)
                result[row] = signature(hashes)
                counts[row] = len(hashes)
            continue
        batch.append(row)
        size += len(text)
        if size > 200_000:
            _sign_batch([texts[row] for row in batch], batch, result, counts)
            batch, size = [], 0
    if batch:
        _sign_batch([texts[row] for row in batch], batch, result, counts)
    return result, counts


def _sign_batch(texts: list[str], rows: list[int], result: np.ndarray, counts: np.ndarray) -> None:
    """Shingle hashes of texts (each at least SHINGLE long) concatenated, deduplicated per text,
    then permuted and reduced to each text's minima."""
    import numpy as np

    codes = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    lengths = np.array([len(text) for text in texts], dtype=np.int64)
    ends = np.cumsum(lengths)
    count = len(codes) - SHINGLE + 1
    value = codes[:count].copy()
    base = np.uint64(_BASE)
    for offset in range(1, SHINGLE):  # in place: each step one pass over memory
        value *= base
        value += codes[offset:offset + count]
    value ^= value >> np.uint64(32)
    value &= np.uint64(_M32)  # folded to 32 bits
    owner = np.repeat(np.arange(len(texts), dtype=np.uint64), lengths)[:count]
    valid = np.arange(count) + SHINGLE <= ends[owner.astype(np.int64)]  # shingles inside one text
    keyed = owner[valid]
    keyed <<= np.uint64(32)
    keyed |= value[valid]
    keyed.sort()  # (np.unique hashes: slower here)
    keyed = keyed[np.r_[True, keyed[1:] != keyed[:-1]]]
    text_of = (keyed >> np.uint64(32)).astype(np.int64)
    hashes = _fmix32_numpy((keyed & np.uint64(_M32)).astype(np.uint32))
    per_text = np.bincount(text_of, minlength=len(texts))
    perm_a = np.array(_PERM_A, dtype=np.uint32)
    perm_b = np.array(_PERM_B, dtype=np.uint32)
    minima = np.full((len(texts), NUM_PERM), _M32, dtype=np.uint32)
    buffer = np.empty((NUM_PERM, min(len(hashes), _PERMUTED)), dtype=np.uint32)
    for chunk in range(0, len(hashes), _PERMUTED):  # bounded memory: NUM_PERM x _PERMUTED at a time
        # NUM_PERM rows of contiguous values: reduceat along a row is far faster than down columns
        values = hashes[None, chunk:chunk + _PERMUTED]
        part = buffer[:, :values.shape[1]]
        np.multiply(perm_a[:, None], values, out=part)  # in place: one pass over memory, not three
        part += perm_b[:, None]
        owners = text_of[chunk:chunk + _PERMUTED]
        first = np.r_[True, owners[1:] != owners[:-1]]
        reduced = np.minimum.reduceat(part, np.flatnonzero(first), axis=1).T
        present = owners[first]
        minima[present] = np.minimum(minima[present], reduced)  # a text may span two chunks
    result[rows] = minima
    counts[rows] = per_text


_PERMUTED = 50_000  # shingle hashes permuted at a time


def _fmix32_numpy(values: np.ndarray) -> np.ndarray:
    import numpy as np

    values = values ^ (values >> np.uint32(16))
    values = values * np.uint32(0x85EBCA6B)
    values = values ^ (values >> np.uint32(13))
    values = values * np.uint32(0xC2B2AE35)
    return values ^ (values >> np.uint32(16))


def band_keys_numpy(signatures: np.ndarray) -> np.ndarray:
    """band_keys for each row, as a (rows, BANDS) uint64 array."""
    import numpy as np

    wide = signatures.astype(np.uint64)
    keys = np.empty((len(signatures), BANDS), dtype=np.uint64)
    base = np.uint64(_BAND_BASE)
    for band in range(BANDS):
        key = np.full(len(signatures), band + 1, dtype=np.uint64)
        for column in range(band * ROWS, (band + 1) * ROWS):
            key = key * base + wide[:, column]
        keys[:, band] = _fmix64_numpy(key)
    return keys


def _fmix64_numpy(values: np.ndarray) -> np.ndarray:
    import numpy as np

    shift = np.uint64(33)
    values = values ^ (values >> shift)
    values = values * np.uint64(0xFF51AFD7ED558CCD)
    values = values ^ (values >> shift)
    values = values * np.uint64(0xC4CEB9FE1A85EC53)
    return values ^ (values >> shift)
