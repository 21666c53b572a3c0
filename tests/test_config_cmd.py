"""`newsctl config`: the resolved settings and where each came from, as JSON or plain text."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Cli, post_text

from newsctl.config import DEFAULT_POST_GLOBS


def config_json(cli: Cli, root: Path) -> dict[str, dict[str, object]]:
    result = cli("--root", root, "config", "--format", "json")
    assert result.code == 0, result
    return json.loads(result.stdout)


def test_defaults_and_the_jekyll_zone(cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = make_archive(config="timezone: Europe/Berlin\n")
    data = config_json(cli, root)
    assert data["root"] == {"value": str(root), "origin": "--root"}
    assert data["timezone"] == {"value": "Europe/Berlin", "origin": "_config.yml"}
    assert data["posts"] == {"value": list(DEFAULT_POST_GLOBS), "origin": "default"}
    assert data["posts"]["value"][:2] == ["_posts/**/*.md", "old_post/**/*.md"]
    assert data["max_title_length"] == {"value": 200, "origin": "default"}
    assert set(data["feed_fields"]["value"]) >= {"title", "date", "body"}  # type: ignore[arg-type]


def test_newsctl_toml_wins_over_pyproject(cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = make_archive()
    (root / "pyproject.toml").write_text('[tool.newsctl]\nmax_title_length = 80\n', encoding="utf-8")
    assert config_json(cli, root)["max_title_length"] == {"value": 80, "origin": "pyproject.toml [tool.newsctl]"}
    (root / "newsctl.toml").write_text('ignore = ["NC504"]\nfuture-tolerance-hours = 2\n', encoding="utf-8")
    data = config_json(cli, root)
    assert data["ignore"] == {"value": ["NC504"], "origin": "newsctl.toml"}
    assert data["future_tolerance_hours"] == {"value": 2, "origin": "newsctl.toml"}
    assert data["max_title_length"]["origin"] == "default"  # only one settings file is read


def test_root_from_the_environment(cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = make_archive()
    result = cli("config", "--format", "json", env={"NEWSCTL_ROOT": str(root)})
    assert json.loads(result.stdout)["root"] == {"value": str(root), "origin": "NEWSCTL_ROOT"}


def test_plain_text_when_piped(cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = make_archive()
    (root / "newsctl.toml").write_text('layouts = ["post", "brief"]\n', encoding="utf-8")
    lines = cli("--root", root, "config").stdout.splitlines()
    assert any(line.split() == ["layouts", '["post",', '"brief"]', "(newsctl.toml)"] for line in lines), lines
    assert any(line.split() == ["timezone", "Asia/Shanghai", "(_config.yml)"] for line in lines), lines


def test_bad_settings_are_usage_errors(cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = make_archive()
    (root / "newsctl.toml").write_text("max_title_length = 'long'\n", encoding="utf-8")
    result = cli("--root", root, "config")
    assert result.code == 2
    assert "newsctl.toml" in result.stderr and "max_title_length" in result.stderr


def test_unknown_layout_setting_is_used_by_validate(cli: Cli, make_archive: Callable[..., Path]) -> None:
    root = make_archive({"_posts/2022-06-01-1.md": post_text().replace("layout: post", "layout: brief")})
    assert cli("--root", root, "validate").code == 1
    (root / "newsctl.toml").write_text('layouts = ["post", "brief"]\n', encoding="utf-8")
    assert cli("--root", root, "validate").code == 0
    (root / "newsctl.toml").unlink()
    (root / "_layouts").mkdir()
    (root / "_layouts" / "brief.html").write_text("{{ content }}\n", encoding="utf-8")
    assert cli("--root", root, "validate").code == 0


@pytest.mark.parametrize("config", ["timezone: Mars/Olympus\n", "timezone: '../../etc/passwd'\n"])
def test_an_unknown_time_zone_is_one_line_naming_the_file(cli: Cli, make_archive: Callable[..., Path],
                                                         config: str) -> None:
    root = make_archive(config=config)
    result = cli("--root", root, "validate")
    assert result.code == 2
    assert result.stderr.strip().startswith("newsctl: error: _config.yml: unknown time zone"), result.stderr
