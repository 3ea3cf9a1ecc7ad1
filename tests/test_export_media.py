"""Real encoded media whose picture and sound do not start together, and a variable-rate phone: each camera's
**picture** lands where its sound says in EDL, FCP7, FCPXML and OTIO (read back with independent readers),
and no event runs past the media's last video frame.

Fixtures are made at test time: PyAV encodes, ffmpeg's ``-itsoffset`` delays the audio of an MP4 (an edit
list) and of an MPEG-TS (a later stream start time); the phone drops one frame in 60 (29.47 fps average).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import opentimelineio as otio
import pytest

from conftest import cut
from syncfp import align
from bench import encode
from syncfp.export import ExportOptions, write
from syncfp.export.timeline import tc_to_frames

RATE = Fraction(30000, 1001)
FRAME = 1 / RATE
# name → (where its first video frame is in the master, in frames at 29.97; length s; audio delay s)
# Picture times sit on frame centres' grid so a sub-millisecond container rounding cannot flip a frame.
CAMS = {"late.mp4": (105, 12.0, 0.5), "late.ts": (240, 10.0, 0.3), "phone.mp4": (360, 8.0, 0.0)}
pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg CLI absent (fixtures use -itsoffset)")


def _vfr_phone(path: str, x: np.ndarray, *, rate_hz: int) -> None:
    """AAC + H.264 in MP4 at 29.97 nominal that drops one frame in 60 (average ~29.47 fps), like a phone."""
    with av.open(path, "w") as out:
        v = out.add_stream("libx264", rate=30)
        v.width = v.height = 64
        v.pix_fmt, v.options = "yuv420p", {"preset": "ultrafast", "crf": "40"}
        v.codec_context.time_base = Fraction(1, 90000)
        a = out.add_stream("aac", rate=rate_hz, layout="mono")
        for s in range(0, len(x), 1024):
            fr = av.AudioFrame.from_ndarray(np.ascontiguousarray(x[None, s:s + 1024], np.float32), format="fltp",
                                            layout="mono")
            fr.sample_rate, fr.pts, fr.time_base = rate_hz, s, Fraction(1, rate_hz)
            for p in a.encode(fr):
                out.mux(p)
        for p in a.encode(None):
            out.mux(p)
        t, i, end = 0, 0, int(len(x) / rate_hz * 90000)
        while t < end - 3003:
            img = av.VideoFrame.from_ndarray(np.full((64, 64, 3), i % 255, np.uint8), format="rgb24")
            img.pts, img.time_base = t, Fraction(1, 90000)
            for p in v.encode(img):
                out.mux(p)
            t += 3003 * (2 if i % 60 == 59 else 1)
            i += 1
        for p in v.encode(None):
            out.mux(p)


@pytest.fixture(scope="module")
def shoot(tmp_path_factory, master) -> dict:
    """Recorder + the three cameras, aligned once; name → expected picture frame, and the alignment."""
    d = tmp_path_factory.mktemp("avoffset")
    rec = str(d / "rec.wav")
    encode.write(rec, cut(master, 0.0, 24.0, seed=9, eq="flat"), rate_hz=48000)
    paths, want = [rec], {"rec.wav": 0}
    for n, (name, (frame, length, delay)) in enumerate(CAMS.items()):
        pic_s = float(frame * FRAME)
        # the file's audio holds master[pic + delay ...]: its picture started `delay` before its sound
        y = cut(master, pic_s + delay, length, seed=n)
        path = str(d / name)
        if name.startswith("phone"):
            _vfr_phone(path, y, rate_hz=48000)
        else:
            base = str(d / f"base{n}.mp4")
            encode.write(base, y, rate_hz=48000, video_fps=RATE)
            subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", base, "-itsoffset", str(delay), "-i", base,
                            "-map", "0:v", "-map", "1:a", "-c", "copy", path], check=True, timeout=60)
        paths.append(path)
        want[name] = frame
    al = align(paths, cache=False, workers=1)
    assert all(c.group == al.clips[0].group for c in al.clips), [c.error for c in al.clips]
    return {"dir": d, "paths": paths, "want": want, "alignment": al}


def _out(shoot: dict, suffix: str) -> list[str]:
    return write(shoot["alignment"], str(shoot["dir"] / f"x{suffix}"), options=ExportOptions())


def _video_frames(path: str) -> int:
    """Frames of the file's picture at the timeline rate (the phone's length in time, not its count)."""
    with av.open(path) as c:
        v = c.streams.video[0]
        end = max(float((p.pts + (p.duration or 0)) * v.time_base) for p in c.demux(v) if p.pts is not None)
        return int((end - float(v.start_time * v.time_base)) * RATE + Fraction(1, 10**4))


@pytest.mark.slow
def test_json_gives_audio_and_picture_offsets_and_flags_vfr(shoot: dict) -> None:
    (path,) = _out(shoot, ".json")
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    assert doc["fps"] == "30000/1001"
    clips = {Path(c["path"]).name: c for c in doc["clips"]}
    late = clips["late.mp4"]
    # the MP4's first audio sample is an AAC priming frame 1024 samples before the delayed content
    assert late["picture_shift"] == pytest.approx(-(0.5 - 1024 / 48000), abs=1.5e-3)
    assert late["picture_offset"] == pytest.approx(late["offset"] + late["picture_shift"], abs=1e-6)
    assert late["picture_offset"] == pytest.approx(float(105 * FRAME), abs=3e-3)
    assert clips["late.ts"]["picture_shift"] == pytest.approx(-(0.3 - 1024 / 48000), abs=1.5e-3)
    assert clips["rec.wav"]["picture_offset"] is None and not clips["rec.wav"]["vfr"]
    assert clips["phone.mp4"]["vfr"] and not clips["late.mp4"]["vfr"]
    for name, frame in shoot["want"].items():
        assert clips[name]["record_frame"] == frame, name


def test_edl_places_the_picture_and_never_runs_past_the_last_frame(shoot: dict) -> None:
    pycmx = pytest.importorskip("pycmx")
    start = tc_to_frames("01:00:00:00", RATE)
    seen = {}
    for path in _out(shoot, ".edl"):
        with open(path, encoding="utf-8") as fh:
            for event in pycmx.parse_cmx3600(fh).events:
                for edit in event.edits:
                    seen[edit.clip_name] = edit
    assert set(seen) == set(shoot["want"])
    for name, frame in shoot["want"].items():
        edit = seen[name]
        assert tc_to_frames(edit.record_in, RATE) - start == frame, name
        if name != "rec.wav":
            used = tc_to_frames(edit.source_out, RATE) - tc_to_frames(edit.source_in, RATE)
            assert used <= _video_frames(str(shoot["dir"] / name)), name


def test_fcp7_places_the_picture_within_the_media(shoot: dict) -> None:
    (path,) = _out(shoot, ".xml")
    root = ET.parse(path).getroot()
    files = {f.get("id"): f for f in root.iter("file") if f.find("pathurl") is not None}
    items = {}
    for item in root.iter("clipitem"):
        items.setdefault(item.findtext("name"), []).append(item)
    for name, frame in shoot["want"].items():
        for item in items[name]:  # a camera's video and audio items alike
            assert int(item.findtext("start")) == frame, name
            if name != "rec.wav":
                f = files[item.find("file").get("id")] if item.find("file").get("id") in files else None
                assert int(item.findtext("out")) <= _video_frames(str(shoot["dir"] / name)), name
                if f is not None:
                    assert int(f.findtext("duration")) <= _video_frames(str(shoot["dir"] / name))
                    assert f.findtext("rate/timebase") == "30" and f.findtext("rate/ntsc") == "TRUE"


def test_fcpxml_places_the_picture_on_standard_rates_only(shoot: dict) -> None:
    (path,) = _out(shoot, ".fcpxml")
    root = ET.parse(path).getroot()
    assert {f.get("frameDuration") for f in root.iter("format")} == {"1001/30000s"}
    assets = {a.get("id"): a for a in root.iter("asset")}
    origin = Fraction(root.find(".//sequence").get("tcStart")[:-1])
    for clip in root.iter("asset-clip"):
        name = clip.get("name")
        assert (Fraction(clip.get("offset")[:-1]) - origin) * RATE == shoot["want"][name], name
        asset = assets[clip.get("ref")]
        assert Fraction(clip.get("duration")[:-1]) <= Fraction(asset.get("duration")[:-1])
        if name != "rec.wav":
            assert Fraction(asset.get("duration")[:-1]) * RATE <= _video_frames(str(shoot["dir"] / name))


def test_otio_places_the_picture_within_the_available_range(shoot: dict) -> None:
    (path,) = _out(shoot, ".otio")
    tl = otio.adapters.read_from_file(path)
    seen = set()
    for clip in tl.find_clips():
        seen.add(clip.name)
        assert clip.range_in_parent().start_time.rescaled_to(float(RATE)).value == shoot["want"][clip.name]
        avail = clip.media_reference.available_range
        assert avail.start_time.rate == pytest.approx(float(RATE))  # the phone's own rate, snapped
        used = clip.source_range.duration.rescaled_to(avail.duration.rate).value
        assert used <= avail.duration.value
        if clip.name != "rec.wav":
            assert avail.duration.value <= _video_frames(str(shoot["dir"] / clip.name))
    assert seen == set(shoot["want"])


def test_cover_art_is_not_a_picture(tmp_path: Path) -> None:
    """An MP3 with an attached cover picture is an audio file: no video rate to vote with, audio length."""
    from syncfp.audio.decode import probe

    wav, mp3 = str(tmp_path / "a.wav"), str(tmp_path / "a.mp3")
    encode.write(wav, np.zeros(48000 * 3, np.float32), rate_hz=48000)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", wav, "-f", "lavfi", "-i", "color=red:s=32x32:d=1",
                    "-map", "0:a", "-map", "1:v", "-frames:v", "1", "-c:v", "mjpeg", "-disposition:v",
                    "attached_pic", "-c:a", "libmp3lame", mp3], check=True, timeout=60)
    info = probe(mp3)
    assert (info.has_video, info.fps, info.video_duration_s) == (False, None, None)


def test_reaper_items_start_at_the_picture_and_stay_within_the_media(shoot: dict) -> None:
    """Read back with the ``rpp`` parser: POSITION is the JSON's picture offset, no item loops or outlasts its file."""
    rpp = pytest.importorskip("rpp")
    (path,) = _out(shoot, ".rpp")
    (jpath,) = _out(shoot, ".json")
    clips = {Path(c["path"]).name: c for c in json.loads(Path(jpath).read_text(encoding="utf-8"))["clips"]}
    seen = set()
    for track in rpp.loads(Path(path).read_text(encoding="utf-8")).findall("TRACK"):
        for item in track.findall("ITEM"):
            name = item.find("NAME")[1]
            c, seen = clips[name], seen | {name}
            want = c["offset"] if c["picture_offset"] is None else c["picture_offset"]
            assert float(item.find("POSITION")[1]) == pytest.approx(want, abs=1e-6), name
            assert item.find("LOOP")[1] == "0"
            length = float(item.find("LENGTH")[1]) * float(item.find("PLAYRATE")[1])
            if name != "rec.wav":
                assert length <= _video_frames(str(shoot["dir"] / name)) / RATE + 1 / RATE, name
    assert seen == set(shoot["want"])
