"""Whether the index files are still the bytes newsctl wrote, and removing what no generation uses.

Searches check what they read (engine.postings, engine.store: CRC-32s per block, section, path and
record). `index` and `stats` check the whole generation cheaply: after each commit, the record
`newsctl-files-<gen>.json` lists every file of the generation with its size, mtime, ctime, inode
and CRC-32; a file whose stat still matches is the file that was written (a write of any kind moves
its ctime), and only a file whose stat moved is read again and its CRC compared. Files the record
does not know (an index copied elsewhere, a record lost in a crash) are checked by their own
checksums. A damaged file makes `index` rebuild and `stats` say so; nothing damaged is trusted.
"""

from __future__ import annotations

import json
import os
import re
import zlib
from pathlib import Path

from newsctl.engine.postings import DamagedFile, TermDict, map_file
from newsctl.engine.store import (
    INDEX_NAME,
    MANIFEST_PREFIX,
    STATE_PREFIX,
    Manifest,
    SideReader,
    State,
    read_state,
)

FILES_PREFIX = "newsctl-files-"
_GENERATION_FILE = re.compile(rf"^(?:_{INDEX_NAME}_(\d+)\.toc|(?:{STATE_PREFIX}|{MANIFEST_PREFIX}|{FILES_PREFIX})"
                              r"(\d+)\.(?:json|bin))$")
_SEGMENT_FILE = re.compile(rf"^{INDEX_NAME}_([A-Za-z0-9]+)\.")
Entry = list[int]  # size, mtime_ns, ctime_ns, inode, crc32


def generation_files(index_dir: Path, generation: int, state: State) -> list[str]:
    """The names of every file of the generation: TOC, state, manifest and the segments' files."""
    segments = {str(info["id"]) for info in state.segments}
    names = [f"_{INDEX_NAME}_{generation}.toc", f"{STATE_PREFIX}{generation}.json",
             f"{MANIFEST_PREFIX}{generation}.bin"]
    for name in sorted(os.listdir(index_dir)):
        match = _SEGMENT_FILE.match(name)
        if match and match[1] in segments:
            names.append(name)
    return names


def record_files(index_dir: Path, generation: int, state: State) -> None:
    """Write the record of the generation's files (a file unchanged since the last record keeps its CRC)."""
    from newsctl.fsutil import atomic_write

    previous = read_record(index_dir, generation) or read_record(index_dir, generation - 1) or {}
    entries: dict[str, Entry] = {}
    for name in generation_files(index_dir, generation, state):
        path = index_dir / name
        key = _stat_key(path)
        if key is None:
            continue
        old = previous.get(name)
        entries[name] = [*key, old[4] if old is not None and old[:4] == key else file_crc(path)]
    text = json.dumps(entries, separators=(",", ":"), sort_keys=True)
    data = json.dumps({"files": entries, "crc32": zlib.crc32(text.encode())}, separators=(",", ":"), sort_keys=True)
    atomic_write(_record_file(index_dir, generation), data.encode())


def read_record(index_dir: Path, generation: int) -> dict[str, Entry] | None:
    try:
        data = json.loads(_record_file(index_dir, generation).read_text(encoding="utf-8"))
        entries = data["files"]
        if zlib.crc32(json.dumps(entries, separators=(",", ":"), sort_keys=True).encode()) != data["crc32"]:
            return None
        return {str(name): [int(v) for v in entry] for name, entry in entries.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def damage(index_dir: Path, generation: int, state: State) -> str | None:
    """Why a file of the generation cannot be trusted (missing, or not the bytes written), or None."""
    record = read_record(index_dir, generation)
    names = generation_files(index_dir, generation, state)
    missing = sorted(set(record or ()) - set(names))
    if missing:
        return f"{missing[0]} is missing"
    segments = {str(info["id"]) for info in state.segments}
    present = {m[1] for m in map(_SEGMENT_FILE.match, names) if m}
    if segments - present:
        return f"the files of segment {sorted(segments - present)[0]} are missing"
    for name in names:
        path = index_dir / name
        key = _stat_key(path)
        if key is None:
            return f"{name} is missing"
        entry = (record or {}).get(name)
        if entry is not None and entry[:4] == key:
            continue
        if entry is not None:
            if file_crc(path) != entry[4]:
                return f"{name} does not match its checksum"
            continue
        problem = _own_checksums(path, generation)
        if problem:
            return problem
    return None


def needs_record(index_dir: Path, generation: int, state: State) -> bool:
    """Whether the record is absent or some stat moved (the files checked good): write it anew."""
    record = read_record(index_dir, generation)
    if record is None:
        return True
    names = generation_files(index_dir, generation, state)
    return set(record) != set(names) or any(record[name][:4] != _stat_key(index_dir / name) for name in names)


def _own_checksums(path: Path, generation: int) -> str | None:
    """Check a file the record does not vouch for by the checksums it carries (None: good, or none)."""
    try:
        if path.suffix == ".trm":
            TermDict(map_file(path), path).verify()
        elif path.suffix == ".nsc":
            SideReader(map_file(path), path).verify()
        elif path.name.startswith(STATE_PREFIX):
            read_state(path.parent, generation)
        elif path.name.startswith(MANIFEST_PREFIX) and Manifest.from_bytes(path.read_bytes()) is None:
            return f"{path.name} does not match its checksum"
    except DamagedFile as exc:
        return f"{path.name}: {exc.what}"
    except (OSError, ValueError) as exc:
        return f"{path.name} cannot be read ({exc})"
    return None


def remove_orphans(index_dir: Path, generation: int, state: State) -> int:
    """Remove the files of other generations and of segments the generation does not use (left by an
    interrupted or killed build), and temporary files; return how many were removed."""
    segments = {str(info["id"]) for info in state.segments}
    removed = 0
    for name in os.listdir(index_dir):
        generation_match = _GENERATION_FILE.match(name)
        segment_match = _SEGMENT_FILE.match(name)
        if generation_match:
            orphan = int(generation_match[1] or generation_match[2]) != generation
        elif segment_match:
            orphan = segment_match[1] not in segments
        else:
            orphan = name.startswith(".") and name.endswith(".tmp")
        if orphan:
            try:
                (index_dir / name).unlink()
                removed += 1
            except IsADirectoryError:
                continue
            except FileNotFoundError:
                continue
    return removed


def file_crc(path: Path) -> int:
    crc = 0
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            crc = zlib.crc32(block, crc)
    return crc


def _stat_key(path: Path) -> list[int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return [info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino & 0x7FFFFFFFFFFFFFFF]


def _record_file(index_dir: Path, generation: int) -> Path:
    return index_dir / f"{FILES_PREFIX}{generation}.json"
