"""Search results on a terminal: one block per hit, as ripgrep's headings and git log do.

    1. 2022-06-01  202206012398184598  信也科技一季度营收同比增长 …
       _posts/2022-06-01-202206012398184598.md  emnews
       信也科技(NYSE:FINV)发布2022Q1未经审计财务报告。…

A table squeezed paths and category names into narrow columns and broke them mid-word; here
the id (what `newsctl show` takes), the path and the categories are printed whole, each on a
line of its own if need be, and only the title and the snippet wrap. Matches are marked by
reverse video and bold as well as colour, so they stay visible under NO_COLOR. Longer than
the terminal: through the pager, as `show` does."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group, RenderableType
from rich.text import Text

from newsctl.paths import printable

Record = dict[str, Any]

MATCH = "bold reverse yellow"  # reverse and bold survive NO_COLOR, which drops only the colour
INDENT = "   "


def print_listing(records: list[Record], *, total: int, offset: int, pager: bool) -> None:
    from newsctl.render.preview import print_paged

    console = Console(highlight=False)
    if not records:
        console.print(f"no results ({total} matches before --offset {offset})" if total else "no results")
        return
    print_paged(console, listing(records, total=total, offset=offset, width=console.width), pager)


def listing(records: list[Record], *, total: int, offset: int, width: int) -> RenderableType:
    blocks: list[RenderableType] = []
    for rank, record in enumerate(records, offset + 1):
        blocks += [*hit_block(rank, record, width), Text("")]
    first, last = offset + 1, offset + len(records)
    more = "" if last >= total else "  (--limit 0 for all, --offset to page)"
    blocks.append(Text(f"{first}–{last} of {total}{more}", style="dim"))
    return Group(*blocks)


def hit_block(rank: int, record: Record, width: int) -> list[Text]:
    head = Text(f"{rank}. ", style="bold")
    head.append(str(record["date"])[:10], style="green")
    head.append("  ")
    head.append(printable(str(record["id"])), style="cyan")
    head.append("  ")
    head.append_text(marked(str(record["title"]), record["highlights"]["title"], "bold"))
    lines = [head]
    lines += whole_words_line([printable(str(record["path"])), *(printable(str(c)) for c in record["categories"])],
                              ["magenta", *("blue" for _ in record["categories"])], width)
    if record.get("snippet"):
        snippet = Text(INDENT)
        snippet.append_text(marked(str(record["snippet"]), record["highlights"]["snippet"], "dim"))
        lines.append(snippet)
    return lines


def whole_words_line(words: list[str], styles: list[str], width: int) -> list[Text]:
    """The words two spaces apart, indented, starting a new line rather than breaking a word; a
    word wider than the terminal stands alone (the terminal wraps it, newsctl does not cut it)."""
    lines: list[Text] = []
    current = Text(INDENT)
    for word, style in zip(words, styles, strict=True):
        separator = "" if current.plain == INDENT else "  "
        if current.plain != INDENT and current.cell_len + len(separator) + Text(word).cell_len > width:
            lines.append(current)
            current, separator = Text(INDENT), ""
        current.append(separator + word, style=style)
    lines.append(current)
    for line in lines:
        line.no_wrap = True
        line.overflow = "ignore"
    return lines


def marked(text: str, spans: list[list[int]], style: str) -> Text:
    if not text.isprintable():  # escaped control characters move the offsets: no marks then
        return Text(printable(text), style=style, overflow="fold")
    result = Text(text, style=style, overflow="fold")  # CJK has no spaces to wrap at
    for start, end in spans:
        result.stylize(MATCH, start, end)
    return result
