"""Text bar charts (`stats`' months, `trend`): one helper for both."""

from __future__ import annotations

BAR = "█"


def bar(count: int, peak: int, width: int) -> str:
    """Blocks proportional to count/peak; any non-zero count shows at least one block."""
    if count <= 0 or peak <= 0 or width <= 0:
        return ""
    return BAR * max(1, round(width * count / peak))
