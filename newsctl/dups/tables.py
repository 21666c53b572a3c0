"""The store's whole-archive side, in numpy: a generation read as columns (entries without
their signatures beside one signature array) and written from them (`Store.save` with
`signatures`), with the story keys (`stories.u64`) that verdicts.py keeps verdicts by. The
pre-commit path never imports this module (nor numpy)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from newsctl.dups.signature import NUM_PERM
from newsctl.dups.store import Entry, Generation, Tables, _mapped, _parse_line, exact_keys

if TYPE_CHECKING:
    import numpy as np


def columns(generation: Generation) -> tuple[list[Entry], np.ndarray, np.ndarray]:
    """Every entry without its signature, the signatures as one (entries, NUM_PERM) uint32
    array (NO_SIGNATURE rows: no text) and the story keys (uint64): the whole-archive path,
    which never holds 100k signatures as Python ints."""
    import numpy as np

    rows, found = [], []
    for row, line in enumerate(generation._lines()):
        entry = _parse_line(line)
        if entry is not None:
            rows.append(row)
            found.append(entry)
    signatures = np.frombuffer(generation._view("signatures.u32", "I"), dtype="<u4").reshape(-1, NUM_PERM)
    try:
        keys = np.frombuffer(_mapped(generation.folder / "stories.u64"), dtype="<u8")
    except OSError:
        keys = np.zeros(0, dtype="<u8")
    if len(keys) != generation.count:
        keys = np.zeros(generation.count, dtype="<u8")  # damaged: no verdict is then reused
    chosen = np.array(rows, dtype=np.int64)
    story_keys = keys[chosen]
    for entry, key in zip(found, story_keys.tolist(), strict=True):
        entry.story_key = key
    return found, np.array(signatures[chosen], dtype=np.uint32), story_keys


def tables_of(entries: Sequence[Entry], signatures: np.ndarray, bands: np.ndarray | None = None) -> Tables:
    """Store.save's `tables` for these entries, row n of `signatures` (and of `bands`, their band
    keys when known) being entries[n]'s (the store writes the rows of the entries it keeps)."""
    row_of = {id(entry): row for row, entry in enumerate(entries)}

    def write(folder: Path, kept: Sequence[Entry]) -> tuple[int, int]:
        rows = [row_of[id(entry)] for entry in kept]
        return write_tables_numpy(folder, kept, signatures[rows], bands[rows] if bands is not None else None)

    return write


def write_tables_numpy(folder: Path, entries: Sequence[Entry], signatures: np.ndarray,
                       bands: np.ndarray | None = None) -> tuple[int, int]:
    """signatures.u32, bands.* and exact.*, from one signature array (NO_SIGNATURE rows: no text)
    and, when known, its band keys (signature.band_keys_numpy of it)."""
    import numpy as np

    from newsctl.dups.signature import band_keys_numpy

    signatures = signatures.astype("<u4", copy=False)
    (folder / "signatures.u32").write_bytes(signatures.tobytes())
    with_text = (signatures != 0xFFFFFFFF).any(axis=1)
    rows = np.nonzero(with_text)[0].astype("<u4")
    keys = (band_keys_numpy(signatures[rows]) if bands is None else bands[rows]).astype("<u8")
    band_rows = np.repeat(rows, keys.shape[1])
    write_sorted(folder, "bands", keys.reshape(-1), band_rows)
    exact = [(key, row) for row, entry in enumerate(entries) for key in exact_keys(entry)]
    exact_keys_array = np.array([key for key, _ in exact], dtype="<u8")
    exact_rows = np.array([row for _, row in exact], dtype="<u4")
    write_sorted(folder, "exact", exact_keys_array, exact_rows)
    return len(band_rows), len(exact)


def write_sorted(folder: Path, name: str, keys: object, rows: object) -> None:
    import numpy as np

    assert isinstance(keys, np.ndarray) and isinstance(rows, np.ndarray)
    order = np.argsort(keys, kind="stable")
    (folder / f"{name}.key").write_bytes(keys[order].astype("<u8").tobytes())
    (folder / f"{name}.row").write_bytes(rows[order].astype("<u4").tobytes())
