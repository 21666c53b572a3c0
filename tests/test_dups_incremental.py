"""`newsctl dups` with verdicts kept in the store gives exactly what a run without the store gives,
after reposts are added, posts edited, touched and removed, and the threshold changed; and it
judges again only the pairs with a new or changed story."""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Cli, post_text

from newsctl.config import load_settings
from newsctl.dups.finder import Selection, find_groups
from newsctl.validate import make_context

OLD = 1_600_000_000  # older than the store's "recent" window, as an archive's posts are

# Our own words, drawn into stories that share phrases (so that candidate pairs below and above
# the threshold, and templates with other figures, all occur)
COMPANIES = ["远帆科技", "青禾股份", "北辰能源", "嘉屹医药", "明湖电子", "澄江材料", "云岭物流", "泰和食品"]
ACTIONS = ["签订供货框架协议", "披露年度业绩预告", "拟建设新生产基地", "完成新一轮融资", "获得发明专利授权",
           "发布股份回购方案", "中标城市轨道项目", "调整董事会成员"]
DETAILS = ["协议有效期为三年，具体数量以订单为准", "公司预计净利润同比增长，主要受益于主营业务扩张",
           "项目建设周期约十八个月，资金来源为自有资金", "本轮融资将用于研发投入与产能建设",
           "该专利涉及精密结构件的加工工艺", "回购股份将用于员工持股计划", "项目中标金额占公司上年营业收入的比例较高",
           "新任董事均具备多年行业管理经验"]
CLOSINGS = ["业内人士认为，相关举措有助于提升公司竞争力", "公司表示将根据进展及时履行信息披露义务",
            "分析人士指出，行业景气度有望延续", "公司提醒投资者注意投资风险"]


def story(rng: random.Random) -> tuple[str, str]:
    company, action = rng.choice(COMPANIES), rng.choice(ACTIONS)
    sentences = [f"{company}公告称，公司{action}。", f"{rng.choice(DETAILS)}。", f"{rng.choice(DETAILS)}。",
                 f"{rng.choice(CLOSINGS)}。"]
    return f"{company}{action}", "".join(sentences[: rng.randint(2, 4)]) + f"编号{rng.randint(100, 999)}。"


def repost(rng: random.Random, body: str) -> str:
    sentences = [part + "。" for part in body.split("。") if part]
    if len(sentences) > 2 and rng.random() < 0.5:
        del sentences[rng.randrange(1, len(sentences))]
    text = "".join(sentences).replace("，", ", ")
    return text + "（来源：证券时报）\n\n责任编辑：王明"


def market_close(rng: random.Random) -> tuple[str, str]:
    up = rng.choice("涨跌")
    first, second = f"{rng.uniform(0.1, 2):.2f}", f"{rng.uniform(0.1, 2):.2f}"
    return (f"沪指收{up}{first}% 深成指{up}{second}%",
            f"截至收盘，沪指{up}{first}%，深成指{up}{second}%。两市全天成交额{rng.randint(6000, 9999)}亿元。"
            "盘面上，煤炭、银行等板块表现活跃。")


class Archive:
    """A generated archive whose posts can be added, edited, touched and removed."""

    def __init__(self, root: Path, seed: int) -> None:
        self.root = root
        self.rng = random.Random(seed)
        self.count = 0

    def write(self, title: str, body: str, day: int, mtime: int = OLD) -> str:
        self.count += 1
        post_id = f"202205{day:02d}{self.count:010d}"
        relative = f"old_post/2022-05-{day:02d}-{post_id}.md"
        path = self.root / relative
        path.write_text(post_text(title, f"2022-05-{day:02d} 09:{self.count % 60:02d}:00 +0800", body,
                                  post_id=post_id), encoding="utf-8")
        os.utime(path, (mtime, mtime))
        return relative

    def add_stories(self, count: int) -> list[str]:
        written = []
        for _ in range(count):
            title, body = story(self.rng)
            day = self.rng.randint(1, 20)
            written.append(self.write(title, body, day))
            for _ in range(self.rng.choice((0, 1, 1, 2))):
                mark = self.rng.choice(("【转载】", "转载：", ""))
                written.append(self.write(mark + title, repost(self.rng, body), min(28, day + self.rng.randint(0, 5))))
        for _ in range(count // 4):
            written.append(self.write(*market_close(self.rng), self.rng.randint(1, 28)))
        return written

    def edit(self, relative: str, mtime: int) -> None:
        path = self.root / relative
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("公司", "该公司", 1).replace("。", "，并将持续关注。", 1), encoding="utf-8")
        os.utime(path, (mtime, mtime))


