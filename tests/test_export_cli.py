"""End to end: real encoded clips → ``python -m syncfp align ... -o x.otio -o x.xml -o x.fcpxml``, read back."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import opentimelineio as otio
import pytest

from bench import encode, synth

RATE = Fraction(25)
# name → (start in the master, seconds)
CUTS = {"camA.mov": (0.0, 15.0), "camB.mp4": (6.0, 15.0), "rec.wav": (3.0, 15.0)}


def _bwf(path: str, x: np.ndarray, *, rate_hz: int, time_reference: int) -> None:
    """A mono 16-bit WAV with a BWF ``bext`` time reference."""
    with av.open(path, "w", options={"write_bext": "1"}) as out:
        out.metadata["time_reference"] = str(time_reference)
        stream = out.add_stream("pcm_s16le", rate=rate_hz, layout="mono")
        frame = av.AudioFrame.from_ndarray((np.clip(x, -1, 1) * 32767).astype(np.int16)[None, :], format="s16",
                                           layout="mono")
        frame.sample_rate, frame.pts = rate_hz, 0
        for p in stream.encode(frame):
            out.mux(p)
        for p in stream.encode(None):
            out.mux(p)


def _media(d: Path) -> list[str]:
    sr = 48000
    master = synth.concert(22.0, rate_hz=sr, seed=7)
    paths = []
    for i, (name, (start, length)) in enumerate(CUTS.items()):
        seg = synth.device(master[int(start * sr): int((start + length) * sr)], rate_hz=sr, seed=i, snr_db=None,
                           eq="camera")
        path = str(d / name)
        if name.endswith(".wav"):
            _bwf(path, seg, rate_hz=sr, time_reference=sr * 36000)  # 10:00:00:00
        else:
            encode.write(path, seg, rate_hz=sr, video_fps=RATE, timecode="01:00:00:00" if "A" in name else None)
        paths.append(path)
    return paths


@pytest.mark.slow
def test_cli_writes_otio_fcp7_and_fcpxml_from_real_media(tmp_path: Path) -> None:
    paths = _media(tmp_path)
    out = tmp_path / "out"
    env = {**os.environ, "SYNCFP_CACHE": str(tmp_path / "cache")}
    proc = subprocess.run(
        [sys.executable, "-m", "syncfp", "align", *paths, "-o", str(out / "x.otio"), "-o", str(out / "x.xml"),
         "-o", str(out / "x.fcpxml"), "--report", str(out / "x.html"), "-q", "-j", "1"],
        capture_output=True, text=True, env=env, timeout=240,
    )
    assert proc.returncode == 0, proc.stderr
    want = {name: round(start * RATE) for name, (start, _) in CUTS.items()}
    want_src = {"camA.mov": 90000, "camB.mp4": 0, "rec.wav": 900000}

    tl = otio.adapters.read_from_file(str(out / "x.otio"))
    got = {c.name: c for c in tl.find_clips()}
    assert set(got) == set(want)
    for name, clip in got.items():
        assert abs(clip.range_in_parent().start_time.value - want[name]) <= 1, name
        assert clip.source_range.start_time.value == want_src[name], name

    root = ET.parse(out / "x.xml").getroot()
    starts = {i.findtext("name"): int(i.findtext("start")) for i in root.iter("clipitem")}
    assert {k: abs(v - want[k]) <= 1 for k, v in starts.items()} == {k: True for k in want}

    root = ET.parse(out / "x.fcpxml").getroot()
    origin = Fraction(root.find(".//sequence").get("tcStart")[:-1])
    for clip in root.iter("asset-clip"):
        frames = (Fraction(clip.get("offset")[:-1]) - origin) * RATE
        assert frames.denominator == 1 and abs(frames - want[clip.get("name")]) <= 1
    assert (out / "x.html").read_text(encoding="utf-8").count('class="clip"') == 3
