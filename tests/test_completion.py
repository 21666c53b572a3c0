"""Shell completion (Typer's) for bash, zsh and fish: commands, options, and the archive's own
categories, tags and post ids. Run through the installed `newsctl` script, as shells run it, and
through a real bash that sources the generated script."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SAMPLE_POSTS, Cli

SCRIPT = Path(sys.executable).parent / "newsctl"
pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason="needs the installed newsctl script")


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("completion") / "archive"
    shutil.copytree(SAMPLE_POSTS, root, ignore=shutil.ignore_patterns(".newsctl"))
    assert Cli()("--root", root, "index", "--quiet").code == 0
    return root


def environment(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("_NEWSCTL", "_TYPER", "COMP_"))}
    env["PATH"] = f"{SCRIPT.parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("NEWSCTL_ROOT", None)
    return {**env, **extra}


def complete_bash(words: list[str], cwd: Path | None = None) -> list[str]:
    """What the completion protocol of the bash script answers for the last of `words`."""
    env = environment(_NEWSCTL_COMPLETE="complete_bash", COMP_WORDS=" ".join(words), COMP_CWORD=str(len(words) - 1))
    proc = subprocess.run([str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def complete_zsh(words: list[str], cwd: Path | None = None) -> str:
    env = environment(_NEWSCTL_COMPLETE="complete_zsh", _TYPER_COMPLETE_ARGS=" ".join(words))
    proc = subprocess.run([str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def complete_fish(words: list[str], cwd: Path | None = None) -> list[str]:
    env = environment(_NEWSCTL_COMPLETE="complete_fish", _TYPER_COMPLETE_ARGS=" ".join(words),
                      _TYPER_COMPLETE_FISH_ACTION="get-args")
    proc = subprocess.run([str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return [line.split("\t")[0] for line in proc.stdout.splitlines()]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_completion_script_for_each_shell(shell: str) -> None:
    proc = subprocess.run([str(SCRIPT), "completion", shell], env=environment(), capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "_NEWSCTL_COMPLETE" in proc.stdout
    assert {"bash": "complete -o default -F", "zsh": "compdef", "fish": "complete --command newsctl"}[shell] \
        in proc.stdout


def test_an_unknown_shell_is_a_usage_error() -> None:
    proc = subprocess.run([str(SCRIPT), "completion", "tcsh"], env=environment(), capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2


def test_typer_show_completion_detects_bash() -> None:
    if not shutil.which("bash"):
        pytest.skip("bash is absent")
    proc = subprocess.run(["bash", "-c", "newsctl --show-completion"], env=environment(), capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "_NEWSCTL_COMPLETE=complete_bash" in proc.stdout


def test_commands_and_options_complete() -> None:
    assert "search" in complete_bash(["newsctl", "se"])
    assert {"search", "show", "stats"} <= set(complete_bash(["newsctl", "s"]))
    assert "--limit" in complete_bash(["newsctl", "search", "--li"])
    assert "--format" in complete_bash(["newsctl", "validate", "--fo"])
    assert "--category" in complete_zsh(["newsctl", "search", "--ca"])
    assert "stats" in complete_fish(["newsctl", "sta"])
    assert "trend" in complete_bash(["newsctl", "tr"]) and "edit" in complete_bash(["newsctl", "ed"])


def test_option_values_complete() -> None:
    assert set(complete_bash(["newsctl", "search", "--format", ""])) >= {"table", "plain", "json", "csv", "line"}
    assert "sarif" in complete_bash(["newsctl", "validate", "--format", "s"])


def test_categories_tags_and_ids_come_from_the_archive(indexed: Path) -> None:
    assert {"emnews", "xinhuashe"} <= set(complete_bash(["newsctl", "--root", str(indexed), "search",
                                                         "--category", ""]))
    assert complete_bash(["newsctl", "--root", str(indexed), "search", "--category", "xin"]) == ["xinhuashe"]
    assert "东财滚动新闻" in complete_bash(["newsctl", "--root", str(indexed), "search", "--tag", ""])
    ids = complete_bash(["newsctl", "--root", str(indexed), "show", "2022060123981"])
    assert "202206012398184598" in ids and all(i.startswith("2022060123981") for i in ids)
    # the archive found from the working folder, as every command finds it
    assert "202206012398184598" in complete_bash(["newsctl", "show", "2022060123981"], cwd=indexed)
    assert "202206012398184598" in complete_bash(["newsctl", "edit", "2022060123981"], cwd=indexed)


def test_completion_outside_an_archive_is_quiet(tmp_path: Path) -> None:
    assert complete_bash(["newsctl", "show", "2022"], cwd=tmp_path) in ([], [""])
    assert complete_bash(["newsctl", "search", "--category", ""], cwd=tmp_path) in ([], [""])


def test_a_real_bash_completes_through_the_generated_script(indexed: Path) -> None:
    if not shutil.which("bash"):
        pytest.skip("bash is absent")
    script = ('source <(newsctl completion bash)\n'
              'COMP_WORDS=(newsctl se); COMP_CWORD=1; _newsctl_completion newsctl; printf "%s\\n" "${COMPREPLY[@]}"\n'
              f'COMP_WORDS=(newsctl --root {indexed} search --category e); COMP_CWORD=5; '
              '_newsctl_completion newsctl; printf "%s\\n" "${COMPREPLY[@]}"\n')
    proc = subprocess.run(["bash", "-c", script], env=environment(), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["search", "emnews"]


@pytest.mark.parametrize(("shell", "mark"), [("zsh", "compdef"), ("fish", "complete --command newsctl"),
                                             ("bash", "complete -o default -F")])
def test_show_completion_takes_a_shell_name(shell: str, mark: str) -> None:
    proc = subprocess.run([str(SCRIPT), "--show-completion", shell], env=environment(), capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert mark in proc.stdout
