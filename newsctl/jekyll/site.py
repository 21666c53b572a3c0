"""The `_config.yml` settings that decide what Jekyll 4.3 publishes, with Jekyll's defaults."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from datetime import tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any

from newsctl.jekyll.defaults import DefaultSet, defaults_for, read_default_sets

__all__ = ["DEFAULT_EXCLUDES", "PERMALINK_STYLES", "Site", "read_site"]

# Configuration::DEFAULTS and add_default_excludes (Jekyll 4.3)
DEFAULT_MARKDOWN_EXT = "markdown,mkdown,mkdn,mkd,md"
DEFAULT_EXCLUDES = (".sass-cache", ".jekyll-cache", "gemfiles", "Gemfile", "Gemfile.lock", "node_modules",
                    "vendor/bundle/", "vendor/cache/", "vendor/gems/", "vendor/ruby/")
PERMALINK_STYLES = {
    "date": "/:categories/:year/:month/:day/:title:output_ext",
    "pretty": "/:categories/:year/:month/:day/:title/",
    "ordinal": "/:categories/:year/:y_day/:title:output_ext",
    "weekdate": "/:categories/:year/W:week/:short_day/:title:output_ext",
    "none": "/:categories/:title:output_ext",
}


@dataclass(frozen=True)
class Site:
    """What newsctl needs of a Jekyll site's configuration."""

    zone: tzinfo
    root: Path | None = None
    future: bool = False
    unpublished: bool = False
    markdown_ext: tuple[str, ...] = tuple(f".{ext}" for ext in DEFAULT_MARKDOWN_EXT.split(","))
    exclude: tuple[str, ...] = DEFAULT_EXCLUDES
    include: tuple[str, ...] = (".htaccess",)
    permalink: str = PERMALINK_STYLES["date"]
    render_liquid: bool = True
    defaults: tuple[DefaultSet, ...] = ()  # front-matter defaults (jekyll/defaults.py)
    problems: tuple[str, ...] = field(default=())  # settings newsctl read but could not use

    def defaults_for(self, relpath: str, kind: str) -> dict[str, Any]:
        """The front-matter defaults for a file of `kind` ("posts" or "pages")."""
        return defaults_for(self.defaults, relpath, kind, self.root) if self.defaults else {}

    def is_markdown(self, suffix: str) -> bool:
        return suffix.lower() in self.markdown_ext

    def excluded(self, relpath: str) -> bool:
        """Jekyll's EntryFilter for `exclude`/`include`: the path, or a folder above it, matched by
        an `exclude` pattern and not by an `include` one (String patterns match by fnmatch without
        FNM_PATHNAME, or as a plain prefix: `old_post` also excludes `old_posts/`)."""
        exclude, include = _matchers(self.exclude, self.include)
        parts = relpath.split("/")
        for depth in range(1, len(parts) + 1):
            entry = "/".join(parts[:depth]) if depth < len(parts) else relpath
            if include(entry) or include(parts[depth - 1]):
                continue
            if exclude(entry):
                return True
        return False


@lru_cache(maxsize=16)
def _matchers(exclude: tuple[str, ...], include: tuple[str, ...]) -> tuple[Any, Any]:
    """Fast tests for `_glob_include` over the patterns (one regex and one prefix tuple each)."""
    return _matcher(tuple(p for p in exclude if p not in include)), _matcher(include)


def _matcher(patterns: tuple[str, ...]) -> Any:
    cleaned = tuple(p.lstrip("/") for p in patterns if p.lstrip("/"))
    if not cleaned:
        return lambda entry: False
    regex = re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in cleaned))
    prefixes = cleaned
    folders = tuple(p[:-1] for p in cleaned if p.endswith("/"))

    def matches(entry: str) -> bool:
        return entry.startswith(prefixes) or entry in folders or regex.match(entry) is not None

    return matches


def read_site(root: Path, zone: tzinfo, config: dict[str, Any] | None = None) -> Site:
    """The site at `root`; `config` is the parsed `_config.yml` (read with Psych's typing), or
    None to read it here. `zone` is the site zone newsctl already resolved (`timezone:`)."""
    if config is None:
        config = _load_config(root / "_config.yml")
    problems: list[str] = []
    markdown_ext = config.get("markdown_ext", DEFAULT_MARKDOWN_EXT)
    if not isinstance(markdown_ext, str):
        problems.append("markdown_ext is not a comma-separated text; Jekyll's default is used")
        markdown_ext = DEFAULT_MARKDOWN_EXT
    exclude = config.get("exclude")
    include = config.get("include")
    permalink = config.get("permalink", "date")
    permalink_text = str(permalink) if permalink is not None else "date"
    liquid = config.get("render_with_liquid", True)
    return Site(
        zone=zone,
        root=root,
        future=config.get("future") is True,
        unpublished=config.get("unpublished") is True,
        markdown_ext=tuple(f".{ext.strip().lower()}" for ext in markdown_ext.split(",") if ext.strip()),
        exclude=tuple(dict.fromkeys([*map(str, _as_list(exclude)), *DEFAULT_EXCLUDES])),
        include=tuple(map(str, _as_list(include))) if include is not None else (".htaccess",),
        permalink=PERMALINK_STYLES.get(permalink_text, permalink_text),
        render_liquid=liquid is not False,
        defaults=read_default_sets(config.get("defaults")),
        problems=tuple(problems),
    )


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _load_config(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    import yaml

    from newsctl.jekyll.psych import load_psych

    try:
        data = load_psych(text)
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}
