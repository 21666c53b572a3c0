"""Security: YAML in a post cannot run code, ids cannot escape the destination folder, nothing
outside the archive is written, and the index folder is private."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from hostile import build_archive, good_posts, invoke, post_text, run_batch, run_bounded, snapshot

from newsctl.post import read_post

GOOD = good_posts()[0]


def payloads(marker: Path) -> dict[str, str]:
    """Front-matter lines that would create `marker` under an unsafe YAML loader."""
    shell = f"touch {marker}"
    return {
        "apply-os-system": f'title: !!python/object/apply:os.system ["{shell}"]',
        "apply-subprocess": f'title: !!python/object/apply:subprocess.check_call [["touch", "{marker}"]]',
        "new-os-system": f'title: !!python/object/new:os.system ["{shell}"]',
        "apply-exec": f"title: !!python/object/apply:builtins.exec [\"open('{marker}', 'w')\"]",
        "in-tag-list": f'tags: [!!python/object/apply:os.system ["{shell}"]]',
        "in-mapping-key": f'? !!python/object/apply:os.system ["{shell}"]\n: x',
        "state-setter": f'title: !!python/object/new:type\n  args: ["z", !!python/tuple [], {{"x": 1}}]\n'
                        f'  state: !!python/object/apply:os.system ["{shell}"]',
    }


def payload_post(line: str) -> str:
    return (f"---\nlayout: post\n{line}\ndate: 2022-06-01 12:00:32 +0800\ncategories: emnews\n"
            "tags: 东财滚动新闻\n---\n<p>正文。</p>\n\n<http://example.com/a>\n")


@pytest.fixture
def payload_archive(tmp_path: Path) -> tuple[Path, Path, list[str]]:
    marker = tmp_path / "PWNED"
    root = build_archive(tmp_path / "archive", [], [GOOD])
    names = []
    for number, (name, line) in enumerate(payloads(marker).items()):
        rel = f"_posts/2022-06-01-payload{number}-{name}.md"
        (root / rel).write_text(payload_post(line), encoding="utf-8")
        names.append(rel)
    return root, marker, names


COMMANDS = [["validate"], ["validate", "--fix"], ["index", "--quiet"], ["search", "--update", "琥珀湾码头"],
            ["stats", "--format", "json"]]


def test_python_tags_never_run(payload_archive: tuple[Path, Path, list[str]]) -> None:
    """Every command over the payload posts (and show on each): no marker file, no payload rewritten."""
    root, marker, names = payload_archive
    before = snapshot(root)
    shows = [["show", "--no-pager", *flags, rel] for rel in names for flags in ([], ["--raw"])]
    runs = run_batch([["--root", str(root), *command] for command in [*COMMANDS, *shows]], cwd=root)
    for run in runs:
        run.assert_clean(allowed=(0, 1))
    assert not marker.exists(), f"a YAML payload ran: {runs}"
    after = snapshot(root)
    assert all(after[rel] == before[rel] for rel in names), "a payload post was rewritten"


def test_python_tags_are_reported_not_run(payload_archive: tuple[Path, Path, list[str]]) -> None:
    root, marker, names = payload_archive
    run = run_bounded("--root", root, "validate", "--format", "concise", timeout=60)
    assert run.code == 1, run
    for rel in names:
        assert f"{Path(rel).name}:" in run.stdout and "NC204" in run.stdout, run
    assert not marker.exists()


def test_config_with_python_tag_is_a_config_error(tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"
    root = build_archive(tmp_path / "archive", [], [GOOD])
    (root / "_config.yml").write_text(f'timezone: !!python/object/apply:os.system ["touch {marker}"]\n',
                                      encoding="utf-8")
    run = run_bounded("--root", root, "validate", timeout=30)
    run.assert_clean(allowed=(2,))
    assert "_config.yml" in run.stderr and not marker.exists(), run


def test_title_that_looks_like_a_payload_is_stored_as_text(tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"
    root = build_archive(tmp_path / "archive", [])
    title = f'!!python/object/apply:os.system ["touch {marker}"]'
    run = run_bounded("--root", root, "add", "--title", title, "--date", "2022-06-01 10:00:00 +0800",
                      "--category", "emnews", "--tag", "东财", "--id", "payloadtitle", "--source-url",
                      "http://example.com/a", "--body-file", "-", input="正文。".encode(), timeout=30)
    run.assert_clean(allowed=(0,))
    written = root / "_posts" / "2022-06-01-payloadtitle.md"
    assert read_post(written).meta["title"] == title
    runs = run_batch([["--root", str(root), *command] for command in
                      (["validate"], ["index", "--quiet"], ["show", "--no-pager", "payloadtitle"])])
    for run in runs:
        run.assert_clean(allowed=(0,))
    assert title in runs[-1].stdout
    assert not marker.exists()


# ---- ids cannot escape the destination ------------------------------------------------------------

ESCAPING_IDS = ["../evil", "../../evil", "/tmp/newsctl-abs-evil", "a/b", "..", ".", ".hidden", "..\\evil",
                "a\x00b", "evil\n", "", "x" * 300, "~root", "a/../../b", "%2e%2e%2fevil", "ev il"]


@pytest.mark.parametrize("post_id", ESCAPING_IDS, ids=lambda s: repr(s[:20]))
def test_add_refuses_ids_that_leave_the_folder(tmp_path: Path, post_id: str) -> None:
    root = build_archive(tmp_path / "archive", [])
    before = snapshot(tmp_path)
    result = invoke(["--root", root, "add", "--title", "逃逸测试", "--date", "2022-06-01 10:00:00 +0800",
                     "--category", "emnews", "--tag", "东财", "--id", post_id, "--source-url",
                     "http://example.com/a", "--body-file", "-"], input="正文。")
    assert result.code == 2, result
    assert "id" in result.stderr
    assert snapshot(tmp_path) == before
    assert not Path("/tmp/newsctl-abs-evil.md").exists()


def test_feed_ids_that_leave_the_folder_are_refused(tmp_path: Path) -> None:
    import json

    root = build_archive(tmp_path / "archive", [])
    records = [{"title": f"逃逸{n}", "id": post_id, "date": "2022-06-01 10:00:00 +0800", "body": "正文。",
                "url": "http://example.com/a", "category": "emnews", "tag": "东财"}
               for n, post_id in enumerate(ESCAPING_IDS) if post_id]  # an empty id means "make one"
    feed = tmp_path / "feed.jsonl"
    feed.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    before = snapshot(tmp_path)
    run = run_bounded("--root", root, "add", "--from-jsonl", feed, timeout=60)
    run.assert_clean(allowed=(1,))
    assert snapshot(tmp_path) == before, "a feed id wrote a file"
    for number in range(1, len(records) + 1):
        assert f"feed.jsonl:{number}:" in run.stderr, run


def test_fix_replaces_a_symlinked_post_without_writing_outside(tmp_path: Path) -> None:
    """--fix of a post that is a symlink to a file outside the archive leaves that file alone."""
    root = build_archive(tmp_path / "archive", [])
    outside = tmp_path / "outside.md"
    outside.write_bytes(post_text().replace("\n", "\r\n").encode())
    before = outside.read_bytes()
    link = root / "_posts" / "2022-06-01-202206012399054634.md"
    link.symlink_to(outside)
    run = run_bounded("--root", root, "validate", "--fix", timeout=30)
    run.assert_clean(allowed=(0, 1))
    assert outside.read_bytes() == before


# ---- the index folder is private ---------------------------------------------------------------

@pytest.mark.parametrize("umask", [0o022, 0o000], ids=["umask-022", "umask-000"])
def test_index_folder_is_private(tmp_path: Path, umask: int) -> None:
    root = build_archive(tmp_path / "archive", [], good_posts())
    run_bounded("--root", root, "index", "--quiet", timeout=60, umask=umask).assert_clean(allowed=(0,))
    top = root / ".newsctl"
    assert top.is_dir()
    assert stat.S_IMODE(top.stat().st_mode) & 0o077 == 0, oct(top.stat().st_mode)
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames:
            mode = stat.S_IMODE(Path(dirpath, name).stat().st_mode)
            assert mode & 0o077 == 0, (name, oct(mode))
        for name in filenames:
            mode = stat.S_IMODE(Path(dirpath, name).lstat().st_mode)
            if umask == 0o022:
                assert mode & 0o022 == 0, (name, oct(mode))
