"""`newsctl edit ID`: the post opens in $VISUAL/$EDITOR (a real editor process: a small script that
edits the file as a person would), and is validated once the editor exits."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Cli, post_text, run_newsctl

POST_ID = "202206012399054634"
REL = f"_posts/2022-06-01-{POST_ID}.md"


def editor(tmp_path: Path, name: str, code: str) -> str:
    """An editor command: a Python script getting the file as its last argument; it records its argv."""
    script = tmp_path / f"{name}.py"
    log = tmp_path / f"{name}.log"
    script.write_text("import json, pathlib, sys\n"
                      f"pathlib.Path({str(log)!r}).write_text(json.dumps(sys.argv[1:]), encoding='utf-8')\n"
                      "path = pathlib.Path(sys.argv[-1])\n"
                      "text = path.read_text(encoding='utf-8')\n" + code, encoding="utf-8")
    return f"{sys.executable} {script}"


def called_with(tmp_path: Path, name: str) -> list[str] | None:
    log = tmp_path / f"{name}.log"
    return list(json.loads(log.read_text(encoding="utf-8"))) if log.exists() else None


def clean_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("VISUAL", "EDITOR")}
    return {**env, **extra}


def test_edit_opens_the_editor_then_validates(make_archive: Callable[..., Path], tmp_path: Path) -> None:
    root = make_archive({REL: post_text(title="编辑之前")})
    command = editor(tmp_path, "retitle", "path.write_text(text.replace('编辑之前', '编辑之后'), encoding='utf-8')\n")
    proc = run_newsctl("--root", root, "edit", POST_ID, env=clean_env(EDITOR=command))
    assert proc.returncode == 0, proc.stderr.decode()
    assert called_with(tmp_path, "retitle") == [str(root / REL)]
    assert "编辑之后" in (root / REL).read_text(encoding="utf-8")
    assert "Traceback" not in proc.stderr.decode()


def test_a_defect_saved_in_the_editor_is_reported_at_once(make_archive: Callable[..., Path],
                                                          tmp_path: Path) -> None:
    root = make_archive({REL: post_text()})
    command = editor(tmp_path, "nozone", "path.write_text(text.replace(' +0800', ''), encoding='utf-8')\n")
    proc = run_newsctl("--root", root, "edit", POST_ID, env=clean_env(VISUAL=command))
    out = proc.stdout.decode()
    assert proc.returncode == 0, proc.stderr.decode()  # NC306 is a warning: Jekyll publishes the post
    assert f"{REL}:4:" in out and "NC306" in out
    assert "--fix" in out + proc.stderr.decode()  # says how to repair it
    broken = editor(tmp_path, "badyaml", "path.write_text(text.replace('layout: post', 'layout: [post'), "
                                         "encoding='utf-8')\n")
    proc = run_newsctl("--root", root, "edit", POST_ID, env=clean_env(VISUAL=broken))
    assert proc.returncode == 1 and "NC203" in proc.stdout.decode(), proc  # an error fails the edit


def test_visual_wins_over_editor(make_archive: Callable[..., Path], tmp_path: Path) -> None:
    root = make_archive({REL: post_text()})
    visual = editor(tmp_path, "visual", "")
    plain = editor(tmp_path, "plain", "")
    proc = run_newsctl("--root", root, "edit", REL, env=clean_env(VISUAL=visual, EDITOR=plain))
    assert proc.returncode == 0, proc.stderr.decode()
    assert called_with(tmp_path, "visual") is not None and called_with(tmp_path, "plain") is None


def test_editor_commands_with_arguments(make_archive: Callable[..., Path], tmp_path: Path) -> None:
    root = make_archive({REL: post_text()})
    command = editor(tmp_path, "args", "") + " --wait"
    proc = run_newsctl("--root", root, "edit", POST_ID, env=clean_env(EDITOR=command))
    assert proc.returncode == 0, proc.stderr.decode()
    assert called_with(tmp_path, "args") == ["--wait", str(root / REL)]


def test_an_unknown_id_opens_no_editor(make_archive: Callable[..., Path], tmp_path: Path) -> None:
    root = make_archive({REL: post_text()})
    command = editor(tmp_path, "never", "")
    result = Cli()("--root", root, "edit", "nosuch123", env=clean_env(EDITOR=command))
    assert result.code == 1 and "no post with id nosuch123" in result.stderr
    assert called_with(tmp_path, "never") is None


def test_a_failing_editor_is_one_line_and_exit_1(make_archive: Callable[..., Path], tmp_path: Path) -> None:
    root = make_archive({REL: post_text()})
    command = editor(tmp_path, "fails", "sys.exit(3)\n")
    proc = run_newsctl("--root", root, "edit", POST_ID, env=clean_env(EDITOR=command))
    stderr = proc.stderr.decode()
    assert proc.returncode == 1, stderr
    assert stderr.startswith("newsctl: error: ") and "editor" in stderr and "Traceback" not in stderr


def test_a_missing_editor_program_is_a_usage_error(make_archive: Callable[..., Path]) -> None:
    root = make_archive({REL: post_text()})
    proc = run_newsctl("--root", root, "edit", POST_ID, env=clean_env(EDITOR="no-such-editor-program-xyz"))
    stderr = proc.stderr.decode()
    assert proc.returncode == 2, stderr
    assert "no-such-editor-program-xyz" in stderr and "Traceback" not in stderr


@pytest.mark.parametrize("kind", ["broken-yaml"])
def test_edit_of_a_broken_post_still_opens_it(make_archive: Callable[..., Path], tmp_path: Path,
                                              kind: str) -> None:
    """A post that does not parse is exactly what one opens an editor for."""
    broken = post_text(title='他说"好"的')
    root = make_archive({REL: broken})
    command = editor(tmp_path, "repair", "path.write_text(text.replace('\"好\"', '“好”'), encoding='utf-8')\n")
    proc = run_newsctl("--root", root, "edit", REL, env=clean_env(EDITOR=command))
    assert proc.returncode == 0, proc.stdout.decode() + proc.stderr.decode()
    assert "“好”" in (root / REL).read_text(encoding="utf-8")
