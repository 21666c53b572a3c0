"""A labelled set for near-duplicate detection, built at run time from the real posts in
`../shared/corpus/finews` (never copied into the repository) and `../shared/tools/gen_corpus.py`.

The archive it writes holds:

- the real posts of `old_post/` (distinct stories, but for one repost pair and one template
  family the corpus already has; labelled below by id);
- reposts of some of them, made as another outlet would: a new id, a `【转载】` title (or
  "转载：", or none), another source line, an editor line, another footer, a paragraph or
  sentence dropped or one added, other punctuation and spacing; one in four filed on another day;
- templated stories in our own words that must NOT pair: daily market closes with other
  figures, bond approvals with other amounts, results notices of other companies;
- distinct filler posts from gen_corpus's generator (words drawn from jieba's dictionary), when
  jieba is installed.

`labels.json` beside the posts says which pairs are copies (`duplicates`: a list of groups),
which are one template (`templates`), and which repost copies which original (`reposts`).
`evaluate` scores `newsctl dups --format json` output (pair precision and recall).

    python -m benchmarks.dupset --out /tmp/dupset [--seed 14] [--evaluate] [--sweep]
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import itertools
import json
import random
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = REPO_ROOT.parent / "shared"
FINEWS = SHARED_DIR / "corpus" / "finews"
GEN_CORPUS = SHARED_DIR / "tools" / "gen_corpus.py"

# Known in the real corpus (MANIFEST.tsv, near_duplicate_text_of), by id only:
# one story, trimmed and retitled
KNOWN_DUPLICATES: list[tuple[str, ...]] = [("202112082206896571", "202112082206936037")]
# 北向资金 40/50/… 亿
KNOWN_TEMPLATES: list[tuple[str, ...]] = [("202112082206761079", "202112082206777086", "202112082207020388")]

OUTLETS = ["证券时报", "中国证券报", "上海证券报", "每日经济新闻", "证券日报", "经济参考报", "第一财经", "界面新闻"]
EDITORS = ["王明", "李静", "张强", "陈晓", "刘洋"]
# Sentences of our own, as a reposting outlet adds them
ADDED_PARAGRAPHS = [
    "记者注意到，上述消息发布后，相关话题在投资者中引发广泛讨论。",
    "业内人士表示，后续进展仍有待进一步观察，投资者应理性看待相关信息。",
    "截至发稿，相关方面尚未对此作出进一步回应。",
]
# Templates in our own words; the companies are invented
COMPANIES = ["华澜化工", "青禾股份", "远帆科技", "北辰能源", "嘉屹医药", "明湖电子", "安泽地产", "启明新材"]
SECTORS = ["半导体", "白酒", "光伏设备", "券商", "煤炭", "医药商业", "汽车整车", "银行"]


@dataclass
class Labels:
    duplicates: list[list[str]] = field(default_factory=list)  # groups of paths (relative to the root)
    templates: list[list[str]] = field(default_factory=list)
    reposts: dict[str, str] = field(default_factory=dict)  # repost -> original
    other_day: list[str] = field(default_factory=list)  # reposts filed on another day than the original

    def duplicate_pairs(self) -> set[tuple[str, str]]:
        return {pair for group in self.duplicates for pair in _pairs(group)}

    def template_pairs(self) -> set[tuple[str, str]]:
        return {pair for group in self.templates for pair in _pairs(group)}


def _pairs(paths: list[str]) -> set[tuple[str, str]]:
    return {(a, b) for a, b in itertools.combinations(sorted(set(paths)), 2)}


def available() -> bool:
    return (FINEWS / "old_post").is_dir() and GEN_CORPUS.is_file()


def _gen_corpus() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_corpus", GEN_CORPUS)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---- reading the real posts -----------------------------------------------------------------------

@dataclass
class Original:
    name: str  # file name
    raw: str
    title: str
    when: dt.datetime
    category: str
    tag: str
    paragraphs: list[str]  # plain text, as newsctl.text extracts it


_DATE = re.compile(r"^date:\s*(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", re.M)


def read_originals() -> list[Original]:
    from newsctl.post import read_post
    from newsctl.text import extract

    originals = []
    for path in sorted((FINEWS / "old_post").glob("*.md")):
        post = read_post(path)
        match = _DATE.search(post.raw)
        if not post.ok or not post.title or not match:
            continue
        paragraphs = [p.strip() for p in extract(post.body).text.split("\n\n") if p.strip()]
        if sum(len(p) for p in paragraphs) < 20:
            continue
        originals.append(Original(path.name, post.raw, post.title, dt.datetime.fromisoformat(match.group(1)),
                                  (post.categories or ["emnews"])[0], (post.tags or ["新闻"])[0], paragraphs))
    return originals


# ---- writing posts -------------------------------------------------------------------------------

def _front_matter(title: str, when: dt.datetime, category: str, tag: str) -> str:
    quoted = title.replace("\\", "\\\\").replace('"', '\\"')
    return (f'---\nlayout: post\ntitle: "{quoted}"\ndate: {when:%Y-%m-%d %H:%M:%S} +0800\n'
            f"categories: {category}\ntags: {tag}\n---\n\n")


def _new_id(rng: random.Random, when: dt.datetime) -> str:
    return f"{when:%Y%m%d}{rng.randrange(10**10):010d}"


def _write(root: Path, when: dt.datetime, post_id: str, text: str) -> str:
    relative = f"old_post/{when:%Y-%m-%d}-{post_id}.md"
    (root / relative).write_text(text, encoding="utf-8")
    return relative


def make_repost(rng: random.Random, original: Original, other_day: bool) -> tuple[dt.datetime, str]:
    """The story of `original` as another outlet publishes it (see the module docs)."""
    paragraphs = [_drop_outlet_mark(p) for p in original.paragraphs]
    edits = rng.sample(["drop", "add", "punct", "space", "none"], 2)
    if "drop" in edits:
        paragraphs = _drop_one(rng, paragraphs)
    if "add" in edits:
        paragraphs.insert(rng.randrange(len(paragraphs) + 1), rng.choice(ADDED_PARAGRAPHS))
    if "punct" in edits:
        paragraphs = [_repunctuate(rng, p) for p in paragraphs]
    if "space" in edits:
        paragraphs = [_respace(rng, p) for p in paragraphs]
    outlet = rng.choice(OUTLETS)
    source = rng.choice([f"（来源：{outlet}）", f"（文章来源：{outlet}）", f"来源：{outlet}"])
    if source.startswith("（"):
        paragraphs[-1] += source
    else:
        paragraphs.append(source)
    if rng.random() < 0.6:
        paragraphs.append(f"责任编辑：{rng.choice(EDITORS)}")
    title = rng.choice(["【转载】{}", "转载：{}", "{}", "【转载】{}"]).format(original.title)
    if rng.random() < 0.3:
        title = _repunctuate(rng, title)
    shift = dt.timedelta(days=rng.randint(1, 9)) if other_day else dt.timedelta(minutes=rng.randint(5, 600))
    when = original.when + shift
    post_id = _new_id(rng, when)
    body = "\n\n".join(paragraphs)
    footer = f"\n\n<https://news.example.com/{post_id}.html>\n\n[返回{outlet}](//news.example.com/)｜[返回首页](//news.example.com/)\n"
    return when, _front_matter(title, when, "zhuanzai", f"{outlet}新闻") + body + footer


_OUTLET_MARK = re.compile(r"[（(][^（）()\d]{2,14}[）)]\s*$")


def _drop_outlet_mark(paragraph: str) -> str:
    return _OUTLET_MARK.sub("", paragraph)


def _drop_one(rng: random.Random, paragraphs: list[str]) -> list[str]:
    if len(paragraphs) >= 3:
        kept = list(paragraphs)
        del kept[rng.randrange(1, len(kept))]
        return kept
    sentences = [s for s in re.split(r"(?<=[。！？])", paragraphs[-1]) if s]
    if len(sentences) >= 3:
        del sentences[rng.randrange(1, len(sentences))]
        return [*paragraphs[:-1], "".join(sentences)]
    return paragraphs  # too short to lose a paragraph: left whole


def _repunctuate(rng: random.Random, text: str) -> str:
    swaps = [("，", ", "), ("。", ". "), ("：", ": "), ("“", '"'), ("”", '"'), ("（", "("), ("）", ")"), ("、", "，")]
    for old, new in rng.sample(swaps, 4):
        text = text.replace(old, new)
    return text


def _respace(rng: random.Random, text: str) -> str:
    chars = list(text)
    for _ in range(max(1, len(chars) // 40)):
        chars.insert(rng.randrange(len(chars) + 1), rng.choice([" ", "  ", "\u3000"]))
    return "".join(chars).replace("\n ", "\n")


# ---- templated stories (our own words) ------------------------------------------------------------

def market_close(rng: random.Random, day: dt.date) -> tuple[str, str]:
    sh, sz, cy = (round(rng.uniform(-2.5, 2.5), 2) for _ in range(3))
    level = round(rng.uniform(2900, 3600), 2)
    volume = rng.randint(6000, 13000)
    north = round(rng.uniform(-90, 90), 2)

    def move(value: float) -> str:
        return f"涨{value:.2f}%" if value >= 0 else f"跌{-value:.2f}%"

    title = f"沪指收{move(sh)} 深成指{move(sz)} 创业板指{move(cy)}"
    body = (f"{day.month}月{day.day}日，A股三大指数收盘涨跌互现。截至收盘，沪指{move(sh)}，报{level}点；"
            f"深成指{move(sz)}；创业板指{move(cy)}。两市全天成交额{volume}亿元，北向资金净"
            f"{'买入' if north >= 0 else '卖出'}{abs(north)}亿元。盘面上，{rng.choice(SECTORS)}、"
            f"{rng.choice(SECTORS)}等板块涨幅居前，{rng.choice(SECTORS)}板块跌幅居前。")
    return title, body


def bond_approval(rng: random.Random, company: str, amount: int) -> tuple[str, str]:
    months = rng.choice([12, 24])
    title = f"{company}：公开发行公司债券获准注册 发行不超{amount}亿元"
    body = (f"{company}公告称，公司近日收到中国证券监督管理委员会出具的批复，同意公司向专业投资者公开发行"
            f"面值总额不超过{amount}亿元公司债券的注册申请。本次公司债券采用分期发行方式，首期发行自同意注册之日起"
            f"{months}个月内完成。公司将按照有关法律法规和批复要求，在规定期限内办理本次公司债券发行相关事宜，"
            f"并及时履行信息披露义务。")
    return title, body


def results_notice(rng: random.Random, company: str) -> tuple[str, str]:
    growth = round(rng.uniform(-40, 80), 2)
    revenue = round(rng.uniform(5, 300), 2)
    profit = round(revenue * rng.uniform(0.03, 0.2), 2)
    word = "增长" if growth >= 0 else "下降"
    title = f"{company}：前三季度净利润同比{word}{abs(growth)}%"
    body = (f"{company}发布三季报，公司前三季度实现营业收入{revenue}亿元，归属于上市公司股东的净利润{profit}亿元，"
            f"同比{word}{abs(growth)}%。公司表示，报告期内主营业务经营情况总体平稳，"
            f"各项业务按计划有序推进。")
    return title, body


# ---- the set -------------------------------------------------------------------------------------

def build(out: Path, seed: int = 14, reposts: int = 40, filler: int = 200) -> Labels:
    """Write the labelled archive to `out` (replaced) and return its labels (also in labels.json)."""
    if out.exists():
        shutil.rmtree(out)
    (out / "old_post").mkdir(parents=True)
    (out / "_posts").mkdir()
    (out / "_config.yml").write_text("title: dupset\ntimezone: Asia/Shanghai\n", encoding="utf-8")
    rng = random.Random(seed)
    labels = Labels()
    originals = read_originals()
    by_id: dict[str, str] = {}
    for original in originals:
        (out / "old_post" / original.name).write_text(original.raw, encoding="utf-8")
        by_id[original.name[11:-3]] = f"old_post/{original.name}"
    for known in KNOWN_DUPLICATES:
        labels.duplicates.append([by_id[post_id] for post_id in known if post_id in by_id])
    for known in KNOWN_TEMPLATES:
        labels.templates.append([by_id[post_id] for post_id in known if post_id in by_id])
    chosen = rng.sample(originals, min(reposts, len(originals)))
    for number, original in enumerate(chosen):
        original_path = f"old_post/{original.name}"
        copies = [original_path]
        for copy in range(2 if number % 5 == 0 else 1):  # some stories are reposted twice
            other_day = (number + copy) % 4 == 0
            when, text = make_repost(rng, original, other_day)
            path = _write(out, when, _new_id(rng, when), text)
            labels.reposts[path] = original_path
            if other_day:
                labels.other_day.append(path)
            copies.append(path)
        labels.duplicates.append(copies)
    labels.templates += _write_templates(out, rng)
    _write_filler(out, rng, filler)
    labels.duplicates = _merged(labels.duplicates)
    (out / "labels.json").write_text(json.dumps(labels.__dict__, ensure_ascii=False, indent=1), encoding="utf-8")
    return labels


def _write_templates(out: Path, rng: random.Random) -> list[list[str]]:
    families: list[list[str]] = [[], [], []]
    start = dt.datetime(2022, 3, 1, 15, 5)
    for offset in range(12):  # market closes, one a day
        when = start + dt.timedelta(days=offset)
        title, body = market_close(rng, when.date())
        families[0].append(_write(out, when, _new_id(rng, when), _front_matter(title, when, "emnews", "东财滚动新闻")
                                  + body + "\n"))
    for number, company in enumerate(COMPANIES):  # bond approvals: other amounts, and other companies
        for amount in {rng.choice([10, 20, 30, 40, 50, 60, 80]) for _ in range(2)} | {60}:
            when = start + dt.timedelta(days=number, hours=amount % 7)
            title, body = bond_approval(rng, company, amount)
            families[1].append(_write(out, when, _new_id(rng, when),
                                      _front_matter(title, when, "zhengquanshibao", "证券时报新闻") + body + "\n"))
    for number, company in enumerate(COMPANIES):  # results notices of other companies
        when = start + dt.timedelta(days=number % 3, hours=number)
        title, body = results_notice(rng, company)
        families[2].append(_write(out, when, _new_id(rng, when),
                                  _front_matter(title, when, "shanghaizhengquanbao", "上海证券报新闻") + body + "\n"))
    return families


def _write_filler(out: Path, rng: random.Random, count: int) -> None:
    """Distinct posts from gen_corpus (words drawn from jieba's dictionary); none without jieba."""
    if count <= 0 or importlib.util.find_spec("jieba") is None:
        return
    gen = _gen_corpus()
    titles, sentences, stocks = gen.read_posts([str(FINEWS)])
    sample = gen.Sampler(rng, sentences, "auto", 1.0)
    day = dt.datetime(2023, 1, 1)
    for number in range(count):
        name, text = gen.make_post(rng, number, day + dt.timedelta(days=number % 50), titles, sample, stocks, 0.3)
        (out / "old_post" / name).write_text(text, encoding="utf-8")


def _merged(groups: list[list[str]]) -> list[list[str]]:
    """Groups sharing a path joined into one."""
    merged: list[set[str]] = []
    for group in groups:
        joined = set(group)
        for other in [m for m in merged if m & joined]:
            joined |= other
            merged.remove(other)
        merged.append(joined)
    return [sorted(group) for group in merged if len(group) > 1]


def load_labels(root: Path) -> Labels:
    return Labels(**json.loads((root / "labels.json").read_text(encoding="utf-8")))


# ---- scoring -------------------------------------------------------------------------------------

@dataclass
class Score:
    precision: float
    recall: float
    true_positives: int
    predicted: int
    expected: int
    template_pairs_as_duplicates: int
    missed: list[tuple[str, str]]
    wrong: list[tuple[str, str]]


def score(groups: list[list[str]], labels: Labels) -> Score:
    predicted = {pair for group in groups for pair in _pairs(group)}
    expected = labels.duplicate_pairs()
    hits = predicted & expected
    return Score(len(hits) / len(predicted) if predicted else 1.0, len(hits) / len(expected) if expected else 1.0,
                 len(hits), len(predicted), len(expected), len(predicted & labels.template_pairs()),
                 sorted(expected - predicted), sorted(predicted - expected))


def run_dups(root: Path, threshold: float | None = None) -> dict[str, object]:
    """`newsctl dups --format json` on the set, through the real CLI."""
    command = [sys.executable, "-m", "newsctl", "--root", str(root), "dups", "--format", "json"]
    if threshold is not None:
        command += ["--threshold", str(threshold)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1):
        raise RuntimeError(f"newsctl dups failed ({done.returncode}): {done.stderr.strip()}")
    result: dict[str, object] = json.loads(done.stdout)
    return result


def score_library(root: Path, threshold: float) -> Score:
    """The same score without the CLI (phase 1, and the threshold sweep)."""
    from newsctl.commands.dups import DupsOptions, run
    from newsctl.config import load_settings

    result = run(load_settings(root), DupsOptions(threshold=threshold))
    return score([group.paths for group in result.groups], load_labels(root))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--reposts", type=int, default=40)
    parser.add_argument("--filler", type=int, default=200)
    parser.add_argument("--evaluate", action="store_true", help="score newsctl dups on the set")
    parser.add_argument("--sweep", action="store_true", help="score thresholds from 0.3 to 0.9")
    parser.add_argument("--library", action="store_true", help="score through the library, not the CLI")
    args = parser.parse_args()
    if not available():
        sys.exit(f"needs {FINEWS} and {GEN_CORPUS}")
    labels = build(args.out, args.seed, args.reposts, args.filler)
    print(f"wrote {args.out}: {len(labels.reposts)} reposts ({len(labels.other_day)} on another day), "
          f"{sum(len(g) for g in labels.templates)} templated posts in {len(labels.templates)} families, "
          f"{len(labels.duplicate_pairs())} duplicate pairs")
    thresholds = [round(0.3 + 0.05 * step, 2) for step in range(13)] if args.sweep else [None]
    if not (args.evaluate or args.sweep):
        return
    for threshold in thresholds:
        if args.library or threshold is not None:
            from newsctl.dups.compare import DEFAULT_THRESHOLD

            result = score_library(args.out, threshold if threshold is not None else DEFAULT_THRESHOLD)
        else:
            output = run_dups(args.out)
            groups = output["groups"]
            assert isinstance(groups, list)
            result = score([group["paths"] for group in groups], labels)
        print(f"threshold {threshold or 'default'}: precision {result.precision:.3f} recall {result.recall:.3f} "
              f"({result.true_positives}/{result.predicted} predicted, {result.expected} expected; "
              f"template pairs as duplicates: {result.template_pairs_as_duplicates})")
        for pair in result.missed[:10]:
            print("  missed", *pair)
        for pair in result.wrong[:10]:
            print("  wrong ", *pair)


if __name__ == "__main__":
    main()
