"""The timeline model: timecode arithmetic, source timecode, drift speed sign, lanes, groups, markers."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from export_cases import RATES, alignment
from syncfp.export import ExportOptions, write
from syncfp.timeline import (Marker, build, clip_speed, frames_to_tc, source_start_s, tc_to_frames)
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
