"""`newsctl rules`: the validation rules, or those whose code starts with one of the given codes.
Needs no archive: the rules are the same everywhere."""

from __future__ import annotations

from dataclasses import dataclass

from newsctl.errors import UsageError
from newsctl.rules import Rule, matching


@dataclass
class RuleListing:
    rules: list[Rule]


def run(codes: list[str]) -> RuleListing:
    """The rules matching `codes` (codes or prefixes such as NC3; all when none are given)."""
    rules = matching(codes)
    if not rules:
        raise UsageError(f"no rule matches {', '.join(codes)} (see `newsctl rules`)")
    return RuleListing(rules=rules)
