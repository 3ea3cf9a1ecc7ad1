"""Read every interchange file back with an independent reader and check each clip's record frame and
source in-point: record frame == round(offset × rate), source in == the file's own start timecode."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path
from urllib.parse import unquote

import opentimelineio as otio
import pytest

from export_cases import MARKERS, RATES, REC_TIME_REFERENCE, alignment
from syncfp.export import WRITERS, ExportOptions, write
from syncfp.export.timeline import frames_to_tc, tc_to_frames

RATE_NAMES = sorted(RATES)


def expected(rate_name: str) -> tuple[Fraction, bool, dict[str, tuple[int, int]]]:
    """rate, drop, and name → (record frame, source in frame) computed here, independently of timeline.py."""
    rate, drop = RATES[rate_name]
    out = {}
    for c in alignment(rate, drop).clips:
        if c.group is None:
            continue
        if c.info.timecode:
            src = tc_to_frames(c.info.timecode, rate)
        elif c.info.time_reference:
            src = round(Fraction(REC_TIME_REFERENCE, 48000) * rate)
        else:
            src = 0
        out[os.path.basename(c.path)] = (round(Fraction(c.offset_s) * rate), src)
    return rate, drop, out


def _export(tmp_path: Path, rate_name: str, suffix: str, **kw) -> list[str]:
    rate, drop = RATES[rate_name]
    return write(alignment(rate, drop), str(tmp_path / f"t{suffix}"), options=ExportOptions(markers=MARKERS, **kw))


def _check_otio_timeline(tl: otio.schema.Timeline, rate_name: str, *, placed_only: bool = True) -> set[str]:
    rate, drop, want = expected(rate_name)
    seen = set()
    for track in tl.tracks:
        for clip in track.find_clips():
            if clip.name not in want:
                continue
            seen.add(clip.name)
            rec = clip.range_in_parent().start_time.rescaled_to(float(rate)).value
            src = clip.source_range.start_time.rescaled_to(float(rate)).value
            assert round(rec) == want[clip.name][0], (clip.name, rec)
            assert round(src) == want[clip.name][1], (clip.name, src)
    assert seen == set(want)
    return seen


@pytest.mark.parametrize("rate_name", RATE_NAMES)
def test_otio_round_trip(rate_name: str, tmp_path: Path) -> None:
    (path,) = _export(tmp_path, rate_name, ".otio")
    tl = otio.adapters.read_from_file(path)
    _check_otio_timeline(tl, rate_name)
    rate, drop = RATES[rate_name]
    assert frames_to_tc(round(tl.global_start_time.value), rate, drop=drop)[:8] == "01:00:00"
    assert [m.name for m in tl.tracks.markers] == ["Song One", "Encore & Friends <live>"]
    assert tl.tracks.markers[0].marked_range.start_time.value == round(5 * rate)
    phone = [c for c in tl.find_clips() if c.name == "IMG_0042.MOV"]
    assert len(phone) == 2 and all(c.effects[0].time_scalar == pytest.approx(1.000212) for c in phone)
    unplaced = [c for c in tl.find_clips() if c.name == "B002.MP4"]
    assert unplaced and not any(c.enabled for c in unplaced)
    zoom = next(c for c in tl.find_clips() if c.name.startswith("ZOOM"))
    assert unquote(zoom.media_reference.target_url) == "file:///media/shoot/Zoom H6/ZOOM0001 é.WAV"


def test_otio_without_drift_correction(tmp_path: Path) -> None:
    (path,) = _export(tmp_path, "25", ".otio", drift_correction=False)
    assert not any(c.effects for c in otio.adapters.read_from_file(path).find_clips())


@pytest.mark.parametrize("rate_name", RATE_NAMES)
def test_fcp7_round_trip_through_otio_adapter(rate_name: str, tmp_path: Path) -> None:
    pytest.importorskip("otio_fcp_adapter")
    (path,) = _export(tmp_path, rate_name, ".xml")
    tl = otio.adapters.read_from_file(path, adapter_name="fcp_xml")
    _check_otio_timeline(tl, rate_name)
    assert [m.name for m in tl.tracks.markers] == ["Song One", "Encore & Friends <live>"]


@pytest.mark.parametrize("rate_name", RATE_NAMES)
def test_fcp7_structure(rate_name: str, tmp_path: Path) -> None:
    rate, drop, want = expected(rate_name)
    (path,) = _export(tmp_path, rate_name, ".xml")
    root = ET.parse(path).getroot()
    seq = root.find("sequence")
    assert seq.findtext("rate/timebase") == str(round(rate))
    assert seq.findtext("rate/ntsc") == ("FALSE" if rate == round(rate) else "TRUE")
    assert seq.findtext("timecode/displayformat") == ("DF" if drop else "NDF")
    items = {i.get("id"): i for i in seq.iter("clipitem")}
    files = {f.get("id"): f for f in seq.iter("file") if f.find("pathurl") is not None}
    for item in items.values():
        name = item.findtext("name")
        fid = item.find("file").get("id")
        if name in want and item.findtext("enabled") == "TRUE":
            assert int(item.findtext("start")) == want[name][0]
            f = files[fid]
            own = int(f.findtext("rate/timebase"))
            if own == round(rate):  # same rate: the file's timecode frame is the source in-point
                assert int(f.findtext("timecode/frame")) == want[name][1]
            assert item.findtext("in") == "0"
    # a camera's video and audio clipitems link to each other
    cam = [i for i in seq.findall("media/video/track/clipitem") if i.findtext("name") == "A001.MOV"][0]
    refs = {ln.findtext("linkclipref") for ln in cam.findall("link")}
    assert len(refs) == 2 and all(items[r].findtext("name") == "A001.MOV" for r in refs)
    zoom = files[[i for i in items.values() if i.findtext("name").startswith("ZOOM")][0].find("file").get("id")]
    assert zoom.findtext("pathurl") == "file://localhost/media/shoot/Zoom%20H6/ZOOM0001%20%C3%A9.WAV"
    assert zoom.findtext("media/audio/channelcount") == "2"
    assert zoom.findtext("media/audio/samplecharacteristics/samplerate") == "48000"
    speeds = [p.findtext("value") for p in seq.iter("parameter") if p.findtext("parameterid") == "speed"]
    assert speeds and float(speeds[0]) == pytest.approx(100.0212)


@pytest.mark.parametrize("rate_name", RATE_NAMES)
def test_edl_round_trip_with_pycmx(rate_name: str, tmp_path: Path) -> None:
    pycmx = pytest.importorskip("pycmx")
    rate, drop, want = expected(rate_name)
    start = tc_to_frames("01:00:00;00" if drop else "01:00:00:00", rate)
    files = _export(tmp_path, rate_name, ".edl")
    seen = set()
    for path in files:
        if path.endswith(".markers.edl"):
            continue
        text = Path(path).read_text(encoding="utf-8")
        assert ("FCM: DROP FRAME" in text) == drop
        with open(path, encoding="utf-8") as fh:
            edl = pycmx.parse_cmx3600(fh)
        for event in edl.events:
            for edit in event.edits:
                name = edit.clip_name
                seen.add(name)
                assert len(edit.source) <= 8
                assert tc_to_frames(edit.record_in, rate) == start + want[name][0]
                assert tc_to_frames(edit.source_in, rate) == want[name][1]
                assert edit.channels.video == (not name.startswith("ZOOM"))
    assert seen == set(want)


def test_edl_premiere_style_has_only_clip_name_comments(tmp_path: Path) -> None:
    for path in _export(tmp_path, "25", ".edl", edl_style="premiere"):
        comments = [ln for ln in Path(path).read_text().splitlines() if ln.startswith("*")]
        assert comments and all(ln.startswith("* FROM CLIP NAME:") for ln in comments)


def _secs(value: str) -> Fraction:
    assert value.endswith("s"), value
    return Fraction(value[:-1])


@pytest.mark.parametrize("multicam", [False, True])
@pytest.mark.parametrize("rate_name", RATE_NAMES)
def test_fcpxml_on_the_frame_grid(rate_name: str, multicam: bool, tmp_path: Path) -> None:
    rate, drop, want = expected(rate_name)
    (path,) = _export(tmp_path, rate_name, ".fcpxml", fcpx_multicam=multicam)
    root = ET.parse(path).getroot()
    assert root.get("version") == "1.9"
    formats = {f.get("id"): _secs(f.get("frameDuration")) for f in root.iter("format")}
    assets = {a.get("id"): a for a in root.iter("asset")}
    seq = root.find(".//project/sequence")
    fd = formats[seq.get("format")]
    assert fd == 1 / rate
    origin = _secs(seq.get("tcStart"))
    assert frames_to_tc(int(origin / fd), rate, drop=drop)[:8] == "01:00:00"
    for el in root.iter():
        for attr in ("offset", "duration"):
            if el.get(attr) is not None and el.tag not in ("asset", "timept"):
                assert (_secs(el.get(attr)) / fd).denominator == 1, (el.tag, attr, el.get(attr))
    seen = set()
    for clip in root.iter("asset-clip"):
        name = clip.get("name")
        asset = assets[clip.get("ref")]
        own = formats.get(asset.get("format"), fd)
        start = _secs(clip.get("start"))
        assert (start / own).denominator == 1 and start == _secs(asset.get("start"))
        if name not in want or clip.get("offset") is None:
            continue
        seen.add(name)
        offset = _secs(clip.get("offset")) - (0 if multicam else origin)
        assert offset / fd == want[name][0], name
        if own == fd:
            assert start / fd == want[name][1], name
        if not multicam:
            assert (int(clip.get("lane")) > 0) == (asset.get("hasVideo") == "1")
    assert seen == set(want)
    event_clips = [c.get("name") for c in root.find("library/event").findall("asset-clip")]
    assert event_clips == ["B002.MP4"]  # unplaced: in the event, outside the project
    assert [m.get("value") for m in root.iter("marker")] == ["Song One", "Encore & Friends <live>"]
    assert root.find(".//timeMap") is not None
    if multicam:
        assert len(root.findall(".//multicam/mc-angle")) == 5 and root.find(".//spine/mc-clip") is not None
    dtd = os.environ.get("SYNCFP_FCPXML_DTD")
    if dtd:  # Apple's FCPXMLv1_9.dtd, when one is at hand (it is not redistributed here)
        lxml = pytest.importorskip("lxml.etree")
        assert lxml.DTD(dtd).validate(lxml.parse(path)), "DTD validation failed"


@pytest.mark.skipif("aaf" not in WRITERS, reason="otio-aaf-adapter not installed")
@pytest.mark.parametrize("rate_name", ["2997df", "2997ndf", "5994", "25"])
def test_aaf_round_trip_and_drop_frame_timecode(rate_name: str, tmp_path: Path) -> None:
    """Read back by OTIO's AAF reader (frames) and by pyaaf2 (the timecode segments Avid shows)."""
    import aaf2

    (path,) = _export(tmp_path, rate_name, ".aaf")
    _check_otio_timeline(otio.adapters.read_from_file(path), rate_name)
    rate, drop = RATES[rate_name]
    with aaf2.open(path, "r") as f:
        (comp,) = list(f.content.compositionmobs())
        (tc,) = [s.segment for s in comp.slots if isinstance(s.segment, aaf2.components.Timecode)]
        assert (tc.start, tc.drop, tc.fps) == (tc_to_frames("01:00:00;00" if drop else "01:00:00:00", rate), drop,
                                               round(rate))
        assert frames_to_tc(tc.start, rate, drop=tc.drop) == ("01:00:00;00" if drop else "01:00:00:00")
        tapes = [s.segment for m in f.content.sourcemobs() for s in m.slots
                 if isinstance(s.segment, aaf2.components.Timecode)]
        assert tapes and all(t.drop == drop for t in tapes)


