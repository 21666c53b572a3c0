"""`newsctl trend QUERY`: posts matching a query per day, week or month, as a bar chart (Rich on a
terminal, plain text piped) or as JSON and CSV. Expected counts come from `search --format json`."""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import SAMPLE_POSTS, Cli, run_newsctl
from terminal import has_pty, run_in_terminal


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("trend") / "archive"
    shutil.copytree(SAMPLE_POSTS, root, ignore=shutil.ignore_patterns(".newsctl"))
    assert Cli()("--root", root, "index", "--quiet").code == 0
    return root


def hit_days(root: Path, *query: str) -> list[date]:
    result = Cli()("--root", root, "search", *query, "--limit", "0", "--format", "json")
    assert result.code == 0, result
    return [date.fromisoformat(r["date"][:10]) for r in json.loads(result.stdout)["results"]]


def trend_json(root: Path, *args: str) -> dict[str, object]:
    result = Cli()("--root", root, "trend", *args, "--format", "json")
    assert result.code == 0, result
    return dict(json.loads(result.stdout))


def period_of(day: date, by: str) -> str:
    if by == "day":
        return day.isoformat()
    if by == "month":
        return day.strftime("%Y-%m")
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


@pytest.mark.parametrize("by", ["day", "week", "month"])
def test_counts_per_period_are_the_search_hits(indexed: Path, by: str) -> None:
    days = hit_days(indexed, "公司")
    trend = trend_json(indexed, "公司", "--by", by)
    assert trend["query"] == "公司" and trend["by"] == by and trend["total"] == len(days)
    periods = trend["periods"]
    assert isinstance(periods, list)
    counts = {p["period"]: p["count"] for p in periods}
    expected = Counter(period_of(day, by) for day in days)
    assert {k: v for k, v in counts.items() if v} == dict(expected)
    assert sum(counts.values()) == len(days)
    labels = [p["period"] for p in periods]
    assert labels == sorted(labels) and len(set(labels)) == len(labels)
    assert all(set(p) == {"period", "start", "count"} for p in periods)


def test_periods_without_hits_are_listed_with_zero(indexed: Path) -> None:
    days = hit_days(indexed, "公司")
    trend = trend_json(indexed, "公司", "--by", "day")
    periods = trend["periods"]
    assert isinstance(periods, list)
    starts = [date.fromisoformat(p["start"]) for p in periods]
    assert starts[0] == min(days) and starts[-1] == max(days)
    assert starts == [min(days) + timedelta(days=n) for n in range((max(days) - min(days)).days + 1)]


def test_week_periods_start_on_monday(indexed: Path) -> None:
    periods = trend_json(indexed, "公司", "--by", "week")["periods"]
    assert isinstance(periods, list)
    assert all(date.fromisoformat(p["start"]).weekday() == 0 for p in periods)


def test_filters_narrow_the_trend(indexed: Path) -> None:
    whole = trend_json(indexed, "公司", "--by", "month")
    only = trend_json(indexed, "公司", "--by", "month", "--category", "emnews")
    assert 0 < int(only["total"]) < int(whole["total"])  # type: ignore[call-overload]
    since = trend_json(indexed, "公司", "--by", "day", "--since", "2022-06-01")
    periods = since["periods"]
    assert isinstance(periods, list)
    assert all(p["start"] >= "2022-06-01" for p in periods)


def test_csv_has_the_same_numbers(indexed: Path) -> None:
    trend = trend_json(indexed, "公司", "--by", "week")
    result = Cli()("--root", indexed, "trend", "公司", "--by", "week", "--format", "csv")
    assert result.code == 0, result
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["period"], r["start"], int(r["count"])) for r in rows] == [
        (p["period"], p["start"], p["count"]) for p in trend["periods"]]  # type: ignore[attr-defined]


def test_piped_chart_is_plain_text_with_bars(indexed: Path) -> None:
    trend = trend_json(indexed, "公司", "--by", "month")
    proc = run_newsctl("--root", indexed, "trend", "公司", "--by", "month")
    out = proc.stdout.decode()
    assert proc.returncode == 0, proc.stderr
    assert "\x1b" not in out and "█" in out
    for period in trend["periods"]:  # type: ignore[attr-defined]
        line = next(line for line in out.splitlines() if line.startswith(period["period"]))
        assert line.split()[1] == str(period["count"])


@pytest.mark.skipif(not has_pty(), reason="needs a pseudo-terminal")
def test_terminal_chart(indexed: Path) -> None:
    run = run_in_terminal(["--root", indexed, "trend", "公司", "--by", "month"], columns=80)
    assert run.code == 0, run
    assert "█" in run.text and "2022-05" in run.text
    assert all(len(line) <= 80 for line in run.text.splitlines())


def test_trend_exit_codes(indexed: Path) -> None:
    assert Cli()("--root", indexed, "trend", "不存在的词语组合").code == 1
    assert Cli()("--root", indexed, "trend", "(unclosed").code == 2
    assert Cli()("--root", indexed, "trend", "公司", "--by", "year").code == 2


def test_trend_full_width_query(indexed: Path) -> None:
    assert trend_json(indexed, "（信也 ＯＲ 茅台）")["total"] == trend_json(indexed, "(信也 OR 茅台)")["total"]
