"""Benchmark archives: generated once per size, cached in the work directory, read back as text."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from benchmarks.gencorpus import jieba_dict_path
from benchmarks.textnorm import list_posts, searchable_text

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = REPO_ROOT.parent / "shared"
SAMPLE_POSTS = REPO_ROOT / "sample_posts"


@dataclass
class Archive:
    root: Path
    size: int
    posts: list[Path]
    raw_bytes: int
    generator: str
    command: list[str]

    @property
    def dirty_marker(self) -> Path:
        """Exists while the incremental-update measure has the archive modified."""
        return self.root.with_name(self.root.name + ".dirty")


def shared_available() -> bool:
    return (SHARED_DIR / "tools" / "gen_corpus.py").is_file() and (SHARED_DIR / "corpus").is_dir()


def generator_command(size: int, out: Path) -> tuple[str, list[str]]:
    """The generator to use and its exact command line."""
    vocab = ["--vocab", "auto"] if jieba_dict_path() else []
    if shared_available():
        script = SHARED_DIR / "tools" / "gen_corpus.py"
        return "shared", [
            sys.executable,
            str(script),
            "--src",
            str(SHARED_DIR / "corpus"),
            "--out",
            str(out),
            "-n",
            str(size),
            *vocab,
        ]
    return "own", [
        sys.executable,
        "-m",
        "benchmarks.gencorpus",
        "--src",
        str(SAMPLE_POSTS),
        "--out",
        str(out),
        "-n",
        str(size),
        *(vocab or ["--vocab", "none"]),
    ]


def ensure_archive(work: Path, size: int) -> Archive:
    """The cached archive of `size` posts, generated (atomically, via a temp dir) when missing or left
    modified by an interrupted run."""
    generator, _ = generator_command(size, work)
    root = (work / f"archive-{generator}-{size}").resolve()
    marker = root.with_name(root.name + ".dirty")
    if marker.exists():
        shutil.rmtree(root, ignore_errors=True)
        marker.unlink()
    _, command = generator_command(size, root)
    if not root.is_dir():
        _generate(size, root)
    posts = list_posts(root)
    return Archive(root, size, posts, sum(p.stat().st_size for p in posts), generator, command)


def _generate(size: int, root: Path) -> None:
    tmp = root.with_name(root.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    _, command = generator_command(size, tmp)
    proc = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"generating {size} posts failed: {proc.stderr.strip()[-500:]}")
    tmp.rename(root)


def load_texts(archive: Archive) -> dict[Path, str]:
    """Normalised title + body text of every post, keyed by resolved path."""
    return {path: searchable_text(path) for path in archive.posts}
