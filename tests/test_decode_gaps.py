"""Timestamp gaps (issue 14): an AAC recording with a 1-s dropout keeps its timeline — the gap is decoded
as silence — so it and the clip it overlaps are placed at their true offsets with no false drift.

Timestamp jitter (a frame stamped late, the next one on time again, as FFmpeg's Ogg demuxer stamps Vorbis
block switches) is not a dropout: it adds nothing, and a dropout among jitter is still filled."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest

import av
from scipy.signal import resample_poly

from conftest import cut, make_clip
from syncfp.audio.decode import _settled, stream_audio
from syncfp.config import DecodeConfig

RATE = 48000
DECODE = DecodeConfig()


def write_with_dropout(path: str, x: np.ndarray, *, drop_s: tuple[float, float] | None,
                       late_every: int = 0, late_samples: int = 1024) -> None:
    """AAC in MP4/MKV with every packet inside *drop_s* left out and the rest at their true timestamps
    (what a camera's or phone's dropped audio looks like). *late_every*: every so many packets one is stamped
    *late_samples* late and the next on time again (timestamp jitter; MKV keeps it, MP4 does not)."""
    with av.open(path, "w") as out:
        st = out.add_stream("aac", rate=RATE, layout="mono")
        size = st.codec_context.frame_size or 1024
        count = 0

        def mux(packets) -> None:
            nonlocal count
            for p in packets:
                if drop_s and p.pts is not None and drop_s[0] <= float(p.pts * p.time_base) < drop_s[1]:
                    continue
                count += 1
                if late_every and p.pts is not None and count % late_every == 0:
                    p.pts += late_samples  # the packets' time base is the encoder's, 1/RATE
                out.mux(p)

        for s in range(0, x.size, size):
            frame = av.AudioFrame.from_ndarray(np.clip(x[None, s : s + size], -1, 1).astype(np.float32),
                                               format="fltp", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = RATE, s, Fraction(1, RATE)
            mux(st.encode(frame))
        mux(st.encode(None))


@pytest.fixture(scope="module")
def gappy(tmp_path_factory, master):
    d = tmp_path_factory.mktemp("gaps")
    cam = make_clip(d, "cam.m4a", master, 0.0, 40.0, seed=61)
    out = {}
    for ext in (".mp4", ".mkv"):
        p = str(d / f"phone{ext}")
        write_with_dropout(p, cut(master, 6.0, 24.0, seed=62, eq="phone"), drop_s=(10.0, 11.0))
        out[ext] = p
    return cam, out


@pytest.mark.slow
@pytest.mark.parametrize("ext", [".mp4", ".mkv"])
def test_dropout_is_decoded_as_silence(gappy, ext):
    _, files = gappy
    info, chunks = stream_audio(files[ext], rate_hz=8000)
    y = np.concatenate(list(chunks))
    assert abs(y.size / 8000 - 24.0) < 0.05  # the second lost is still there, in time
    gap = np.abs(y[int(10.1 * 8000) : int(10.9 * 8000)]).max()
    assert gap < 1e-3 < np.abs(y[int(12 * 8000) : int(13 * 8000)]).max()


@pytest.mark.slow
def test_clip_with_dropout_placed_without_false_drift(gappy):
    cam, files = gappy
    r = subprocess.run([sys.executable, "-m", "syncfp", "align", "-q", "-f", "json", "--no-cache", cam,
                        *files.values()], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    clips = {os.path.basename(c["path"]): c for c in json.loads(r.stdout)["clips"]}
    base = clips["cam.m4a"]["offset"]
    for name in ("phone.mp4", "phone.mkv"):
        c = clips[name]
        assert c["group"] is not None, c
        assert abs(c["offset"] - base - 6.0) < 1e-4, c  # the second filled in to within a few µs
        assert c["drift_ppm"] is None or abs(c["drift_ppm"]) < 3, c


def jumps(path: str) -> tuple[int, int]:
    """(forward, backward) timestamp jumps of at least `min_gap_s` between decoded frames, as PyAV sees them."""
    with av.open(path) as c:
        st = c.streams.audio[0]
        fwd = back = 0
        end = None
        for f in c.decode(st):
            start = float(f.pts * st.time_base)
            if end is not None:
                fwd, back = fwd + (start - end >= DECODE.min_gap_s), back + (start - end <= -DECODE.min_gap_s)
            end = start + f.samples / f.sample_rate
    return fwd, back


def decode(path: str) -> np.ndarray:
    return np.concatenate(list(stream_audio(path, rate_hz=8000)[1]))


def lag_8k(y: np.ndarray, ref: np.ndarray, at_s: float, *, search: int = 400) -> int:
    """Samples (at 8 kHz) by which *ref*'s second at *at_s* sits late in *y*."""
    a = ref[int(at_s * 8000) : int((at_s + 1) * 8000)]
    seg = y[int(at_s * 8000) - search : int((at_s + 1) * 8000) + search]
    return int(np.argmax(np.correlate(seg, a, "valid"))) - search


