"""File names cannot inject lines, events or fields into exports (issue 14): a newline and all three quote
characters in a real file's name, through `syncfp align` into EDL, Audacity labels, REAPER and CSV."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys

import pytest

from conftest import make_clip

EVIL = ("evil\n001  EVIL     AA    C        00:00:00:00 00:00:10:00 01:00:00:00 01:00:10:00\n"
        "* FROM CLIP NAME: x \"q'b`.wav")
QUOTES = "say \"hi\" it's.wav"


@pytest.fixture(scope="module")
def exported(tmp_path_factory, master):
    d = tmp_path_factory.mktemp("names")
    paths = [make_clip(d, "cam.m4a", master, 0.0, 30.0, seed=51),
             make_clip(d, EVIL, master, 8.0, 12.0, eq="none", seed=52),
             make_clip(d, QUOTES, master, 12.0, 12.0, eq="none", seed=53)]
    out = d / "out"
    targets = [str(out / f"t.{ext}") for ext in ("edl", "txt", "rpp", "csv")]
    r = subprocess.run([sys.executable, "-m", "syncfp", "align", "-q", "--no-cache", *paths,
                        *[a for t in targets for a in ("-o", t)]], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return paths, out


@pytest.mark.slow
def test_edl_comments_cannot_add_events(exported):
    paths, out = exported
    edls = sorted(out.glob("t*.edl"))
    assert edls
    events = names = 0
    for edl in edls:
        text = edl.read_text()
        ev = re.findall(r"^\d{3}  ", text, re.M)
        nm = re.findall(r"^\* FROM CLIP NAME: (.*)$", text, re.M)
        assert len(ev) == len(nm), text
        assert all(ln == "" or ln[:3].isdigit() or ln.startswith(("* ", "TITLE:", "FCM:"))
                   for ln in text.splitlines()), text
        events += len(ev)
        names += len(nm)
        if any("evil" in n for n in nm):
            assert "evil\\n001  EVIL" in text  # the name, escaped, on one comment line
    assert events == names == 3


def test_audacity_labels_one_line_three_fields(exported):
    _, out = exported
    lines = (out / "t.txt").read_text().splitlines()
    assert len(lines) == 3
    assert all(len(ln.split("\t")) == 3 for ln in lines)


def _tokens(line: str) -> list[str]:
    """REAPER's line tokenizer: a token opening with " ' or ` runs to the next same character."""
    out, i = [], 0
    while i < len(line):
        if line[i].isspace():
            i += 1
            continue
        if line[i] in "\"'`":
            j = line.index(line[i], i + 1)
            out.append(line[i + 1 : j])
            i = j + 1
        else:
            j = i
            while j < len(line) and not line[j].isspace():
                j += 1
            out.append(line[i:j])
            i = j
    return out


def test_reaper_files_read_back_exactly_or_not_at_all(exported):
    paths, out = exported
    text = (out / "t.rpp").read_text()
    lines = [ln.strip() for ln in text.splitlines()]
    assert all(ln.startswith(("<", ">", "NAME", "POSITION", "LENGTH", "LOOP", "SOFFS", "PLAYRATE", "FILE", "SAMPLERATE",
                              "VIDEO_CONFIG", "PROJOFFS", "MUTESOLO", "MARKER")) for ln in lines), text
    files = [_tokens(ln)[1] for ln in lines if ln.startswith("FILE ")]
    assert sorted(files) == sorted(os.path.abspath(p) for p in paths if p != paths[1])  # exact, or absent
    assert lines.count("<ITEM") == 3 and lines.count("<SOURCE EMPTY") == 1  # the unwritable one: empty item
    assert any("cannot be written" in _tokens(ln)[1] for ln in lines if ln.startswith("NAME "))


def test_csv_rows_hold_the_exact_paths(exported):
    paths, out = exported
    with open(out / "t.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert sorted(r["path"] for r in rows) == sorted(paths)
