"""The fast paths behind pre-commit's `newsctl validate FILE...` and `newsctl --help`: each gives
exactly what the plain way gives (the time zone read without PyYAML, a post folder searched as
one joined string instead of name by name), and start-up imports only what the command needs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from conftest import Cli, post_text
from hypothesis import given, settings
from hypothesis import strategies as st

from newsctl.background import in_child
from newsctl.config import Settings, quick_timezone, read_jekyll_timezone
from newsctl.discovery import (
    archive_names,
    ending_with,
    find_neighbours,
    neighbours_in_background,
    pack_listing,
    unpack_listing,
)
from newsctl.errors import ConfigError
from newsctl.names import is_neighbour, neighbour_names

PROPERTY_SETTINGS = settings(max_examples=400, deadline=None, derandomize=True)


def yaml_timezone(text: str) -> str | None:
    """What `read_jekyll_timezone` has always returned: PyYAML's reading of the file."""
    data = yaml.safe_load(text)
    return str(data["timezone"]) if isinstance(data, dict) and data.get("timezone") else None


# ---- _config.yml: the time zone without PyYAML --------------------------------------------------------

# (text, whether quick_timezone must vouch for it); either way the answer must be PyYAML's.
CONFIGS = {
    "plain": ("title: 金融消息\ntimezone: Asia/Shanghai\nlang: zh-CN\n", True),
    "double-quoted": ('timezone: "Europe/Berlin"\n', True),
    "single-quoted": ("timezone: 'America/New_York'\n", True),
    "comment-after-value": ("timezone: Asia/Tokyo # the site's zone\n", True),
    "comments-blank-lines-urls": ("# site\n\n   # note\ntimezone: Etc/GMT-8\n\nurl: https://x.org/a:b\n", True),
    "no-final-newline": ("timezone: UTC", True),
    "no-timezone": ("title: 金融消息\nlang: zh-CN\n", True),
    "empty-file": ("", True),
    "empty-value": ("timezone:\n", True),
    "empty-value-with-comment": ("timezone: # none yet\n", True),
    "empty-quoted": ('timezone: ""\n', True),
    "nested-under-another-key": ("defaults:\n  timezone: Asia/Shanghai\n", False),
    "nested-and-top-level": ("sass:\n  timezone: Europe/Paris\ntimezone: Asia/Shanghai\n", False),
    "boolean-word": ("timezone: yes\n", False),
    "null-word": ("timezone: null\n", False),
    "number": ("timezone: 8\n", False),
    "date": ("timezone: 2022-06-01\n", False),
    "escape-in-quotes": ('timezone: "Asia\\/Shanghai"\n', False),
    "twice": ("timezone: UTC\ntimezone: Asia/Shanghai\n", False),
    "anchor-alias-merge": ("base: &b\n  x: 1\ntimezone: Asia/Shanghai\nother:\n  <<: *b\n", False),
    "flow-mapping": ("{timezone: Asia/Shanghai}\n", False),
    "directive": ("%YAML 1.1\n---\ntimezone: Asia/Shanghai\n", False),
    "tag": ("timezone: !!str Asia/Shanghai\n", False),
    "tab-in-a-comment": ("timezone: UTC # the\tzone\n", False),
    "tab-in-quotes": ('timezone: "Asia/\tShanghai"\n', False),
    "crlf": ("timezone: Asia/Shanghai\r\ntitle: x\r\n", False),
    "bom": ("\ufefftimezone: Asia/Shanghai\n", False),
    "block-scalar": ("description: >\n  a site\ntimezone: Asia/Shanghai\n", False),
    "quoted-key": ('"timezone": Asia/Shanghai\n', False),
}


@pytest.mark.parametrize("case", CONFIGS)
def test_time_zone_read_quickly_is_what_yaml_reads(case: str, tmp_path: Path) -> None:
    text, vouched = CONFIGS[case]
    quick = quick_timezone(text)
    assert (quick is not None) == vouched, quick
    if quick is not None:
        assert quick[0] == yaml_timezone(text)
    config = tmp_path / "_config.yml"
    config.write_text(text, encoding="utf-8", newline="")
    assert read_jekyll_timezone(config) == yaml_timezone(text)


def test_a_plain_config_is_read_without_yaml() -> None:
    assert quick_timezone("title: 金融消息\ntimezone: Asia/Shanghai\nlang: zh-CN\n") == ("Asia/Shanghai",)
    assert quick_timezone("timezone: Asia/Shanghai\ndefaults:\n  - scope: {path: ''}\n") is None


