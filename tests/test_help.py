"""`newsctl help COMMAND` and the man page, both generated from the CLI itself: every option in
`help` is a real option, and every example in it parses (the read-only ones also run)."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import typer
from conftest import SAMPLE_POSTS, Cli

from newsctl.cli import app

COMMANDS = ["add", "validate", "index", "search", "show", "stats", "config", "rules", "trend", "edit"]
READ_ONLY = {"search", "show", "stats", "config", "rules", "trend", "validate"}


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("help") / "archive"
    shutil.copytree(SAMPLE_POSTS, root, ignore=shutil.ignore_patterns(".newsctl"))
    assert Cli()("--root", root, "index", "--quiet").code == 0
    return root


def examples(command: str) -> list[str]:
    """The example command lines of `newsctl help COMMAND` (the lines after 'Examples:')."""
    out = Cli()("help", command).stdout
    assert "Examples:" in out, out
    block = out[out.index("Examples:"):].splitlines()[1:]
    found = []
    for line in block:
        if not line.strip():
            if found:
                break
            continue
        stripped = line.strip()
        if stripped.startswith("$ "):
            found.append(stripped[2:])
    return found


def test_help_without_a_command_lists_the_commands() -> None:
    result = Cli()("help")
    assert result.code == 0
    for command in COMMANDS:
        assert command in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_help_of_each_command_has_usage_options_and_examples(command: str) -> None:
    result = Cli()("help", command)
    assert result.code == 0, result
    assert f"newsctl {command}" in result.stdout
    options = {param.opts[0] for param in typer.main.get_command(app).commands[command].params  # type: ignore[attr-defined]
               if param.opts[0].startswith("--")}
    for option in options:
        assert option in result.stdout, option
    assert examples(command), result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_example_parses(command: str) -> None:
    """Each example's words are accepted by the command's own parser (a renamed option fails here)."""
    group = typer.main.get_command(app)
    for example in examples(command):
        pipeline = example.split(" | ")
        words = shlex.split(next(part for part in pipeline if part.lstrip().startswith("newsctl")))
        assert words[0] == "newsctl", example
        words = words[1:]
        while words and words[0] == "--root":  # the global option
            words = words[2:]
        assert words[0] == command, example
        sub = group.commands[command]  # type: ignore[attr-defined]
        sub.make_context(command, words[1:])  # raises click's UsageError on a bad option


@pytest.mark.parametrize("command", sorted(READ_ONLY))
def test_read_only_examples_run(indexed: Path, command: str) -> None:
    for example in examples(command):
        words = shlex.split(example.split(" | ")[0])[1:]
        result = Cli()("--root", indexed, *words)
        assert result.code in (0, 1), (example, result)


def test_help_of_an_unknown_command_suggests() -> None:
    result = Cli()("help", "serch")
    assert result.code == 2
    assert "search" in result.stderr


def test_man_page_is_generated_from_the_cli(tmp_path: Path) -> None:
    result = Cli()("help", "--man")
    assert result.code == 0, result
    page = result.stdout
    assert page.startswith(".TH NEWSCTL 1")
    for section in (".SH NAME", ".SH SYNOPSIS", ".SH COMMANDS", ".SH EXIT STATUS", ".SH EXAMPLES"):
        assert section in page
    for command in COMMANDS:
        assert f"newsctl {command}" in page or f"\\fB{command}\\fR" in page
    assert "--limit" in page.replace("\\-", "-")
    if shutil.which("man") and shutil.which("groff"):
        target = tmp_path / "newsctl.1"
        target.write_text(page, encoding="utf-8")
        rendered = subprocess.run(["man", "-l", str(target)], capture_output=True, text=True, timeout=60,
                                  env={"MANPAGER": "cat", "PAGER": "cat", "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
        assert rendered.returncode == 0, rendered.stderr
        assert "EXIT STATUS" in rendered.stdout and "trend" in rendered.stdout
