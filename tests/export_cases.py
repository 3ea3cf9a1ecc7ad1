"""Hand-built alignments for the exporter tests: no media is encoded, only `ClipResult`/`MediaInfo`."""

from __future__ import annotations

from fractions import Fraction

from syncfp.export.timeline import Marker
from syncfp.types import Alignment, ClipResult, ClockHint, MediaInfo

# name → (rate, drop-frame source timecode)
RATES = {
    "23976": (Fraction(24000, 1001), False),
    "25": (Fraction(25), False),
    "2997df": (Fraction(30000, 1001), True),
    "2997ndf": (Fraction(30000, 1001), False),
    "5994": (Fraction(60000, 1001), True),
    "60": (Fraction(60), False),
}
REC_TIME_REFERENCE = (14 * 3600 + 3 * 60 + 20) * 48000 + 12000  # 14:03:20 and a quarter second
MARKERS = {1: [Marker(5.0, 48.2, "Song One"), Marker(60.0, 95.0, "Encore & Friends <live>")]}


def _cam(path, rate, tc, **kw) -> MediaInfo:
    return MediaInfo(path=path, duration_s=kw.pop("duration_s"), sample_rate_hz=48000, channels=2, codec="aac",
                     has_video=True, fps=kw.pop("fps", rate), timecode=tc, width=1920, height=1080, **kw)


def alignment(rate: Fraction, drop: bool) -> Alignment:
    """Recorder at 0; cameras A, B, C (C starts after A ends); a drifting phone; an unplaced clip."""
    sep = ";" if drop else ":"
    tc_a, tc_b = f"14:03:22{sep}10", f"01:00:00{sep}00"
    rec = "/media/shoot/Zoom H6/ZOOM0001 é.WAV"
    clips = [
        ClipResult(rec, 120.0, 1, "ZOOM", 0.0, 0.0, 0.97, 0.02, info=MediaInfo(
            path=rec, duration_s=120.0, sample_rate_hz=48000, channels=2, codec="pcm_s24le",
            time_reference=REC_TIME_REFERENCE, device="ZOOM H6")),
        ClipResult("/media/shoot/CamA/A001.MOV", 40.0, 1, "CamA", 1.234567, 0.4, 0.91, 0.05,
                   info=_cam("/media/shoot/CamA/A001.MOV", rate, tc_a, duration_s=40.0)),
        ClipResult("/media/shoot/CamB/B001.MP4", 90.0, 1, "CamB", 3.217, -0.3, 0.88, 0.06,
                   info=_cam("/media/shoot/CamB/B001.MP4", rate, tc_b, duration_s=90.0)),
        ClipResult("/media/shoot/CamC/C0001.MP4", 30.0, 1, "CamC", 52.5, 0.0, 0.64, 0.3,
                   info=_cam("/media/shoot/CamC/C0001.MP4", rate, None, duration_s=30.0)),
        ClipResult("/media/shoot/Phone/IMG_0042.MOV", 95.5, 1, "Phone", 10.0104, 212.0, 0.42, 0.8,
                   warning="low level", info=_cam("/media/shoot/Phone/IMG_0042.MOV", rate, None,
                                                  duration_s=95.5, fps=Fraction(30), device="Apple iPhone 12")),
        ClipResult("/media/shoot/CamB/B002.MP4", 12.0, error="no matching audio in any other clip",
                   info=_cam("/media/shoot/CamB/B002.MP4", rate, tc_b, duration_s=12.0),
                   clock_hint=ClockHint(1, 48.25, 2.5)),
    ]
    return Alignment(clips=clips, fps=rate)
