"""Huge posts (issue 11): `newsctl index --rebuild` of a small archive with one, or three, 4.8 MB posts,
against the same archive without them: the wall time, and the peak RSS above the usual peak.

The worst case is generated text (2,000 random words over 2,500 characters: ~400,000 distinct bigrams,
every one a term of the index); the realistic case is the bodies of ../shared's real posts, concatenated
and repeated to the same size (built here at run time, never stored in the repository).

Run alone: `python -m benchmarks.hugepost [--work DIR] [--repeat N]` (about a minute).
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks.corpus import REPO_ROOT, SAMPLE_POSTS, SHARED_DIR
from benchmarks.engines import newsctl_base, subprocess_env
from benchmarks.procs import RunResult, run_with_peak_rss
from benchmarks.stats import Spread

HUGE_BYTES = 4_800_000  # below post.MAX_POST_BYTES (5 MB): a bigger post is skipped (NC105), not read
MB = 1024 * 1024
TARGET_ROW = "index a 4.8 MB post (worst case)"  # the target: <= 5 s, <= +300 MB


@dataclass
class HugeRow:
    name: str
    posts: int  # huge posts in the archive
    wall: Spread | None = None
    base_wall: Spread | None = None  # the same archive without them
    peak_rss_bytes: int | None = None
    base_rss_bytes: int | None = None
    error: str | None = None

    @property
    def extra_rss_bytes(self) -> int | None:
        if self.peak_rss_bytes is None or self.base_rss_bytes is None:
            return None
        return self.peak_rss_bytes - self.base_rss_bytes


def worst_case_body(size: int, seed: int = 7) -> str:
    """Chinese text of `size` UTF-8 bytes: words of a 2,000-word vocabulary over 2,500 characters, with
    numbers and punctuation (tests/test_load_cost.py uses it too)."""
    rng = random.Random(seed)
    chars = [chr(0x4E00 + rng.randrange(0x5000)) for _ in range(2500)]
    words = ["".join(rng.choice(chars) for _ in range(rng.randint(2, 4))) for _ in range(2000)]
    parts: list[str] = []
    total = 0
    while total < size:
        sentence = "".join(rng.choice(words) for _ in range(rng.randint(6, 14))) + f"{rng.randint(1, 9999)}。"
        parts.append(sentence)
        total += len(sentence.encode())
        if len(parts) % 8 == 0:
            parts.append("</p>\n<p>")
    return "<p>" + "".join(parts) + "</p>"


_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.S)


def realistic_body(size: int) -> str | None:
    """The bodies of ../shared's real posts, concatenated and repeated to `size` bytes (None without it)."""
    posts = sorted((SHARED_DIR / "corpus").rglob("*.md")) if (SHARED_DIR / "corpus").is_dir() else []
    bodies = [_FRONT_MATTER.sub("", p.read_text(encoding="utf-8", errors="replace")) for p in posts]
    bodies = [b for b in bodies if len(b) > 200]
    if not bodies:
        return None
    parts: list[str] = []
    total = 0
    while total < size:
        for body in bodies:
            parts.append(body)
            total += len(body.encode())
            if total >= size:
                break
    text = "\n\n".join(parts)
    return text.encode()[:size].decode(errors="ignore")


def huge_post(body: str, number: int) -> tuple[str, str]:
    """(file name, text) of a well-formed post holding `body`."""
    post_id = f"20220601999900{number:04d}"
    text = (f'---\nlayout: post\ntitle: "超长公告全文{number}"\ndate: 2022-06-01 12:00:{number:02d} +0800\n'
            f"categories: emnews\ntags: 东财滚动新闻\n---\n{body}\n")
    return f"2022-06-01-{post_id}.md", text


def _archive(work: Path, name: str, bodies: list[str]) -> Path:
    root = work / name
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(SAMPLE_POSTS, root, ignore=shutil.ignore_patterns(".newsctl"))
    for number, body in enumerate(bodies, 1):
        file_name, text = huge_post(body, number)
        (root / "_posts" / file_name).write_text(text, encoding="utf-8")
    return root


def _runs(root: Path, repeat: int, env: dict[str, str]) -> list[RunResult]:
    command = [*newsctl_base(), "--root", str(root), "index", "--rebuild", "--quiet"]
    return [run_with_peak_rss(command, REPO_ROOT, env) for _ in range(repeat)]


def measure_huge_posts(work: Path, repeat: int, env: dict[str, str], only_target: bool = False) -> list[HugeRow]:
    """The rows: one worst-case post, three worst-case posts, one realistic post (`only_target`: the
    first alone, for a smoke run)."""
    cases: list[tuple[str, Callable[[], list[str] | None]]] = [
        (TARGET_ROW, lambda: [worst_case_body(HUGE_BYTES)]),
        ("index three 4.8 MB posts (worst case)",
         lambda: [worst_case_body(HUGE_BYTES, seed) for seed in (7, 8, 9)]),
        ("index a 4.8 MB post (real text)", lambda: (lambda b: [b] if b else None)(realistic_body(HUGE_BYTES))),
    ]
    if only_target:
        cases = cases[:1]
    base = _runs(_archive(work, "huge-base", []), repeat, env)
    rows = []
    for name, make in cases:
        bodies = make()
        row = HugeRow(name, len(bodies or []))
        rows.append(row)
        if bodies is None:
            row.error = f"skipped: {SHARED_DIR / 'corpus'} not found"
            continue
        runs = _runs(_archive(work, f"huge-{len(rows)}", bodies), repeat, env)
        bad = next((r for r in [*base, *runs] if not r.ok()), None)
        if bad is not None:
            row.error = bad.error_line()
            continue
        row.wall, row.base_wall = Spread.of([r.wall_s for r in runs]), Spread.of([r.wall_s for r in base])
        row.peak_rss_bytes = max(r.peak_rss_bytes or 0 for r in runs) or None
        row.base_rss_bytes = max(r.peak_rss_bytes or 0 for r in base) or None
    return rows


def describe(row: HugeRow) -> str:
    if row.error or row.wall is None:
        return f"{row.name}: {row.error}"
    extra = row.extra_rss_bytes or 0
    assert row.base_wall is not None
    return (f"{row.name}: {row.wall.median:.2f} s (without: {row.base_wall.median:.2f} s), peak RSS "
            f"{(row.peak_rss_bytes or 0) / MB:.0f} MB, +{extra / MB:.0f} MB above the usual peak")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.hugepost", description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: a new temp folder)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each build (default 1)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="newsctl-huge-"))
    work.mkdir(parents=True, exist_ok=True)
    for row in measure_huge_posts(work, args.repeat, subprocess_env()):
        print(describe(row))
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
