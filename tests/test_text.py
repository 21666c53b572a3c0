"""newsctl.text: post bodies (Markdown digests and eastmoney HTML) to text and metadata."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from newsctl.post import read_post
from newsctl.text import Link, extract, find_source_links, to_markdown

REPO = Path(__file__).resolve().parents[1]
SAMPLE_POSTS = sorted((REPO / "sample_posts").rglob("*.md"))

FOOTER_BAR = "[返回东财滚动新闻](//finews.withounder.com/emnews/)｜[返回首页](//finews.withounder.com/)"
FOOTER_RELATIVE = "[返回东财滚动新闻](../emnews/)\n[返回首页](../)"

DIGEST = (
    "\n某市统计局今天发布数据，前四个月社会消费品零售总额同比下降，降幅比一季度扩大。"
    "分项看，餐饮收入降幅较大。（某某日报）\n\n"
    "<http://finance.eastmoney.com/news/1355,202205262391921712.html>\n\n" + FOOTER_BAR
)

# Written for these tests in the shape of eastmoney articles: a Markdown lead, then one HTML line.
MIXED = (
    "> 示例公司宣布为某车企提供新型冷媒。（示例证券报）\n"
    "\n"
    '<p style="display:none;height:1px;overflow:hidden;"><br /></p><!-- EM_StockImg_Start -->'
    '<p style="text-align:center;"><a href="http://quote.eastmoney.com/unify/r/106.NIO" data-code="NIO|106|7"'
    ' class="EmImageRemark"><img src="https://example.com/k.png" alt="K图 NIO_0" data-code="K NIO|106|7" /></a>'
    "</p><!-- EM_StockImg_End -->"
    '<p>首段提到<span id="bk_90.BK0493"><a href="http://quote.eastmoney.com/unify/r/90.BK0493" class="keytip"'
    ' data-code="90,BK0493">新能源</a></span>板块，以及<span id="stock_1.600160">'
    '<a href="http://quote.eastmoney.com/unify/r/1.600160" class="keytip" data-code="1,600160">巨化股份</a>'
    '</span>和<span web="1" class="em_stock_key_common" data-code="106,NIO">蔚来</span>。<br />第二行</p>'
    "<script>var hidden = 1;</script><style>p { color: red }</style>"
    '<p>他说：&ldquo;《&lt;议定书&gt;修正案》已生效&rdquo;&nbsp;&amp; 更多见<a href="https://example.org/r">报告</a>。</p>'
    "<p><strong>小标题</strong></p>"
    '<div hidden>隐藏的段落</div><p style="DISPLAY: none">也隐藏</p>'
    '<center><img src="https://example.com/a.jpg" alt="Image" /></center>'
    '<p class="em_media">（文章来源：示例<span><a href="http://quote.eastmoney.com/unify/r/90.BK0473"'
    ' class="keytip" data-code="90,BK0473">证券</a></span>报）</p>\n'
    "\n"
    "<>\n"
    "\n" + FOOTER_BAR
)


def body_of(path: Path) -> str:
    post = read_post(path)
    assert post.ok, post.problems
    return post.body


# ---- Markdown digests -------------------------------------------------------------------------

def test_digest_text_source_and_trailing_media() -> None:
    got = extract(DIGEST)
    assert got.text == ("某市统计局今天发布数据，前四个月社会消费品零售总额同比下降，降幅比一季度扩大。"
                        "分项看，餐饮收入降幅较大。（某某日报）")
    assert got.source_url == "http://finance.eastmoney.com/news/1355,202205262391921712.html"
    assert got.media == "某某日报"
    assert got.links == () and got.images == () and got.stocks == ()


@pytest.mark.parametrize("footer", [FOOTER_BAR, FOOTER_RELATIVE, "[返回首页](//finews.zning.me/)"])
def test_every_footer_form_is_removed(footer: str) -> None:
    got = extract(f"正文一句。\n\n<http://a.example/1>\n\n{footer}\n")
    assert got.text == "正文一句。"
    assert got.links == ()


def test_find_source_links_numbers_body_lines_and_reports_empty() -> None:
    body = "第一行\n<http://a.example/x>\n\n  <>  \n文字 <http://inline.example/> 不是独立行\n<//b.example/y>\r\n"
    assert find_source_links(body) == [(2, "http://a.example/x"), (4, ""), (6, "//b.example/y")]
    assert find_source_links("没有链接的正文") == []
    assert find_source_links("<p>标签不是链接</p>\n<br>") == []


def test_source_url_is_the_last_non_empty_autolink_line() -> None:
    assert extract("正文\n\n<http://first.example/>\n\n<http://last.example/>\n").source_url == "http://last.example/"
    assert extract("正文\n\n<>\n").source_url is None
    assert extract("正文没有来源").source_url is None


def test_markdown_syntax_is_reduced_to_text() -> None:
    body = ("# 标题行\n\n"
            "> 引用里的 **加粗** 与 [一个链接](https://example.org/a \"说明\") 和 ![示意图](https://example.org/i.png)\n"
            "> 第二行 __也加粗__ 还有 <https://example.org/auto> 与 <> 以及 `代码` 和 \\*星号\\*\n\n"
            "---\n\n"
            "*ST某某 与 3 < 5 且 a&amp;b\n")
    got = extract(body)
    assert got.text == ("标题行\n\n"
                        "引用里的 加粗 与 一个链接 和\n"
                        "第二行 也加粗 还有 与 以及 代码 和 *星号*\n\n"
                        "*ST某某 与 3 < 5 且 a&b")
    assert got.links == (Link("一个链接", "https://example.org/a"),
                         Link("https://example.org/auto", "https://example.org/auto"))
    assert got.images == ("示意图",)


# ---- eastmoney HTML ---------------------------------------------------------------------------

def test_mixed_body_text() -> None:
    got = extract(MIXED)
    assert got.text.split("\n\n") == [
        "示例公司宣布为某车企提供新型冷媒。（示例证券报）",
        "首段提到新能源板块，以及巨化股份和蔚来。\n第二行",
        "他说：“《<议定书>修正案》已生效” & 更多见报告。",
        "小标题",
        "（文章来源：示例证券报）",
    ]


def test_mixed_body_metadata() -> None:
    got = extract(MIXED)
    assert got.stocks == ("600160", "600160.SH", "NIO")  # no BK sector, no "NIO|106|7" image form
    assert got.media == "示例证券报"  # em_media wins over the lead's trailing （…）
    assert got.source_url is None  # only an empty <>
    assert got.links == (Link("报告", "https://example.org/r"),)  # quote tooltips are not links
    assert got.images == ("K图 NIO_0", "Image")


def test_to_markdown_preview() -> None:
    preview = to_markdown(MIXED)
    assert preview.split("\n\n") == [
        "示例公司宣布为某车企提供新型冷媒。（示例证券报）",
        "[图片: K图 NIO_0]",
        "首段提到新能源板块，以及巨化股份和蔚来。\n第二行",
        "他说：“《<议定书>修正案》已生效” & 更多见报告[1]。",
        "**小标题**",
        "[图片: Image]",
        "（文章来源：示例证券报）",
        "- [1] https://example.org/r",
    ]


def test_to_markdown_keeps_markdown_bold_numbers_links_and_keeps_source() -> None:
    body = ("**要点**：见[公告](https://example.org/n)与[原文](https://example.org/n)，另见[附件](https://example.org/f)。"
            "\n\n<http://src.example/1>\n\n" + FOOTER_RELATIVE)
    assert to_markdown(body) == ("**要点**：见公告[1]与原文[1]，另见附件[2]。\n\n<http://src.example/1>\n\n"
                                 "- [1] https://example.org/n\n- [2] https://example.org/f")


def test_html_whitespace_and_block_structure() -> None:
    body = "<div>\n  甲\n  乙<ul><li>一</li><li>二</li></ul>尾</div><p>\u3000\u3000缩进段落</p>"
    assert extract(body).text == "甲 乙\n\n一\n\n二\n\n尾\n\n缩进段落"


def test_html_blocks_are_split_on_blank_lines_like_commonmark() -> None:
    body = "<p>第一段</p>\n\n**Markdown 段落**\n\n<p>第三段</p>"
    assert extract(body).text == "第一段\n\nMarkdown 段落\n\n第三段"


# ---- stock codes ------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "codes"), [
    ("海伦司(09869.HK)涨超10%", {"09869", "09869.HK"}),
    ("海伦司(9869.HK)续升", {"09869", "09869.HK"}),  # HK codes are padded to five digits
    ("港交所（0388.hk）", {"00388", "00388.HK"}),
    ("贵州茅台（600519）盘中涨逾2%", {"600519", "600519.SH"}),
    ("华兰生物(002007.SZ)12月8日", {"002007", "002007.SZ"}),
    ("某公司(600000.SS)", {"600000", "600000.SH"}),
    ("信也科技(NYSE:FINV)发布", {"FINV"}),
    ("某车企（NASDAQ： XPEV）", {"XPEV"}),
    ("英特尔(INTC.O)CEO", {"INTC"}),
    ("股票代码：300750，", {"300750", "300750.SZ"}),
    ("今日 688981 走强", {"688981", "688981.SH"}),
    ("智能电动车ETF（516380）涨超2%", {"516380"}),  # a fund: no exchange derived
    ("成交16005190手", set()),  # inside a longer digit run
    ("补贴300000元", set()),  # an amount, not a code
    ("日期20211208与2021-12-08", set()),
    ("价格600519.5元", set()),
    ("链接 https://example.org/600519/ 结尾", set()),
    ("渣打集团(2888.HK)2022和2023财年", {"02888", "02888.HK"}),
])
def test_stock_codes_from_text(text: str, codes: set[str]) -> None:
    assert set(extract(text).stocks) == codes


def test_stock_codes_from_eastmoney_markup() -> None:
    body = ('<p><a data-code="116,00700">腾讯</a><a data-code="0,000001">平安银行</a>'
            '<a data-code="1,000001">上证指数</a><a data-code="105,baba">阿里</a>'
            '<a data-code="90,BK0473">证券</a><a data-code="FINV|106|7">图</a></p>')
    assert extract(body).stocks == ("000001", "000001.SH", "000001.SZ", "00700", "00700.HK", "BABA")


# ---- media ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "media"), [
    ("正文。(央视新闻)", "央视新闻"),
    ("正文。（文章来源：证券日报）\n\n后面还有一段", "证券日报"),
    ("工信部发布目录（第四十九批）", None),
    ("名单如下（附名单）", None),
    ("渣打集团(2888.HK)", None),
    ("没有来源的正文", None),
])
def test_media(text: str, media: str | None) -> None:
    assert extract(text).media == media


# ---- real posts -------------------------------------------------------------------------------

LEFTOVER_MARKUP = re.compile(r"<[a-zA-Z/!]|\]\(|返回首页|&[a-z]+;|data-code")


def check_invariants(body: str) -> None:
    got = extract(body)
    assert not LEFTOVER_MARKUP.search(got.text), got.text
    assert "\n\n\n" not in got.text and got.text == got.text.strip()
    sources = [url for _, url in find_source_links(body) if url]
    assert got.source_url == (sources[-1] if sources else None)
    assert got.stocks == tuple(sorted(set(got.stocks)))
    preview = to_markdown(body)
    assert "返回首页" not in preview and "<p" not in preview


@pytest.mark.parametrize("path", SAMPLE_POSTS, ids=lambda p: p.name)
def test_sample_posts_invariants(path: Path) -> None:
    check_invariants(body_of(path))


def test_shared_corpus_invariants(shared_corpus: Path) -> None:
    paths = sorted(shared_corpus.rglob("*.md"))
    assert len(paths) > 100
    for path in paths:
        check_invariants(body_of(path))


def test_shared_corpus_known_posts(shared_dir: Path) -> None:
    finews = shared_dir / "corpus" / "finews"
    nio = extract(body_of(finews / "_posts" / "-202205262391921712.md"))
    assert {"NIO", "600160", "300343", "600636"} <= set(nio.stocks)
    assert not any(code.startswith("BK") for code in nio.stocks)
    assert nio.media == "上海证券报" and nio.source_url is None
    assert nio.text.startswith("据霍尼韦尔官网消息") and "HFO-1234yf" in nio.text

    seed = extract(body_of(next((shared_dir / "corpus" / "seed").glob("*.md"))))
    assert seed.stocks == ("FINV",) and seed.media == "每日经济新闻"
    assert seed.source_url is not None and seed.source_url.startswith("http://finews.zning.xyz/")
    assert seed.text.endswith("（文章来源：每日经济新闻）")


# ---- hostile bodies -----------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "text"), [
    ("<div>" * 20000 + "深" + "</div>" * 20000, "深"),  # lexbor alone takes seconds on this
    ("<b>" * 20000 + "深", "深"),  # would overflow a recursive walk
    ("<div>" * 300000 + "深", "深"),
    ("[" * 100000 + "尾", "[" * 100000 + "尾"),
    ("**甲 " * 30000, ("**甲 " * 30000).strip()),
    ("[返回首页](../)" + " " * 100000 + "正文", "返回首页 正文"),  # not a footer line: a link
    ("1" * 100000 + ".HK", "1" * 100000 + ".HK"),
])
def test_hostile_bodies_take_linear_time(body: str, text: str) -> None:
    start = time.perf_counter()
    assert extract(body).text == text
    to_markdown(body)
    assert time.perf_counter() - start < 5  # each is quadratic (minutes) without its guard


def test_nested_bold_gets_one_pair_of_markers() -> None:
    assert to_markdown("<p><b>外<strong>内</strong>尾</b>与<b></b>空</p>") == "**外内尾**与空"
