"""`validate` output for dashboards and summaries, as ruff gives it: SARIF 2.1.0 (GitHub code
scanning and other dashboards read it) and `--statistics` (findings counted per code, as text or
JSON). Pure functions over findings; the caller writes the text. No Rich."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
INFORMATION_URI = "https://github.com/OWNER/newsctl/blob/main/docs/rules.md"


class FindingLike(Protocol):
    @property
    def path(self) -> str: ...
    @property
    def line(self) -> int: ...
    @property
    def column(self) -> int: ...
    @property
    def code(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def fixable(self) -> bool: ...
    @property
    def severity(self) -> str: ...


class RuleText(Protocol):
    """What a dashboard shows about a rule (a registry entry, rules.Rule, has it)."""

    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def what(self) -> str: ...
    @property
    def how(self) -> str: ...


# ---- --statistics --------------------------------------------------------------------------------

@dataclass(frozen=True)
class CodeCount:
    code: str
    name: str
    count: int
    fixable: bool  # some finding of this code can be fixed by --fix


def count_per_code(findings: Iterable[FindingLike], name_of: Callable[[str], str]) -> list[CodeCount]:
    """Most frequent first, then by code (ruff's order)."""
    counts: Counter[str] = Counter()
    fixable: set[str] = set()
    for finding in findings:
        counts[finding.code] += 1
        if finding.fixable:
            fixable.add(finding.code)
    return [CodeCount(code, name_of(code), count, code in fixable)
            for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def statistics_text(rows: Sequence[CodeCount]) -> str:
    """`count  code  [*] name` per line ([*]: fixable with --fix, [ ]: not), numbers right-aligned."""
    width = max((len(str(row.count)) for row in rows), default=1)
    return "".join(f"{row.count:>{width}}\t{row.code}\t[{'*' if row.fixable else ' '}] {row.name}\n"
                   for row in rows)


def statistics_json(rows: Sequence[CodeCount]) -> str:
    return json.dumps([{"code": row.code, "name": row.name, "count": row.count, "fixable": row.fixable}
                       for row in rows], ensure_ascii=False, indent=2) + "\n"


# ---- SARIF ---------------------------------------------------------------------------------------

def sarif_json(findings: Sequence[FindingLike], rules: Sequence[RuleText], *, root: Path, version: str) -> str:
    return json.dumps(sarif_document(findings, rules, root=root, version=version), ensure_ascii=False,
                      indent=2) + "\n"


def sarif_document(findings: Sequence[FindingLike], rules: Sequence[RuleText], *, root: Path,
                   version: str) -> dict[str, Any]:
    """One run of tool `newsctl`: every rule in `driver.rules`, one result per finding, paths relative to
    the archive root (`%SRCROOT%`), as code-scanning uploads expect."""
    index = {rule.code: number for number, rule in enumerate(rules)}
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": {"name": "newsctl", "version": version, "informationUri": INFORMATION_URI,
                                "rules": [_sarif_rule(rule) for rule in rules]}},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": root.resolve().as_uri() + "/"}},
            "results": [_sarif_result(finding, index, root) for finding in findings],
        }],
    }


def _sarif_rule(rule: RuleText) -> dict[str, Any]:
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.what},
        "help": {"text": rule.how},
        "helpUri": f"{INFORMATION_URI}#{rule.code.lower()}",
        "defaultConfiguration": {"level": _level(rule.severity)},
    }


def _sarif_result(finding: FindingLike, index: dict[str, int], root: Path) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "level": _level(finding.severity),
        "message": {"text": finding.message},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": relative_uri(finding.path, root), "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": max(finding.line, 1), "startColumn": max(finding.column, 1)},
        }}],
    }
    if finding.code in index:
        result["ruleIndex"] = index[finding.code]
    return result


def _level(severity: str) -> str:
    return "error" if severity == "error" else "warning"


def relative_uri(path: str, root: Path) -> str:
    """The finding's file relative to the archive root, '/'-separated and %-escaped (a URI reference);
    a file outside the root keeps its absolute file: URI."""
    from urllib.parse import quote

    absolute = Path(os.path.abspath(path))
    try:
        relative = absolute.relative_to(Path(os.path.abspath(root)))
    except ValueError:
        return absolute.as_uri()
    return quote(relative.as_posix(), safe="/", errors="surrogateescape")
