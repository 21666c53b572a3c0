"""fsutil's writes and paths' display, on real files in tmp_path."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from newsctl.fsutil import atomic_write, write_new_file
from newsctl.paths import archive_path, shown_path


def umasked(mode: int) -> int:
    umask = os.umask(0)
    os.umask(umask)
    return mode & ~umask


def test_atomic_write_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "post.md"
    target.write_bytes(b"old\n")
    os.chmod(target, 0o640)
    atomic_write(target, b"new\n", keep_mode=True)
    assert target.read_bytes() == b"new\n" and stat.S_IMODE(target.stat().st_mode) == 0o640
    atomic_write(target, b"newer\n", durable=False)
    assert target.read_bytes() == b"newer\n" and stat.S_IMODE(target.stat().st_mode) == umasked(0o666)
    assert [p.name for p in tmp_path.iterdir()] == ["post.md"]


def test_a_failed_atomic_write_leaves_the_old_file_and_nothing_else(tmp_path: Path) -> None:
    target = tmp_path / "post.md"
    target.write_bytes(b"old\n")
    (tmp_path / "folder").mkdir()
    with pytest.raises(IsADirectoryError):  # the rename fails: a folder stands at the name
        atomic_write(tmp_path / "folder", b"new\n")
    with pytest.raises(FileNotFoundError):
        atomic_write(tmp_path / "missing" / "post.md", b"new\n")
    assert target.read_bytes() == b"old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder", "post.md"]


def test_write_new_file_never_replaces_and_creates_the_folder(tmp_path: Path) -> None:
    taken = tmp_path / "taken.md"
    taken.write_bytes(b"theirs\n")
    with pytest.raises(FileExistsError):
        write_new_file(taken, b"ours\n")
    assert taken.read_bytes() == b"theirs\n"
    fresh = tmp_path / "new" / "folder" / "fresh.md"
    write_new_file(fresh, b"ours\n")
    assert fresh.read_bytes() == b"ours\n" and stat.S_IMODE(fresh.stat().st_mode) == umasked(0o666)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["folder", "fresh.md", "new", "taken.md"]


def test_a_file_where_the_folder_should_be_is_not_an_existing_post(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_bytes(b"")
    with pytest.raises(NotADirectoryError):
        write_new_file(tmp_path / "blocker" / "post.md", b"ours\n")


def test_shown_path_is_relative_below_the_working_folder_else_absolute(tmp_path: Path) -> None:
    cwd = str(tmp_path / "work")
    assert shown_path(tmp_path / "work" / "_posts" / "a.md", cwd) == "_posts/a.md"
    assert shown_path(tmp_path / "workshop" / "a.md", cwd) == str(tmp_path / "workshop" / "a.md")
    assert shown_path("relative/a.md") == "relative/a.md"


def test_archive_path_names_a_post_inside_its_archive(tmp_path: Path) -> None:
    assert archive_path(tmp_path, tmp_path / "_posts" / "a.md") == "_posts/a.md"
    assert archive_path(tmp_path / "_posts", tmp_path / "other.md") == str(tmp_path / "other.md")
