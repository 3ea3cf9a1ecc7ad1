"""Every command and option of the CLI has help text and is named in README.md or docs/ (issue 15): the
command tree is read from typer's click objects, so a new option without help or docs fails here.

Duck-typed (`commands`, `param_type_name`), not isinstance: recent typer ships its own copy of click."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer

from syncfp.cli import app

ROOT = Path(__file__).resolve().parent.parent
DOCS = "\n".join(p.read_text(encoding="utf-8") for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])


def walk(cmd: Any, path: tuple[str, ...] = ("syncfp",)) -> list[tuple[tuple[str, ...], Any]]:
    """(command path, click command) of *cmd* and every subcommand below it, depth first."""
    out = [(path, cmd)]
    for name, sub in sorted((getattr(cmd, "commands", None) or {}).items()):
        out += walk(sub, path + (name,))
    return out


COMMANDS = walk(typer.main.get_command(app))
PARAMS = [(path, p) for path, cmd in COMMANDS for p in cmd.params]


def test_the_tree_is_read():
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"syncfp align", "syncfp index", "syncfp identify", "syncfp library info"} <= names
    assert len(PARAMS) > 20


@pytest.mark.parametrize("path,cmd", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_command_has_help_and_is_documented(path, cmd):
    assert (cmd.help or cmd.short_help or "").strip(), f"{' '.join(path)}: no help text"
    if len(path) > 1:  # the root is the tool itself
        # "syncfp library info" may be written with other words between ("syncfp library … info") in prose,
        # but a reader must find the command as typed at least once
        documented = " ".join(path) in DOCS
        assert documented, f"{' '.join(path)}: not named in README.md or docs/"


@pytest.mark.parametrize("path,param", PARAMS, ids=[f"{' '.join(p)} {q.name}" for p, q in PARAMS])
def test_option_has_help_and_is_documented(path, param):
    where = f"{' '.join(path)} {param.name}"
    assert (getattr(param, "help", None) or "").strip(), f"{where}: no help text"
    if param.param_type_name == "option":
        flag = max(param.opts, key=len)  # the long spelling, e.g. --edl-style
        documented = re.search(re.escape(flag) + r"(?![\w-])", DOCS) is not None
        assert documented, f"{where}: {flag} is not in README.md or docs/"