def test_aaf_without_the_adapter_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from syncfp.errors import UsageError
    from syncfp.export import SUFFIXES, format_for

    monkeypatch.delitem(WRITERS, "aaf", raising=False)
    monkeypatch.delitem(SUFFIXES, ".aaf", raising=False)
    for path, fmt in (("t.aaf", None), ("t.bin", "aaf")):
        with pytest.raises(UsageError, match=r"pip install 'syncfp\[aaf\]'"):
            format_for(path, fmt)


def test_audacity_and_reaper_positions_are_exact_seconds(tmp_path: Path) -> None:
    (labels,) = _export(tmp_path, "25", ".txt")
    rows = [ln.split("\t") for ln in Path(labels).read_text(encoding="utf-8").splitlines()]
    assert ["1.234567", "41.234567", "CamA: A001.MOV"] in rows
    assert any(r[2] == "song: Song One" and r[0] == "5.000000" for r in rows)
    (rpp,) = _export(tmp_path, "25", ".rpp")
    text = Path(rpp).read_text(encoding="utf-8")
    assert "POSITION 10.010400000" in text and "PLAYRATE 1.000212000 1" in text
    assert 'MARKER 1 5.000000 "Song One" 1' in text and "MUTESOLO 1" in text
    (rpp2,) = _export(tmp_path, "25", ".rpp", drift_correction=False)
    assert "PLAYRATE 1.000212" not in Path(rpp2).read_text(encoding="utf-8")


