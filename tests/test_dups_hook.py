"""The pre-commit check against the whole archive as the archive changes under it: the store's
recent layer (newsctl/dups/recent.py) must give exactly what reading every post gives
(`validate --no-cache`), through additions, reposts, edits, removals, moves between folders
and new subfolders, and must not read or write anything when nothing changed."""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Cli, post_text

from newsctl.config import load_settings
from newsctl.dups import recent
from newsctl.dups.store import Store

OLD = 1_600_000_000  # mtimes older than the store's racy window, as an archive's posts have

SENTENCES = [
    "远帆科技公告称，公司与华东某新能源车企签订动力电池结构件供货框架协议。",
    "协议有效期三年，预计将对公司未来经营业绩产生积极影响。",
    "青禾股份晚间披露，公司拟以自有资金建设年产两万吨特种纸项目。",
    "项目建设周期约十八个月，达产后预计年营业收入约九亿元。",
    "明湖电子今日发布新一代车规级传感器芯片，功耗较上一代下降三成。",
    "公司表示，新品已进入多家整车厂的验证流程，明年起逐步放量。",
    "北辰能源披露，一季度实现营业收入四十二亿元，同比增长百分之十八。",
    "报告期内，公司光伏组件出货量创历史同期新高，海外订单占比提升。",
    "嘉屹医药宣布，其自主研发的一款降压新药获得临床试验默示许可。",
    "该药物此前已在动物实验中显示出良好的安全性和有效性。",
    "东岚物流与西部某港口集团达成战略合作，共建多式联运枢纽。",
    "双方将在仓储、冷链和跨境运输等领域展开深度合作。",
    "松涛食品拟收购一家区域性乳制品企业百分之六十的股权。",
    "交易完成后，公司将新增低温奶产品线，完善华北市场布局。",
    "云栖软件发布公告，公司中标某省政务云平台二期建设项目。",
    "中标金额约三点二亿元，占公司上一年度营业收入的百分之十五。",
]


def _story(rng: random.Random) -> str:
    chosen = rng.sample(SENTENCES, 5)
    return "\n\n".join("".join(chosen[i:i + 2]) for i in range(0, 5, 2))


def _repost(body: str) -> str:
    """Another outlet's version: a paragraph fewer, other punctuation, its credits."""
    paragraphs = body.split("\n\n")
    text = "\n\n".join(paragraphs[:-1] if len(paragraphs) > 2 else paragraphs).replace("，", ", ")
    return text + "（来源：证券时报）\n\n责任编辑：王明"


class Archive:
    """Posts with numbered ids and the days in their names, most with old mtimes (recordable)."""

    def __init__(self, root: Path, rng: random.Random, just_written: float = 0.0) -> None:
        self.root = root
        self.rng = rng
        self.just_written = just_written  # the share of posts left with the time they were written
        self.bodies: dict[str, str] = {}
        self.titles: dict[str, str] = {}
        self.serial = 0

    def write(self, folder: str, body: str, title: str | None = None) -> str:
        self.serial += 1
        day = f"2022-05-{1 + self.serial % 28:02d}"
        post_id = f"{day.replace('-', '')}{self.serial:010d}"
        relative = f"{folder}/{day}-{post_id}.md"
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        title = title or f"第{self.serial}号稿件：{body[:8]}"
        path.write_text(post_text(title, f"{day} 09:{self.serial % 60:02d}:00 +0800", body, post_id=post_id),
                        encoding="utf-8")
        if self.rng.random() >= self.just_written:  # else as a scraper's post is when committed
            os.utime(path, (OLD + self.serial, OLD + self.serial))
        self.bodies[relative] = body
        self.titles[relative] = title
        return relative

    def repost(self, folder: str, original: str) -> str:
        return self.write(folder, _repost(self.bodies[original]), title=f"【转载】{self.titles[original]}")

    def some(self) -> str:
        return self.rng.choice(sorted(self.bodies))

    def step(self) -> list[str]:
        """One random change; the posts worth checking after it."""
        folders = ["_posts", "old_post", "old_post/2023"]
        kind = self.rng.choice(["story", "story", "repost", "copy", "edit", "becomes-copy", "remove", "move"])
        if kind == "story" or len(self.bodies) < 3:
            return [self.write(self.rng.choice(folders), _story(self.rng))]
        if kind == "repost":
            return [self.repost(self.rng.choice(folders), self.some())]
        if kind == "copy":
            return [self.write(self.rng.choice(folders), self.bodies[self.some()], title="同文另题")]
        victim = self.some()
        path = self.root / victim
        if kind == "becomes-copy":  # saved by rename, as editors do: the other post is the one checked
            other = self.rng.choice([rel for rel in sorted(self.bodies) if rel != victim])
            temporary = path.with_name(".edit.tmp")
            temporary.write_text(path.read_text(encoding="utf-8").replace(self.bodies[victim], self.bodies[other]),
                                 encoding="utf-8")
            os.replace(temporary, path)
            self.bodies[victim] = self.bodies[other]
            return [other]
        if kind == "edit":
            path.write_text(path.read_text(encoding="utf-8") + "\n补充：公司股价当日收涨。\n", encoding="utf-8")
            return [victim]
        body, title = self.bodies.pop(victim), self.titles.pop(victim)
        if kind == "remove":
            path.unlink()
            return []
        target = ("old_post" if victim.startswith("_posts") else "_posts") + "/" + victim.rsplit("/", 1)[1]
        os.replace(path, self.root / target)
        self.bodies[target], self.titles[target] = body, title
        return [target]


