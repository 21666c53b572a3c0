"""The published pre-commit hook, run by the real `pre-commit try-repo` against a git repository
holding good and bad posts: it passes on the good ones and fails, naming the defect, on the bad.

pre-commit installs newsctl from a committed copy of this working tree into an environment of
its own (pip, through the package registry), so this test takes a minute or two.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import CONFIG_YML, REPO, post_text

PACKAGE_FILES = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "LICENSE")
INSTALL_TIMEOUT = 600  # the first run builds the hook's environment


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", "-c", "user.name=newsctl tests", "-c", "user.email=tests@example.invalid",
                    "-c", "commit.gpgsign=false", "-c", "core.hooksPath=/dev/null", "-c", "init.defaultBranch=main",
                    *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT", "NEWSCTL_"))}
    env.update(PRE_COMMIT_HOME=str(home), PRE_COMMIT_COLOR="never", NO_COLOR="1")
    return env


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A committed copy of the package files: try-repo installs from a commit."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path_factory.mktemp("newsctl-hook-repo")
    for name in PACKAGE_FILES:
        if (REPO / name).is_file():
            shutil.copy2(REPO / name, repo / name)
    shutil.copytree(REPO / "newsctl", repo / "newsctl", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    git("init", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "newsctl under test", cwd=repo)
    return repo


@pytest.fixture
def archive_repo(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    (root / "_posts").mkdir(parents=True)
    (root / "old_post").mkdir()
    (root / "_config.yml").write_text(CONFIG_YML, encoding="utf-8")
    (root / "_posts" / "2022-06-01-202206010001.md").write_text(
        post_text(title="水库完成汛前检查", body="青石岭水库完成汛前检查。"), encoding="utf-8")
    (root / "old_post" / "2022-05-01-202205010001.md").write_text(
        post_text(title="五月的旧闻", date="2022-05-01 08:00:00 +0800", body="五月的一篇旧闻。"), encoding="utf-8")
    (root / "README.md").write_text("not a post: the hook must leave it alone\n", encoding="utf-8")
    git("init", "-q", cwd=root)
    git("add", "-A", cwd=root)
    return root


def try_repo(hook_repo: Path, archive: Path, *files: str) -> subprocess.CompletedProcess[str]:
    home = archive.parent / "pre-commit-home"
    try:
        result = subprocess.run(
            [sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), "newsctl-validate", "--verbose",
             "--files", *files], cwd=archive, env=clean_env(home), capture_output=True, text=True,
            timeout=INSTALL_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"pre-commit try-repo did not finish within {INSTALL_TIMEOUT} s")
    output = result.stdout + result.stderr
    if "An unexpected error has occurred" in output:  # try-repo's store (and log) is gone by now
        if any(sign in output for sign in ("Could not find a version", "No matching distribution",
                                           "NewConnectionError", "Network is unreachable")):
            pytest.skip("the package registry is unreachable: pre-commit cannot install the hook")
        pytest.fail(f"pre-commit failed to install or run the hook:\n{output[-4000:]}")
    return result


def test_hook_manifest_is_valid() -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    hook = next(h for h in hooks if h["id"] == "newsctl-validate")
    assert (hook["language"], hook["entry"]) == ("python", "newsctl validate")
    subprocess.run([sys.executable, "-m", "pre_commit", "validate-manifest", str(REPO / ".pre-commit-hooks.yaml")],
                   check=True, capture_output=True, timeout=60)


def test_try_repo_passes_good_posts_and_fails_bad_ones(hook_repo: Path, archive_repo: Path) -> None:
    good = try_repo(hook_repo, archive_repo, "_posts/2022-06-01-202206010001.md",
                    "old_post/2022-05-01-202205010001.md", "README.md")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "newsctl validate" in good.stdout and "Passed" in good.stdout

    bad = archive_repo / "_posts" / "2022-06-02-202205010001.md"  # the id of the old post, an empty title
    bad.write_text(post_text(title="", date="2022-06-02 09:00:00 +0800", body="六月二日的稿件。"), encoding="utf-8")
    git("add", "-A", cwd=archive_repo)
    failed = try_repo(hook_repo, archive_repo, "_posts/2022-06-02-202205010001.md")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "Failed" in failed.stdout
    assert "_posts/2022-06-02-202205010001.md:3:8: NC303 title is empty" in failed.stdout
    assert "NC601 id is also used by old_post/2022-05-01-202205010001.md" in failed.stdout
