"""The read-ahead of whole-archive reads (newsctl/readahead.py): a hint to the kernel that must
never block, fail or change a result, whatever the archive holds."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Cli, post_text

import newsctl.validate
from newsctl.readahead import MIN_FILES, read_ahead


def odd_files(folder: Path) -> list[str]:
    """Regular posts and, among them, what a read must not block on or trip over."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(MIN_FILES * 2):
        path = folder / f"2022-06-01-{number:04d}.md"
        path.write_text(post_text(title=f"第{number}篇", post_id=f"{number:04d}"), encoding="utf-8")
        paths.append(str(path))
    os.mkfifo(folder / "2022-06-01-fifo.md")  # opened without O_NONBLOCK, this would wait for a writer
    (folder / "2022-06-01-dir.md").mkdir()
    (folder / "2022-06-01-dangling.md").symlink_to("nowhere.md")
    paths[5:5] = [str(folder / name) for name in ("2022-06-01-fifo.md", "2022-06-01-dir.md",
                                                  "2022-06-01-dangling.md", "2022-06-01-missing.md")]
    return paths


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_read_ahead_finishes_over_fifos_directories_and_missing_files(tmp_path: Path, threads: int) -> None:
    started = read_ahead(odd_files(tmp_path / "_posts"), chunk_size=10, threads=threads)
    assert len(started) == threads
    for thread in started:
        thread.join(timeout=20)
        assert not thread.is_alive(), "the read-ahead blocked"


def test_a_few_files_start_no_thread(tmp_path: Path) -> None:
    assert read_ahead(odd_files(tmp_path / "_posts")[:MIN_FILES - 1]) == []


def test_validate_with_workers_and_read_ahead_reports_what_it_reports_without(
        cli: Cli, make_archive: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_archive({})
    odd_files(root / "_posts")

    def found() -> list[tuple[str, str]]:
        result = cli("--root", root, "validate", "--format", "json", "--no-cache")
        assert result.code == 1, result
        return sorted((Path(str(f["path"])).name, str(f["code"])) for f in json.loads(result.stdout))

    serial = found()
    monkeypatch.setattr(newsctl.validate, "PARALLEL_THRESHOLD", 10)
    monkeypatch.setattr(newsctl.validate, "FILES_PER_TASK", 16)
    assert found() == serial
    assert ("2022-06-01-fifo.md", "NC100") in serial


def test_no_thread_to_be_had_is_no_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    def refuse(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", refuse)  # as under a pids limit
    assert read_ahead(odd_files(tmp_path / "_posts"), chunk_size=10, threads=2) == []
