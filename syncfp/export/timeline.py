"""`Alignment` → `Timeline`: per group, tracks of clips in integer frames at an exact rational rate.

Timecode arithmetic is done in integer frames; drop-frame labels only for 30000/1001 and 60000/1001.
A clip's source in-point is its file's own start timecode (MOV/MP4 ``timecode``, BWF ``time_reference``);
a clip with measured drift gets a playback speed that cancels it, unless drift correction is off.
A camera file is placed by its first video frame (its audio position plus the file's A/V start offset)
and is as long as its picture; rates are always standard ones (variable-rate phones snap to the nearest).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
import math
import os

from ..lanes import first_fit, lane_names
from ..types import Alignment, ClipResult, ClipStatus, MediaInfo

STANDARD_RATES = {
    "23.976": Fraction(24000, 1001), "23.98": Fraction(24000, 1001), "24": Fraction(24), "25": Fraction(25),
    "29.97": Fraction(30000, 1001), "30": Fraction(30), "50": Fraction(50), "59.94": Fraction(60000, 1001),
    "60": Fraction(60), "48": Fraction(48), "47.952": Fraction(48000, 1001), "100": Fraction(100),
    "119.88": Fraction(120000, 1001), "120": Fraction(120),
}
DEFAULT_FPS = Fraction(25)
RECORD_START_TC = "01:00:00:00"  # the editors' convention for a programme's first frame
MIN_DRIFT_PPM = 1.0  # below this no editor's speed control can express the change


SNAP_TOLERANCE = 0.005  # a measured average within 0.5 % of a standard rate is that rate


def parse_fps(text: str) -> Fraction:
    """'29.97', '30000/1001', '25' → exact standard rate; a value not within 0.5 % of one is refused,
    since editors cannot open a timeline at an odd rate."""
    text = text.strip().lower().removesuffix("fps").strip()
    if text in STANDARD_RATES:
        return STANDARD_RATES[text]
    try:
        value = Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"not a frame rate: {text!r}") from None
    if value <= 0 or value > 1000:
        raise ValueError(f"frame rate out of range: {text!r}")
    std = snap_rate(value)
    if abs(value / std - 1) > SNAP_TOLERANCE:
        raise ValueError(f"not a standard frame rate: {text!r} (use one of {', '.join(sorted(STANDARD_RATES, key=float))})")
    return std


def snap_rate(rate: Fraction) -> Fraction:
    """The standard rate a measured one is meant to be: the nearest by ratio, always a standard rate.

    A CFR camera's average (29.97003) is within 0.5 % of its rate; a variable-rate phone that dropped
    frames (29.48 average) or added some (30.02) also lands on the nearest one, never on an odd rate.
    """
    return min(set(STANDARD_RATES.values()), key=lambda std: (abs(float(rate) / float(std) - 1), std))


def is_drop_frame_rate(rate: Fraction) -> bool:
    """True for the NTSC rates whose timecode may be labelled drop-frame."""
    return rate in (Fraction(30000, 1001), Fraction(60000, 1001))


def frames_to_tc(frames: int, rate: Fraction, *, drop: bool = False) -> str:
    """Integer frame count → 'HH:MM:SS:FF' (or 'HH:MM:SS;FF' drop-frame), wrapping at 24 hours."""
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
    hh = frames // (nominal * 3600) % 24  # timecode is a time of day: a take running past midnight wraps
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
class Marker:
    """A named span on a group's timeline (a song, say), in that group's seconds."""

    start_s: float
    end_s: float
    title: str


@dataclass(frozen=True)
class TimelineMarker:
    marker: Marker
    start_frame: int
    duration_frames: int


@dataclass(frozen=True)
class TimelineClip:
    clip: ClipResult
    record_frame: int  # frame on the group's timeline where the clip's picture (audio files: first sample) lands
    duration_frames: int  # length on the timeline, after any speed change
    source_in_frame: int  # the file's own start timecode, in timeline frames (0 when it has none)
    subframe_s: float  # picture (or audio) offset - record_frame / rate: what the frame grid could not hold
    speed: float = 1.0  # playback speed that cancels the drift (1 + drift_ppm·1e-6); 1.0 when none
    source_frames: int = 0  # whole frames of the media at the timeline rate, at normal speed
    source_start_s: Fraction = Fraction(0)  # exact start timecode in seconds

    @property
    def name(self) -> str:
        return os.path.basename(self.clip.path)

    @property
    def has_video(self) -> bool:
        return self.clip.info is not None and self.clip.info.has_video

    @property
    def record_end(self) -> int:
        return self.record_frame + self.duration_frames

    @property
    def source_out_frames(self) -> int:
        """Media frames the event uses, counted from its first frame; never past the media's last frame."""
        return max(1, min(self.source_frames, round(self.duration_frames * self.speed)))