INVALID_CONFIGS = {  # text -> where PyYAML reports the problem (line:column)
    "title: a: b\ntimezone: Asia/Shanghai\n": "1:9",
    'timezone: "Asia/Shanghai\ntitle: x\n': "3:1",
    "a:\n  b: 1\n c: 2\ntimezone: UTC\n": "3:2",
    "timezone: UTC\n---\ntimezone: Asia/Shanghai\n": "2:1",
    "- a\ntimezone: UTC\n": "2:1",
    "timezone: =\n": "1:11",
    "title: =\ntimezone: UTC\n": "1:8",
    "title: <<\ntimezone: UTC\n": "1:8",
    "timezone:\tAsia/Shanghai\n": "1:10",
    "title: a\tb\ntimezone: UTC\n": "1:9",
}


@pytest.mark.parametrize("text", INVALID_CONFIGS)
def test_invalid_config_is_left_to_yaml_and_named_with_line_and_column(text: str, cli: Cli,
                                                                       tmp_path: Path) -> None:
    assert quick_timezone(text) is None
    with pytest.raises(yaml.YAMLError):
        yaml.safe_load(text)
    (tmp_path / "_config.yml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="invalid YAML"):
        read_jekyll_timezone(tmp_path / "_config.yml")
    result = cli("--root", tmp_path, "config")
    assert result.code == 2
    assert result.stderr.startswith(f"newsctl: error: {tmp_path / '_config.yml'}:{INVALID_CONFIGS[text]}: "
                                    "invalid YAML: "), result.stderr
    assert len(result.stderr.splitlines()) == 1


CONFIG_PIECES = ["timezone", "title", "on", "<<", "? timezone", ": ", ":", " ", "  ", "\n", "#", " # x",
                 "Asia/Shanghai", "UTC", "yes", "Null", "~", "8", "2022-06-01", '"', "'", "\\", "-", "- ", "---",
                 "&a ", "*a", "!!str ", "{", "}", "[", "]", ",", "|", ">", "%", "@", "`", "=", "金融", "\t",
                 "\r", "\ufeff", "\u3000", "a: b", "x:"]
pieces = st.lists(st.sampled_from(CONFIG_PIECES), max_size=6).map("".join)
config_line = st.one_of(
    st.tuples(st.sampled_from(["timezone", "title", "url", " timezone", "-"]), st.sampled_from([":", ": ", ":  "]),
              st.one_of(st.sampled_from(CONFIG_PIECES), pieces), st.sampled_from(["", " # note", "#x", "  "])
              ).map("".join),
    pieces)


@PROPERTY_SETTINGS
@given(st.lists(config_line, max_size=5).map("\n".join))
def test_quick_time_zone_never_disagrees_with_yaml(text: str) -> None:
    quick = quick_timezone(text)
    if quick is not None:
        assert quick[0] == yaml_timezone(text)  # and so the file is valid YAML


# ---- post folders: names compared in C ----------------------------------------------------------------

name_text = st.text(st.characters(exclude_characters="\0", exclude_categories=["Cs"]), max_size=6)
file_names = st.one_of(name_text, st.sampled_from(["a.md", "b.md", ".md", "md", "x.md\n", "c.mdx", "d.MD"]))


@PROPERTY_SETTINGS
@given(names=st.lists(file_names, max_size=8), suffix=st.sampled_from([".md", "md", "", "d", ".md\n"]))
def test_names_ending_with_a_suffix(names: list[str], suffix: str) -> None:
    selected = ending_with(names, suffix)
    assert selected == [name for name in names if name.endswith(suffix)]
    assert (selected is names) == all(name.endswith(suffix) for name in names)


DAYS = ["2022-06-01", "2022-06-02", "2021-12-31"]
IDS = ["202206010001", "1", "12", "abc", "2022-06", "06-01-1", "x.md", "", "-1"]
neighbour_name = st.tuples(
    st.sampled_from(["", "-", "--"]),
    st.sampled_from([*DAYS, "2022-06-0", "20220601", ""]),
    st.sampled_from(["-", "", "_"]),
    st.one_of(st.sampled_from(IDS), name_text),
    st.sampled_from([".md", "", ".md.md", ".txt", "\n.md"]),
).map("".join)


@PROPERTY_SETTINGS
@given(names=st.lists(neighbour_name, max_size=30, unique=True),
       days=st.sets(st.sampled_from(DAYS), max_size=2), ids=st.sets(st.sampled_from(IDS), max_size=3))
def test_neighbours_found_in_the_joined_names_are_those_found_one_by_one(
        names: list[str], days: set[str], ids: set[str]) -> None:
    assert neighbour_names("\0".join(names), days, ids) == [name for name in names if is_neighbour(name, days, ids)]


def test_archive_names_lists_each_post_once_in_every_folder(tmp_path: Path) -> None:
    root = tmp_path / "site"
    files = ["_posts/2022-06-01-a.md", "_posts/2022-06-02-b.md", "_posts/README.txt", "_posts/2022/06/c.md",
             "_posts/2022/notes.txt", "old_post/d.md", "old_post/more/e.md", "other/f.md"]
    for rel in files:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("x", encoding="utf-8")
    os.symlink(root / "other", root / "_posts" / "linked", target_is_directory=True)  # never followed
    base = str(root)

    def listed(posts: list[str], trust_md_names: bool) -> list[str]:
        pairs = archive_names(Settings(root=root, posts=posts), trust_md_names=trust_md_names)
        assert all(folder.startswith(base) and names for folder, names in pairs)
        return [f"{folder}/{name}"[len(base) + 1:] for folder, names in pairs for name in names]

    for trust in (True, False):
        both = listed(["_posts/**/*.md", "old_post/**/*.md", "_posts/**/*.md"], trust)
        assert sorted(both) == ["_posts/2022-06-01-a.md", "_posts/2022-06-02-b.md", "_posts/2022/06/c.md",
                                "old_post/d.md", "old_post/more/e.md"]
        assert sorted(listed(["_posts/**/*"], trust)) == sorted(  # the symlink is a name, not a folder
            [rel for rel in files if rel.startswith("_posts/")] + ["_posts/linked"])
        assert sorted(listed(["_posts/*.md"], trust)) == ["_posts/2022-06-01-a.md", "_posts/2022-06-02-b.md"]


def test_given_files_meet_same_day_and_same_id_posts_however_named(
        cli: Cli, make_archive: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    filler = {f"old_post/2022-05-{1 + i % 28:02d}-{i}1.md": post_text(
        title=f"旧稿{i}", date=f"2022-05-{1 + i % 28:02d} 08:00:00 +0800", body=f"旧稿{i}的正文。") for i in range(60)}
    root = make_archive({
        **filler,
        "_posts/2022-06-03-1.md": post_text(title="新稿", date="2022-06-03 09:00:00 +0800", body="新稿的正文。"),
        "old_post/1.md": post_text(title="无日期", date="2022-04-01 09:00:00 +0800", body="无日期的正文。"),
        "old_post/--1.md": post_text(title="横线", date="2022-04-02 09:00:00 +0800", body="横线的正文。"),
        "old_post/2021-01-01-1.md": post_text(title="同号", date="2021-01-01 09:00:00 +0800", body="同号的正文。"),
        "old_post/2022-06-03-copy.md": post_text(title="副本", date="2022-06-03 10:00:00 +0800",
                                                 body="新稿的正文。"),
        "old_post/2022-06-031.md": post_text(title="近似", date="2022-04-03 09:00:00 +0800", body="近似的正文。"),
    })
    monkeypatch.chdir(root)
    result = cli("validate", "--format", "json", "_posts/2022-06-03-1.md")
    found = {f["code"]: f["message"] for f in json.loads(result.stdout)}
    assert found.keys() == {"NC601", "NC603"}, found
    assert found["NC603"] == "same body text as old_post/2022-06-03-copy.md"
    same_id = found["NC601"].removeprefix("id is also used by ").split(", ")  # in the folder's listing order
    assert sorted(same_id) == ["old_post/--1.md", "old_post/1.md", "old_post/2021-01-01-1.md"], found
    assert result.code == 1


# ---- start-up imports ---------------------------------------------------------------------------------

def imported_modules(*args: str, cwd: Path) -> set[str]:
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "newsctl", *args], cwd=cwd,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return {line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}


def test_precommit_validate_imports_no_worker_pool_toml_or_frontmatter(
        make_archive: Callable[..., Path]) -> None:
    root = make_archive({"_posts/2022-06-01-1.md": post_text()})
    imported = imported_modules("validate", "_posts/2022-06-01-1.md", cwd=root)
    assert "newsctl.validate" in imported  # (json is imported: the fact cache is JSON, ~2 ms)
    assert not imported & {"concurrent.futures", "multiprocessing", "tomllib", "tomli", "frontmatter", "tempfile"}


def test_an_update_imports_whoosh_without_asyncio_urllib_or_rich(make_archive: Callable[..., Path]) -> None:
    root = make_archive({"_posts/2022-06-01-1.md": post_text()})
    subprocess.run([sys.executable, "-m", "newsctl", "index"], cwd=root, capture_output=True, check=True, timeout=120)
    (root / "_posts/2022-06-02-2.md").write_text(post_text(date="2022-06-02 08:00:00 +0800"), encoding="utf-8")
    imported = imported_modules("index", cwd=root)  # stderr is a pipe: no progress bar
    assert {"whoosh.reading", "whoosh.compat"} <= imported
    assert not {name for name in imported if name.split(".")[0] in ("asyncio", "rich", "cached_property")}
    assert "urllib.request" not in imported


def test_whooshs_stand_in_imports_leave_the_real_modules_importable() -> None:
    code = """
import sys
import newsctl.engine.codec
assert "cached_property" not in sys.modules and "urllib.request" not in sys.modules
import cached_property, urllib.request
assert callable(cached_property.threaded_cached_property) and callable(urllib.request.urlopen)
import whoosh.compat, whoosh.reading
print(whoosh.reading.SegmentReader.deleted_docs_set.__class__.__module__)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "functools"


def test_help_imports_nothing_of_the_archive_or_yaml(tmp_path: Path) -> None:
    imported = imported_modules("--help", cwd=tmp_path)
    assert "typer" in imported
    assert not {name for name in imported if name.split(".")[0] in ("yaml", "zoneinfo", "rich")}
    assert not {name for name in imported if name.startswith("newsctl.")} - {"newsctl.cli", "newsctl.errors"}


# ---- work in a forked child -------------------------------------------------------------------------

def test_a_child_sends_whole_messages_in_order() -> None:
    big = bytes(range(256)) * 20_000  # far beyond a pipe's buffer

    def work(send: Callable[[bytes], None]) -> None:
        for message in (b"first", b"", big):
            send(message)

    with in_child(work) as child:
        assert [child.receive(), child.receive(), child.receive()] == [b"first", b"", big]
        assert child.receive() is None
    assert child.finish()


@pytest.mark.parametrize("how", ["raises", "killed"])
def test_a_failed_child_reads_as_none(how: str) -> None:
    def work(send: Callable[[bytes], None]) -> None:
        send(b"whole")
        if how == "killed":
            os.kill(os.getpid(), 9)
        raise RuntimeError("the child fails after its first message")

    with in_child(work) as child:
        assert child.receive() == b"whole"
        assert child.receive() is None
    assert not child.finish()


def test_a_parent_leaving_early_does_not_wait_for_a_blocked_child() -> None:
    with pytest.raises(KeyError), in_child(lambda send: send(b"x" * 10_000_000)):
        raise KeyError("the parent fails before it reads")  # leaving closes the pipe: the child ends


folder_name = st.text(st.characters(exclude_characters="\0/", exclude_categories=["Cs"]), min_size=1)
undecodable = st.binary(min_size=1).filter(lambda raw: b"\0" not in raw and b"/" not in raw).map(os.fsdecode)


@PROPERTY_SETTINGS
@given(st.lists(st.tuples(folder_name.map("/".__add__), st.lists(folder_name | undecodable, min_size=1))))
def test_a_listing_survives_packing(listing: list[tuple[str, list[str]]]) -> None:
    assert unpack_listing(pack_listing(listing)) == listing


def test_neighbours_found_in_the_background_are_those_found_here(tmp_path: Path) -> None:
    names = ["2022-06-01-a.md", "2022-06-01-b.md", "2022-06-02-a.md", "2022-06-02-c.md", "2022-06-03-d.md",
             "a.md", "--c.md", "2022-06-03-a.md.bak"]
    for name in names:
        (tmp_path / "_posts" / name).parent.mkdir(exist_ok=True)
        (tmp_path / "_posts" / name).write_text("x", encoding="utf-8")
    settings = Settings(root=tmp_path)
    given = [tmp_path / "_posts/2022-06-01-a.md", tmp_path / "_posts/2022-06-02-c.md"]
    asked = [({"2022-06-01", "2022-06-02"}, {"a", "c"}),  # what the names give: the child's answer
             ({"2022-06-01"}, {"c"}),  # part of it: filtered from the child's answer
             ({"2022-06-03"}, {"a"})]  # another day: searched here
    with neighbours_in_background(settings, given, use_cache=True) as find:
        for days, ids in asked:
            assert find(days, ids) == find_neighbours(settings, days, ids)
    assert {name for _, found in find_neighbours(settings, *asked[0]) for name in found} == {
        "2022-06-01-a.md", "2022-06-01-b.md", "2022-06-02-a.md", "2022-06-02-c.md", "a.md", "--c.md"}
