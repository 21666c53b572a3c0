"""Front-matter defaults: the `defaults:` sets of `_config.yml`, as Jekyll 4.3's
FrontmatterDefaults applies them.

A set is `{scope: {path, type}, values: {...}}`; a set without `values` as a mapping is ignored
(Jekyll warns). A scope applies when its type (`posts`, `pages`; the old `post`, `page` too)
is the file's and its path is a prefix of the file's path (plain string prefix: `old_post`
also covers `old_posts/`) or, holding `*`, a glob matching a folder or file above it. Of the
sets that apply, one with a longer path wins, then one with a type. A post merges the result
under its own front matter before reading it (categories are joined, not replaced; a null
keeps the default); a page falls back to it for keys its front matter lacks, except
`published`.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_OLD_TYPES = {"page": "pages", "post": "posts", "draft": "drafts"}


@dataclass(frozen=True)
class DefaultSet:
    scope: dict[str, Any]
    values: dict[str, Any]


def read_default_sets(value: Any) -> tuple[DefaultSet, ...]:
    """The valid sets of `defaults:` (anything but a list of mappings with `values` is ignored)."""
    if not isinstance(value, list):
        return ()
    sets = []
    for item in value:
        if isinstance(item, dict) and isinstance(item.get("values"), dict):
            scope = dict(item["scope"]) if isinstance(item.get("scope"), dict) else {}
            if isinstance(scope.get("type"), str):
                scope["type"] = _OLD_TYPES.get(scope["type"], scope["type"])
            sets.append(DefaultSet(scope, item["values"]))
    return tuple(sets)


def defaults_for(sets: tuple[DefaultSet, ...], relpath: str, kind: str, root: Path | None) -> dict[str, Any]:
    """FrontmatterDefaults#all: the values for a file (`relpath` from the site root) of `kind`
    ("posts" or "pages")."""
    merged: dict[str, Any] = {}
    old_scope: dict[str, Any] | None = None
    for default in sets:
        if not _applies(default.scope, relpath, kind, root):
            continue
        if _has_precedence(old_scope, default.scope):
            merged = deep_merge(merged, default.values)
            old_scope = default.scope
        else:
            merged = deep_merge(default.values, merged)
    return merged


def deep_merge(target: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """Utils.deep_merge_hashes: `other` over `target`, mappings merged key by key; a null in
    `other` keeps the value it would replace (`title:` left empty shows the default title)."""
    merged = dict(target)
    for key, value in other.items():
        if value is None and key in merged:
            continue
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _applies(scope: dict[str, Any], relpath: str, kind: str, root: Path | None) -> bool:
    if "type" in scope and scope["type"] != kind:
        return False
    path = scope.get("path")
    if not isinstance(path, str) or not path:
        return True
    if "*" in path:
        if root is None:
            return False
        base = str(root).rstrip("/") + "/"
        return any(relpath.startswith(found[len(base):]) for found in glob.glob(base + path)
                   if found.startswith(base))
    return relpath.startswith(path)


def _has_precedence(old_scope: dict[str, Any] | None, new_scope: dict[str, Any]) -> bool:
    if old_scope is None:
        return True
    new_path, old_path = _sanitized(new_scope.get("path")), _sanitized(old_scope.get("path"))
    if len(new_path) != len(old_path):
        return len(new_path) >= len(old_path)
    return "type" in new_scope or "type" not in old_scope


def _sanitized(path: Any) -> str:
    if not isinstance(path, str) or not path:
        return ""
    return path[1:] if path.startswith("/") else path
