"""Plain text of a post (title + body, markup stripped) and the normalisation used for ground truth.

Stdlib only: the peer indexers import it too, and their start-up cost must not include newsctl's.
"""

from __future__ import annotations

import html
import re
import unicodedata
from pathlib import Path

FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
TITLE_LINE = re.compile(r"^title:[ \t]*(.*?)[ \t]*$", re.M)
COMMENT = re.compile(r"<!--.*?-->", re.S)
AUTOLINK = re.compile(r"<(?:https?:)?//[^>\s]*>|<>")
BLOCK_TAG = re.compile(r"</?(?:p|br|div|li|ul|ol|h[1-6]|tr|table|blockquote)\b[^>]*>", re.I)
ANY_TAG = re.compile(r"<[^>]+>")
MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
FOOTER_LINE = re.compile(r"^\s*\[返回[^\]]*\]\([^)]*\).*$", re.M)
SPACES = re.compile(r"[ \t\u3000\xa0]+")
BLANK_LINES = re.compile(r"\n\s*\n+")
POST_DIRS = ("_posts", "old_post")


def split_post(raw: str) -> tuple[str, str]:
    """Return (title, body markup); a file without front matter is all body."""
    match = FRONT_MATTER.match(raw)
    if match is None:
        return "", raw
    title_match = TITLE_LINE.search(match.group(1))
    title = _unquote(title_match.group(1)) if title_match else ""
    return title, raw[match.end() :]


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def body_text(markup: str) -> str:
    """Readable body: no tags, entities decoded, no source link or navigation footer."""
    text = FOOTER_LINE.sub("", markup)
    text = COMMENT.sub("", text)
    text = AUTOLINK.sub("", text)
    text = BLOCK_TAG.sub("\n", text)
    text = ANY_TAG.sub("", text)
    text = MD_LINK.sub(r"\1", text)
    text = html.unescape(text)
    text = SPACES.sub(" ", text)
    return BLANK_LINES.sub("\n", text).strip()


def read_title_body(path: Path) -> tuple[str, str]:
    title, markup = split_post(path.read_text(encoding="utf-8", errors="replace"))
    return title, body_text(markup)


def normalise(text: str) -> str:
    """Width- and case-folded text, so that full-width digits and Latin letters match ASCII queries."""
    return unicodedata.normalize("NFKC", text).casefold()


def display_text(path: Path) -> str:
    """Title, newline, body, width-folded but with case kept (queries are drawn from this)."""
    title, body = read_title_body(path)
    return unicodedata.normalize("NFKC", title + "\n" + body)


def searchable_text(path: Path) -> str:
    """The text that ground truth is computed over: the display text, case-folded."""
    return display_text(path).casefold()


def list_posts(root: Path) -> list[Path]:
    """Post files of an archive in a stable order."""
    posts: list[Path] = []
    for sub in POST_DIRS:
        folder = root / sub
        if folder.is_dir():
            posts.extend(p for p in folder.iterdir() if p.suffix == ".md" and p.is_file())
    return sorted(posts)
