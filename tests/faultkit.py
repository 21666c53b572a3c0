"""Shared pieces of the fault-injection tests (issue 11): archives, feeds, index files, tmpfs mounts.

Everything runs the real CLI in real processes (see hostile.py: `start`, `run_bounded`, `run_batch`);
nothing here mocks a file system, a lock or a signal.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from conftest import SAMPLE_POSTS, SHARED
from hostile import Run, post_text

CONFIG_YML = "timezone: Asia/Shanghai\n"
EXIT_NO_INDEX = 4  # no index, or an index that is damaged or unusable (README exit-code table)
DAMAGE_WORDS = ("damaged", "corrupt", "checksum")


# ---- archives ------------------------------------------------------------------------------------------

def empty_archive(root: Path) -> Path:
    (root / "_posts").mkdir(parents=True, exist_ok=True)
    (root / "_config.yml").write_text(CONFIG_YML, encoding="utf-8")
    return root


def copy_sample(root: Path) -> Path:
    shutil.copytree(SAMPLE_POSTS, root, ignore=shutil.ignore_patterns(".newsctl"))
    return root


def make_big_archive(root: Path, count: int) -> Path:
    """gen_corpus from ../shared when present, else varied copies of sample_posts."""
    tool = SHARED / "tools" / "gen_corpus.py"
    if tool.is_file() and (SHARED / "corpus").is_dir():
        subprocess.run([sys.executable, str(tool), "--src", str(SHARED / "corpus"), "--out", str(root), "-n",
                        str(count), "--seed", "11"], check=True, capture_output=True, timeout=120)
        return root
    copy_sample(root)
    samples = sorted(root.glob("*/*.md"))
    for number in range(count - len(samples)):
        source = samples[number % len(samples)]
        day = source.name[:10]
        post_id = f"{day.replace('-', '')}{number:010d}"
        text = source.read_text(encoding="utf-8").replace("</p>", f"第{number}号副本。</p>", 1)
        (source.parent / f"{day}-{post_id}.md").write_text(text + f"\n副本编号{number}\n", encoding="utf-8")
    return root


def same_day_posts(root: Path, count: int, day: str = "2022-06-01") -> None:
    """`count` valid posts of one day (distinct titles and bodies): a duplicate check must read them."""
    for number in range(count):
        post_id = f"{day.replace('-', '')}77{number:08d}"
        text = post_text(title=f"同日已有的第{number}篇快讯", date=f"{day} 08:{number % 60:02d}:00 +0800",
                         body=f"<p>同日已有快讯正文第{number}篇，航运指数第{number * 3}点。</p>", post_id=post_id)
        (root / "_posts" / f"{day}-{post_id}.md").write_text(text, encoding="utf-8")


def post_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.md") if ".newsctl" not in p.parts and p.is_file())


# ---- feeds ---------------------------------------------------------------------------------------------

def feed_record(number: int, body_chars: int = 200, with_id: bool = False, day: str = "2022-06-01",
                tag: str = "feed") -> dict[str, Any]:
    record: dict[str, Any] = {
        "title": f"{tag}第{number}条港口航运快讯", "date": f"{day} 10:{number % 60:02d}:00 +0800",
        "body": "<p>" + f"集装箱码头第{number}号泊位作业。" * max(1, body_chars // 14) + "</p>",
        "url": f"http://example.com/{tag}/{number}", "category": "emnews", "tag": "东财"}
    if with_id:
        record["id"] = f"{tag}{number:06d}"
    return record


def write_feed(path: Path, count: int, **kwargs: Any) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for number in range(count):
            handle.write(json.dumps(feed_record(number, **kwargs), ensure_ascii=False) + "\n")
    return path


SUMMARY = re.compile(r"added (\d+), skipped (\d+) \(duplicates (\d+)\), errors (\d+)")


def feed_summary(run: Run) -> tuple[int, int, int, int] | None:
    found = SUMMARY.search(run.stderr)
    return tuple(int(g) for g in found.groups()) if found else None  # type: ignore[return-value]


# ---- the index on disk --------------------------------------------------------------------------------

def index_dir(root: Path) -> Path:
    return root / ".newsctl" / "index"


def latest_state(root: Path) -> dict[str, Any]:
    states = sorted(index_dir(root).glob("newsctl-state-*.json"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    return dict(json.loads(states[-1].read_text(encoding="utf-8")))


SEGMENT_FILE = re.compile(r"^MAIN_([A-Za-z0-9]+)\.")


def segment_ids_on_disk(root: Path) -> set[str]:
    return {m[1] for m in map(SEGMENT_FILE.match, os.listdir(index_dir(root))) if m}


def orphan_segments(root: Path) -> set[str]:
    """Segment ids with files in the index folder that the latest generation does not use."""
    used = {str(s["id"]) for s in latest_state(root)["segments"]}
    return segment_ids_on_disk(root) - used


def search_hits(run: Run) -> frozenset[str] | None:
    """Root-relative paths found by `search --format json --absolute` (see search_args), the empty set
    for exit 1, None for any other outcome."""
    if run.code == 1 and not run.stdout.strip():
        return frozenset()
    if run.code != 0:
        return None
    data: Any = json.loads(run.stdout)
    if isinstance(data, dict):
        data = data.get("results", data.get("hits", []))
    given = run.args[run.args.index("--root") + 1]
    prefixes = {given.rstrip("/") + "/", str(Path(given).resolve()) + "/"}
    paths = [str(item["path"]) for item in data]
    for prefix in prefixes:
        paths = [path.removeprefix(prefix) for path in paths]
    return frozenset(paths)


def search_args(root: Path, query: str) -> list[str]:
    return ["--root", str(root), "search", "--format", "json", "--absolute", "--limit", "0", query]


def says_damaged(run: Run) -> bool:
    return run.code == EXIT_NO_INDEX and any(word in run.stderr.lower() for word in DAMAGE_WORDS)


def one_error_line(run: Run) -> str:
    """The single `newsctl: error:` line of stderr (asserting there is exactly one line)."""
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr: {run!r}"
    assert "Traceback" not in run.output and "internal error" not in run.output, run
    return lines[0]


# ---- tmpfs mounts (full disks, read-only archives) ------------------------------------------------------

@contextlib.contextmanager
def tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A small tmpfs at `where` (root only); the caller skips when it cannot be mounted."""
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where)],
                          capture_output=True, timeout=30)
    if done.returncode != 0:
        raise PermissionError(done.stderr.decode(errors="replace").strip() or "mount failed")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, timeout=30)


def remount_read_only(where: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(where)], check=True, capture_output=True, timeout=30)


def fill(folder: Path) -> None:
    """Fill the file system of `folder` (ENOSPC) with one filler file."""
    with open(folder / "filler.bin", "wb") as handle:
        block = b"\0" * 65536
        with contextlib.suppress(OSError):
            while True:
                handle.write(block)
                handle.flush()
    with contextlib.suppress(OSError), open(folder / "filler2.bin", "wb") as handle:  # the last partial block
        for _ in range(4096):
            handle.write(b"\0" * 512)
            handle.flush()
