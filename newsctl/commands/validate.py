"""`newsctl validate`: check posts (the given PATHS against their neighbours, or the whole archive).

This is pre-commit's path: given PATHS, a forked child searches the archive's names for the
neighbours while the rules are imported here (discovery.neighbours_in_background), so the rules,
validate and render modules are imported only inside that `with`.
"""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

from newsctl.config import Settings
from newsctl.discovery import neighbours_in_background

if TYPE_CHECKING:
    from newsctl.validate import Report


def run(settings: Settings, *, paths: list[Path], select: list[str], ignore: list[str], fix: bool = False,
        diff: bool = False, use_cache: bool = True) -> Report:
    """The findings (after --fix, those that remain), ready for render.findings."""
    with neighbours_in_background(settings, paths, use_cache=use_cache) if paths else nullcontext() as find:
        from newsctl.validate import ValidateOptions, run_validate

        options = ValidateOptions(paths=paths, select=select, ignore=ignore, fix=fix, diff=diff, cache=use_cache)
        return run_validate(settings, options, find)
