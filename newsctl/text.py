"""Post body (Markdown digest or eastmoney HTML) to plain text, stock codes, source and media.

A body is read as blocks separated by blank lines, as CommonMark does: a block holding an
HTML tag goes through selectolax (lexbor), any other block is Markdown reduced to its text
by a few precompiled regexes. A body without any tag never touches the HTML parser.
The source autolink line (`<http://...>`) and the footer (`[返回…](…)｜[返回首页](…)`) are
taken out before that. See docs/analysis.md for the stock-code rules.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from operator import itemgetter

from selectolax.lexbor import LexborHTMLParser, LexborNode

from newsctl.boilerplate import SOURCE_LINE, is_footer


@dataclass(frozen=True)
class Link:
    text: str
    url: str


@dataclass(frozen=True)
class Extracted:
    text: str  # paragraphs separated by "\n\n", lines inside one by "\n"
    stocks: tuple[str, ...]  # canonical codes, sorted, unique (see docs/analysis.md)
    source_url: str | None  # the last non-empty `<...>` autolink line
    media: str | None  # 文章来源
    links: tuple[Link, ...]  # body links, without footer and source
    images: tuple[str, ...]  # non-empty alt texts


# ---- body lines: source autolinks and footer --------------------------------------------------

_HTML_TAG = re.compile(r"<(?:[A-Za-z][A-Za-z0-9-]*[\s/>]|/[A-Za-z]|!--)")


def find_source_links(body: str) -> list[tuple[int, str]]:
    """(1-based line in body, url) for each autolink line; url is "" for an empty <>."""
    if "<" not in body:
        return []
    found = []
    for number, line in enumerate(body.split("\n"), 1):
        match = SOURCE_LINE.fullmatch(line.rstrip("\r")) if "<" in line else None
        if match:
            found.append((number, match.group(1) or ""))
    return found


def _split_blocks(body: str) -> tuple[list[str], list[str]]:
    """Content blocks (blank-line separated, source and footer lines dropped) and source URLs."""
    blocks: list[str] = []
    sources: list[str] = []
    current: list[str] = []
    for raw in body.split("\n"):
        line = raw.rstrip("\r")
        autolink = SOURCE_LINE.fullmatch(line) if "<" in line else None
        if autolink:
            sources.append(autolink.group(1) or "")
        footer = is_footer(line)
        if autolink or footer or not line.strip():
            if current:
                blocks.append("\n".join(current))
                current = []
            continue
        current.append(line)
    if current:
        blocks.append("\n".join(current))
    return blocks, sources


# ---- rendering ---------------------------------------------------------------------------------

_BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "center", "dd", "details", "div", "dl", "dt", "figcaption",
    "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol",
    "p", "pre", "section", "summary", "table", "tbody", "thead", "tfoot", "tr", "ul"})
_SKIP_TAGS = frozenset({  # never text a reader sees; "-comment" is selectolax's comment node
    "-comment", "script", "style", "noscript", "template", "iframe", "object", "svg", "head", "title"})
_QUOTE_TOOLTIP_CLASSES = frozenset({"keytip", "infokey", "EmImageRemark"})
_MAYBE_HIDDEN = "[hidden], [style*=display], [style*=DISPLAY]"
_DISPLAY_NONE = re.compile(r"display\s*:\s*none", re.IGNORECASE)

_MD_QUOTE = re.compile(r"^(?:>[ \t]?)+")
_MD_HEADING = re.compile(r"^#{1,6}[ \t]+")
_MD_RULE = re.compile(r"(?:[-*_][ \t]*){3,}")
# Character classes exclude the opening delimiter too, so that a scan from one "[" stops at
# the next one: linear time even on a hostile line of thousands of brackets.
_MD_IMAGE = re.compile(r"!\[([^\[\]\n]*)\]\(([^()\s]*)(?:[ \t]+\"[^\"\n]*\")?\)")
_MD_LINK = re.compile(r"\[([^\[\]\n]*)\]\(([^()\s]*)(?:[ \t]+\"[^\"\n]*\")?\)")
_MD_AUTOLINK = re.compile(r"<((?:[A-Za-z][A-Za-z0-9+.\-]{1,31}:|//)[^<>\s]*)?>")
_MD_BOLD = re.compile(r"\*\*(?=\S)((?:(?!\*\*).)+?)(?<=\S)\*\*|__(?=\S)((?:(?!__).)+?)(?<=\S)__")
_MD_CODE = re.compile(r"`+([^`]*)`+")
_MD_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


# lexbor's parse time grows with the square of the nesting depth (20,000 levels: 3 s), so a
# fragment with many tags is checked first and, when absurdly deep, reduced by a regex.
_MANY_TAGS = 5000
_MAX_DEPTH = 1000
_TAG_NAME = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)[^<>]*?(/?)>")
_SELF_CLOSING = frozenset({  # void elements and those a parser closes implicitly
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr",
    "p", "li", "dt", "dd", "tr", "td", "th", "option"})
_ANY_TAG = re.compile(r"<[^<>]*>")


def _too_deep(fragment: str) -> bool:
    depth = 0
    for match in _TAG_NAME.finditer(fragment):
        closing, name, self_closing = match.groups()
        if self_closing or name.lower() in _SELF_CLOSING:
            continue
        depth = max(depth - 1, 0) if closing else depth + 1
        if depth > _MAX_DEPTH:
            return True
    return False


def _children_reversed(node: LexborNode) -> list[LexborNode]:
    children = list(node.iter(include_text=True))
    children.reverse()
    return children


class _Renderer:
    """Collects paragraphs, links and images; `rich` keeps bold and numbers links for previews."""

    def __init__(self, rich: bool) -> None:
        self.rich = rich
        self.paragraphs: list[str] = []
        self.lines: list[str] = []
        self.pieces: list[str] = []
        self.links: list[Link] = []
        self.seen_links: set[Link] = set()
        self.link_numbers: dict[str, int] = {}
        self.images: list[str] = []
        self.em_media: str | None = None
        self.bold_depth = 0

    # -- paragraph assembly
    def newline(self) -> None:
        line = " ".join("".join(self.pieces).split())  # HTML whitespace collapsing
        self.pieces = []
        if line:
            self.lines.append(line)

    def paragraph_break(self) -> None:
        self.newline()
        if self.lines:
            self.paragraphs.append("\n".join(self.lines))
            self.lines = []

    def add_link(self, text: str, url: str) -> str:
        """Record the link; returns the marker that follows its text in rich output."""
        if url.startswith(("javascript:", "#")) or not url:
            return ""
        link = Link(text, url)
        if link not in self.seen_links:
            self.seen_links.add(link)
            self.links.append(link)
        number = self.link_numbers.setdefault(url, len(self.link_numbers) + 1)
        return f"[{number}]" if self.rich else ""

    def image(self, alt: str) -> str:
        if alt:
            self.images.append(alt)
        if not self.rich:
            return ""
        return f"[图片: {alt}]" if alt else "[图片]"

    # -- Markdown
    def markdown_block(self, block: str) -> None:
        for line in block.split("\n"):
            line = line.strip()
            if line[:1] == ">":
                line = _MD_QUOTE.sub("", line)
            if line[:1] == "#":
                line = _MD_HEADING.sub("", line)
            if line[:1] in "-*_" and _MD_RULE.fullmatch(line):
                continue
            self.pieces.append(self.markdown_inline(line))
            self.newline()
        self.paragraph_break()

    def markdown_inline(self, text: str) -> str:
        # Each rule runs only when its marker character is present: most lines have none.
        if "![" in text:
            text = _MD_IMAGE.sub(lambda m: self.image(m.group(1).strip()), text)
        if "](" in text:
            text = _MD_LINK.sub(self._markdown_link, text)
        if "<" in text:
            text = _MD_AUTOLINK.sub(self._markdown_autolink, text)
        if not self.rich and ("**" in text or "__" in text):
            text = _MD_BOLD.sub(lambda m: m.group(1) or m.group(2), text)
        if "`" in text:
            text = _MD_CODE.sub(r"\1", text)
        if "\\" in text:
            text = _MD_ESCAPE.sub(r"\1", text)
        if "&" in text:
            text = html.unescape(text)
        return text

    def _markdown_link(self, match: re.Match[str]) -> str:
        text = match.group(1)
        return text + self.add_link(text, match.group(2))

    def _markdown_autolink(self, match: re.Match[str]) -> str:
        url = match.group(1) or ""
        self.add_link(url, url)
        return url if self.rich and url else ""

    # -- HTML
    def html_block(self, fragment: str) -> None:
        if fragment.count("<") > _MANY_TAGS and _too_deep(fragment):
            self.pieces.append(html.unescape(_ANY_TAG.sub("", fragment)))  # hostile: no parser
            self.paragraph_break()
            return
        root = LexborHTMLParser(fragment).body
        if root is None:
            return
        hidden = {node.mem_id for node in root.css(_MAYBE_HIDDEN)
                  if "hidden" in node.attributes or _DISPLAY_NONE.search(node.attributes.get("style") or "")}
        media = root.css_first(".em_media")
        if media is not None:
            self.em_media = media.text(deep=True)
        self.paragraph_break()
        self._walk(root, hidden)
        self.paragraph_break()

    def _walk(self, root: LexborNode, hidden: set[int]) -> None:
        # An explicit stack, not recursion: hostile HTML may nest thousands of levels deep.
        # Items are nodes to visit or actions to run once a node's children are done.
        stack: list[LexborNode | Callable[[], None]] = list(_children_reversed(root))
        while stack:
            item = stack.pop()
            if not isinstance(item, LexborNode):
                item()
                continue
            tag = item.tag or ""
            if tag == "-text":
                self.pieces.append(item.text_content or "")
            elif tag in _SKIP_TAGS or (hidden and item.mem_id in hidden):
                continue
            elif tag == "br":
                self.newline()
            elif tag == "img":
                self.pieces.append(self.image(" ".join((item.attributes.get("alt") or "").split())))
            else:
                on_exit = self._enter(item, tag)
                if on_exit is not None:
                    stack.append(on_exit)
                stack.extend(_children_reversed(item))

    def _enter(self, node: LexborNode, tag: str) -> Callable[[], None] | None:
        """Start an element; returns what to do after its children, if anything."""
        if tag in _BLOCK_TAGS:
            self.paragraph_break()
            return self.paragraph_break
        if tag == "a":
            return partial(self._close_anchor, node)
        if self.rich and tag in ("strong", "b"):
            self.bold_depth += 1  # only the outermost bold gets markers
            return partial(self._close_bold, len(self.pieces), self._line_count())
        return None

    def _close_anchor(self, node: LexborNode) -> None:
        attributes = node.attributes
        if _QUOTE_TOOLTIP_CLASSES.intersection((attributes.get("class") or "").split()):
            return  # eastmoney's automatic quote/keyword tooltips: noise, their codes go to `stocks`
        text = " ".join(node.text(deep=True).split())
        if text:
            self.pieces.append(self.add_link(text, (attributes.get("href") or "").strip()))

    def _line_count(self) -> int:
        return len(self.paragraphs) + len(self.lines)

    def _close_bold(self, start: int, lines: int) -> None:
        self.bold_depth -= 1
        if self.bold_depth or lines != self._line_count():
            return  # a break inside: markers would not pair up
        inner = " ".join("".join(self.pieces[start:]).split())
        self.pieces[start:] = [f"**{inner}**"] if inner else []

    def render(self, blocks: list[str]) -> None:
        for block in blocks:
            if "<" in block and _HTML_TAG.search(block):
                self.html_block(block)
            else:
                self.markdown_block(block)
        self.paragraph_break()


# ---- stock codes -------------------------------------------------------------------------------

# eastmoney quote markup: data-code="market,code"; the image form "NIO|106|7" has no comma.
_DATA_CODE = re.compile(r'data-code="(\d+),([A-Za-z0-9._\-]+)"')
_HK_MARKETS = frozenset({"116", "128"})
_US_MARKETS = frozenset({"105", "106", "107"})
_SKIP_MARKETS = frozenset({"90"})  # sector boards (BK…)

# Patterns that open with a look-behind make the regex engine try every position; each rule
# is therefore gated by a cheap test (a literal, a substring check) or restructured
# so that it opens with a character class.
_SUFFIX_HINT = re.compile(r"\.(?:HK|SH|SZ|BJ|SS|US|N|O|OQ)(?![A-Za-z])", re.IGNORECASE)
_SUFFIXED = re.compile(r"(?<![0-9A-Za-z.])(\d{4,6})\.(HK|SH|SZ|BJ|SS)(?![0-9A-Za-z])", re.IGNORECASE)
_US_SUFFIXED = re.compile(r"[（(]\s*([A-Z]{1,5})\.(?:US|N|O|OQ)\s*[)）]")
_EXCHANGE_WORDS = ("NYSE", "NASDAQ", "Nasdaq", "AMEX", "nyse", "nasdaq", "amex", "纽交所", "纳斯达克", "美股")
_EXCHANGE_PREFIXED = re.compile(  # no leading look-behind: a branch of literals is searched fast
    r"(?:" + "|".join(_EXCHANGE_WORDS) + r")\s*[:：]\s*([A-Z]{1,5}(?:\.[A-Z])?)(?![A-Za-z])")
_PAREN_CODE = re.compile(r"[（(]\s*(?:(?:股票|证券)?代码\s*[：:]\s*)?(\d{6})\s*[)）]")
_LABELLED_CODE = re.compile(r"(?:股票|证券)代码\s*[：:]\s*(\d{6})(?!\d)")
_BARE_A_SHARE = re.compile(  # the look-behind sits after the 3-digit prefix, checking the char before it
    r"(?:60[0135]|688|00[0-3]|30[01])(?<![0-9A-Za-z.,/:=?&#_\-]...)\d{3}"
    r"(?![0-9A-Za-z.,%_]|[年月日号元万亿千百股手吨人个次家辆台只份件倍])")


def _a_share_exchange(code: str) -> str | None:
    if code[:1] == "6":
        return "SH"
    if code[:1] in "03":
        return "SZ"
    if code[:1] in "48" or code[:2] == "92":
        return "BJ"
    return None


def _with_exchange(code: str, exchange: str | None) -> tuple[str, ...]:
    return (code, f"{code}.{exchange}") if exchange else (code,)


def _data_code_stocks(body: str) -> set[str]:
    found: set[str] = set()
    for market, raw in _DATA_CODE.findall(body):
        code = raw.upper()
        if market in _SKIP_MARKETS or code.startswith("BK"):
            continue
        if market in _HK_MARKETS:
            found.update(_with_exchange(code.zfill(5), "HK"))
        elif market in _US_MARKETS:
            found.add(code)
        elif market == "1":
            found.update(_with_exchange(code, "SH"))
        elif market == "0" and code.isdigit():
            found.update(_with_exchange(code, _a_share_exchange(code)))
        else:
            found.add(code)
    return found


def _text_stocks(text: str) -> set[str]:
    found: set[str] = set()
    if "." in text and _SUFFIX_HINT.search(text):
        for code, suffix in _SUFFIXED.findall(text):
            exchange = "SH" if suffix.upper() == "SS" else suffix.upper()
            if exchange == "HK" and len(code) <= 5:
                found.update(_with_exchange(code.zfill(5), "HK"))
            elif exchange != "HK" and len(code) == 6:
                found.update(_with_exchange(code, exchange))
        found.update(_US_SUFFIXED.findall(text))
    if any(word in text for word in _EXCHANGE_WORDS):
        found.update(_EXCHANGE_PREFIXED.findall(text))
    codes = _PAREN_CODE.findall(text) + _BARE_A_SHARE.findall(text)
    if "代码" in text:
        codes += _LABELLED_CODE.findall(text)
    for code in codes:
        found.update(_with_exchange(code, _a_share_exchange(code)))
    return found


# ---- media -------------------------------------------------------------------------------------

_MEDIA_LABEL = re.compile(r"文章来源\s*[：:]\s*([^）)\s]{1,30})")
_TRAILING_MEDIA = re.compile(r"[（(]([^（）()\d\s.:：,，、。;；!！?？]{2,20})[)）]\s*$")
_NOT_MEDIA = re.compile(r"^(?:附|第|图|注|详见|记者)|[批期]$")


def _find_media(text: str, em_media: str | None) -> str | None:
    if em_media:
        label = _MEDIA_LABEL.search(em_media)
        plain = em_media.strip().strip("（）() ")
        return label.group(1) if label else (plain.removeprefix("来源：").removeprefix("来源:") or None)
    label = _MEDIA_LABEL.search(text)
    if label:
        return label.group(1)
    trailing = _TRAILING_MEDIA.search(text, max(0, len(text) - 30))  # the pattern is anchored at the end
    if trailing and not _NOT_MEDIA.search(trailing.group(1)):
        return trailing.group(1)
    return None


# ---- public API --------------------------------------------------------------------------------

def _render(body: str, rich: bool) -> tuple[_Renderer, list[str]]:
    blocks, sources = _split_blocks(body)
    renderer = _Renderer(rich)
    renderer.render(blocks)
    return renderer, sources


def extract(body: str) -> Extracted:
    """Plain text and metadata of a post body."""
    renderer, sources = _render(body, rich=False)
    text = "\n\n".join(renderer.paragraphs)
    stocks = _text_stocks(text)
    if "data-code" in body:
        stocks |= _data_code_stocks(body)
    return Extracted(
        text=text,
        stocks=tuple(sorted(stocks)),
        source_url=next((url for url in reversed(sources) if url), None),
        media=_find_media(text, renderer.em_media),
        links=tuple(renderer.links),
        images=tuple(renderer.images),
    )


def to_markdown(body: str) -> str:
    """A terminal preview: paragraphs, **bold**, [图片: alt], links as text[n] + a URL list.

    The source autolink line stays (as `<url>`), the footer and empty `<>` go.
    """
    renderer, sources = _render(body, rich=True)
    parts = list(renderer.paragraphs)
    parts += [f"<{url}>" for url in sources if url]
    numbered = sorted(renderer.link_numbers.items(), key=itemgetter(1))
    if numbered:
        parts.append("\n".join(f"- [{number}] {url}" for url, number in numbered))
    return "\n\n".join(parts)
