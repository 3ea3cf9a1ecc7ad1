"""The timeline model: timecode arithmetic, source timecode, drift speed sign, lanes, groups, markers."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from export_cases import RATES, alignment
from syncfp.export import ExportOptions, write
from syncfp.export.timeline import (Marker, build, clip_speed, frames_to_tc, parse_fps, snap_rate, source_start_s,
                             tc_to_frames)
from syncfp.types import Alignment, ClipResult, MediaInfo


@pytest.mark.parametrize("rate,drop", [(Fraction(30000, 1001), True), (Fraction(60000, 1001), True),
                                       (Fraction(30000, 1001), False), (Fraction(24000, 1001), False)])
def test_timecode_round_trips_over_a_day(rate: Fraction, drop: bool) -> None:
    for f in np.random.default_rng(0).integers(0, round(rate * 86400), 3000):
        assert tc_to_frames(frames_to_tc(int(f), rate, drop=drop), rate) == f


def test_drop_frame_labels_skip_the_right_numbers() -> None:
    r = Fraction(30000, 1001)
    assert frames_to_tc(1799, r, drop=True) == "00:00:59;29"
    assert frames_to_tc(1800, r, drop=True) == "00:01:00;02"
    assert frames_to_tc(17982, r, drop=True) == "00:10:00;00"
    assert tc_to_frames("01:00:00;00", r) == 107892


def test_source_start_from_tag_at_the_files_own_rate_and_from_bwf() -> None:
    cam25 = MediaInfo("a.mov", 1.0, 48000, 2, "aac", has_video=True, fps=Fraction(25), timecode="10:00:00:12")
    assert source_start_s(cam25, Fraction(30000, 1001)) == Fraction(36000) + Fraction(12, 25)
    wav = MediaInfo("r.wav", 1.0, 48000, 2, "pcm_s16le", time_reference=48000 * 3600 + 24000)
    assert source_start_s(wav, Fraction(25)) == Fraction(7201, 2)
    assert source_start_s(MediaInfo("x.wav", 1.0, 48000, 1, "pcm"), Fraction(25)) is None


def test_fast_clock_is_sped_up() -> None:
    c = ClipResult("p.mov", 100.0, 1, "P", 0.0, 250.0)
    assert clip_speed(c) == pytest.approx(1.00025)
    assert clip_speed(c, drift_correction=False) == 1.0
    assert clip_speed(replace(c, drift_ppm=0.5)) == 1.0  # below what any editor can express
    tl = build(Alignment([c]), fps=Fraction(25))
    assert tl.groups[0].tracks[0].clips[0].duration_frames == round(100 / 1.00025 * 25)


def test_fps_from_the_most_common_video_rate_and_override() -> None:
    al = alignment(*RATES["2997df"])
    tl = build(al)
    assert tl.rate == Fraction(30000, 1001) and tl.drop_frame
    assert not build(al, drop_frame=False).drop_frame
    tl25 = build(al, fps=Fraction(25))
    assert tl25.rate == 25 and not tl25.drop_frame  # DF labels only exist at 29.97/59.94


def test_overlapping_clips_of_one_device_get_another_lane_and_one_frame_overlaps_are_trimmed() -> None:
    clips = [ClipResult(f"/x/C{i}.wav", 10.0, 1, "C", off) for i, off in enumerate((0.0, 10.01, 15.0))]
    tracks = build(Alignment(clips), fps=Fraction(25)).groups[0].tracks
    assert [t.name for t in tracks] == ["C", "C-2"]
    first, second = tracks[0].clips
    assert first.record_end <= second.record_frame
    assert [c.clip.path for c in tracks[1].clips] == ["/x/C2.wav"]


def test_markers_in_frames() -> None:
    tl = build(alignment(*RATES["25"]), markers={1: [Marker(2.0, 3.5, "x")]})
    (m,) = tl.groups[0].markers
    assert (m.start_frame, m.duration_frames) == (50, 38)


def test_two_groups_give_one_file_per_group(tmp_path: Path) -> None:
    al = alignment(*RATES["25"])
    clips = al.clips + [ClipResult("/m/other/D1.MOV", 20.0, 2, "D", 0.0, info=al.clips[1].info)]
    files = write(Alignment(clips), str(tmp_path / "t.otio"))
    assert [Path(f).name for f in files] == ["t.g1.otio", "t.g2.otio"]
    files = write(Alignment(clips), str(tmp_path / "t.fcpxml"))
    assert Path(files[0]).read_text().count("<project ") == 2


def test_nothing_placed_still_writes_the_unplaced(tmp_path: Path) -> None:
    al = Alignment([ClipResult("/m/a.wav", 5.0, error="no matching audio in any other clip",
                               info=MediaInfo("/m/a.wav", 5.0, 48000, 1, "pcm_s16le"))])
    for suffix in (".otio", ".xml", ".fcpxml", ".rpp", ".csv", ".html"):
        (f,) = write(al, str(tmp_path / f"t{suffix}"), options=ExportOptions())
        assert "a.wav" in Path(f).read_text(encoding="utf-8")


@pytest.mark.parametrize("measured,want", [(Fraction(25057, 850), Fraction(30000, 1001)), (Fraction(3002, 100), Fraction(30)),
                                           (Fraction(2997003, 100000), Fraction(30000, 1001)), (Fraction(2398, 100), Fraction(24000, 1001)),
                                           (Fraction(5994, 100), Fraction(60000, 1001)), (Fraction(2490, 100), Fraction(25))])
def test_measured_rates_snap_to_the_nearest_standard_rate(measured: Fraction, want: Fraction) -> None:
    assert snap_rate(measured) == want


def test_fps_option_takes_standard_rates_only() -> None:
    assert parse_fps("29.97") == Fraction(30000, 1001) and parse_fps("30000/1001") == Fraction(30000, 1001)
    assert parse_fps("25.05") == 25  # within 0.5 %
    with pytest.raises(ValueError, match="not a standard frame rate"):
        parse_fps("12")


def _phone(fps: Fraction, **kw) -> MediaInfo:
    return MediaInfo("/m/Phone/IMG_0001.MOV", 60.0, 48000, 2, "aac", has_video=True, fps=fps, vfr=True,
                     width=1920, height=1080, video_start_s=0.0, video_duration_s=60.0, **kw)


def test_a_vfr_phone_never_sets_an_odd_rate_anywhere(tmp_path: Path) -> None:
    """A phone averaging 29.479 fps (FFmpeg's 25057/850) with timecode 01:00:10:00 beside a 29.97 camera:
    the timeline stays 29.97, the phone's timecode is read at 29.97 and no file carries a non-standard rate."""
    cam = MediaInfo("/m/A/A001.MOV", 90.0, 48000, 2, "aac", has_video=True, fps=Fraction(30000, 1001),
                    video_start_s=0.0, video_duration_s=90.0)
    clips = [ClipResult(cam.path, 90.0, 1, "A", 0.0, info=cam),
             ClipResult("/m/Phone/IMG_0001.MOV", 60.0, 1, "P", 70.0, info=_phone(Fraction(25057, 850),
                                                                              timecode="01:00:10:00"))]
    tl = build(Alignment(clips))
    assert tl.rate == Fraction(30000, 1001)
    phone = tl.groups[0].tracks[1].clips[0]
    assert phone.source_in_frame == tc_to_frames("01:00:10:00", tl.rate)
    assert frames_to_tc(phone.source_in_frame, tl.rate) == "01:00:10:00"
    (xml,) = write(Alignment(clips), str(tmp_path / "t.fcpxml"))
    assert set(re.findall(r'frameDuration="([^"]+)"', Path(xml).read_text())) == {"1001/30000s"}
    (x7,) = write(Alignment(clips), str(tmp_path / "t.xml"))
    assert set(re.findall(r"<timebase>(\d+)</timebase>", Path(x7).read_text())) == {"30"}
    only_phone = build(Alignment([clips[1], replace(clips[1], path="/m/Phone/IMG_0002.MOV", offset_s=80.0,
                                                     info=_phone(Fraction(3002, 100)))]))
    assert only_phone.rate == Fraction(30000, 1001)  # both phones vote with their nearest standard rate
    vfr30 = build(Alignment([replace(clips[1], info=_phone(Fraction(3002, 100)))]))
    assert vfr30.rate == 30


def test_camera_lengths_are_whole_frames_of_the_picture_not_the_audio() -> None:
    """Audio runs 6-16 ms past the last video frame: the event stops at the last frame, never one past."""
    info = MediaInfo("/m/A.MOV", 10.016, 48000, 2, "aac", has_video=True, fps=Fraction(25), video_start_s=0.0,
                     video_duration_s=10.0)
    (tc,) = build(Alignment([ClipResult("/m/A.MOV", 10.016, 1, "A", 0.0, info=info)])).groups[0].tracks[0].clips
    assert (tc.duration_frames, tc.source_frames, tc.source_out_frames) == (250, 250, 250)
    late = replace(info, audio_start_s=0.5)  # audio starts 0.5 s into the file: the picture is 0.5 s earlier
    (tc,) = build(Alignment([ClipResult("/m/A.MOV", 10.016, 1, "A", 2.01, info=late)])).groups[0].tracks[0].clips
    assert tc.record_frame == 38 and tc.subframe_s == pytest.approx(-0.01)


def test_other_rate_files_keep_their_timecode_label_in_the_edl_and_loose_fcpxml_clips_fit_their_asset(
        tmp_path: Path) -> None:
    """A 25p clip with 10:00:00:00 on a 29.97 DF timeline: EDL source-in 10:00:00;00 (not ;01); an unplaced
    30p clip in FCPXML lies on its own asset's grid and is no longer than the asset."""
    pycmx = pytest.importorskip("pycmx")
    cam = MediaInfo("/m/A/A001.MOV", 20.0, 48000, 2, "aac", has_video=True, fps=Fraction(30000, 1001),
                    timecode="01:00:00;00", video_start_s=0.0, video_duration_s=20.0)
    c25 = MediaInfo("/m/B/B001.MOV", 20.0, 48000, 2, "aac", has_video=True, fps=Fraction(25), timecode="10:00:00:00",
                    video_start_s=0.0, video_duration_s=20.0)
    c30 = MediaInfo("/m/C/C001.MOV", 7.01, 48000, 2, "aac", has_video=True, fps=Fraction(30), video_start_s=0.0,
                    video_duration_s=7.0)
    al = Alignment([ClipResult(cam.path, 20.0, 1, "A", 0.0, info=cam), ClipResult(c25.path, 20.0, 1, "B", 2.0, info=c25),
                    ClipResult(c30.path, 7.01, error="no matching audio in any other clip", info=c30)])
    files = write(al, str(tmp_path / "t.edl"))
    with open(next(f for f in files if f.endswith(".B.edl")), encoding="utf-8") as fh:
        (event,) = pycmx.parse_cmx3600(fh).events
    assert event.edits[0].source_in == "10:00:00;00"
    (x,) = write(al, str(tmp_path / "t.fcpxml"))
    root = ET.parse(x).getroot()
    (loose,) = root.find("library/event").findall("asset-clip")
    asset = next(a for a in root.iter("asset") if a.get("id") == loose.get("ref"))
    dur = Fraction(loose.get("duration")[:-1])
    assert dur == Fraction(asset.get("duration")[:-1]) == Fraction(210, 30) and (dur * 30).denominator == 1


def test_report_axis_labels_are_clock_time_at_drop_frame(tmp_path: Path) -> None:
    (f,) = write(alignment(*RATES["2997df"]), str(tmp_path / "t.html"))
    labels = re.findall(r'fill="#888"[^>]*>([^<]+)</text>', Path(f).read_text(encoding="utf-8"))
    assert labels[:3] == ["00:00:00", "00:00:15", "00:00:30"] and all(";" not in lb for lb in labels)
