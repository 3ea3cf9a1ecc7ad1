"""`Alignment` → `Timeline`: per group, tracks of clips in integer frames at an exact rational rate.

Timecode arithmetic is done in integer frames; drop-frame labels only for 30000/1001 and 60000/1001.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction

from .types import Alignment, ClipResult

STANDARD_RATES = {
    "23.976": Fraction(24000, 1001), "23.98": Fraction(24000, 1001), "24": Fraction(24), "25": Fraction(25),
    "29.97": Fraction(30000, 1001), "30": Fraction(30), "50": Fraction(50), "59.94": Fraction(60000, 1001),
    "60": Fraction(60), "48": Fraction(48), "47.952": Fraction(48000, 1001), "100": Fraction(100),
    "119.88": Fraction(120000, 1001), "120": Fraction(120),
}
DEFAULT_FPS = Fraction(25)


def parse_fps(text: str) -> Fraction:
    """'29.97', '30000/1001', '25' → exact rate; float-looking NTSC rates snap to x000/1001."""
    text = text.strip().lower().removesuffix("fps").strip()
    if text in STANDARD_RATES:
        return STANDARD_RATES[text]
    try:
        value = Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"not a frame rate: {text!r}") from None
    if value <= 0 or value > 1000:
        raise ValueError(f"frame rate out of range: {text!r}")
    return snap_rate(value)


def snap_rate(rate: Fraction) -> Fraction:
    """Snap a measured rate (e.g. 29.97003) to the standard rate it is meant to be."""
    for std in set(STANDARD_RATES.values()):
        if abs(float(rate) - float(std)) < 0.005:
            return std
    return rate.limit_denominator(1001)


def is_drop_frame_rate(rate: Fraction) -> bool:
    return rate in (Fraction(30000, 1001), Fraction(60000, 1001))


def frames_to_tc(frames: int, rate: Fraction, *, drop: bool = False) -> str:
    """Integer frame count → 'HH:MM:SS:FF' (or 'HH:MM:SS;FF' drop-frame)."""
    nominal = round(rate)
    sign = "-" if frames < 0 else ""
    frames = abs(int(frames))
    if drop:
        drop_n = 2 * (nominal // 30)
        per_10min = nominal * 600 - drop_n * 9
        per_min = nominal * 60 - drop_n
        d, m = divmod(frames, per_10min)
        if m > drop_n:
            frames += drop_n * 9 * d + drop_n * ((m - drop_n) // per_min)
        else:
            frames += drop_n * 9 * d
    ff = frames % nominal
    ss = (frames // nominal) % 60
    mm = (frames // (nominal * 60)) % 60
    hh = frames // (nominal * 3600)
    sep = ";" if drop else ":"
    return f"{sign}{hh:02d}:{mm:02d}:{ss:02d}{sep}{ff:02d}"


def tc_to_frames(tc: str, rate: Fraction) -> int:
    """'HH:MM:SS:FF' / 'HH:MM:SS;FF' → integer frames (drop-frame when the separator is ';' or '.')."""
    drop = ";" in tc or "." in tc.replace(":", "", 2)
    parts = [int(p) for p in tc.replace(";", ":").replace(".", ":").split(":")]
    if len(parts) != 4:
        raise ValueError(f"not a timecode: {tc!r}")
    hh, mm, ss, ff = parts
    nominal = round(rate)
    total = ((hh * 60 + mm) * 60 + ss) * nominal + ff
    if drop:
        drop_n = 2 * (nominal // 30)
        minutes = hh * 60 + mm
        total -= drop_n * (minutes - minutes // 10)
    return total


@dataclass(frozen=True)
class TimelineClip:
    clip: ClipResult
    record_frame: int  # frame on the group's timeline where the clip's first audio sample lands
    duration_frames: int
    source_in_frame: int  # the file's own start timecode, in frames (0 when it has none)
    subframe_s: float  # offset_s - record_frame / rate: what the frame grid could not hold


@dataclass(frozen=True)
class Track:
    name: str
    clips: list[TimelineClip]
    has_video: bool


@dataclass(frozen=True)
class GroupTimeline:
    group: int
    tracks: list[Track]


@dataclass(frozen=True)
class Timeline:
    rate: Fraction
    drop_frame: bool
    groups: list[GroupTimeline]
    unplaced: list[ClipResult] = field(default_factory=list)


def choose_rate(alignment: Alignment, override: Fraction | None = None) -> Fraction:
    """--fps, else the most common video rate among the inputs, else 25."""
    if override is not None:
        return override
    rates = Counter(snap_rate(c.info.fps) for c in alignment.clips if c.info is not None and c.info.fps)
    return rates.most_common(1)[0][0] if rates else (alignment.fps and snap_rate(alignment.fps)) or DEFAULT_FPS


def build(alignment: Alignment, *, fps: Fraction | None = None, drop_frame: bool | None = None) -> Timeline:
    """Group clips into per-group tracks in integer frames at the chosen rate."""
    rate = choose_rate(alignment, fps)
    if drop_frame is None:
        drop_frame = is_drop_frame_rate(rate) and any(
            c.info is not None and c.info.timecode and ";" in c.info.timecode for c in alignment.clips
        )
    groups: list[GroupTimeline] = []
    for g in alignment.groups:
        by_track: dict[str, list[TimelineClip]] = {}
        for c in alignment.clips:
            if c.group != g:
                continue
            rec = round(c.offset_s * rate)
            dur = max(1, round(c.duration_s * rate))
            src = 0
            if c.info is not None and c.info.timecode:
                try:
                    src = tc_to_frames(c.info.timecode, rate)
                except ValueError:
                    src = 0
            by_track.setdefault(c.track or "A", []).append(
                TimelineClip(c, rec, dur, src, c.offset_s - float(rec / rate))
            )
        tracks = [
            Track(name, sorted(cl, key=lambda t: (t.record_frame, t.clip.path)),
                  any(t.clip.info is not None and t.clip.info.has_video for t in cl))
            for name, cl in by_track.items()
        ]
        # video tracks first, then by first appearance on the timeline
        tracks.sort(key=lambda t: (not t.has_video, t.clips[0].record_frame, t.name))
        groups.append(GroupTimeline(g, tracks))
    unplaced = [c for c in alignment.clips if c.group is None]
    return Timeline(rate=rate, drop_frame=bool(drop_frame), groups=groups, unplaced=unplaced)
