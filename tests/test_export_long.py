"""A two-hour shoot: drop-frame timecode past minute 1, past 10 minutes and past the hour, at 29.97 DF,
23.976, 59.94 DF and 25. Golden EDLs, and every timecode checked against OpenTimelineIO's own timecode
arithmetic (an independent implementation) after pycmx parses the EDLs.

Regenerate the goldens after an intended change with ``SYNCFP_UPDATE_GOLDEN=1`` and review the diff.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
import pytest

from syncfp.export import ExportOptions, write
from syncfp.types import Alignment, ClipResult, MediaInfo

GOLDEN = Path(__file__).parent / "golden"
RATES = {"2997df": (Fraction(30000, 1001), True), "23976": (Fraction(24000, 1001), False),
         "5994df": (Fraction(60000, 1001), True), "25": (Fraction(25), False)}
# name → (track, offset s, length s, source timecode label as HH:MM:SS + frames or None)
CLIPS = {
    "A001.MOV": ("CamA", 0.5, 590.0, ("10:00:00", 0)),
    "A002.MOV": ("CamA", 599.95, 30.0, ("10:09:59", 20)),  # crosses 00:10:00 on the record side
    "A003.MOV": ("CamA", 3599.5, 1200.0, ("10:59:59", 23)),  # and 01:00:00 / 11:00:00 on the source side
    "B001.MP4": ("CamB", 61.04, 7080.0, ("23:59:00", 4)),  # ~2 h, runs past midnight on the source side
    "B002.MP4": ("CamB", 7150.2, 45.0, None),
}


def alignment(rate: Fraction, drop: bool) -> Alignment:
    """A 2-hour recorder from 0 and two cameras whose clips sit across the drop-frame boundaries."""
    sep = ";" if drop else ":"
    rec = "/long/ZOOM/ZOOM0001.WAV"
    clips = [ClipResult(rec, 7200.0, 1, "ZOOM", 0.0, 0.0, 0.99, info=MediaInfo(
        rec, 7200.0, 48000, 2, "pcm_s24le", time_reference=9 * 3600 * 48000))]
    for name, (track, offset, length, tc) in CLIPS.items():
        path = f"/long/{track}/{name}"
        label = None if tc is None else f"{tc[0]}{sep}{tc[1]:02d}"
        info = MediaInfo(path, length + 0.012, 48000, 2, "aac", has_video=True, fps=rate, timecode=label,
                         video_start_s=0.0, video_duration_s=length)
        clips.append(ClipResult(path, length + 0.012, 1, track, offset, 0.0, 0.9, info=info))
    return Alignment(clips, fps=rate)


def _otio_tc(frames: int, rate: Fraction, drop: bool) -> str:
    return otio.opentime.to_timecode(otio.opentime.RationalTime(frames, float(rate)), float(rate), drop)


def _otio_frames(label: str, rate: Fraction) -> int:
    return round(otio.opentime.from_timecode(label, float(rate)).value)


@pytest.mark.parametrize("rate_name", sorted(RATES))
def test_two_hour_edl_golden_and_timecodes(rate_name: str, tmp_path: Path) -> None:
    pycmx = pytest.importorskip("pycmx")
    rate, drop = RATES[rate_name]
    files = write(alignment(rate, drop), str(tmp_path / "long.edl"), options=ExportOptions(title="long"))
    text = "".join(f"=== {Path(f).name} ===\n{Path(f).read_text(encoding='utf-8')}" for f in files)
    golden = GOLDEN / f"long_edl_{rate_name}.edl"
    if os.environ.get("SYNCFP_UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")

    start = _otio_frames("01:00:00;00" if drop else "01:00:00:00", rate)
    seen = {}
    for path in files:
        with open(path, encoding="utf-8") as fh:
            for event in pycmx.parse_cmx3600(fh).events:
                for e in event.edits:
                    seen[e.clip_name] = e
    assert set(seen) == set(CLIPS) | {"ZOOM0001.WAV"}
    for name, (track, offset, length, tc) in CLIPS.items():
        e = seen[name]
        rec = start + round(Fraction(offset) * rate)
        n = int(Fraction(length) * rate + Fraction(1, 10**4))  # whole frames of the picture
        assert (e.record_in, e.record_out) == (_otio_tc(rec, rate, drop), _otio_tc(rec + n, rate, drop)), name
        if tc is not None:
            label = f"{tc[0]}{';' if drop else ':'}{tc[1]:02d}"
            assert e.source_in == label, name  # the file's own label, unchanged
            src = _otio_frames(label, rate)
            day = round(rate) * 86400 - (2 * (round(rate) // 30) * (1440 - 144) if drop else 0)
            assert e.source_out == _otio_tc((src + n) % day, rate, drop), name
    # the DF labels themselves: no ;00 or ;01 outside minutes divisible by ten
    if drop:
        for e in seen.values():
            for label in (e.record_in, e.record_out, e.source_in, e.source_out):
                mm, ff = int(label[3:5]), int(label[9:])
                assert label[8] == ";" and not (label[6:8] == "00" and mm % 10 and ff < 2 * (round(rate) // 30)), label
