"""The code stays ruff- and mypy-clean: the same checks a contributor runs."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from conftest import REPO


def _run(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", module, *args], cwd=REPO, capture_output=True, text=True,
                          timeout=240)


@pytest.mark.skipif(shutil.which("ruff") is None and _run("ruff", "--version").returncode != 0,
                    reason="ruff is not installed")
def test_ruff_is_clean() -> None:
    result = _run("ruff", "check", "newsctl", "tests", "benchmarks")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean() -> None:
    result = _run("mypy", "newsctl")
    assert result.returncode == 0, result.stdout + result.stderr
