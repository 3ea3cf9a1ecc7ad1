"""One lane allocator (`syncfp.lanes`) for the alignment's device tracks and the timeline's lanes: names are
unique in the `Alignment` and in every export, and an alignment's tracks reach the exports unchanged."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from fractions import Fraction
from pathlib import Path

import pytest

from syncfp.export import SUFFIXES, WRITERS, ExportOptions, write
from syncfp.export.options import timeline_for
from syncfp.lanes import first_fit, lane_names
from syncfp.sync.tracks import assign
from syncfp.types import Alignment, ClipResult, MediaInfo

RATE = Fraction(25)


def test_first_fit_takes_the_first_lane_that_is_free():
    spans = [(0, 10), (5, 15), (10, 20), (12, 30), (15.0005, 16)]
    assert first_fit(spans) == [0, 1, 0, 2, 1]
    assert first_fit(spans, tolerance=1e-3) == [0, 1, 0, 2, 1]
    assert first_fit([(0, 10), (9.9995, 12)], tolerance=1e-3) == [0, 0]
    assert first_fit([]) == []


def test_lane_names_skip_taken_names_and_never_repeat():
    taken = {"cam", "cam-2"}
    assert lane_names("cam", 3, taken=taken) == ["cam", "cam-3", "cam-4"]
    assert lane_names("cam", 2, taken=taken) == ["cam", "cam-5"]
    assert lane_names("rec", 1, taken=taken) == ["rec"]
    assert lane_names("x", 0, taken=set()) == []


def _clip(path: str, offset_s: float, duration_s: float, track: str, *, video: bool = True) -> ClipResult:
    info = MediaInfo(path=path, duration_s=duration_s, sample_rate_hz=48000, channels=2, codec="aac",
                     has_video=video, fps=RATE if video else None, width=1920 if video else 0,
                     height=1080 if video else 0)
    return ClipResult(path, duration_s, 1, track, offset_s, 0.0, 0.9, 0.1, info=info)


# two devices whose clips overlap: folder "cam" (three clips, two of them at once) and folder "cam-2" —
# before the one allocator, cam's second lane was also called "cam-2"
SHOOT = [
    ("/shoot/cam/A001.MP4", 0.0, 40.0, True),
    ("/shoot/cam/A002.MP4", 20.0, 40.0, True),
    ("/shoot/cam/A003.MP4", 45.0, 10.0, True),
    ("/shoot/cam-2/B001.MP4", 5.0, 60.0, True),
    ("/shoot/rec/ZOOM0001.WAV", 0.0, 90.0, False),
]


def _shoot() -> Alignment:
    names = assign([(i, p, None, 1, off, off + dur) for i, (p, off, dur, _) in enumerate(SHOOT)])
    return Alignment(clips=[_clip(p, off, dur, names[i], video=v) for i, (p, off, dur, v) in enumerate(SHOOT)],
                     fps=RATE)


def test_alignment_tracks_are_unique_per_device_lane():
    al = _shoot()
    track = {Path(c.path).name: c.track for c in al.clips}
    assert track == {"A001.MP4": "cam", "A002.MP4": "cam-3", "A003.MP4": "cam", "B001.MP4": "cam-2",
                     "ZOOM0001.WAV": "rec"}


def test_timeline_keeps_the_alignments_tracks():
    al = _shoot()
    tl = timeline_for(al, ExportOptions())
    (group,) = tl.groups
    names = [t.name for t in group.tracks]
    assert len(names) == len(set(names)) == 4
    for t in group.tracks:
        assert {tc.clip.track for tc in t.clips} == {t.name}


def test_timeline_splits_a_crowded_track_under_a_new_name():
    """A hand-built alignment that puts overlapping clips on one track, beside a track already named like
    the split would be: the split gets a name of its own."""
    al = Alignment(clips=[_clip("/s/a/A1.MP4", 0.0, 30.0, "cam"), _clip("/s/a/A2.MP4", 10.0, 30.0, "cam"),
                          _clip("/s/b/B1.MP4", 0.0, 50.0, "cam-2")], fps=RATE)
    (group,) = timeline_for(al, ExportOptions()).groups
    by_name = {t.name: [tc.name for tc in t.clips] for t in group.tracks}
    assert by_name == {"cam": ["A1.MP4"], "cam-3": ["A2.MP4"], "cam-2": ["B1.MP4"]}


def _written_track_names(fmt: str, files: list[str]) -> list[str]:
    """Track names as the format wrote them (the formats that name tracks)."""
    if fmt not in ("otio", "rpp", "json", "edl"):
        return []
    text = Path(files[0]).read_text(encoding="utf-8")
    if fmt == "otio":
        otio = pytest.importorskip("opentimelineio")
        return [t.name for t in otio.adapters.read_from_file(files[0]).tracks]
    if fmt == "rpp":
        return re.findall(r'^    NAME "?([^"\n]*)"?$', text, flags=re.M)
    if fmt == "json":
        return [n for g in json.loads(text)["groups"] for n in g["tracks"]]
    if fmt == "edl":
        return [re.search(r"^TITLE: syncfp (.*)$", Path(f).read_text(encoding="utf-8"), flags=re.M).group(1)
                for f in files if not f.endswith(".markers.edl")]
    return []


@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_every_export_writes_each_track_once(fmt: str, tmp_path: Path):
    al = _shoot()
    suffix = next(s for s, f in SUFFIXES.items() if f == fmt) if fmt != "aaf" else ".aaf"
    files = write(al, str(tmp_path / f"out{suffix}"), fmt=fmt, options=ExportOptions())
    assert len(files) == len(set(files)) and all(Path(f).is_file() for f in files)  # nothing overwritten
    names = _written_track_names(fmt, files)
    if names:
        assert Counter(names) == Counter(c.track for c in {c.track: c for c in al.clips}.values())
    if fmt == "edl":
        assert len(files) == 4


def test_fcpxml_multicam_angles_are_the_tracks(tmp_path: Path):
    al = _shoot()
    (f,) = write(al, str(tmp_path / "out.fcpxml"), options=ExportOptions(fcpx_multicam=True))
    angles = [a.get("name") for a in ET.parse(f).iter("mc-angle")]
    assert sorted(angles) == sorted({c.track for c in al.clips})
