"""`Timeline` → FCP7 XML (xmeml v5) for Premiere Pro and Resolve: a video track per camera, an audio track
per device, a camera's V and A clipitems linked, channel counts and sample rates, NTSC-aware rates,
drift as a Time Remap speed, songs as sequence markers, unplaced clips disabled on their own tracks.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from fractions import Fraction

from .common import file_url, ntsc, only_group, sequence_name, write_per_group
from .options import DEFAULT_OPTIONS, ExportOptions
from .timeline import (GroupTimeline, Timeline, TimelineClip, Track, frames_to_tc, media_length_s, snap_rate,
                        whole_frames)


def _sub(parent: ET.Element, tag: str, text: object = None, **attrib: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrib)
    if text is not None:
        el.text = "TRUE" if text is True else "FALSE" if text is False else str(text)
    return el


def _rate(parent: ET.Element, rate: Fraction) -> None:
    timebase, is_ntsc = ntsc(rate)
    r = _sub(parent, "rate")
    _sub(r, "timebase", timebase)
    _sub(r, "ntsc", is_ntsc)


def _timecode(parent: ET.Element, frames: int, rate: Fraction, drop: bool) -> None:
    tc = _sub(parent, "timecode")
    _rate(tc, rate)
    _sub(tc, "string", frames_to_tc(frames, rate, drop=drop))
    _sub(tc, "frame", frames)
    _sub(tc, "displayformat", "DF" if drop else "NDF")


def _own_rate(tc: TimelineClip, rate: Fraction) -> Fraction:
    info = tc.clip.info
    return snap_rate(Fraction(info.fps)) if info is not None and info.fps else rate


class _Builder:
    """Writes one sequence; keeps the file ids already defined (a file is described once, then referenced)."""

    def __init__(self, tl: Timeline) -> None:
        self.tl = tl
        self.files: dict[str, str] = {}
        self.n_items = 0

    def file(self, parent: ET.Element, tc: TimelineClip) -> None:
        path = tc.clip.path
        if path in self.files:
            _sub(parent, "file", id=self.files[path])
            return
        fid = self.files[path] = f"file-{len(self.files) + 1}"
        f = _sub(parent, "file", id=fid)
        own = _own_rate(tc, self.tl.rate)
        info = tc.clip.info
        _sub(f, "name", tc.name)
        _sub(f, "pathurl", file_url(path, localhost=True))
        _rate(f, own)
        _sub(f, "duration", max(1, whole_frames(media_length_s(tc.clip), own)))
        if info is not None and info.timecode:
            drop = ";" in info.timecode and own != round(own)
        else:
            drop = self.tl.drop_frame and own == self.tl.rate
        _timecode(f, round(tc.source_start_s * own), own, drop)
        media = _sub(f, "media")
        if tc.has_video:
            sc = _sub(_sub(media, "video"), "samplecharacteristics")
            _rate(sc, own)
            _sub(sc, "width", info.width or 1920)
            _sub(sc, "height", info.height or 1080)
        a = _sub(media, "audio")
        sc = _sub(a, "samplecharacteristics")
        _sub(sc, "depth", 24 if info is not None and "24" in (info.codec or "") else 16)
        _sub(sc, "samplerate", info.sample_rate_hz if info is not None else 48000)
        _sub(a, "channelcount", max(1, info.channels) if info is not None else 2)

    def clipitem(self, track_el: ET.Element, tc: TimelineClip, *, kind: str, enabled: bool) -> ET.Element:
        self.n_items += 1
        item = _sub(track_el, "clipitem", id=f"clipitem-{self.n_items}")
        _sub(item, "masterclipid", f"masterclip-{self._number(tc.clip.path)}")
        _sub(item, "name", tc.name)
        _sub(item, "enabled", enabled)
        _sub(item, "duration", tc.source_frames)
        _rate(item, self.tl.rate)
        _sub(item, "start", tc.record_frame)
        _sub(item, "end", tc.record_end)
        # in/out count frames from the media's first frame; its timecode lives in <file><timecode>
        _sub(item, "in", 0)
        _sub(item, "out", tc.source_out_frames)
        self.file(item, tc)
        if kind == "audio":
            st = _sub(item, "sourcetrack")
            _sub(st, "mediatype", "audio")
            _sub(st, "trackindex", 1)
        if tc.speed != 1.0:
            _speed_filter(item, tc.speed, kind)
        return item

    def _number(self, path: str) -> int:
        """1-based number of a file, the same for its masterclip and its <file> id."""
        return list(self.files).index(path) + 1 if path in self.files else len(self.files) + 1


def _speed_filter(item: ET.Element, speed: float, kind: str) -> None:
    eff = _sub(_sub(item, "filter"), "effect")
    _sub(eff, "name", "Time Remap")
    _sub(eff, "effectid", "timeremap")
    _sub(eff, "effectcategory", "motion")
    _sub(eff, "effecttype", "motion")
    _sub(eff, "mediatype", kind)
    for pid, value in (("variablespeed", 0), ("speed", f"{speed * 100:.6f}"), ("reverse", False),
                       ("frameblending", False)):
        p = _sub(eff, "parameter")
        _sub(p, "parameterid", pid)
        _sub(p, "name", pid)
        _sub(p, "value", value)


def _fill(b: _Builder, video: ET.Element, audio: ET.Element, tracks: list[Track], enabled: bool,
          v_index: int, a_index: int) -> tuple[int, int]:
    """Append the tracks' clipitems; link each camera clip's V and A items. Returns the next indexes."""
    for track in tracks:
        v_el = _sub(video, "track") if track.has_video else None
        a_el = _sub(audio, "track")
        if any(c.clip.info is not None and c.clip.info.channels == 2 for c in track.clips):
            a_el.set("premiereTrackType", "Stereo")
        vi = v_index if v_el is not None else None
        for n, tc in enumerate(track.clips, start=1):
            items = []
            if v_el is not None and tc.has_video:
                items.append((b.clipitem(v_el, tc, kind="video", enabled=enabled), "video", vi, n))
            items.append((b.clipitem(a_el, tc, kind="audio", enabled=enabled), "audio", a_index, n))
            if len(items) > 1:
                for item, *_ in items:
                    for other, kind, ti, ci in items:
                        ln = _sub(item, "link")
                        _sub(ln, "linkclipref", other.get("id"))
                        _sub(ln, "mediatype", kind)
                        _sub(ln, "trackindex", ti)
                        _sub(ln, "clipindex", ci)
                        if kind == "audio":
                            _sub(ln, "groupindex", 1)
        _sub(a_el, "enabled", enabled)
        if v_el is not None:
            _sub(v_el, "enabled", enabled)
            v_index += 1
        a_index += 1
    return v_index, a_index


def to_xml(tl: Timeline, group: GroupTimeline | None, *, title: str = "syncfp", with_unplaced: bool = True) -> str:
    """One group as an xmeml v5 document with one sequence starting at 01:00:00:00."""
    rate = tl.rate
    b = _Builder(tl)
    root = ET.Element("xmeml", version="5")
    seq = _sub(root, "sequence", id="sequence-1")
    _sub(seq, "name", sequence_name(tl, group, title))
    unplaced = tl.unplaced_clips if with_unplaced else []
    _sub(seq, "duration", max([group.duration_frames if group else 0] + [c.record_end for c in unplaced]))
    _rate(seq, rate)
    _timecode(seq, tl.record_start_frame, rate, tl.drop_frame)
    media = _sub(seq, "media")
    video, audio = _sub(media, "video"), _sub(media, "audio")
    sc = _sub(_sub(video, "format"), "samplecharacteristics")
    _rate(sc, rate)
    cams = [c.clip.info for t in (group.tracks if group else []) for c in t.clips if c.has_video]
    _sub(sc, "width", max([i.width or 0 for i in cams] + [0]) or 1920)
    _sub(sc, "height", max([i.height or 0 for i in cams] + [0]) or 1080)
    _sub(audio, "numOutputChannels", 2)
    asc = _sub(_sub(audio, "format"), "samplecharacteristics")
    _sub(asc, "depth", 16)
    _sub(asc, "samplerate", 48000)
    vi, ai = _fill(b, video, audio, group.tracks if group else [], True, 1, 1)
    if unplaced:
        _fill(b, video, audio, [Track("Unplaced", unplaced, any(c.has_video for c in unplaced))], False, vi, ai)
    for m in group.markers if group else []:
        mk = _sub(seq, "marker")
        _sub(mk, "name", m.marker.title)
        _sub(mk, "comment", "")
        _sub(mk, "in", m.start_frame)
        _sub(mk, "out", m.start_frame + m.duration_frames)
    ET.indent(root, "  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE xmeml>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_to_string(tl: Timeline, *, options: ExportOptions = DEFAULT_OPTIONS) -> str:
    """The FCP7 XML of a one-group timeline (`common.only_group`)."""
    return to_xml(tl, only_group(tl, "fcp7"), title=options.title)


def write_to_file(tl: Timeline, path: str, *, options: ExportOptions = DEFAULT_OPTIONS) -> list[str]:
    title = options.title
    return write_per_group(path, tl, lambda group, first: to_xml(tl, group, title=title, with_unplaced=first))
