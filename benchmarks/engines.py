"""The engines under measurement and how each is built and asked, always as a fresh process."""

from __future__ import annotations

import importlib.util
import os
import shlex
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.corpus import REPO_ROOT, Archive
from benchmarks.textnorm import POST_DIRS


def subprocess_env() -> dict[str, str]:
    """The caller's environment with the repo importable, so that `-m newsctl` and the peers run from
    a checkout as well as from an installed package. Bytecode is cached as an installed package's
    is (pip compiles it): with PYTHONDONTWRITEBYTECODE inherited, a checkout would compile every
    module on every run, a start-up cost no user pays."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def newsctl_base() -> list[str]:
    script = Path(sys.executable).parent / "newsctl"
    return [str(script)] if script.exists() else [sys.executable, "-m", "newsctl"]


def _missing_modules(*names: str) -> list[str]:
    return [n for n in names if importlib.util.find_spec(n) is None]


def tree_bytes(root: Path, skip: Sequence[Path] = ()) -> int:
    """Total size of the files under root, not descending into `skip`."""
    skipped = {p.resolve() for p in skip}
    total = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if (Path(dirpath) / d).resolve() not in skipped]
        total += sum((Path(dirpath) / f).stat().st_size for f in filenames if not (Path(dirpath) / f).is_symlink())
    return total


@dataclass
class Engine:
    """Base: an engine with a separate index directory that it builds from scratch."""

    name: str
    label: str
    search_ok_codes: tuple[int, ...] = (0, 1)  # 1: no results

    def unavailable_reason(self) -> str | None:
        return None

    def has_index(self) -> bool:
        return True

    def build_command(self, archive: Archive, index_dir: Path) -> list[str]:
        raise NotImplementedError

    def prepare_build(self, index_dir: Path) -> None:
        shutil.rmtree(index_dir, ignore_errors=True)
        index_dir.parent.mkdir(parents=True, exist_ok=True)

    def index_bytes(self, archive: Archive, index_dir: Path) -> int:
        return tree_bytes(index_dir) if index_dir.exists() else 0

    def index_ready(self, archive: Archive, index_dir: Path) -> bool:
        """Whether an earlier run left an index to search (for --reuse-indexes)."""
        return index_dir.is_dir() and any(index_dir.iterdir())

    def search_command(self, archive: Archive, index_dir: Path, terms: Sequence[str]) -> list[str]:
        raise NotImplementedError


class NewsctlEngine(Engine):
    def __init__(self, jobs: int | None = None) -> None:
        super().__init__("newsctl", "newsctl")
        self.jobs = jobs

    def command(self, archive: Archive, *args: str) -> list[str]:
        return [*newsctl_base(), "--root", str(archive.root), *args]

    def help_command(self) -> list[str]:
        return [*newsctl_base(), "--help"]

    def build_command(self, archive: Archive, index_dir: Path) -> list[str]:
        jobs = ["--jobs", str(self.jobs)] if self.jobs else []
        return self.command(archive, "index", "--rebuild", *jobs)

    def update_command(self, archive: Archive) -> list[str]:
        return self.command(archive, "index")

    def index_ready(self, archive: Archive, index_dir: Path) -> bool:
        return any((archive.root / ".newsctl" / "index").glob("_MAIN_*.toc"))

    def prepare_build(self, index_dir: Path) -> None:
        """newsctl keeps its index where it chooses; --rebuild starts it afresh."""

    def index_bytes(self, archive: Archive, index_dir: Path) -> int:
        """Everything under the archive root that is not a post or the site config."""
        config = archive.root / "_config.yml"
        config_bytes = config.stat().st_size if config.exists() else 0
        return tree_bytes(archive.root, skip=[archive.root / d for d in POST_DIRS]) - config_bytes

    def search_command(self, archive: Archive, index_dir: Path, terms: Sequence[str]) -> list[str]:
        return self.command(archive, "search", *terms, "--format", "paths", "--limit", "0")

    def validate_command(self, archive: Archive, paths: Sequence[Path] = ()) -> list[str]:
        return self.command(archive, "validate", *map(str, paths), "--format", "json")


class WhooshEngine(Engine):
    def __init__(self) -> None:
        super().__init__("whoosh", "naive Whoosh (jieba ChineseAnalyzer)")

    def unavailable_reason(self) -> str | None:
        missing = _missing_modules("whoosh", "jieba")
        return f"not importable: {', '.join(missing)}" if missing else None

    def build_command(self, archive: Archive, index_dir: Path) -> list[str]:
        return [sys.executable, "-m", "benchmarks.peers.whoosh_peer", "index", str(archive.root), str(index_dir)]

    def search_command(self, archive: Archive, index_dir: Path, terms: Sequence[str]) -> list[str]:
        return [sys.executable, "-m", "benchmarks.peers.whoosh_peer", "search", str(index_dir), *terms]


class TantivyEngine(Engine):
    def __init__(self) -> None:
        super().__init__("tantivy", "Tantivy (rjieba cut_for_search, whitespace)")

    def unavailable_reason(self) -> str | None:
        missing = _missing_modules("tantivy", "rjieba")
        return f"not importable: {', '.join(missing)}" if missing else None

    def build_command(self, archive: Archive, index_dir: Path) -> list[str]:
        return [sys.executable, "-m", "benchmarks.peers.tantivy_peer", "index", str(archive.root), str(index_dir)]

    def search_command(self, archive: Archive, index_dir: Path, terms: Sequence[str]) -> list[str]:
        return [sys.executable, "-m", "benchmarks.peers.tantivy_peer", "search", str(index_dir), *terms]


class RipgrepEngine(Engine):
    """No index: scans the post folders; several terms are ANDed by piping file lists through xargs."""

    def __init__(self) -> None:
        super().__init__("ripgrep", "ripgrep (rg -l -F)", (0, 1, 123))  # xargs: 123 when rg found nothing

    def unavailable_reason(self) -> str | None:
        return None if shutil.which("rg") else "rg not installed (apt-get install ripgrep)"

    def has_index(self) -> bool:
        return False

    def search_command(self, archive: Archive, index_dir: Path, terms: Sequence[str]) -> list[str]:
        dirs = [str(archive.root / d) for d in POST_DIRS if (archive.root / d).is_dir()]
        if len(terms) == 1:
            return ["rg", "-l", "-F", "--", terms[0], *dirs]
        first = shlex.join(["rg", "-l0", "-F", "--", terms[0], *dirs])
        middle = [shlex.join(["xargs", "-0r", "rg", "-l0", "-F", "--", t]) for t in terms[1:-1]]
        last = shlex.join(["xargs", "-0r", "rg", "-l", "-F", "--", terms[-1]])
        return ["sh", "-c", " | ".join([first, *middle, last])]


def all_engines(newsctl_jobs: int | None = None) -> list[Engine]:
    return [NewsctlEngine(newsctl_jobs), WhooshEngine(), TantivyEngine(), RipgrepEngine()]
