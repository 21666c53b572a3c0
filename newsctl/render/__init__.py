"""Output: Rich tables and previews on a terminal, plain text or JSON when piped.

One module per kind of output; each respects NO_COLOR (Rich does) and writes progress
and diagnostics to stderr only.
"""
