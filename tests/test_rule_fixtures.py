"""One fixture per validation rule, parametrised over the registry: a small post of our own
writing that breaks exactly that rule, run through the real CLI with `--select CODE`, and for
the fixable rules, `--fix` removes the finding. A rule added without a fixture fails here."""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import Cli, post_text

import newsctl.rules as rules_package
from newsctl.rules import RULE_LIST, RULES, Rule

POST = "_posts/2022-06-01-1.md"


def _front(*lines: str, body: str = "今日市场平稳。\n\n<http://example.com/news/1.html>\n") -> str:
    return "---\n" + "".join(line + "\n" for line in lines) + "---\n" + body


def _with_title_line(line: str) -> str:
    return post_text().replace('title: "测试标题"', line)


_STORY = ("启明新材公告称，公司与一家光伏组件企业签订年度供货协议，约定全年供应封装胶膜。"
          "公司表示，协议的履行将提升公司产能利用率，对本年度经营业绩产生积极影响。"
          "业内人士认为，封装材料需求随组件排产回升而增长。")


@dataclass(frozen=True)
class Fixture:
    files: dict[str, str | bytes]
    symlinks: dict[str, str] = field(default_factory=dict)  # link -> target, relative to the archive


def _one(text: str | bytes, name: str = POST) -> Fixture:
    return Fixture({name: text})


FIXTURES: dict[str, Fixture] = {
    "NC100": Fixture({}, symlinks={"_posts/2022-06-01-loop.md": "2022-06-01-loop.md"}),
    "NC101": _one(post_text(body="沪指今日小幅上涨。").encode("gbk")),
    "NC102": _one("\ufeff" + post_text()),
    "NC103": _one(post_text(body="数据\x00损坏")),
    "NC104": _one(post_text().replace("\n", "\r\n")),
    "NC105": _one(post_text(body="长" * (2 * 1024 * 1024))),
    "NC201": _one("沪指今日小幅上涨，成交量温和放大。\n"),
    "NC202": _one("---\nlayout: post\ntitle: 没有结尾\n\n正文。\n"),
    "NC203": _one(_with_title_line("title: 央行: 降准落地")),
    "NC204": _one(_with_title_line("title: !secret 标题")),
    "NC205": _one(_with_title_line("base: &b 标题\ntitle: *b")),
    "NC206": _one(_with_title_line('title: "标题一"\ntitle: "标题二"')),
    "NC207": _one("---\n- layout\n- post\n---\n正文。\n"),
    "NC208": _one(_with_title_line(f'title: "{"长" * 70000}"')),
    "NC301": _one(post_text().replace("tags: 东财滚动新闻\n", "")),
    "NC302": _one(_with_title_line("title: [一, 二]")),
    "NC303": _one(post_text(title="")),
    "NC304": _one(post_text(title="很" * 201)),
    "NC305": _one(post_text(date="+0800")),
    "NC306": _one(post_text(date="2022-06-01 10:00:00")),
    "NC307": _one(post_text(date="2099-06-01 10:00:00 +0800"), "_posts/2099-06-01-1.md"),
    "NC309": _one(post_text(date="2022-06-31"), "_posts/2022-07-01-1.md"),  # Jekyll: 2022-07-01
    "NC310": _one(_with_title_line('title: "测试标题"\npublished: false')),
    "NC311": _one(_with_title_line("title: 1,000")),
    "NC312": _one(post_text().replace("tags: 东财滚动新闻", "tag: 东财滚动新闻")),
    "NC313": _one(post_text().replace("categories: emnews", "categories: [emnews, 2022]")),
    "NC314": _one(post_text().replace("categories: emnews", "categories: 2022")),
    "NC308": _one(post_text().replace("layout: post", "layout: 杂志")),
    "NC401": _one(post_text(), "_posts/新闻.md"),
    "NC402": _one(post_text(date="2022-06-02 10:00:00 +0800")),
    "NC403": Fixture({"_config.yml": "timezone: Asia/Shanghai\nexclude: [_posts/2022-06-01-1.md]\n",
                      POST: post_text()}),
    "NC505": _one(post_text(body="正文 {% 错误 %} 完。")),
    "NC506": _one(post_text(body="一加一等于 {{ 1 | plus: 1 }}。")),
    "NC501": _one(post_text(body="")),
    "NC502": _one(post_text(title="央行宣布降准", body="央行宣布降准")),
    "NC503": _one(post_text(body="正文。\n\n<>")),
    "NC504": _one(_front("layout: post", 'title: "无来源"', "date: 2022-06-01 12:00:00 +0800",
                         "categories: emnews", "tags: 快讯", body="只有正文，没有来源链接。\n")),
    "NC601": Fixture({POST: post_text(title="第一篇", body="第一篇的正文。"),
                      "old_post/2021-03-04-1.md": post_text(title="第二篇", date="2021-03-04 09:00:00 +0800",
                                                            body="完全不同的第二篇正文。")}),
    "NC602": Fixture({POST: post_text(title="同一标题", body="甲的正文。"),
                      "_posts/2022-06-01-2.md": post_text(title="同一标题", body="乙的另一段正文。")}),
    "NC603": Fixture({POST: post_text(title="标题甲", body="两篇一样的正文。"),
                      "old_post/2022-06-01-9.md": post_text(title="标题乙", date="2022-06-01 15:00:00 +0800",
                                                            body="两篇一样的正文。")}),
    "NC604": Fixture({POST: post_text(title="启明新材签订年度供货协议", body=_STORY),
                      "old_post/2022-06-05-7.md": post_text(title="【转载】启明新材签订年度供货协议",
                                                            date="2022-06-05 08:00:00 +0800",
                                                            body=_STORY.rsplit("。", 2)[0] + "。（来源：证券日报）")}),
    "NC701": _one(post_text(body="行尾有空格。 ")),
}


def _archive(make_archive: Callable[..., Path], fixture: Fixture) -> Path:
    root = make_archive(fixture.files)
    for link, target in fixture.symlinks.items():
        os.symlink(target, root / link)
    return root


def _codes(cli: Cli, root: Path, code: str, *extra: str) -> list[dict[str, object]]:
    result = cli("--root", root, "validate", "--select", code, "--format", "json", *extra)
    assert result.code in (0, 1), result
    return list(json.loads(result.stdout))


def test_every_rule_has_a_fixture_and_every_fixture_a_rule() -> None:
    assert set(FIXTURES) == set(RULES)


def test_every_rule_defined_in_the_package_is_registered() -> None:
    package = Path(rules_package.__file__).parent
    defined = {value for path in package.glob("[!_]*.py")
               for value in vars(importlib.import_module(f"newsctl.rules.{path.stem}")).values()
               if isinstance(value, Rule)}
    assert defined == set(RULE_LIST) and len(RULES) == len(RULE_LIST)


@pytest.mark.parametrize("code", [rule.code for rule in RULE_LIST])
def test_the_fixture_triggers_the_rule(cli: Cli, make_archive: Callable[..., Path], code: str) -> None:
    assert code in FIXTURES, f"{code} has no fixture in tests/test_rule_fixtures.py"
    root = _archive(make_archive, FIXTURES[code])
    findings = _codes(cli, root, code)
    assert findings and {f["code"] for f in findings} == {code}, findings
    rule = RULES[code]
    assert {f["severity"] for f in findings} == {rule.severity}
    if rule.fix == "never":
        assert not any(f["fixable"] for f in findings)
        return
    assert all(f["fixable"] for f in findings), findings
    fixed = cli("--root", root, "validate", "--select", code, "--fix", "--format", "json")
    assert fixed.code == 0, fixed
    assert _codes(cli, root, code) == []
