"""What the numbers were measured on."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

PACKAGES = ("newsctl", "whoosh-reloaded", "jieba", "rjieba", "tantivy", "opencc", "selectolax", "typer")
TOOLS = (("rg", "--version"), ("hyperfine", "--version"))


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return None


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def tool_versions() -> dict[str, str]:
    versions = {}
    for tool, flag in TOOLS:
        path = shutil.which(tool)
        if path is None:
            versions[tool] = "not installed"
            continue
        out = subprocess.run([path, flag], capture_output=True, text=True).stdout.strip()
        versions[tool] = out.splitlines()[0] if out else "unknown"
    return versions


def describe_machine() -> dict[str, str]:
    memory = memory_gib()
    info = {
        "CPU": cpu_model(),
        "cores (os.cpu_count)": str(os.cpu_count()),
        "usable cores (affinity)": str(len(os.sched_getaffinity(0))) if hasattr(os, "sched_getaffinity") else "?",
        "memory": f"{memory:.1f} GiB" if memory else "unknown",
        "OS": platform.platform(),
        "Python": f"{platform.python_implementation()} {platform.python_version()} ({sys.executable})",
    }
    info.update({f"package {k}": v for k, v in package_versions().items()})
    info.update({f"tool {k}": v for k, v in tool_versions().items()})
    return info