def _copies(cli: Cli, root: Path, paths: list[str], *extra: str) -> list[tuple[str, str, str]]:
    result = cli("--root", root, "validate", "--select", "NC6", "--format", "json", *extra,
                 *(root / path for path in paths))
    assert result.code in (0, 1), result
    return sorted((Path(str(f["path"])).relative_to(root).as_posix(), str(f["code"]), str(f["message"]))
                  for f in json.loads(result.stdout))


def _current(root: Path) -> list[str]:
    return Store(load_settings(root)).current_tokens()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_check_with_the_store_equals_reading_every_post(cli: Cli, make_archive: Callable[..., Path],
                                                            seed: int) -> None:
    rng = random.Random(seed)
    archive = Archive(make_archive({}), rng, just_written=0.25)
    for _ in range(6):
        archive.write(rng.choice(["_posts", "old_post"]), _story(rng))
    assert cli("--root", archive.root, "dups").code in (0, 1)  # the whole store
    layered = 0
    for _ in range(14):
        changed = archive.step()
        time.sleep(0.06)  # past the folders' timestamp tick: their marks can be kept
        checked = sorted({*changed, *rng.sample(sorted(archive.bodies), 2)})
        with_store = _copies(cli, archive.root, checked)
        assert with_store == _copies(cli, archive.root, checked, "--no-cache"), checked
        layered += len(_current(archive.root)) == 2
    assert layered  # the recent layer was used


def test_a_post_known_only_from_the_recent_layer_is_named(cli: Cli, make_archive: Callable[..., Path]) -> None:
    archive = Archive(make_archive({}), random.Random(7))
    for _ in range(4):
        archive.write("old_post", _story(archive.rng))
    cli("--root", archive.root, "dups")
    base = _current(archive.root)
    original = archive.write("_posts", "\n\n".join(SENTENCES[10:14]))
    time.sleep(0.06)
    _copies(cli, archive.root, [archive.some()])  # any check reads the new post, once
    layered = _current(archive.root)
    assert layered[0] == base[0] and len(layered) == 2
    assert original.rsplit("/", 1)[1] in recent.load_view(Store(load_settings(archive.root))).known_names("_posts")  # type: ignore[union-attr]
    # Nothing changed: the next check writes nothing and still knows the post
    unrelated = archive.some()
    assert _copies(cli, archive.root, [unrelated]) == _copies(cli, archive.root, [unrelated], "--no-cache")
    assert _current(archive.root) == layered
    repost = archive.repost("old_post/2023", original)
    time.sleep(0.06)
    found = _copies(cli, archive.root, [repost])
    assert [(code, original in message) for _, code, message in found] == [("NC604", True)]


