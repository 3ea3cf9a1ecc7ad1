"""Plain data crossing module boundaries.

Sign conventions, defined once here and tested:

* A clip's **position** (``offset_s``) is the time, in seconds on its group's timeline, of the clip's first
  audio sample; the earliest clip of a group starts at 0.
* ``PairMatch(a, b).offset_s`` is ``position(b) - position(a)``: positive when *b* starts after *a*.
* ``PairMatch.rate`` is ``k_a / k_b`` where ``k_i`` converts clip *i*'s seconds into timeline seconds; an
  event at ``t_a`` in *a* is heard at ``t_b = rate * (t_a - offset_s')`` in *b* (``offset_s'`` in a's clock).
* ``drift_ppm`` of a clip is how fast its clock runs against the group's reference clip (the longest one):
  +100 means the device counted 100 ppm too many samples, so its audio lasts 100 ppm longer than the
  reference's for the same stretch of real time and must be sped up by that much to stay in sync.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from fractions import Fraction
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # arrays appear in annotations only: importing the types costs no numpy
    import numpy as np



@dataclass(frozen=True)
class MediaInfo:
    """What a media file holds, as far as syncing and editors care."""

    path: str
    duration_s: float
    sample_rate_hz: int
    channels: int
    codec: str
    has_video: bool = False
    fps: Fraction | None = None
    timecode: str | None = None
    time_reference: int | None = None  # BWF start, in samples since midnight at sample_rate_hz (WAV)
    width: int | None = None
    height: int | None = None
    device: str | None = None  # make/model from container metadata, when present
    creation_time: str | None = None
    local_time: str | None = None  # Apple's com.apple.quicktime.creationdate: the start in local wall time and
    # its UTC offset, from an iPhone's network clock (`sync.stamps.local_stamp`)
    # Where each stream starts in the container's clock (MP4/MOV edit lists, MKV/TS stream start times):
    # a clip's picture lands at its audio position + (video_start_s - audio_start_s).
    audio_start_s: float = 0.0  # time of the first decoded audio sample (what `offset_s` positions)
    video_start_s: float | None = None  # time of the first video frame; None without video
    video_duration_s: float | None = None  # first video frame to the end of the last one
    vfr: bool = False  # variable frame rate: the average rate differs from the stream's nominal rate
    audio_stream: int = 0  # which audio stream was decoded (0 = the first), of `audio_streams`
    audio_streams: int = 1
    stream_choice: str | None = None  # why that stream, when the file has several or one was asked for
    downmix: str | None = None  # channels left out of the mono mix and why (None: all averaged)


@dataclass(frozen=True)
class StreamChoice:
    """Which audio stream of one file to decode: ``index`` (0 = the first) or None for the automatic
    choice (the loudest stream that is not timecode). A ``strict`` index fails a file without that stream;
    a lenient one (a plain ``--stream N`` given for a mixed set) falls back to the automatic choice."""

    index: int | None = None
    strict: bool = True

    def __str__(self) -> str:  # part of the cache key
        return "auto" if self.index is None else f"{self.index}{'' if self.strict else '?'}"


@dataclass(frozen=True)
class StreamRules:
    """Per-file stream choices from the command line: the first ``(glob, index)`` whose glob matches a
    file's name (or its path, for a glob with a ``/``) wins, strictly; other files get ``default``, leniently."""

    patterns: tuple[tuple[str, int], ...] = ()
    default: int | None = None


@dataclass(frozen=True)
class Hashes:
    """Landmark hashes of one recording: ``hash[i]`` was anchored at frame ``frame[i]``."""

    hash: np.ndarray  # uint32[m]
    frame: np.ndarray  # int32[m], hop frames since the first sample
    n_frames: int

    def __len__(self) -> int:
        return int(self.hash.shape[0])


@dataclass(frozen=True)
class Fingerprint:
    """A decoded, fingerprinted recording: its hashes, its media info and where its analysis audio lives."""

    path: str
    info: MediaInfo
    hashes: Hashes
    duration_s: float  # decoded audio length at the analysis rate
    pcm_path: str  # int16 mono analysis-rate audio (raw), used by refinement
    rate_hz: int
    rms_db: float
    warning: str | None = None


