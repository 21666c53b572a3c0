"""`newsctl edit ID`: open a post in $VISUAL/$EDITOR, then validate it as saved (zk's `edit`,
jekyll-compose's `open`). The editor writes the file itself; newsctl only reads it afterwards,
so nothing of the user's edit can be lost here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from newsctl.editor import editor_command, run_editor
from newsctl.errors import UsageError

if TYPE_CHECKING:
    from newsctl.config import Settings
    from newsctl.validate import Report


@dataclass(frozen=True)
class EditResult:
    path: Path
    changed: bool  # the file's bytes differ from before the editor ran
    report: Report  # `validate PATH` of the file as saved


def run(settings: Settings, post: str) -> EditResult:
    """Resolve `post` (an id or a path, as `show` takes it), edit it, validate it."""
    from newsctl.commands.show import resolve_post

    path = resolve_post(settings, post)
    command = editor_command()
    if command is None:
        raise UsageError("no editor: set $VISUAL or $EDITOR (e.g. export EDITOR=vi)")
    before = _read(path)
    run_editor(command, path, consequence=f"{path} is as the editor left it; check it with `newsctl validate`")
    return EditResult(path, _read(path) != before, validate_one(settings, path))


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def validate_one(settings: Settings, path: Path) -> Report:
    from newsctl.commands import validate

    return validate.run(settings, paths=[path], select=[], ignore=[])