def test_older_recent_layers_are_removed_and_a_full_layer_gives_way(cli: Cli, make_archive: Callable[..., Path],
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    archive = Archive(make_archive({}), random.Random(9))
    for _ in range(4):
        archive.write("old_post", _story(archive.rng))
    cli("--root", archive.root, "dups")
    store = Store(load_settings(archive.root))
    for _ in range(3):
        archive.write("_posts", _story(archive.rng))
        time.sleep(0.06)
        for folder in store.folder.glob("gen-*"):  # as if retired long ago
            os.utime(folder, (OLD, OLD))
        _copies(cli, archive.root, [archive.some()])
    # what remains: the current generations, and the layer retired a moment ago (a reader may
    # still be opening it)
    current = _current(archive.root)
    left = sorted(path.name[4:] for path in store.folder.glob("gen-*"))
    assert set(current) <= set(left) and len(left) == len(current) + 1
    monkeypatch.setattr(recent, "MAX_RECENT", 3)
    for _ in range(2):
        archive.write("_posts", _story(archive.rng))
    time.sleep(0.06)
    checked = [archive.some()]
    assert _copies(cli, archive.root, checked) == _copies(cli, archive.root, checked, "--no-cache")
    assert len(_current(archive.root)) == 1  # the whole store was rewritten instead



def test_a_staged_file_outside_the_posts_is_not_taken_for_an_archive_post(cli: Cli,
                                                                       make_archive: Callable[..., Path]) -> None:
    archive = Archive(make_archive({}), random.Random(11))
    for _ in range(3):
        archive.write("old_post", _story(archive.rng))
    cli("--root", archive.root, "dups")
    draft = archive.write("_drafts", "\n\n".join(SENTENCES[4:8]))  # not a post: outside the globs
    archive.write("_posts", _story(archive.rng))  # (so that the check writes a recent layer)
    time.sleep(0.06)
    _copies(cli, archive.root, [draft])
    copy = archive.write("_posts", archive.bodies[draft], title="同文另题")
    time.sleep(0.06)
    found = _copies(cli, archive.root, [copy])
    assert found == _copies(cli, archive.root, [copy], "--no-cache")
    assert not any("_drafts" in message for _, _, message in found)


@pytest.mark.parametrize("damage", [{"racy": [1, "a"]}, {"racy": [{}, {}]}, {"folders": {"_posts\u0000x": 1}},
                                    {"folders": {"_posts": "soon"}}, {"folders": [1]}])
def test_a_damaged_layer_record_is_a_miss(cli: Cli, make_archive: Callable[..., Path], damage: dict) -> None:
    archive = Archive(make_archive({}), random.Random(13))
    for _ in range(3):
        archive.write("old_post", _story(archive.rng))
    cli("--root", archive.root, "dups")
    archive.write("_posts", _story(archive.rng))
    time.sleep(0.06)
    checked = [archive.some()]
    _copies(cli, archive.root, checked)
    store = Store(load_settings(archive.root))
    meta_file = store.folder / f"gen-{store.current_tokens()[-1]}" / "meta.json"
    meta_file.write_text(json.dumps({**json.loads(meta_file.read_text(encoding="utf-8")), **damage}), encoding="utf-8")
    assert _copies(cli, archive.root, checked) == _copies(cli, archive.root, checked, "--no-cache")


def test_a_post_dated_in_the_future_does_not_make_every_run_rewrite_the_store(
        cli: Cli, make_archive: Callable[..., Path]) -> None:
    archive = Archive(make_archive({}), random.Random(17))
    for _ in range(3):
        archive.write("old_post", _story(archive.rng))
    ahead = archive.root / archive.write("old_post", _story(archive.rng))
    os.utime(ahead, (time.time() + 3600, time.time() + 3600))  # a skewed clock
    time.sleep(0.06)
    cli("--root", archive.root, "dups")
    first = _current(archive.root)
    cli("--root", archive.root, "dups")
    checked = [archive.some()]
    _copies(cli, archive.root, checked)
    assert _current(archive.root) == first


def test_a_folder_first_seen_when_listing_again_is_marked_unsure(make_archive: Callable[..., Path],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """`index`'s scan lists racy folders again after a tick; a folder that appears meanwhile was
    listed after the marks were taken, so it must read as changed until the next run marks it."""
    from newsctl import discovery

    root = make_archive({"_posts/2022-06-01-202206010000000001.md": post_text()})
    (root / "_posts" / "2025").mkdir()  # just made: racy, so listed again
    sleep = time.sleep

    def a_scraper_writes_meanwhile(seconds: float) -> None:
        (root / "_posts" / "2025" / "01").mkdir()
        (root / "_posts" / "2025" / "01" / "2025-01-01-202501010000000002.md").write_text(post_text(), encoding="utf-8")
        sleep(seconds)

    monkeypatch.setattr(discovery.time, "sleep", a_scraper_writes_meanwhile)
    listing, marks = discovery.marked_listing(load_settings(root), (), relist=True)
    assert any(folder.endswith("_posts/2025/01") for folder, _ in listing)
    assert marks["_posts/2025/01"] == discovery.UNSURE