def _same_names_alignment() -> "Alignment":
    """Three cameras that all wrote GOPR0001.MP4, in folders 前/, 後/ and cam3/, and a phone's IMG_0001.MOV."""
    from syncfp.types import Alignment, ClipResult, MediaInfo

    clips = []
    for i, (folder, track) in enumerate((("前", "前"), ("後", "後"), ("cam3", "cam3"), ("phone", "phone"))):
        path = f"/shoot/{folder}/{'IMG_0001.MOV' if folder == 'phone' else 'GOPR0001.MP4'}"
        info = MediaInfo(path, 20.0, 48000, 2, "aac", has_video=True, fps=Fraction(25), video_start_s=0.0,
                         video_duration_s=20.0)
        clips.append(ClipResult(path, 20.0, 1, track, 1.0 + i, info=info))
    return Alignment(clips)


def test_edl_reels_and_file_names_are_unique_across_the_export(tmp_path: Path) -> None:
    pycmx = pytest.importorskip("pycmx")
    files = write(_same_names_alignment(), str(tmp_path / "t.edl"))
    assert len(files) == len(set(files)) == 4 and all(Path(f).exists() for f in files)
    assert {Path(f).name for f in files} == {"t.前.edl", "t.後.edl", "t.cam3.edl", "t.phone.edl"}
    reels = {}
    for path in files:
        with open(path, encoding="utf-8") as fh:
            (event,) = pycmx.parse_cmx3600(fh).events
        text = Path(path).read_text(encoding="utf-8")
        (src,) = [ln.split(": ", 1)[1] for ln in text.splitlines() if ln.startswith("* FROM FILE:")]
        reels[src] = event.edits[0].source
    assert len(set(reels.values())) == 4, reels  # no two cameras share a reel
    assert reels["/shoot/前/GOPR0001.MP4"] == "GOPR0001" and reels["/shoot/phone/IMG_0001.MOV"] == "IMG_0001"
    assert all(len(r) == 8 for r in reels.values())


def test_edl_media_links_through_otios_cmx_reader(tmp_path: Path) -> None:
    """OpenTimelineIO's CMX 3600 reader links media from ``* FROM FILE:``: every clip comes in online."""
    pytest.importorskip("otio_cmx3600_adapter")
    rate, drop, want = expected("25")
    seen = set()
    for path in _export(tmp_path, "25", ".edl"):
        if path.endswith(".markers.edl"):
            continue
        tl = otio.adapters.read_from_file(path, adapter_name="cmx_3600", rate=25)
        for clip in tl.find_clips():
            ref = clip.media_reference
            assert isinstance(ref, otio.schema.ExternalReference), clip.name
            assert os.path.basename(ref.target_url) == clip.name and os.path.isabs(ref.target_url)
            # the reader drops the record start of a file's first event; the source in-point it keeps
            assert clip.source_range.start_time.value == want[clip.name][1], clip.name
            seen.add(clip.name)
    assert seen == set(want)
