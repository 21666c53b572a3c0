"""Output: Rich tables and previews on a terminal, plain text or JSON when piped.

One module per kind of output; each respects NO_COLOR (Rich does) and writes progress
and diagnostics to stderr only. The output formats are named here, once: cli.py's option
choices (its Enums) must offer exactly these values (tests/test_layout.py checks).
"""

from typing import Literal

InfoFormat = Literal["text", "json"]  # config, rules, stats
FindingFormat = Literal["text", "concise", "json", "github"]  # validate
