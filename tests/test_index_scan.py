"""How `newsctl index` finds what changed: the stat scan (in one process or split with a forked
child), the binary manifest, and the alignment of the previous listing with the new one."""

from __future__ import annotations

import os
from array import array
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Cli, post_text
from hypothesis import given
from hypothesis import strategies as st
from test_index import SUMMARY, found
from test_index import index as run_index

from newsctl.engine import scan as scan_module
from newsctl.engine.plan import common_ends
from newsctl.engine.store import Manifest


@pytest.fixture(params=["one process", "forked child"])
def stat_split(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with the stat calls in this process, and again shared with a forked child."""
    if request.param == "forked child":
        if not hasattr(os, "fork"):
            pytest.skip("no fork() on this platform")
        monkeypatch.setattr(scan_module, "STAT_SPLIT_MIN", 1)
    return str(request.param)


def archive_of_twenty(make_archive: Callable[..., Path]) -> Path:
    files = {f"old_post/2022-05-{day:02d}-old{day}.md": post_text(title=f"旧帖{day}", body=f"旧闻第{day}条。")
             for day in range(1, 17)}
    files |= {f"_posts/2022-06-0{day}-new{day}.md": post_text(title=f"新帖{day}", body=f"新闻第{day}条。")
              for day in range(1, 5)}
    return make_archive(files)


def test_every_kind_of_change_is_found(cli: Cli, make_archive: Callable[..., Path], stat_split: str) -> None:
    root = archive_of_twenty(make_archive)
    assert SUMMARY.format(20, 0, 0, 0) in run_index(cli, root)
    old_post = root / "old_post"
    folder_mtime = old_post.stat().st_mtime_ns
    edited = old_post / "2022-05-03-old3.md"  # written in place: its folder's mtime does not move
    with edited.open("a", encoding="utf-8") as handle:
        handle.write("追加：雪豹现身祁连山。\n")
    assert old_post.stat().st_mtime_ns == folder_mtime
    (root / "_posts/2022-06-05-new5.md").write_text(post_text(title="新帖5", body="白鲟。"), encoding="utf-8")
    (old_post / "2022-05-07-old7.md").unlink()
    (old_post / "2022-05-09-old9.md").rename(old_post / "2022-05-09-moved9.md")
    err = run_index(cli, root)
    assert SUMMARY.format(2, 1, 2, 0) + ", 17 unchanged; 3 read" in err
    assert found(cli, root, "雪豹") == ["old_post/2022-05-03-old3.md"]
    assert found(cli, root, "白鲟") == ["_posts/2022-06-05-new5.md"]
    assert found(cli, root, "旧闻第7条") == []
    assert found(cli, root, "旧闻第9条") == ["old_post/2022-05-09-moved9.md"]
    assert "0 read" in run_index(cli, root)


def test_an_in_place_edit_of_the_same_size_is_found(cli: Cli, make_archive: Callable[..., Path],
                                                    stat_split: str) -> None:
    root = archive_of_twenty(make_archive)
    run_index(cli, root)
    post = root / "old_post/2022-05-11-old11.md"
    text = post.read_text(encoding="utf-8")
    info = post.stat()
    post.write_text(text.replace("旧闻", "要闻"), encoding="utf-8")  # same length, new mtime
    os.utime(post, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))
    assert post.stat().st_size == info.st_size
    assert SUMMARY.format(0, 1, 0, 0) in run_index(cli, root)
    assert found(cli, root, "要闻第11条") == ["old_post/2022-05-11-old11.md"]


def test_a_file_that_cannot_be_stat_ed_is_skipped_then_found_when_it_appears(
        cli: Cli, make_archive: Callable[..., Path], stat_split: str) -> None:
    root = archive_of_twenty(make_archive)
    link = root / "_posts/2022-06-06-later.md"
    link.symlink_to(root / "elsewhere.md")  # dangling
    err = run_index(cli, root)
    assert "_posts/2022-06-06-later.md: skipped: NC100" in err
    (root / "elsewhere.md").write_text(post_text(title="后来的帖子", body="中华鲟洄游。"), encoding="utf-8")
    assert SUMMARY.format(1, 0, 0, 0) in run_index(cli, root)
    assert found(cli, root, "中华鲟") == ["_posts/2022-06-06-later.md"]


def test_a_file_name_that_is_not_utf8_survives_the_manifest(cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = archive_of_twenty(make_archive)
    odd = os.fsencode(root / "_posts") + b"/2022-06-07-\xff\xfe.md"
    try:
        with open(odd, "wb") as handle:
            handle.write(post_text(title="怪名字", body="穿山甲。").encode())
    except OSError:
        pytest.skip("this file system refuses names that are not UTF-8")
    err = run_index(cli, root)
    assert SUMMARY.format(20, 0, 0, 1) in err
    assert ": skipped: its file name is not valid UTF-8: rename the file" in err
    assert "0 read" in run_index(cli, root)  # the manifest gave the same name back
    os.unlink(odd)
    assert SUMMARY.format(0, 0, 0, 0) + ", 20 unchanged; 0 read" in run_index(cli, root)


def test_the_manifest_round_trips_and_refuses_a_truncated_file() -> None:
    manifest = Manifest(["_posts/a.md", "old_post/\udcff.md", ""], array("q", [1, -1, 3]), array("q", [4, -1, 6]),
                        bytes(range(48)), {"old_post/\udcff.md": "NC100 cannot read file"})
    data = manifest.to_bytes()
    again = Manifest.from_bytes(data)
    assert again == manifest
    assert Manifest.from_bytes(data[:-1]) is None
    assert Manifest.from_bytes(Manifest.empty().to_bytes()) == Manifest.empty()


names = st.lists(st.sampled_from("abcdefgh"), max_size=12, unique=True)


@given(names, names, st.integers(0, 12), st.integers(0, 12))
def test_common_ends_are_the_longest_shared_start_and_end(first: list[str], second: list[str],
                                                          cut: int, more: int) -> None:
    new, old = first[:cut] + second, first[:cut] + second[:more]
    head, tail = common_ends(new, old)
    assert new[:head] == old[:head]
    assert head == min(len(new), len(old)) or new[head] != old[head]
    assert head + tail <= min(len(new), len(old))
    assert new[len(new) - tail:] == old[len(old) - tail:]
    rest = min(len(new), len(old)) - head
    assert tail == rest or new[len(new) - tail - 1] != old[len(old) - tail - 1]
