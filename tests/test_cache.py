"""`validate FILE...` keeps the facts of the given files' same-day neighbours in
`.newsctl/cache/` (newsctl/cache.py): trusted while a post's size and mtime are unchanged,
never for a post changed in the last seconds, ignored when damaged, and never written outside
an archive or with --no-cache."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Cli, post_text

OLD = 1_600_000_000  # 2020-09-13: far from "the last seconds"
TARGET = "_posts/2022-06-01-new.md"
NEIGHBOUR = "old_post/2022-06-01-old.md"
COPY = "今日港口吞吐量回升"
OTHER = "今日港口吞吐量下降"  # the same number of bytes as COPY


def archive_of(make_archive: Callable[..., Path], neighbour_body: str) -> Path:
    root = make_archive({
        TARGET: post_text(title="新稿", body=COPY),
        NEIGHBOUR: post_text(title="旧稿", body=neighbour_body),
        "old_post/2022-06-02-later.md": post_text(title="次日", date="2022-06-02 09:00:00 +0800"),
    })
    for path in root.rglob("*.md"):
        os.utime(path, (OLD, OLD))
    return root


def codes(cli: Cli, root: Path, *options: str) -> list[str]:
    # (NC604, near copies, reads the posts it names: this test is about the exact-copy facts)
    result = cli("--root", root, "validate", "--format", "json", "--ignore", "NC604", *options, root / TARGET)
    return sorted(str(finding["code"]) for finding in json.loads(result.stdout))


def cache_files(root: Path) -> list[Path]:
    return sorted((root / ".newsctl" / "cache").glob("facts-*/*.json"))


def rewrite(path: Path, text: str, mtime: int) -> None:
    path.write_text(text, encoding="utf-8")
    os.utime(path, (mtime, mtime))


def test_the_facts_of_the_day_are_recorded_and_trusted_while_size_and_mtime_hold(
        cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = archive_of(make_archive, OTHER)
    assert codes(cli, root) == []
    [day_file] = cache_files(root)
    assert day_file.name == "2022-06-01.json"
    assert sorted(json.loads(day_file.read_text(encoding="utf-8"))) == [TARGET, NEIGHBOUR]
    assert (root / ".newsctl").stat().st_mode & 0o777 == 0o700

    # The neighbour becomes a copy of the target, with the same size and mtime: the cache answers
    # for it (the trade-off git and ruff make), and --no-cache reads it.
    rewrite(root / NEIGHBOUR, post_text(title="旧稿", body=COPY), OLD)
    assert codes(cli, root) == []
    assert codes(cli, root, "--no-cache") == ["NC603"]
    # Any change of mtime (or size) is seen.
    rewrite(root / NEIGHBOUR, post_text(title="旧稿", body=COPY), OLD + 60)
    assert codes(cli, root) == ["NC603"]
    rewrite(root / NEIGHBOUR, post_text(title="旧稿", body=OTHER + "。"), OLD + 60)
    assert codes(cli, root) == []


def test_a_post_changed_in_the_last_seconds_is_not_recorded(cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = archive_of(make_archive, OTHER)
    (root / NEIGHBOUR).write_text(post_text(title="旧稿", body=OTHER), encoding="utf-8")  # now
    assert codes(cli, root) == []
    [day_file] = cache_files(root)
    assert list(json.loads(day_file.read_text(encoding="utf-8"))) == [TARGET]
    # Edited again within the same tick, it is still read.
    stamp = os.stat(root / NEIGHBOUR).st_mtime_ns
    (root / NEIGHBOUR).write_text(post_text(title="旧稿", body=COPY), encoding="utf-8")
    os.utime(root / NEIGHBOUR, ns=(stamp, stamp))
    assert codes(cli, root) == ["NC603"]


def test_a_neighbour_whose_name_is_not_utf8_is_recorded_too(cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = archive_of(make_archive, OTHER)
    odd = os.fsencode(root / "old_post") + b"/2022-06-01-\xffodd.md"
    with open(odd, "wb") as handle:
        handle.write(post_text(title="怪名", body=COPY).encode("utf-8"))
    os.utime(odd, (OLD, OLD))
    assert codes(cli, root) == ["NC603"]  # no crash writing the cache, and the copy is found
    [day_file] = cache_files(root)
    assert "old_post/2022-06-01-\udcffodd.md" in json.loads(day_file.read_text(encoding="ascii"))
    assert codes(cli, root) == ["NC603"]  # and read back from it


@pytest.mark.parametrize("damage", [b"", b"{", b"[1, 2]", b'{"old_post/2022-06-01-old.md": 7}',
                                    b'{"old_post/2022-06-01-old.md": [0, 0, 1, 2, 3, 4, 5]}', b"\xff\xfe"])
def test_a_damaged_cache_is_a_miss(cli: Cli, make_archive: Callable[..., Path], damage: bytes) -> None:
    root = archive_of(make_archive, COPY)
    assert codes(cli, root) == ["NC603"]
    [day_file] = cache_files(root)
    day_file.write_bytes(damage)
    assert codes(cli, root) == ["NC603"]


def test_entries_of_the_wrong_type_are_not_trusted(cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = archive_of(make_archive, COPY)
    assert codes(cli, root) == ["NC603"]
    [day_file] = cache_files(root)
    entries = json.loads(day_file.read_text(encoding="utf-8"))
    entries[NEIGHBOUR][-1] = "1"  # body_line must be an int
    entries[NEIGHBOUR][4] = "not the body"
    day_file.write_text(json.dumps(entries), encoding="utf-8")
    assert codes(cli, root) == ["NC603"]


def test_no_cache_is_written_with_no_cache_or_outside_an_archive(
        cli: Cli, make_archive: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = archive_of(make_archive, OTHER)
    assert codes(cli, root, "--no-cache") == []
    assert not (root / ".newsctl").exists()

    loose = tmp_path / "loose"
    loose.mkdir()
    for name in ("2022-06-01-a.md", "2022-06-01-b.md"):
        (loose / name).write_text(post_text(title=name), encoding="utf-8")
        os.utime(loose / name, (OLD, OLD))
    monkeypatch.chdir(loose)
    result = cli("validate", "--format", "json", "2022-06-01-a.md")
    assert result.code == 0, result.stderr
    assert not (loose / ".newsctl").exists()


def test_a_cache_that_cannot_be_written_is_skipped(cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = archive_of(make_archive, OTHER)
    (root / ".newsctl").write_text("a file where the folder would be", encoding="utf-8")  # (root may write anywhere)
    assert codes(cli, root) == []
    rewrite(root / NEIGHBOUR, post_text(title="旧稿", body=COPY), OLD + 60)
    assert codes(cli, root) == ["NC603"]


def test_another_time_zone_starts_another_cache(cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = archive_of(make_archive, OTHER)
    assert codes(cli, root) == []
    (root / "_config.yml").write_text("timezone: Asia/Tokyo\n", encoding="utf-8")
    codes(cli, root)
    assert len({path.parent for path in cache_files(root)}) == 2


# ---- file names per folder ------------------------------------------------------------------------------

def age_folders(root: Path) -> None:
    for folder in (root / "_posts", root / "old_post"):
        os.utime(folder, (OLD, OLD))


def names_files(root: Path) -> list[str]:
    return sorted(path.name for path in (root / ".newsctl" / "cache" / "names").glob("*"))


def test_folder_listings_are_recorded_and_trusted_while_the_folder_mtime_holds(
        cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = archive_of(make_archive, OTHER)
    age_folders(root)
    assert codes(cli, root) == []
    assert names_files(root) == ["_posts", "old_post"]

    # A post with the target's id appears, and the folder's mtime is put back: the recorded
    # listing answers (what any change of the folder prevents), and --no-cache lists it.
    (root / "old_post/2022-05-01-new.md").write_text(post_text(title="五月", date="2022-05-01 09:00:00 +0800"),
                                                     encoding="utf-8")
    age_folders(root)
    assert codes(cli, root) == []
    assert codes(cli, root, "--no-cache") == ["NC601"]
    os.utime(root / "old_post", (OLD + 60, OLD + 60))  # what the creation itself did
    assert codes(cli, root) == ["NC601"]


def test_a_folder_changed_in_the_last_seconds_is_listed_and_not_recorded(
        cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = archive_of(make_archive, OTHER)  # the folders were just written
    assert codes(cli, root) == []
    assert names_files(root) == []
    (root / "old_post/2022-05-01-new.md").write_text(post_text(title="五月"), encoding="utf-8")
    assert codes(cli, root) == ["NC601"]


@pytest.mark.parametrize("damage", [b"", b"\0\0\0\0", b"newsctl-names-1-0\0" * 4, b"\xff\xfe\0x"])
def test_a_damaged_listing_is_a_miss(cli: Cli, make_archive: Callable[..., Path], damage: bytes) -> None:
    root = archive_of(make_archive, OTHER)
    (root / "old_post/2022-05-01-new.md").write_text(post_text(title="五月"), encoding="utf-8")
    age_folders(root)
    assert codes(cli, root) == ["NC601"]
    for path in (root / ".newsctl" / "cache" / "names").glob("*"):
        path.write_bytes(damage)
    assert codes(cli, root) == ["NC601"]
