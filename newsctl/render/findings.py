"""Output of `newsctl validate`: a Rich table per file (text), one line per finding (concise),
JSON, or GitHub workflow annotations; the diffs of `--diff`.

Only the text format imports Rich: pre-commit pipes the output, so it gets `concise` and
starts fast. Summaries of the machine formats go to stderr, keeping stdout parseable.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from itertools import groupby
from typing import TYPE_CHECKING

from newsctl.paths import printable
from newsctl.render import FindingFormat
from newsctl.rules import ERROR, RULES, Finding
from newsctl.validate import Report

if TYPE_CHECKING:
    from rich.text import Text


def print_findings(report: Report, fmt: FindingFormat) -> None:
    for note in report.notes:
        sys.stderr.write(f"newsctl: warning: {printable(note)}\n")
    for path, why in report.not_fixed:
        sys.stderr.write(f"{printable(report.display_path(path))}: {why}\n")
    if report.diff_mode:
        _print_diffs(report)
        return
    printer: dict[FindingFormat, Callable[[Report], None]] = {
        "text": _print_text, "concise": _print_concise, "json": _print_json, "github": _print_github,
        "sarif": _print_sarif,
    }
    printer[fmt](report)


def print_statistics(report: Report, fmt: FindingFormat) -> None:
    """`--statistics`: findings counted per code, most frequent first (JSON with --format json)."""
    from newsctl.render.code_scanning import count_per_code, statistics_json, statistics_text

    for note in report.notes:
        sys.stderr.write(f"newsctl: warning: {note}\n")
    rows = count_per_code(report.findings, lambda code: RULES[code].name)
    sys.stdout.write(statistics_json(rows) if fmt == "json" else statistics_text(rows))
    sys.stderr.write(summary(report) + "\n")


def _print_sarif(report: Report) -> None:
    from newsctl import __version__
    from newsctl.render.code_scanning import sarif_json
    from newsctl.rules import RULE_LIST

    sys.stdout.write(sarif_json(report.findings, RULE_LIST, root=report.root, version=__version__))
    sys.stderr.write(summary(report) + "\n")


def summary(report: Report) -> str:
    """One line: what was found (and fixed) in how many files."""
    parts = []
    if report.fixed:
        parts.append(f"Fixed {_count(report.fixed, 'problem')} in {_count(report.fixed_files, 'file')}.")
    if report.date_fixes and not report.diff_mode:
        parts.append(date_fix_summary(report))
    if not report.findings:
        parts.append(f"All {_count(report.checked, 'file')} passed." if report.checked
                     else "No posts to check.")
    else:
        found = " and ".join(text for text in (_count(report.errors, "error") if report.errors else "",
                                               _count(report.warnings, "warning") if report.warnings else "")
                             if text)
        parts.append(f"Found {found} in {report.files_with_findings} of {_count(report.checked, 'file')}.")
        fixable = sum(1 for finding in report.findings if finding.fixable)
        if fixable:
            parts.append(f"{fixable} fixable with `newsctl validate --fix`.")
    return " ".join(parts)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _print_concise(report: Report) -> None:
    lines = [f"{printable(report.display_path(f.path))}:{f.line}:{f.column}: {f.code} {printable(f.message)}"
             for f in report.findings]
    if lines:
        sys.stdout.write("\n".join(lines) + "\n")
    sys.stderr.write(summary(report) + "\n")


def _print_json(report: Report) -> None:
    import json  # local: pre-commit's concise output does without it

    items = [{"path": report.display_path(f.path), "line": f.line, "column": f.column, "code": f.code,
              "severity": f.severity, "message": f.message, "fixable": f.fixable} for f in report.findings]
    sys.stdout.write(json.dumps(items, ensure_ascii=False, indent=2) + "\n")
    sys.stderr.write(summary(report) + "\n")


def _print_github(report: Report) -> None:
    for f in report.findings:
        kind = "error" if f.severity == ERROR else "warning"
        sys.stdout.write(f"::{kind} file={_gh_property(report.display_path(f.path))},line={f.line},"
                         f"col={f.column},title={_gh_property(f.code)}::{_gh_data(f.message)}\n")
    sys.stderr.write(summary(report) + "\n")


def _gh_data(text: str) -> str:
    """GitHub's escapes for line breaks, then ours for the other control characters."""
    return printable(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def _print_diffs(report: Report) -> None:
    if report.diffs:
        sys.stdout.write("".join(report.diffs))
    verb = "Would fix" if report.fixed else "Nothing to fix"
    detail = f" {_count(report.fixed, 'problem')} in {_count(report.fixed_files, 'file')}." if report.fixed else "."
    dates = f" {date_fix_summary(report)}" if report.date_fixes else ""
    sys.stderr.write(verb + detail + dates + "\n")


def date_fix_summary(report: Report) -> str:
    """What the zone-less dates' fix does to the site: instants kept, moved (and URLs with them),
    or not yet known (front matter Jekyll cannot read)."""
    effects = [effect for _, effect in report.date_fixes]
    moved = [effect for effect in effects if "moves the published instant" in effect]
    unknown = sum(1 for effect in effects if "cannot tell" in effect or "cannot be told" in effect)
    kept = len(effects) - len(moved) - unknown
    parts = [f"{kept} keep the published instant and URL" if kept else "",
             f"{len(moved)} move the published instant ({sum('the URL moves' in e for e in moved)} "
             "with the URL)" if moved else "",
             f"{unknown} cannot be told until the front matter reads" if unknown else ""]
    return f"{_count(len(effects), 'zone-less date')}: {', '.join(part for part in parts if part)}."


def _print_text(report: Report) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(highlight=False)
    for path, group in groupby(report.findings, key=lambda f: f.path):
        table = Table(title=Text(printable(report.display_path(path)), style="bold"), title_justify="left",
                      show_edge=False, pad_edge=False, expand=False)
        table.add_column("Line", justify="right", no_wrap=True)
        table.add_column("Code", no_wrap=True)
        table.add_column("Severity", no_wrap=True)
        table.add_column("Message")
        for finding in group:
            table.add_row(f"{finding.line}:{finding.column}", _code_cell(finding),
                          Text(finding.severity, style="red" if finding.severity == ERROR else "yellow"),
                          Text(printable(finding.message)))
        console.print(table)
        console.print()
    style = "red" if report.errors else ("yellow" if report.warnings else "green")
    console.print(Text(summary(report), style=style))


def _code_cell(finding: Finding) -> Text:
    from rich.text import Text

    mark = " [*]" if finding.fixable else ""
    return Text(f"{finding.code} {RULES[finding.code].name}{mark}")
