"""`Timeline` → FCPXML 1.9 for Final Cut Pro: one project per group whose spine holds one gap, each camera a
connected asset-clip in its own lane (recorders in negative lanes), or with ``fcpx_multicam`` a multicam
clip with one angle per device. Drift becomes a linear timeMap, songs markers; unplaced clips are left
in the event, outside any project. Every offset and duration lies on the sequence's frame grid.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from fractions import Fraction

from ..fsutil import atomic_write_text
from .common import file_url, sequence_name
from .options import DEFAULT_OPTIONS, ExportOptions
from .timeline import GroupTimeline, Timeline, TimelineClip, media_length_s, snap_rate, whole_frames

VERSION = "1.9"


def t(value: Fraction | int) -> str:
    """Rational seconds as FCPXML writes them: '3600s', '1001/30000s'."""
    value = Fraction(value)
    return f"{value.numerator}s" if value.denominator == 1 else f"{value.numerator}/{value.denominator}s"


class _Doc:
    """Resources (formats, assets, multicams) shared by every project of the document."""

    def __init__(self, tl: Timeline) -> None:
        self.tl = tl
        self.fd = 1 / Fraction(tl.rate)  # the sequence's frame duration
        self.root = ET.Element("fcpxml", version=VERSION)
        self.resources = ET.SubElement(self.root, "resources")
        self.formats: dict[tuple, str] = {}
        self.assets: dict[str, str] = {}
        self.n_ids = 0
        self.seq_format = self.format(tl.rate, 1920, 1080)

    def _id(self) -> str:
        self.n_ids += 1
        return f"r{self.n_ids}"

    def format(self, rate: Fraction, width: int, height: int) -> str:
        key = (rate, width, height)
        if key not in self.formats:
            fid = self.formats[key] = self._id()
            ET.SubElement(self.resources, "format", id=fid, frameDuration=t(1 / Fraction(rate)),
                          width=str(width), height=str(height))
        return self.formats[key]

    def own_fd(self, tc: TimelineClip) -> Fraction:
        info = tc.clip.info
        return 1 / snap_rate(Fraction(info.fps)) if info is not None and info.fps else self.fd

    def start(self, tc: TimelineClip) -> Fraction:
        """The file's start timecode on its own frame grid (the sequence's for audio files)."""
        fd = self.own_fd(tc)
        return round(tc.source_start_s / fd) * fd

    def asset_duration(self, tc: TimelineClip) -> Fraction:
        """Whole frames of the media on its own grid: never past its last frame."""
        fd = self.own_fd(tc)
        return max(1, whole_frames(media_length_s(tc.clip), 1 / fd)) * fd

    def clip_duration(self, tc: TimelineClip, offset: Fraction | None) -> Fraction:
        """A placed clip's length on the sequence grid, within its asset; a loose clip is the whole asset."""
        if offset is None:
            return self.asset_duration(tc)
        dur = tc.duration_frames * self.fd
        if tc.speed == 1.0:
            dur = min(dur, self.asset_duration(tc) // self.fd * self.fd)
        return max(self.fd, dur)

    def asset(self, tc: TimelineClip) -> str:
        path = tc.clip.path
        if path in self.assets:
            return self.assets[path]
        info = tc.clip.info
        fd = self.own_fd(tc)
        fmt = self.format(1 / fd, info.width or 1920, info.height or 1080) if tc.has_video else None
        aid = self.assets[path] = self._id()
        attrs = {"id": aid, "name": tc.name, "start": t(self.start(tc)),
                 "duration": t(self.asset_duration(tc)),
                 "hasVideo": "1" if tc.has_video else "0", "hasAudio": "1", "audioSources": "1",
                 "audioChannels": str(max(1, info.channels) if info else 2),
                 "audioRate": str(info.sample_rate_hz if info and info.sample_rate_hz else 48000)}
        if fmt:
            attrs["format"] = fmt
        el = ET.SubElement(self.resources, "asset", attrs)
        ET.SubElement(el, "media-rep", kind="original-media", src=file_url(path))
        return aid

    def asset_clip(self, parent: ET.Element, tc: TimelineClip, offset: Fraction | None, *,
                   lane: int | None = None) -> ET.Element:
        ref = self.asset(tc)
        attrs = {"ref": ref, "name": tc.name, "start": t(self.start(tc)), "duration": t(self.clip_duration(tc, offset))}
        if offset is not None:
            attrs = {"ref": ref, "offset": t(offset), **attrs}
        if lane is not None:
            attrs["lane"] = str(lane)
        info = tc.clip.info
        if info is not None and info.timecode and ";" in info.timecode:
            attrs["tcFormat"] = "DF"
        el = ET.SubElement(parent, "asset-clip", attrs)
        if tc.speed != 1.0:
            self._time_map(el, tc)
        return el

    def _time_map(self, el: ET.Element, tc: TimelineClip) -> None:
        """Linear retime: ``time`` is the clip's output time, ``value`` the media time it shows."""
        start = self.start(tc)
        out_dur = tc.duration_frames * self.fd
        tm = ET.SubElement(el, "timeMap")
        ET.SubElement(tm, "timept", time=t(start), value=t(start), interp="linear")
        media = Fraction(tc.speed).limit_denominator(10**7) * out_dur
        ET.SubElement(tm, "timept", time=t(start + out_dur), value=t(start + media), interp="linear")

    def markers(self, parent: ET.Element, group: GroupTimeline, origin: Fraction) -> None:
        for m in group.markers:
            attrs = {"start": t(origin + m.start_frame * self.fd), "value": m.marker.title}
            if m.duration_frames:
                attrs["duration"] = t(m.duration_frames * self.fd)
            ET.SubElement(parent, "marker", attrs)


def _lanes(group: GroupTimeline) -> list[tuple[int, list[TimelineClip]]]:
    """Cameras in lanes 1, 2, …; audio-only devices in lanes -1, -2, …"""
    up = down = 0
    out = []
    for track in group.tracks:
        if track.has_video:
            up += 1
            out.append((up, track.clips))
        else:
            down -= 1
            out.append((down, track.clips))
    return out


def _simple(doc: _Doc, seq: ET.Element, group: GroupTimeline) -> None:
    spine = ET.SubElement(seq, "spine")
    origin = Fraction(doc.tl.record_start_frame) * doc.fd
    gap = ET.SubElement(spine, "gap", name="Gap", offset=t(origin), start=t(origin),
                        duration=t(max(1, group.duration_frames) * doc.fd))
    for lane, clips in _lanes(group):
        for tc in clips:
            doc.asset_clip(gap, tc, origin + tc.record_frame * doc.fd, lane=lane)
    doc.markers(gap, group, origin)


def _multicam(doc: _Doc, seq: ET.Element, group: GroupTimeline, name: str) -> None:
    media = ET.Element("media", id=doc._id(), name=f"{name} multicam")  # appended after its assets
    mc = ET.SubElement(media, "multicam", format=doc.seq_format, tcStart="0s",
                       tcFormat="DF" if doc.tl.drop_frame else "NDF")
    video_angle = audio_angle = None
    for n, track in enumerate(group.tracks, start=1):
        angle_id = f"{name}-angle-{n}"
        angle = ET.SubElement(mc, "mc-angle", name=track.name, angleID=angle_id)
        at = 0
        for tc in track.clips:
            if tc.record_frame > at:
                ET.SubElement(angle, "gap", name="Gap", offset=t(at * doc.fd), start="0s",
                              duration=t((tc.record_frame - at) * doc.fd))
            doc.asset_clip(angle, tc, tc.record_frame * doc.fd)
            at = tc.record_end
        if track.has_video and video_angle is None:
            video_angle = angle_id
        if not track.has_video and audio_angle is None:
            audio_angle = angle_id
    doc.resources.append(media)
    spine = ET.SubElement(seq, "spine")
    origin = Fraction(doc.tl.record_start_frame) * doc.fd
    clip = ET.SubElement(spine, "mc-clip", ref=media.get("id"), offset=t(origin), name=f"{name} multicam",
                         start="0s", duration=t(max(1, group.duration_frames) * doc.fd))
    audio_angle = audio_angle or video_angle
    if video_angle:
        ET.SubElement(clip, "mc-source", angleID=video_angle, srcEnable="video" if audio_angle != video_angle else "all")
    if audio_angle and audio_angle != video_angle:
        ET.SubElement(clip, "mc-source", angleID=audio_angle, srcEnable="audio")
    doc.markers(clip, group, Fraction(0))


def to_xml(tl: Timeline, *, title: str = "syncfp", multicam: bool = False) -> str:
    """The whole timeline: one event, one project per group, unplaced clips loose in the event."""
    doc = _Doc(tl)
    event = ET.SubElement(ET.SubElement(doc.root, "library"), "event", name=title)
    for tc in tl.unplaced_clips:
        doc.asset_clip(event, tc, None)
    for group in tl.groups:
        name = sequence_name(tl, group, title)
        project = ET.SubElement(event, "project", name=name)
        seq = ET.SubElement(project, "sequence", format=doc.seq_format,
                            duration=t(max(1, group.duration_frames) * doc.fd),
                            tcStart=t(Fraction(tl.record_start_frame) * doc.fd),
                            tcFormat="DF" if tl.drop_frame else "NDF", audioLayout="stereo", audioRate="48k")
        if multicam:
            _multicam(doc, seq, group, name)
        else:
            _simple(doc, seq, group)
    ET.indent(doc.root, "  ")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>\n'
            + ET.tostring(doc.root, encoding="unicode") + "\n")


def write_to_string(tl: Timeline, *, options: ExportOptions = DEFAULT_OPTIONS) -> str:
    """The FCPXML document (every group is a project in it)."""
    return to_xml(tl, title=options.title, multicam=options.fcpx_multicam)


def write_to_file(tl: Timeline, path: str, *, options: ExportOptions = DEFAULT_OPTIONS) -> list[str]:
    atomic_write_text(path, write_to_string(tl, options=options))
    return [path]
