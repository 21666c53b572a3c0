"""Output of `newsctl config` (resolved settings and where each came from) and `newsctl rules`
(the validation rules and their docs): a Rich table on a terminal, plain text when piped, or JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newsctl.render import InfoFormat

if TYPE_CHECKING:
    from newsctl.commands.config import SettingsReport
    from newsctl.commands.rules import RuleListing
    from newsctl.rules import Rule


def print_settings(report: SettingsReport, fmt: InfoFormat) -> None:
    items = report.items
    if fmt == "json":
        data = {name: {"value": _plain(value), "origin": origin} for name, value, origin in items}
        _write_json(data)
    elif sys.stdout.isatty():
        _settings_table(items)
    else:
        width = max(len(name) for name, _, _ in items)
        for name, value, origin in items:
            sys.stdout.write(f"{name:<{width}}  {_show(value)}  ({origin})\n")


def print_rules(listing: RuleListing, fmt: InfoFormat) -> None:
    rules = listing.rules
    if fmt == "json":
        _write_json([_rule_dict(rule) for rule in rules])
    elif sys.stdout.isatty():
        _rules_table(rules)
    else:
        sys.stdout.write("\n".join(_rule_text(rule) for rule in rules))


def _rule_dict(rule: Rule) -> dict[str, str]:
    return {"code": rule.code, "name": rule.name, "severity": rule.severity, "fix": rule.fix,
            "what": rule.what, "why": rule.why, "how": rule.how}


def _rule_text(rule: Rule) -> str:
    return (f"{rule.code} {rule.name} ({rule.severity}, {rule.fix_label})\n"
            f"    What: {rule.what}\n    Why:  {rule.why}\n    Fix:  {rule.how}\n")


def _plain(value: Any) -> Any:
    """JSON-ready: paths as strings, containers kept."""
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _show(value: Any) -> str:
    if isinstance(value, (list, dict)):
        return json.dumps(_plain(value), ensure_ascii=False)
    return str(value)


def _write_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def _settings_table(items: list[tuple[str, Any, str]]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title="newsctl settings", title_justify="left")
    table.add_column("Setting", no_wrap=True)
    table.add_column("Value")
    table.add_column("From", no_wrap=True)
    for name, value, origin in items:
        table.add_row(name, Text(_show(value)), Text(origin, style="dim"))
    Console().print(table)


def _rules_table(rules: list[Rule]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title="newsctl validation rules", title_justify="left", show_lines=True)
    table.add_column("Code", no_wrap=True)
    table.add_column("Rule", no_wrap=True)
    table.add_column("Severity", no_wrap=True)
    table.add_column("Fix", no_wrap=True)
    table.add_column("What, why, how to fix")
    for rule in rules:
        docs = Text(rule.what)
        docs.append(f"\nWhy: {rule.why}", style="dim")
        docs.append(f"\nFix: {rule.how}", style="dim")
        table.add_row(rule.code, rule.name, Text(rule.severity, style="red" if rule.severity == "error"
                                                 else "yellow"), rule.fix, docs)
    Console().print(table)
