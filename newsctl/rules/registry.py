"""The registry of validation rules, as ruff's: every rule once, in code order, with what runs
it. Codes: NC1xx file and encoding, NC2xx front matter and YAML (both found by `post.py` while
reading), NC3xx fields, NC4xx file name, NC5xx body, NC6xx duplicates, NC7xx style.

To add a rule: define it in the family module its code belongs to (a `Rule` with its docs, a
check, and a repair if `--fix` can mend it), and list it in `RULE_LIST` below; docs/rules.md is
generated from this list (`python -m newsctl.render.rules_doc --write`) and tests/test_rule_fixtures.py
wants a fixture for it.

Selection works like ruff's: codes or prefixes, and the most specific match between `select`
and `ignore` wins. On the start-up path of `newsctl validate` (pre-commit): only the standard
library, `newsctl.post` and the small stages it uses.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import tzinfo
from pathlib import Path

from newsctl.errors import UsageError
from newsctl.frontmatter_scan import tolerant_post
from newsctl.post import Post, Problem, parse_post, quote_yaml
from newsctl.rules.body import BODY_RULES
from newsctl.rules.dates import DATE_RULES
from newsctl.rules.duplicates import DUPLICATE_RULES
from newsctl.rules.fields import FIELD_RULES
from newsctl.rules.filename import BAD_FILE_NAME
from newsctl.rules.jekyll import JEKYLL_RULES
from newsctl.rules.reading import READING_RULES
from newsctl.rules.rule import Check, CheckContext, Finding, FixContext, Repair, Rule
from newsctl.rules.style import TRAILING_WHITESPACE
from newsctl.rules.title import TITLE_RULES

RULE_LIST: tuple[Rule, ...] = tuple(sorted(
    (*READING_RULES, *FIELD_RULES, *TITLE_RULES, *DATE_RULES, BAD_FILE_NAME, *BODY_RULES,
     *DUPLICATE_RULES, TRAILING_WHITESPACE, *JEKYLL_RULES), key=lambda rule: rule.code))
RULES: dict[str, Rule] = {rule.code: rule for rule in RULE_LIST}
_FILE_CHECKS: tuple[Check, ...] = tuple(rule.check for rule in RULE_LIST if rule.scope == "file" and rule.check)
_FRONT_MATTER_CHECKS: tuple[Check, ...] = tuple(rule.check for rule in RULE_LIST
                                                if rule.scope == "front-matter" and rule.check)
_REPAIRS: tuple[tuple[str, Repair], ...] = tuple((rule.code, rule.repair) for rule in RULE_LIST if rule.repair)


def by_code(code: str) -> Rule | None:
    return RULES.get(code)


def matching(prefixes: Iterable[str]) -> list[Rule]:
    """The rules whose code starts with one of `prefixes` (all rules when there are none)."""
    wanted = [prefix.strip().upper() for prefix in prefixes if prefix.strip()]
    return [rule for rule in RULE_LIST if not wanted or rule.code.startswith(tuple(wanted))]


def resolve_selection(select: Iterable[str], ignore: Iterable[str], origin: str = "--select/--ignore",
                      ) -> frozenset[str]:
    """The enabled codes; the longest matching prefix decides, `ignore` wins ties (as in ruff)."""
    chosen = [s.strip().upper() for s in select if s.strip()] or ["NC"]
    dropped = [s.strip().upper() for s in ignore if s.strip()]
    for code in (*chosen, *dropped):
        if code != "ALL" and not any(rule.startswith(code) for rule in RULES):
            raise UsageError(f"{origin}: unknown rule code or prefix {code!r} (see `newsctl rules`)")
    return frozenset(code for code in RULES if _wins(code, chosen, dropped))


def _wins(code: str, chosen: list[str], dropped: list[str]) -> bool:
    def best(prefixes: list[str]) -> int:
        lengths = [0 if p == "ALL" else len(p) for p in prefixes if p == "ALL" or code.startswith(p)]
        return max(lengths, default=-1)

    return best(chosen) > best(dropped)


# ---- running the rules ----------------------------------------------------------------------------

def front_matter_read(post: Post) -> bool:
    """The front matter parsed into a mapping (only harmless reading problems)."""
    return bool(post.raw) and post.ok


def check_post(post: Post, ctx: CheckContext) -> list[Finding]:
    """Every per-file finding for one post (all rules; the caller filters the selection)."""
    findings = [_problem_finding(post, problem, ctx) for problem in post.problems]
    for check in _FILE_CHECKS:
        findings += check(post, ctx)
    # Invalid YAML hides no other finding: the keys a tolerant scan can read are checked too.
    view = post if front_matter_read(post) else tolerant_post(post)
    if view is not None:
        for check in _FRONT_MATTER_CHECKS:
            findings += check(view, ctx)
    return findings


def _problem_finding(post: Post, problem: Problem, ctx: CheckContext) -> Finding:
    """A reading rule's finding: post.py found the problem while reading."""
    rule = RULES[problem.code]
    fixable = rule.fix == "always" or (
        rule.repair is not None and rule.repair(post.raw, fix_context(post.path, ctx.tz, ctx)) is not None)
    return rule.finding(post, problem.message, problem.line, problem.column, fixable)


def fix_context(path: Path, tz: tzinfo, ctx: CheckContext | None = None) -> FixContext:
    site, date_fix = (ctx.site, ctx.date_fix) if ctx is not None else (None, "keep")
    return FixContext(path, tz, parse_post, quote_yaml, site, date_fix)


def fix_text(raw: str, codes: set[str], path: Path, tz: tzinfo, ctx: CheckContext | None = None) -> str:
    """`raw` with the problems in `codes` repaired by their rules' fixes, in code order; every
    other byte stays as it was."""
    fix = fix_context(path, tz, ctx)
    text = raw
    for code, repair in _REPAIRS:
        if code in codes:
            text = repair(text, fix) or text
    return text
