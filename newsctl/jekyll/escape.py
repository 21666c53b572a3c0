"""Text that Jekyll must publish as it is: Liquid-looking delimiters protected with `{% raw %}`.

Jekyll renders a body holding `{{` or `{%` with Liquid. `newsctl add` writes such text with each
delimiter wrapped, `{% raw %}{{{% endraw %}` and `{% raw %}{%{% endraw %}`: the smallest change
that Liquid publishes as the original text whatever follows the delimiter (even a literal
`{% endraw %}`, which a single raw block around the whole body could not hold). Titles need
nothing: Jekyll prints a title with `{{ page.title }}`, which does not render Liquid inside it
(tests/test_jekyll_differential.py shows both).
"""

from __future__ import annotations

import re

__all__ = ["protect_liquid", "without_raw_markers"]

_DELIMITER = re.compile(r"\{[{%]")


def protect_liquid(text: str) -> str:
    """`text` with every `{{` and `{%` wrapped in `{% raw %}…{% endraw %}`; unchanged without them."""
    if "{{" not in text and "{%" not in text:
        return text
    return _DELIMITER.sub(lambda match: "{% raw %}" + match[0] + "{% endraw %}", text)


_RAW_MARKER = re.compile(r"\{%-?[ \t\n]*(?:end)?raw[ \t\n]*-?%\}")


def without_raw_markers(text: str) -> str:
    """The text a reader means when it protects Liquid-looking text with `{% raw %}` (what Jekyll
    publishes of a protected text; duplicate checks and the index compare this)."""
    if "raw" not in text:
        return text
    return _RAW_MARKER.sub("", text)
