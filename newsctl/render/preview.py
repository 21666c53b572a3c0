"""Output of `newsctl show`: one article as a Rich preview on a terminal, or as plain text when piped
(commands/show.py finds and reads it).

The body is `text.to_markdown`'s preview (paragraphs, bold, images as [图片: alt], links
numbered in the text and listed at the end) built into one Rich Text, so that the characters
shown are known exactly and a query's matches (`search.highlight_spans`) can be marked in them.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from newsctl.config import Settings
from newsctl.dates import format_date
from newsctl.paths import archive_path
from newsctl.post import Post

if TYPE_CHECKING:
    from newsctl.commands.show import ShowResult
    from newsctl.text import Extracted

HIGHLIGHT = "bold reverse yellow"
LINK_MARK = "dim"
LABEL = "bold cyan"


# ---- the command ------------------------------------------------------------------------

def print_show(result: ShowResult, settings: Settings, *, pager: bool = False) -> None:
    """Print what commands.show found: the raw bytes, the preview, or a broken post's warnings
    and text."""
    if result.raw is not None:
        write_bytes(result.raw)
        return
    article = result.post
    assert article is not None
    if not article.ok:
        print_unparsable(article, result.name, result.fallback_text)
        return
    console = Console()
    preview = build_preview(article, settings, result.highlight)
    if console.is_terminal:
        print_paged(console, terminal_layout(preview), pager)
    else:
        console.print(plain_layout(preview), soft_wrap=True)


def write_bytes(data: bytes) -> None:
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def print_unparsable(article: Post, name: str, text: str | None) -> None:
    """A warning naming each defect, then the text as it is (if there is any worth showing)."""
    for problem in article.problems:
        print(f"newsctl: warning: {name}:{problem.line}:{problem.column}: {problem.message} "
              f"[{problem.code}]", file=sys.stderr)
    if text is not None:
        sys.stdout.write(text if text.endswith("\n") or not text else text + "\n")


def print_paged(console: Console, renderable: RenderableType, pager: bool) -> None:
    """Through the pager only when asked and the article is taller than the terminal."""
    if pager and len(console.render_lines(renderable, pad=False)) > console.height:
        os.environ.setdefault("LESS", "FRX")  # as git does: let less show the colours
        with console.pager(styles=True):
            console.print(renderable)
    else:
        console.print(renderable)


# ---- what is shown ----------------------------------------------------------------------

@dataclass
class Preview:
    title: Text
    fields: list[tuple[str, str]]  # (label, value) of the metadata, in display order
    body: Text
    links: list[tuple[int, str]] = field(default_factory=list)  # (number in the text, url)


def build_preview(article: Post, settings: Settings, highlight: str | None) -> Preview:
    from newsctl.text import extract, to_markdown

    extracted = extract(article.body)
    body = body_text(to_markdown(article.body), shown_source=extracted.source_url)
    title = Text(article.title or "(untitled)", style="bold")
    if highlight:
        mark_matches(title, highlight)
        mark_matches(body.text, highlight)
    return Preview(title=title, fields=metadata_fields(article, settings, extracted),
                   body=body.text, links=body.links)


def metadata_fields(article: Post, settings: Settings, extracted: Extracted) -> list[tuple[str, str]]:
    """(label, value) rows with a value; the date in the archive's zone."""
    moment = article.date(settings.tz)
    rows = [
        ("Date", format_date(moment, settings.tz) if moment else str(article.meta.get("date") or "")),
        ("Categories", ", ".join(article.categories)),
        ("Tags", ", ".join(article.tags)),
        ("Stocks", ", ".join(extracted.stocks)),
        ("Source", extracted.source_url or ""),
        ("Media", extracted.media or ""),
        ("Id", article.id),
        ("Path", archive_path(settings.root, article.path)),
    ]
    return [(label, value) for label, value in rows if value]


def mark_matches(text: Text, query: str) -> None:
    from newsctl.engine.searcher import highlight_spans

    for start, end in highlight_spans(text.plain, query):
        text.stylize(HIGHLIGHT, start, end)


def terminal_layout(preview: Preview) -> RenderableType:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style=LABEL, no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in preview.fields:
        grid.add_row(label, value)
    parts: list[RenderableType] = [Padding(preview.title, (1, 0, 0, 0)), Panel(grid, border_style="dim"),
                                   preview.body]
    if preview.links:
        parts.append(links_text(preview.links))
    return Group(*parts)


def plain_layout(preview: Preview) -> RenderableType:
    head = Text(preview.title.plain + "\n")
    for label, value in preview.fields:
        head.append(f"{label}: {value}\n")
    parts: list[RenderableType] = [head, preview.body]
    if preview.links:
        parts.append(links_text(preview.links))
    return Group(*parts)


def links_text(links: list[tuple[int, str]]) -> Text:
    text = Text("Links\n", style="bold")
    for number, url in links:
        text.append(f"[{number}] ", style=LINK_MARK)
        text.append(url + "\n")
    return text


# ---- the preview Markdown to Rich text -----------------------------------------------------

# text.to_markdown writes paragraphs of text where the only markup is **bold**, the markers
# [图片: alt] and [n] (a link's number), `<url>` source lines and a closing "- [n] url" list.
# It does not escape the article's own characters, so it is read by these few rules rather
# than by a CommonMark parser, which would take a leading "1." or a "<tag>" in the text for markup.
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_MARKER = re.compile(r"\[图片(?:: [^\]\n]*)?\]|\[\d+\]")
_SOURCE_LINE = re.compile(r"<(\S+)>")
_LINK_ITEM = re.compile(r"- \[(\d+)\] (\S+)")


@dataclass
class BodyText:
    text: Text
    links: list[tuple[int, str]]


def body_text(markdown: str, shown_source: str | None = None) -> BodyText:
    """Rich text of to_markdown's preview; the source line already shown in the panel is left out."""
    parts = [part for part in markdown.split("\n\n") if part.strip()]
    links = link_list(parts[-1]) if parts else []
    if links:
        parts.pop()
    text = Text()
    for part in parts:
        source = _SOURCE_LINE.fullmatch(part.strip())
        if source and source.group(1) == shown_source:
            continue
        if source:
            text.append(source.group(1), "underline")
        else:
            append_paragraph(text, part)
        text.append("\n\n")
    text.rstrip()
    text.append("\n")
    return BodyText(text=text, links=links)


def link_list(part: str) -> list[tuple[int, str]]:
    """(number, url) when the part is to_markdown's closing link list, else []."""
    items = [_LINK_ITEM.fullmatch(line) for line in part.split("\n")]
    return [(int(item.group(1)), item.group(2)) for item in items if item] if all(items) else []


def append_paragraph(text: Text, paragraph: str) -> None:
    start = len(text)
    position = 0
    for bold in _BOLD.finditer(paragraph):
        text.append(paragraph[position : bold.start()])
        text.append(bold.group(1), "bold")
        position = bold.end()
    text.append(paragraph[position:])
    for marker in _MARKER.finditer(text.plain, start):
        text.stylize("italic" if marker.group().startswith("[图片") else LINK_MARK, marker.start(), marker.end())
