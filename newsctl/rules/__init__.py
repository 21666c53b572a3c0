"""The validation rules: one `Rule` entry each (code, name, severity, check, fix, docs), listed
in rules/registry.py, defined in one module per family:

- reading.py: NC1xx the file, NC2xx front matter and YAML (found by post.py while reading);
- fields.py: NC301 missing keys, NC302 wrong kinds, NC308 layouts; title.py: NC303, NC304;
- dates.py: NC305-NC307 and NC402; filename.py: NC401; body.py: NC5xx;
- duplicates.py: NC6xx across the archive; style.py: NC7xx.

The names below are imported from their modules when first used (PEP 562): post.py imports
rules/reading.py, which runs this file first, and the checks import post.py, so this file
must not import them eagerly.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from newsctl.rules.body import body_content, squash
    from newsctl.rules.dates import add_date_zone, parse_date
    from newsctl.rules.duplicates import PostFacts, blake2b, duplicate_findings, name_facts, post_facts
    from newsctl.rules.reading import requote_title
    from newsctl.rules.registry import (
        RULE_LIST,
        RULES,
        by_code,
        check_post,
        fix_text,
        front_matter_read,
        matching,
        resolve_selection,
    )
    from newsctl.rules.rule import ERROR, WARNING, CheckContext, Finding, Rule, Severity

_HOMES = {
    "body": ("body_content", "squash"),
    "dates": ("add_date_zone", "parse_date"),
    "duplicates": ("PostFacts", "blake2b", "duplicate_findings", "name_facts", "post_facts"),
    "reading": ("requote_title",),
    "registry": ("RULE_LIST", "RULES", "by_code", "check_post", "fix_text", "front_matter_read", "matching",
                 "resolve_selection"),
    "rule": ("ERROR", "WARNING", "CheckContext", "Finding", "Rule", "Severity"),
}
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}
__all__ = [  # noqa: RUF022  # grouped by home module, as _HOMES
    "body_content", "squash", "add_date_zone", "parse_date",
    "PostFacts", "blake2b", "duplicate_findings", "name_facts", "post_facts", "requote_title",
    "RULE_LIST", "RULES", "by_code", "check_post", "fix_text", "front_matter_read", "matching", "resolve_selection",
    "ERROR", "WARNING", "CheckContext", "Finding", "Rule", "Severity",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'newsctl.rules' has no attribute {name!r}")
    return getattr(importlib.import_module(f"newsctl.rules.{module}"), name)
