"""Golden files: every writer, at every test rate, on the hand-built alignment of `export_cases`.

Regenerate after an intended change with ``SYNCFP_UPDATE_GOLDEN=1 python -m pytest tests/test_export_golden.py``
and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from export_cases import MARKERS, RATES, alignment
from syncfp.export import ExportOptions, write

GOLDEN = Path(__file__).parent / "golden"
# name → (format, suffix, extra options)
CASES = {
    "otio": ("otio", ".otio", {}),
    "fcp7": ("fcp7", ".xml", {}),
    "fcpxml": ("fcpxml", ".fcpxml", {}),
    "fcpxml_multicam": ("fcpxml", ".fcpxml", {"fcpx_multicam": True}),
    "edl": ("edl", ".edl", {}),
    "edl_premiere": ("edl", ".edl", {"edl_style": "premiere"}),
    "csv": ("csv", ".csv", {}),
    "audacity": ("audacity", ".txt", {}),
    "rpp": ("rpp", ".rpp", {}),
    "json": ("json", ".json", {}),
    "html": ("html", ".html", {}),
}


def render(case: str, rate_name: str, tmp_path: Path) -> str:
    """Every file the writer produced, concatenated under a header naming each."""
    fmt, suffix, extra = CASES[case]
    out = tmp_path / f"out{suffix}"
    files = write(alignment(*RATES[rate_name]), str(out), fmt=fmt, options=ExportOptions(markers=MARKERS, **extra))
    if len(files) == 1:
        return Path(files[0]).read_text(encoding="utf-8")
    return "".join(f"=== {Path(f).name} ===\n{Path(f).read_text(encoding='utf-8')}" for f in files)


@pytest.mark.parametrize("rate_name", sorted(RATES))
@pytest.mark.parametrize("case", sorted(CASES))
def test_golden(case: str, rate_name: str, tmp_path: Path) -> None:
    text = render(case, rate_name, tmp_path)
    golden = GOLDEN / f"{case}_{rate_name}{CASES[case][1]}"
    if os.environ.get("SYNCFP_UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"missing {golden.name}: run with SYNCFP_UPDATE_GOLDEN=1"
    assert text == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", sorted(CASES))
def test_unplaced_clip_is_never_dropped(case: str, tmp_path: Path) -> None:
    if case == "edl_premiere":
        pytest.skip("the premiere EDL style has no comments; the sidecars list unplaced clips")
    assert "B002.MP4" in render(case, "25", tmp_path)
