"""Each writer in the shape of an OpenTimelineIO adapter: `write_to_string` is exactly what `write_to_file`
writes when the export is one file, and refuses (rather than dropping part) when it would be several."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import pytest

from export_cases import MARKERS, alignment
from syncfp.export import audacity, csvout, edl, fcp7, fcpxml, jsonout, otio, reaper, report
from syncfp.export.options import ExportOptions, timeline_for
from syncfp.types import Alignment

ONE_FILE = {"otio": (otio, ".otio"), "fcp7": (fcp7, ".xml"), "fcpxml": (fcpxml, ".fcpxml"), "csv": (csvout, ".csv"),
            "audacity": (audacity, ".txt"), "rpp": (reaper, ".rpp"), "json": (jsonout, ".json"),
            "html": (report, ".html")}


@pytest.mark.parametrize("fmt", sorted(ONE_FILE))
def test_write_to_string_is_the_file_write_to_file_writes(fmt, tmp_path):
    mod, suffix = ONE_FILE[fmt]
    opts = ExportOptions(markers=MARKERS)
    tl = timeline_for(alignment(Fraction(30000, 1001), True), opts)
    files = mod.write_to_file(tl, str(tmp_path / f"x{suffix}"), options=opts)
    assert len(files) == 1
    assert mod.write_to_string(tl, options=opts) == Path(files[0]).read_text(encoding="utf-8")


def test_an_edl_of_one_track_as_a_string_and_several_refused(tmp_path):
    al = alignment(Fraction(25), False)
    one = Alignment(clips=[al.clips[0], al.clips[-1]], fps=al.fps)  # the recorder alone, and an unplaced clip
    tl = timeline_for(one)
    files = edl.write_to_file(tl, str(tmp_path / "x.edl"))
    assert len(files) == 1 and edl.write_to_string(tl) == Path(files[0]).read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="use write_to_file"):
        edl.write_to_string(timeline_for(al))  # five tracks: five EDL files


def test_two_groups_are_two_files_not_one_string():
    al = alignment(Fraction(25), False)
    two = Alignment(clips=[*al.clips[:4], replace(al.clips[4], group=2), al.clips[5]], fps=al.fps)
    tl = timeline_for(two)
    assert len(tl.groups) == 2
    for mod in (otio, fcp7, audacity, reaper):
        with pytest.raises(ValueError, match="2 groups"):
            mod.write_to_string(tl)
    assert fcpxml.write_to_string(tl).count("<project ") == 2  # FCPXML holds every group as a project