@dataclass(frozen=True)
class Track:
    name: str
    clips: list[TimelineClip]
    has_video: bool


@dataclass(frozen=True)
class GroupTimeline:
    group: int
    tracks: list[Track]
    markers: list[TimelineMarker] = field(default_factory=list)

    @property
    def duration_frames(self) -> int:
        return max((c.record_end for t in self.tracks for c in t.clips), default=0)


@dataclass(frozen=True)
class Timeline:
    rate: Fraction
    drop_frame: bool
    groups: list[GroupTimeline]
    unplaced: list[ClipResult] = field(default_factory=list)
    unplaced_clips: list[TimelineClip] = field(default_factory=list)  # laid end to end from frame 0
    drift_correction: bool = True
    alignment: Alignment | None = None

    @property
    def record_start_frame(self) -> int:
        """01:00:00:00 in this timeline's labels, as a frame count (107892 at 29.97 DF, 108000 NDF)."""
        label = RECORD_START_TC[:8] + (";" if self.drop_frame else ":") + RECORD_START_TC[9:]
        return tc_to_frames(label, self.rate)

    def tc(self, frames: int) -> str:
        """Frames → timecode label in this timeline's drop-frame mode."""
        return frames_to_tc(frames, self.rate, drop=self.drop_frame)


def choose_rate(alignment: Alignment, override: Fraction | None = None) -> Fraction:
    """--fps, else the most common (snapped) rate among the constant-rate videos, else among all videos
    (variable-rate phones vote only when no camera does), else 25."""
    if override is not None:
        return override
    videos = [c.info for c in alignment.clips if c.info is not None and c.info.fps]
    voters = [i for i in videos if not i.vfr] or videos
    rates = Counter(snap_rate(i.fps) for i in voters)
    return rates.most_common(1)[0][0] if rates else (alignment.fps and snap_rate(alignment.fps)) or DEFAULT_FPS


def picture_shift_s(info: MediaInfo | None) -> float:
    """Seconds from a file's first audio sample to its first video frame (MP4/MOV edit lists, MKV/TS
    stream start times); 0 for audio files. Negative when the picture starts first."""
    if info is None or not info.has_video or info.video_start_s is None:
        return 0.0
    return info.video_start_s - info.audio_start_s


def picture_offset_s(clip: ClipResult) -> float | None:
    """Where a placed clip's first video frame lands on its group's timeline (None: unplaced or no video)."""
    if clip.offset_s is None or clip.info is None or not clip.info.has_video:
        return None
    return clip.offset_s + picture_shift_s(clip.info)


def media_offset_s(clip: ClipResult) -> float:
    """What the exports place: the first video frame for a camera file, the first audio sample otherwise."""
    pic = picture_offset_s(clip)
    return pic if pic is not None else (clip.offset_s or 0.0)


def media_length_s(clip: ClipResult) -> float:
    """Length of what an event carries: first to last video frame for a camera file, else the audio."""
    info = clip.info
    if info is not None and info.has_video and info.video_duration_s:
        return info.video_duration_s
    return clip.duration_s


def whole_frames(seconds: float | Fraction, rate: Fraction) -> int:
    """Frames that fit entirely in *seconds* (floor, with a microsecond's grace for float lengths)."""
    return math.floor(Fraction(seconds) * rate + Fraction(1, 10**4))


def source_start_s(info: MediaInfo | None, rate: Fraction) -> Fraction | None:
    """A file's embedded start timecode in exact seconds: its ``timecode`` tag read at the file's own
    frame rate (the timeline's for audio files), else its BWF time reference; None when it has neither."""
    if info is None:
        return None
    if info.timecode:
        own = snap_rate(info.fps) if info.fps else rate
        try:
            return Fraction(tc_to_frames(info.timecode, own)) / own
        except ValueError:
            pass
    if info.time_reference is not None and info.sample_rate_hz > 0:
        return Fraction(info.time_reference, info.sample_rate_hz)
    return None


