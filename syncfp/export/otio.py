"""`Timeline` → OpenTimelineIO ``.otio``: per device a video track (cameras) and an audio track, gaps
between clips, external references with the file's start timecode as ``available_range``, drift as a
`LinearTimeWarp`, songs as timeline markers, unplaced clips disabled on their own tracks.

Resolve 18+ (File › Import › Timeline), Kdenlive 25.04+ and Olive read it. One timeline per group.
"""

from __future__ import annotations

from fractions import Fraction

import opentimelineio as otio

from .common import file_url, only_group, sequence_name, write_per_group
from .options import DEFAULT_OPTIONS, ExportOptions
from .timeline import GroupTimeline, Timeline, TimelineClip, Track, media_length_s, snap_rate, whole_frames


def _rt(frames: int | Fraction, rate: Fraction) -> otio.opentime.RationalTime:
    return otio.opentime.RationalTime(float(frames), float(rate))


def _range(start: int | Fraction, duration: int | Fraction, rate: Fraction) -> otio.opentime.TimeRange:
    return otio.opentime.TimeRange(_rt(start, rate), _rt(duration, rate))


def clip_metadata(tc: TimelineClip, tl: Timeline) -> dict:
    """What syncfp knows about a clip, kept in the clip's metadata under ``syncfp``."""
    c = tc.clip
    return {
        "group": c.group, "track": c.track, "offset_s": c.offset_s, "subframe_s": round(tc.subframe_s, 9),
        "drift_ppm": c.drift_ppm, "speed": tc.speed, "confidence": round(float(c.confidence), 4),
        "error_ms": c.error_ms, "source_timecode": tl.tc(tc.source_in_frame),
        "unplaced_reason": c.error, "warning": c.warning,
    }


def _clip(tc: TimelineClip, tl: Timeline, *, enabled: bool = True, uniform_rate: bool = False) -> otio.schema.Clip:
    rate = tl.rate
    info = tc.clip.info
    own = snap_rate(Fraction(info.fps)) if info is not None and info.fps and not uniform_rate else rate
    ref = otio.schema.ExternalReference(
        target_url=file_url(tc.clip.path),
        available_range=_range(tc.source_start_s * own, max(1, whole_frames(media_length_s(tc.clip), own)), own),
    )
    clip = otio.schema.Clip(name=tc.name, media_reference=ref,
                            source_range=_range(tc.source_in_frame, tc.duration_frames, rate),
                            metadata={"syncfp": clip_metadata(tc, tl)})
    if tc.speed != 1.0:
        clip.effects.append(otio.schema.LinearTimeWarp(name="syncfp drift correction", time_scalar=tc.speed))
    clip.enabled = enabled
    return clip


def _track(name: str, kind: str, clips: list[TimelineClip], tl: Timeline, *, enabled: bool = True,
           uniform_rate: bool = False) -> otio.schema.Track:
    track = otio.schema.Track(name=name, kind=kind)
    at = 0
    for tc in clips:
        if kind == otio.schema.TrackKind.Video and not tc.has_video:
            continue
        if tc.record_frame > at:
            track.append(otio.schema.Gap(source_range=_range(0, tc.record_frame - at, tl.rate)))
        track.append(_clip(tc, tl, enabled=enabled, uniform_rate=uniform_rate))
        at = tc.record_end
    return track


def _device_tracks(track: Track, tl: Timeline, *, enabled: bool = True, uniform_rate: bool = False) -> list[otio.schema.Track]:
    out = []
    kinds = [otio.schema.TrackKind.Video] if track.has_video else []
    for kind in kinds + [otio.schema.TrackKind.Audio]:
        out.append(_track(track.name, kind, track.clips, tl, enabled=enabled, uniform_rate=uniform_rate))
    return out


def to_timeline(tl: Timeline, group: GroupTimeline | None, *, title: str = "syncfp",
                with_unplaced: bool = True, uniform_rate: bool = False) -> otio.schema.Timeline:
    """One group (or only the unplaced clips) as an OTIO timeline starting at 01:00:00:00.

    ``uniform_rate`` expresses media ranges at the timeline's rate too (the AAF writer insists on it).
    """
    rate = tl.rate
    timeline = otio.schema.Timeline(name=sequence_name(tl, group, title))
    timeline.global_start_time = _rt(tl.record_start_frame, rate)
    timeline.metadata["syncfp"] = {"rate": f"{rate.numerator}/{rate.denominator}", "drop_frame": tl.drop_frame,
                                   "group": None if group is None else group.group,
                                   "drift_correction": tl.drift_correction}
    tracks = [t for tr in (group.tracks if group else []) for t in _device_tracks(tr, tl, uniform_rate=uniform_rate)]
    if with_unplaced and tl.unplaced_clips:
        pseudo = Track("Unplaced", tl.unplaced_clips, any(c.has_video for c in tl.unplaced_clips))
        tracks += _device_tracks(pseudo, tl, enabled=False, uniform_rate=uniform_rate)
    # video tracks first (NLEs stack them from V1 up), then audio, each in device order
    tracks.sort(key=lambda t: t.kind != otio.schema.TrackKind.Video)
    timeline.tracks.extend(tracks)
    for m in group.markers if group else []:
        timeline.tracks.markers.append(otio.schema.Marker(
            name=m.marker.title, marked_range=_range(m.start_frame, m.duration_frames, rate),
            color=otio.schema.MarkerColor.GREEN, metadata={"syncfp": {"start_s": m.marker.start_s,
                                                                     "end_s": m.marker.end_s}}))
    return timeline


def _document(tl: Timeline, group: GroupTimeline | None, *, title: str = "syncfp", with_unplaced: bool = True) -> str:
    return otio.adapters.write_to_string(to_timeline(tl, group, title=title, with_unplaced=with_unplaced),
                                         "otio_json")


def write_to_string(tl: Timeline, *, options: ExportOptions = DEFAULT_OPTIONS) -> str:
    """The .otio document of a one-group timeline (`common.only_group`)."""
    return _document(tl, only_group(tl, "otio"), title=options.title)


def write_to_file(tl: Timeline, path: str, *, options: ExportOptions = DEFAULT_OPTIONS) -> list[str]:
    title = options.title
    return write_per_group(path, tl, lambda group, first: _document(tl, group, title=title, with_unplaced=first))