@pytest.fixture(scope="module")
def jittery(tmp_path_factory, master):
    """The same 24-s phone recording in MKV: clean, jittered (one packet in 7 stamped 1024 samples = 21 ms
    late), with a 1-s dropout, and with both (the first packet after the dropout stamped late too)."""
    d = tmp_path_factory.mktemp("jitter")
    x = cut(master, 6.0, 24.0, seed=62, eq="phone")
    kinds = {"clean": {"drop_s": None}, "jitter": {"drop_s": None, "late_every": 7},
             "dropout": {"drop_s": (10.0, 11.0)}, "both": {"drop_s": (10.0, 11.0), "late_every": 7}}
    out = {}
    for name, kw in kinds.items():
        out[name] = str(d / f"{name}.mkv")
        write_with_dropout(out[name], x, **kw)
    return x, out


@pytest.mark.slow
def test_jitter_adds_nothing(jittery):
    x, files = jittery
    fwd, back = jumps(files["jitter"])
    assert fwd >= 150 and back >= 150  # 21 ms forward, 21 ms back, all through the file
    assert jumps(files["clean"]) == (0, 0)
    y, clean = decode(files["jitter"]), decode(files["clean"])
    assert y.size == clean.size == 24 * 8000  # before the fix: 27.4 s (a 21-ms silence at each jump)
    assert np.array_equal(y, clean)
    src = resample_poly(x, 1, 6)  # 48 kHz -> 8 kHz
    assert [lag_8k(y, src, t) for t in (2.0, 12.0, 21.0)] == [0, 0, 0]  # sample-aligned with the source


@pytest.mark.slow
def test_dropout_among_jitter_still_filled(jittery):
    _, files = jittery
    y, dropped = decode(files["both"]), decode(files["dropout"])
    assert abs(y.size - dropped.size) <= 8 and abs(y.size / 8000 - 24.0) < 0.05  # before the fix: 27.4 s
    gap = np.abs(y[int(10.1 * 8000) : int(10.9 * 8000)]).max()
    assert gap < 1e-3 < np.abs(y[int(12 * 8000) : int(13 * 8000)]).max()
    # after the dropout the audio sits where it does without jitter (MKV rounds stamps to 1 ms: 8 samples)
    assert all(abs(lag_8k(y, dropped, t)) <= 8 for t in (12.0, 21.0))


class _Frame:
    def __init__(self, pts: int, samples: int = 1024) -> None:
        self.pts, self.samples, self.sample_rate = pts, samples, RATE


def settled(pts: list[int]) -> list[int]:
    """Samples of dropout put before each frame of 1024 samples stamped *pts* (time base 1/RATE)."""
    return [round(g * RATE) for _, g in _settled(iter([_Frame(p) for p in pts]), 1 / RATE, DECODE)]


def test_jitter_and_dropouts_told_apart():
    assert settled([0, 1024, 2048 + 512, 3072, 4096]) == [0, 0, 0, 0, 0]  # late, then on time: jitter
    assert settled([0, 1024, 2048 + 9600, 3072 + 9600]) == [0, 0, 9600, 0]  # not taken back: a dropout
    assert settled([0, 1024, 2048 + 9600 + 512, 3072 + 9600]) == [0, 0, 9600, 0]  # a dropout, late stamp
    assert settled([0, 1024, 2048 + 9600]) == [0, 0, 9600]  # the last frame: nothing takes it back
    assert settled([0, 1024, 2048 + 200, 3072]) == [0, 0, 0, 0]  # under `min_gap_s`: rounding
    assert settled([0, 1024, 2048 + 512, 3072 + 512 + 9600]) == [0, 0, 512, 9600]  # two dropouts in a row