def clip_speed(clip: ClipResult, *, drift_correction: bool = True) -> float:
    """Playback speed that cancels *clip*'s drift: +100 ppm (a fast clock) plays 1.0001× as fast."""
    if not drift_correction or clip.drift_ppm is None or abs(clip.drift_ppm) < MIN_DRIFT_PPM:
        return 1.0
    return 1.0 + clip.drift_ppm * 1e-6


def place(clip: ClipResult, rate: Fraction, *, record_frame: int, drift_correction: bool = True) -> TimelineClip:
    """One clip in timeline frames at *record_frame* (where its picture, or its audio without video, lands).

    Lengths are whole frames of the media the event carries, so no event runs past its last frame.
    """
    speed = clip_speed(clip, drift_correction=drift_correction)
    length = media_length_s(clip)
    src_frames = max(1, whole_frames(length, rate))
    dur = max(1, whole_frames(Fraction(length) / Fraction(speed), rate))
    start = source_start_s(clip.info, rate) or Fraction(0)
    sub = 0.0 if clip.offset_s is None else media_offset_s(clip) - float(Fraction(record_frame) / rate)
    return TimelineClip(clip, record_frame, dur, round(start * rate), sub, speed, src_frames, start)


def _lanes(name: str, clips: list[TimelineClip], *, taken: set[str]) -> list[Track]:
    """Split one track's clips into non-overlapping lanes (first fit); a one-frame rounding overlap is
    trimmed off the earlier clip unless it is that clip's only frame. Extra lanes are named apart from
    every name in *taken*."""
    order = sorted(clips, key=lambda t: (t.record_frame, t.clip.path))
    lane = first_fit((t.record_frame, t.record_end - (1 if t.duration_frames > 1 else 0)) for t in order)
    lanes: list[list[TimelineClip]] = [[] for _ in range(max(lane) + 1)]
    for tc, i in zip(order, lane):
        if lanes[i] and lanes[i][-1].record_end > tc.record_frame:
            prev = lanes[i][-1]
            lanes[i][-1] = replace(prev, duration_frames=prev.duration_frames - 1)
        lanes[i].append(tc)
    return [Track(n, ln, any(t.has_video for t in ln))
            for n, ln in zip(lane_names(name, len(lanes), taken=taken), lanes)]


def build(
    alignment: Alignment,
    *,
    fps: Fraction | None = None,
    drop_frame: bool | None = None,
    drift_correction: bool = True,
    markers: Mapping[int, Sequence[Marker]] | None = None,
) -> Timeline:
    """Group clips into per-group tracks in integer frames at the chosen rate.

    ``drop_frame`` None means: drop-frame labels only at 29.97/59.94 when some source timecode is DF.
    ``markers`` maps a group id to its markers (seconds on that group's timeline).
    """
    rate = choose_rate(alignment, fps)
    if drop_frame is None:
        drop_frame = is_drop_frame_rate(rate) and any(
            c.info is not None and c.info.timecode and ";" in c.info.timecode for c in alignment.clips
        )
    drop_frame = bool(drop_frame) and is_drop_frame_rate(rate)
    groups: list[GroupTimeline] = []
    names = {c.track or "A" for c in alignment.clips if c.group is not None}
    for g in alignment.groups:
        by_track: dict[str, list[TimelineClip]] = {}
        for c in alignment.clips:
            if c.group == g:
                tc = place(c, rate, record_frame=round(media_offset_s(c) * rate), drift_correction=drift_correction)
                by_track.setdefault(c.track or "A", []).append(tc)
        taken = set(names)  # a lane split here never takes a name the alignment gave a track
        tracks = [lane for name, cl in by_track.items() for lane in _lanes(name, cl, taken=taken)]
        # video tracks first, then by first appearance on the timeline
        tracks.sort(key=lambda t: (not t.has_video, t.clips[0].record_frame, t.name))
        marks = [
            TimelineMarker(m, round(m.start_s * rate), max(0, round((m.end_s - m.start_s) * rate)))
            for m in sorted((markers or {}).get(g, ()), key=lambda m: (m.start_s, m.title))
        ]
        groups.append(GroupTimeline(g, tracks, marks))
    unplaced = [c for c in alignment.clips if c.group is None]
    laid, at = [], 0
    for c in unplaced:
        if c.status is ClipStatus.UNPLACED:  # an unusable clip has no length to lay
            tc = place(c, rate, record_frame=at, drift_correction=False)
            laid.append(tc)
            at = tc.record_end
    return Timeline(rate=rate, drop_frame=drop_frame, groups=groups, unplaced=unplaced, unplaced_clips=laid,
                    drift_correction=drift_correction, alignment=alignment)
