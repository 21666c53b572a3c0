"""`newsctl config`: the resolved settings and where each came from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from newsctl.config import Settings


@dataclass
class SettingsReport:
    items: list[tuple[str, Any, str]]  # (name, value, origin), in the documented order


def run(settings: Settings) -> SettingsReport:
    return SettingsReport(items=settings.public_items())