@dataclass(frozen=True)
class PairMatch:
    """A candidate edge between clips ``a < b`` found by the offset histograms (and maybe refined)."""

    a: int
    b: int
    offset_s: float  # position(b) - position(a), timeline seconds in a's clock
    rate: float  # k_a / k_b, 1.0 when the clocks agree
    support: int  # hits on the fitted line
    z: float  # support over chance, in Poisson standard deviations
    ratio: float  # support / best support of a line elsewhere
    trusted: bool
    rate_error: float = 1e-3  # standard error of `rate`; short overlaps cannot measure drift
    refined: bool = False
    error_s: float | None = None  # standard error of the offset from refinement
    windows: int = 0  # refinement windows used
    hypothesis: int = 0  # 0: the pair's best fingerprint line; 1..: other candidate lines (repeats, chance)
    tried: int = 0  # verification windows with audio on both sides (`windows` of them confirmed)
    stacked: bool = False  # timed by windows summed along a line (`verify._stacked`): none stood alone
    scatter_s: float | None = None  # not stacked: rms of its standing windows about the line as the check that
    # confirmed it read them (`verify._accepted`; None under `coherent_windows` windows)
    pooled_scatter_s: float | None = None  # stacked: how far groups of its windows, each summed, scatter about
    # the line (`verify._pooled_scatter`): one moment heard twice agrees to µs, a repeat played again does not
    unsure_at: tuple[float, ...] = ()  # lags (s; > 0: b's audio later) of peaks nearly as high as the line that
    # nothing settled (`arrivals.unsure_timing`): the edge holds at its line or at one of them, not in between
    rivals: tuple[float, ...] = ()  # other offsets where the longer clip repeats the matched stretch and the
    # windows confirm the pair there too, standing alone and as one moment (a sample-identical loop): the audio
    # chose this one by a window or two; a recording clock may choose otherwise (`stamps.clock_choices`)

    @property
    def weight(self) -> float:
        if self.error_s is not None and self.error_s > 0:
            return 1.0 / max(self.error_s, 2e-5) ** 2
        return float(self.support)


class ClipStatus(str, Enum):
    """What became of one input clip (`ClipResult.status`)."""

    PLACED = "placed"  # on its group's timeline: group, track and offset_s are set
    UNPLACED = "unplaced"  # read and fingerprinted, but left off every timeline: error says why
    UNUSABLE = "unusable"  # no audio could be read (missing, not media, silent, …): error says why


@dataclass(frozen=True)
class ClockHint:
    """Where an unplaced clip's recording clock (file name or tag, as its device's placed clips read it) puts
    it, or where a group's clocks put that group's timeline on a larger group's: a hint for placing it by
    hand, not a placement. No audio confirmed it."""

    group: int
    offset_s: float  # on the group's timeline, as `ClipResult.offset_s` of its placed clips (a group's zero)
    within_s: float  # the clock search's reach: the audio was searched this far either side, in vain

    def sentence(self, *, of_group: bool = False) -> str:
        """The hint as the table and the report say it (*of_group*: a group's start, not a clip's)."""
        what, why = ("clocks put its start", "no audio joins them") if of_group else ("clock puts it", "no audio confirms it")
        return (f"its recording {what} near offset {self.offset_s:.1f} s of group {self.group} (±{self.within_s:g} s; "
                f"{why})")


@dataclass(frozen=True)
class ClipResult:
    """Where one input landed. ``group``/``offset_s`` are None for an unplaced clip, ``error`` says why;
    `status` tells placed, unplaced and unusable (nothing read) apart."""

    path: str
    duration_s: float
    group: int | None = None
    track: str | None = None
    offset_s: float | None = None
    drift_ppm: float | None = None
    confidence: float = 0.0
    error_ms: float | None = None  # estimated standard error of the position
    error: str | None = None
    warning: str | None = None
    info: MediaInfo | None = None
    clock_hint: ClockHint | None = None  # unplaced clips only: where the recording clock alone puts it

    @property
    def status(self) -> ClipStatus:
        """Placed when it has a group; else unusable when no audio was read (no duration), else unplaced."""
        if self.group is not None:
            return ClipStatus.PLACED
        return ClipStatus.UNPLACED if self.duration_s > 0 else ClipStatus.UNUSABLE


@dataclass(frozen=True)
class Alignment:
    """The result of `align`: every input clip, in input order, and the edges that placed them."""

    clips: list[ClipResult]
    edges: list[PairMatch] = field(default_factory=list)
    fps: Fraction | None = None
    # group → where the recording clocks put its timeline's zero on a larger group's, one that is named by no
    # hint itself (`stamps.group_hints`; no audio joins them)
    group_hints: dict[int, ClockHint] = field(default_factory=dict)

    @property
    def groups(self) -> list[int]:
        return sorted({c.group for c in self.clips if c.group is not None})
