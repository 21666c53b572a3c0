"""`newsctl show --format json`: the post as the file says it and as Jekyll 4.3 publishes it.

    {"path": "_posts/2021-12-08-x.md", "id": "x",
     "file": {"title": ..., "date": "2021-12-08 10:46:18", "categories": ..., "tags": ..., "readable": true},
     "jekyll": {"kind": "post" | "page" | "static" | "ignored", "published": true, "reason": null,
                "aborts": null, "future": false, "title": "...", "date": "2021-12-08T18:46:18+08:00",
                "date_rule": "utc-timestamp", "url": "/emnews/2021/12/08/x.html", "url_day": "2021-12-08",
                "categories": [...], "tags": [...], "liquid": {"error": null, "changes": false}, "body": "..."}}

`file` values are as YAML (Ruby's Psych) reads them, printed as text where they are not JSON
types; `jekyll.body` is the body after Liquid (null when Liquid stops the build).
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from typing import Any

from newsctl.commands.show import ShowResult


def _plain(value: Any) -> Any:
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (bool, int, float)) or value is None:
        return value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    return str(value)


def show_document(result: ShowResult) -> dict[str, Any]:
    post, pub = result.post, result.publication
    assert post is not None and pub is not None
    meta = post.meta if post.ok else {}
    liquid = pub.liquid
    body = liquid.output if liquid is not None else (pub.front_matter.body if pub.front_matter else None)
    return {
        "path": result.name,
        "id": post.id,
        "file": {"readable": post.ok, "title": _plain(meta.get("title")), "date": _plain(meta.get("date")),
                 "categories": _plain(meta.get("categories")), "tags": _plain(meta.get("tags")),
                 "category": _plain(meta.get("category")), "tag": _plain(meta.get("tag")),
                 "published": _plain(meta.get("published"))},
        "jekyll": {
            "kind": pub.kind, "published": pub.published, "reason": pub.reason, "aborts": pub.aborts,
            "future": pub.future, "title": pub.title,
            "date": pub.instant.isoformat() if pub.instant else None,
            "epoch": int(pub.instant.timestamp()) if pub.instant else None,
            "date_rule": pub.date_rule, "date_unknown": pub.date_unknown,
            "url": pub.url, "url_day": pub.url_day,
            "categories": list(pub.categories), "tags": list(pub.tags),
            "read_error": pub.read_error,
            "liquid": None if liquid is None else {"error": liquid.error, "changes": liquid.changes,
                                                    "approximate": liquid.lenient},
            "body": body,
        },
    }


def print_show_json(result: ShowResult) -> None:
    sys.stdout.write(json.dumps(show_document(result), ensure_ascii=False, indent=2) + "\n")
