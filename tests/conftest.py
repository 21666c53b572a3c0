"""Shared fixtures: real archives in tmp_path, the real CLI, and ../shared when present."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsctl.cli import app

REPO = Path(__file__).resolve().parents[1]
SAMPLE_POSTS = REPO / "sample_posts"
SHARED = REPO.parent / "shared"
CONFIG_YML = "title: test archive\ntimezone: Asia/Shanghai\n"


@pytest.fixture
def shared_dir() -> Path:
    if not (SHARED / "corpus" / "finews").is_dir():
        pytest.skip("../shared is absent (it is present in CI)")
    return SHARED


@pytest.fixture
def shared_corpus(shared_dir: Path) -> Path:
    """The real archive of ~140 posts, read-only."""
    return shared_dir / "corpus" / "finews"


@pytest.fixture
def sample_archive(tmp_path: Path) -> Path:
    """A private copy of sample_posts/ that a test may change."""
    target = tmp_path / "archive"
    shutil.copytree(SAMPLE_POSTS, target, ignore=shutil.ignore_patterns(".newsctl"))
    return target


@pytest.fixture
def make_archive(tmp_path: Path) -> Callable[..., Path]:
    """make_archive({"_posts/2022-06-01-1.md": "...", ...}) -> root with a _config.yml."""

    def make(files: dict[str, str | bytes] | None = None, config: str = CONFIG_YML, name: str = "arch") -> Path:
        root = tmp_path / name
        root.mkdir(parents=True, exist_ok=True)
        (root / "_config.yml").write_text(config, encoding="utf-8")
        (root / "_posts").mkdir(exist_ok=True)
        for rel, content in (files or {}).items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8", newline="")
        return root

    return make


def post_text(title: str = "测试标题", date: str = "2022-06-01 12:00:32 +0800", body: str = "正文内容。",
              category: str = "emnews", tag: str = "东财滚动新闻", post_id: str = "202206012399054634") -> str:
    """A well-formed post in the archive's format."""
    return (f'---\nlayout: post\ntitle: "{title}"\ndate: {date}\ncategories: {category}\ntags: {tag}\n---\n'
            f"{body}\n\n<http://finance.eastmoney.com/news/1355,{post_id}.html>\n\n"
            f"[返回东财滚动新闻](//finews.withounder.com/category/{category}.html)｜"
            "[返回首页](//finews.withounder.com/)\n")


class Cli:
    """Runs newsctl in-process through Typer's CliRunner, stdout and stderr apart."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str | Path, input: str | bytes | None = None,
                 env: dict[str, str] | None = None) -> Result:
        result = self.runner.invoke(app, [str(a) for a in args], input=input, env=env, catch_exceptions=False)
        return Result(result.exit_code, result.stdout, result.stderr)


class Result:
    def __init__(self, code: int, stdout: str, stderr: str) -> None:
        self.code, self.stdout, self.stderr = code, stdout, stderr
        assert "Traceback" not in stdout + stderr, stdout + stderr
        assert "internal error" not in stderr, stderr

    def __repr__(self) -> str:
        return f"Result(code={self.code}, stdout={self.stdout[:2000]!r}, stderr={self.stderr[:2000]!r})"


@pytest.fixture
def cli() -> Cli:
    return Cli()


def run_newsctl(*args: str | Path, cwd: Path | None = None, input: bytes | None = None,
                timeout: float = 120, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    """newsctl in a real process (for signals, locks, pipes and pre-commit)."""
    return subprocess.run([sys.executable, "-m", "newsctl", *map(str, args)], cwd=cwd, input=input,
                          capture_output=True, timeout=timeout, env=env)


@pytest.fixture
def finews_copy(shared_corpus: Path, tmp_path: Path) -> Iterator[Path]:
    """A writable copy of the real archive, with a _config.yml like the real site's."""
    target = tmp_path / "finews"
    shutil.copytree(shared_corpus, target)
    (target / "_config.yml").write_text(CONFIG_YML, encoding="utf-8")
    yield target
