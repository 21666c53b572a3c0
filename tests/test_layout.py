"""The shape of the code (docs/architecture.md), read from the code: who may import whom, who may
print, how long a module may grow, and that the CLI's format choices are the library's."""

from __future__ import annotations

import ast
import enum
from pathlib import Path
from typing import get_args

import pytest

from newsctl import cli, render
from newsctl.commands.search import SearchFormat
from newsctl.engine.reader import SortOrder

PACKAGE = Path(__file__).resolve().parent.parent / "newsctl"
MAX_LINES = 500
PRINTERS = ("newsctl.cli", "newsctl.render")  # the only modules that write to stdout or stderr


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def runtime_imports(path: Path) -> set[str]:
    """The newsctl modules `path` imports when it runs (lazy imports too; not `if TYPE_CHECKING:`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_only = {id(node) for block in ast.walk(tree) if isinstance(block, ast.If)
                 and isinstance(block.test, ast.Name) and block.test.id == "TYPE_CHECKING"
                 for stmt in block.body for node in ast.walk(stmt)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in found if name in MODULES}


GRAPH = {name: runtime_imports(path) - {name} for name, path in MODULES.items()}


def is_printer(name: str) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in PRINTERS)


def test_no_import_cycle() -> None:
    done: set[str] = set()

    def visit(name: str, trail: list[str]) -> None:
        if name in trail:
            pytest.fail("import cycle: " + " -> ".join([*trail[trail.index(name):], name]))
        if name in done:
            return
        for imported in sorted(GRAPH[name]):
            visit(imported, [*trail, name])
        done.add(name)

    for name in GRAPH:
        visit(name, [])


@pytest.mark.parametrize("name", sorted(MODULES))
def test_only_the_cli_imports_render(name: str) -> None:
    """Stages and commands return results; render/ alone turns them into output."""
    if not is_printer(name):
        assert not {imported for imported in GRAPH[name] if imported.startswith("newsctl.render")}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_only_the_cli_and_render_print(name: str) -> None:
    if is_printer(name):
        return
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        assert not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"), name
        assert not (isinstance(node, ast.Attribute) and node.attr in ("stdout", "stderr")
                    and isinstance(node.value, ast.Name) and node.value.id == "sys"), name
        assert not (isinstance(node, ast.Import | ast.ImportFrom)
                    and "typer" in {getattr(node, "module", None), *(alias.name for alias in node.names)}), name


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_is_longer_than_the_limit(name: str) -> None:
    lines = MODULES[name].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{name} has {lines} lines; split it by concept (docs/architecture.md)"


def test_commands_are_one_module_each_with_run() -> None:
    commands = {name.rsplit(".", 1)[1] for name in MODULES if name.startswith("newsctl.commands.")}
    assert {"add", "validate", "show", "stats", "config", "rules"} <= commands
    for command in commands:
        assert "def run(" in MODULES[f"newsctl.commands.{command}"].read_text(encoding="utf-8"), command


@pytest.mark.parametrize(("choice", "values"), [
    (cli.InfoFormatChoice, render.InfoFormat),
    (cli.FindingFormatChoice, render.FindingFormat),
    (cli.SearchFormatChoice, SearchFormat),
    (cli.SortOrderChoice, SortOrder),
])
def test_the_cli_offers_exactly_the_formats_render_knows(choice: type[enum.Enum], values: object) -> None:
    assert [member.value for member in choice] == list(get_args(values))
