"""A tolerant reading of front matter that YAML refused: each top-level key with its block
(the key's line and the indented or `- item` lines under it) loaded on its own.

One defect in the YAML (an unescaped quote in the title) used to hide every other finding of
the post, so each defect cost a commit round. With this scan `validate` still checks the keys
it can read (a missing key, a date without zone, the categories) and the body; the key whose
block does not load is reported by the YAML finding alone."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from newsctl.post import Post

_TOP_KEY = re.compile(r"(?P<key>[A-Za-z_][A-Za-z0-9_-]*)[ \t]*:(?:[ \t]|$)")
_CONTINUATION = re.compile(r"[ \t]|-(?:[ \t]|$)|#|$")  # indented, a list item, a comment, blank


@dataclass
class ScannedFrontMatter:
    meta: dict[str, Any] = field(default_factory=dict)  # the keys whose block loaded
    key_lines: dict[str, int] = field(default_factory=dict)  # every key seen -> 1-based line
    unreadable: set[str] = field(default_factory=set)  # keys present whose block does not load


def scan_front_matter(fm_text: str, first_line: int, load: Callable[[str], Any]) -> ScannedFrontMatter:
    """`load` is the post loader's own (same types: dates stay text); a key seen twice keeps its
    first block (the duplicate is the YAML finding's business)."""
    scanned = ScannedFrontMatter()
    for key, line, block in _blocks(fm_text.split("\n"), first_line):
        if key in scanned.key_lines:
            continue
        scanned.key_lines[key] = line
        try:
            data = load(block)
        except Exception:  # any refusal of the loader: this key cannot be read
            scanned.unreadable.add(key)
            continue
        if isinstance(data, dict) and len(data) == 1 and str(next(iter(data))) == key:
            scanned.meta[key] = data[next(iter(data))]
        else:
            scanned.unreadable.add(key)
    return scanned


def _blocks(lines: list[str], first_line: int) -> list[tuple[str, int, str]]:
    blocks: list[tuple[str, int, str]] = []
    current: tuple[str, int, list[str]] | None = None
    for number, line in enumerate(lines, first_line):
        match = _TOP_KEY.match(line)
        if match:
            if current is not None:
                blocks.append((current[0], current[1], "\n".join(current[2]) + "\n"))
            current = (match["key"], number, [line])
        elif current is not None and _CONTINUATION.match(line):
            current[2].append(line)
        elif current is not None:  # a line that belongs to no key: the block ends here
            blocks.append((current[0], current[1], "\n".join(current[2]) + "\n"))
            current = None
    if current is not None:
        blocks.append((current[0], current[1], "\n".join(current[2]) + "\n"))
    return blocks


def tolerant_post(post: Post) -> Post | None:
    """A view of a post whose only reading error is invalid YAML: the keys the scan could read as
    its meta, every key seen in `key_lines` (so a key present but unreadable is not "missing"), the
    body as read. None for any other post (it was read, or it is worse than a YAML slip)."""
    from newsctl.post import YAML_SYNTAX, front_matter_handler, reading_errors

    errors = reading_errors(post)
    if not post.raw or not errors or any(problem.code != YAML_SYNTAX for problem in errors):
        return None
    lines = post.raw.replace("\r\n", "\n").removeprefix("\ufeff").split("\n")
    fm_text = "\n".join(lines[1:max(post.body_line - 2, 1)])
    scanned = scan_front_matter(fm_text, 2, front_matter_handler().load)
    return replace(post, meta=scanned.meta, key_lines=scanned.key_lines, problems=[])