def dups_json(cli: Cli, root: Path, *options: str) -> str:
    result = cli("--root", root, "dups", "--format", "json", *options)
    assert result.code in (0, 1), result
    return result.stdout


def from_scratch(cli: Cli, root: Path, *options: str) -> str:
    """The output of a run with no store at all (moved aside, then put back)."""
    cache = root / ".newsctl" / "cache"
    aside = root.parent / "cache-aside"
    shutil.move(cache, aside)
    try:
        return dups_json(cli, root, *options)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
        shutil.move(aside, cache)


def judged(root: Path, threshold: float = 0.6) -> tuple[int, int]:
    """(pairs judged, groups) of a run through the library (the CLI does not print the count)."""
    settings = load_settings(root)
    found = find_groups(settings, make_context(settings), Selection(threshold))
    return found.judged, len(found.groups)


@pytest.fixture
def archive(make_archive: Callable[..., Path]) -> Archive:
    root = make_archive({})
    (root / "old_post").mkdir(exist_ok=True)
    made = Archive(root, seed=14)
    made.add_stories(40)
    return made


def test_kept_verdicts_give_what_a_full_recompute_gives(cli: Cli, archive: Archive) -> None:
    root = archive.root
    first_judged, groups = judged(root)  # no store: every candidate pair is judged
    assert first_judged > 40 and groups > 10
    assert judged(root)[0] == 0  # nothing changed: every verdict is kept
    assert dups_json(cli, root) == from_scratch(cli, root)
    some_post = next((root / "old_post").glob("*.md"))
    os.utime(some_post, (OLD + 50, OLD + 50))  # read again: a new generation, nothing to judge ...
    assert judged(root)[0] == 0
    assert judged(root)[0] == 0  # ... and the new generation keeps the verdicts

    posts = sorted(path.relative_to(root).as_posix() for path in (root / "old_post").glob("*.md"))
    rng = random.Random(3)
    removed = rng.sample(posts, 4)
    for relative in removed:
        (root / relative).unlink()
    edited = rng.sample([path for path in posts if path not in removed], 4)
    for relative in edited:
        archive.edit(relative, OLD + 100)
    touched = [path for path in posts if path not in removed and path not in edited][:5]
    for relative in touched:  # same text, another mtime: read again, its verdicts kept
        os.utime(root / relative, (OLD + 200, OLD + 200))
    archive.add_stories(4)  # new stories and their reposts
    original = next(path for path in posts if path not in removed and path not in edited)
    text = (root / original).read_text(encoding="utf-8")
    title = text.split('title: "', 1)[1].split('"', 1)[0]
    body = text.split("---\n", 2)[2].split("\n\n<http", 1)[0]
    archive.write("【转载】" + title, repost(rng, body), 28)  # a repost of a stored post

    again, _ = judged(root)
    assert 0 < again < first_judged / 2  # only pairs with a new or changed story
    assert judged(root)[0] == 0
    assert dups_json(cli, root) == from_scratch(cli, root)


def test_kept_verdicts_serve_another_threshold_exactly(cli: Cli, archive: Archive) -> None:
    root = archive.root
    for threshold in ("0.6", "0.8", "0.45", "0.6", "0.3"):
        assert dups_json(cli, root, "--threshold", threshold) == from_scratch(cli, root, "--threshold", threshold), \
            threshold
    assert judged(root, 0.45)[0] == 0  # judged at 0.3 since: every verdict is known


def test_a_damaged_verdict_file_is_ignored(cli: Cli, archive: Archive) -> None:
    root = archive.root
    expected = dups_json(cli, root)
    files = list((root / ".newsctl" / "cache").glob("dups-*/gen-*/verdicts.tsv"))
    assert files
    for path in files:
        lines = path.read_text(encoding="utf-8").splitlines()
        path.write_text("\n".join([lines[0], "zz\tnot a verdict", *(line[:20] for line in lines[1:5]), *lines[5:]]),
                        encoding="utf-8")
    assert dups_json(cli, root) == expected
    for path in files:
        path.write_bytes(b"\xff\xfe garbage")
    assert dups_json(cli, root) == expected
