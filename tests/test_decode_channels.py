"""Streams and channels (issue 14, items 7-8), through the CLI as a user runs it: a camera whose music is on
its second audio stream beside a one-stream recorder, a poly WAV with an LTC timecode channel, and a stereo
file with one side polarity-inverted. Each is placed at its true offset (± 2 ms) and says what it used."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest

import av
from conftest import cut, make_clip
from bench import encode
from syncfp.audio.downmix import Downmix, looks_ltc
from syncfp.errors import UsageError
from syncfp.inputs import parse_stream_rules, stream_for
from syncfp.types import StreamChoice

RATE = 48000


def ltc_like(n: int, *, rate_hz: int = RATE, fps: int = 25, seed: int = 0) -> np.ndarray:
    """A biphase-mark square wave at LTC's bit rate (80 bits a frame; a '1' adds a mid-cell transition),
    its edges softened to ~25 µs and a little noise added, as a recorder's timecode input looks."""
    cell = rate_hz / (80 * fps)
    bits = np.random.default_rng(seed).integers(0, 2, int(n / cell) + 2)
    toggles = np.stack([np.ones_like(bits), bits], axis=1).reshape(-1)  # per half cell: start of cell, mid-'1'
    level = np.where(np.cumsum(toggles) % 2 == 0, 1.0, -1.0)
    x = level[np.minimum((np.arange(n) / (cell / 2)).astype(int), level.size - 1)].astype(np.float32)
    x = np.convolve(x, np.ones(3) / 3, mode="same").astype(np.float32)
    return 0.5 * x + np.random.default_rng(seed + 1).normal(0, 1e-3, n).astype(np.float32)


def write_two_streams(path: str, first: np.ndarray, second: np.ndarray, *, video: bool = True) -> None:
    """A camera file with two mono AAC streams (and a tiny picture), streams interleaved by time."""
    with av.open(path, "w") as out:
        streams = [out.add_stream("aac", rate=RATE, layout="mono") for _ in range(2)]
        vs = None
        if video:
            vs = out.add_stream("libx264", rate=25)
            vs.width, vs.height, vs.pix_fmt = 64, 64, "yuv420p"
            vs.options = {"preset": "ultrafast", "crf": "40"}
        size = streams[0].codec_context.frame_size or 1024
        for s in range(0, first.size, size):
            for st, x in zip(streams, (first, second)):
                frame = av.AudioFrame.from_ndarray(np.clip(x[None, s : s + size], -1, 1).astype(np.float32),
                                                   format="fltp", layout="mono")
                frame.sample_rate, frame.pts, frame.time_base = RATE, s, Fraction(1, RATE)
                for p in st.encode(frame):
                    out.mux(p)
        for st in streams:
            for p in st.encode(None):
                out.mux(p)
        if vs is not None:
            for i in range(int(first.size / RATE * 25)):
                vf = av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), np.uint8), format="rgb24")
                vf.pts, vf.time_base = i, Fraction(1, 25)
                for p in vs.encode(vf):
                    out.mux(p)
            for p in vs.encode(None):
                out.mux(p)


def run_align(*args: str) -> tuple[subprocess.CompletedProcess, dict]:
    r = subprocess.run([sys.executable, "-m", "syncfp", "align", "-q", "-f", "json", "--no-cache", *args],
                       capture_output=True, text=True, timeout=300)
    clips = {os.path.basename(c["path"]): c for c in json.loads(r.stdout)["clips"]} if r.stdout else {}
    return r, clips


@pytest.fixture(scope="module")
def shoot(tmp_path_factory, master):
    d = tmp_path_factory.mktemp("channels")
    rec = make_clip(d, "rec.wav", master, 0.0, 40.0, seed=71, eq="flat")
    music = cut(master, 8.0, 24.0, seed=72)
    hiss = np.random.default_rng(73).normal(0, 1e-3, music.size).astype(np.float32)  # a mic left off: -60 dBFS
    cams = {}
    for ext in (".mkv", ".mp4"):
        cams[ext] = str(d / f"cam2{ext}")
        write_two_streams(cams[ext], hiss, music)
    poly = cut(master, 12.0, 24.0, seed=74)
    poly4 = np.stack([poly, 0.7 * poly, 0.5 * poly, ltc_like(poly.size)], axis=1)
    encode.write(str(d / "poly_ltc.wav"), poly4, rate_hz=RATE)
    inv = cut(master, 4.0, 24.0, seed=75)
    encode.write(str(d / "inverted.wav"), np.stack([inv, -inv], axis=1), rate_hz=RATE)
    return d, rec, cams


def test_ltc_detector_tells_timecode_from_music(master):
    assert looks_ltc(ltc_like(RATE)[: RATE], RATE)
    assert looks_ltc(ltc_like(RATE, fps=30, seed=3)[: RATE], RATE)
    music = cut(master, 20.0, 5.0, seed=1)
    assert not any(looks_ltc(music[s : s + RATE], RATE) for s in range(0, music.size - RATE, RATE))
    sine = np.sin(2 * np.pi * 1200 * np.arange(RATE) / RATE).astype(np.float32)
    assert not looks_ltc(sine, RATE)


def test_downmix_drops_ltc_and_survives_cancellation(master):
    music = cut(master, 30.0, 8.0, seed=2)
    mix = Downmix(3, RATE)
    x = np.stack([music, 0.5 * music, ltc_like(music.size)])
    out = np.concatenate([mix(x[:, s : s + RATE]) for s in range(0, music.size, RATE)])
    assert mix.frozen and mix.note and "channel 3 of 3: LTC" in mix.note
    assert np.allclose(mix.weights, [0.5, 0.5, 0.0])
    assert np.allclose(out, 0.75 * music, atol=1e-5)
    inv = Downmix(2, RATE)
    out = np.concatenate([inv(np.stack([music, -music])[:, s : s + RATE]) for s in range(0, music.size, RATE)])
    assert "cancel" in inv.note and np.allclose(out, music)


def test_stream_rules_parse_and_match():
    rules = parse_stream_rules(["C*.MP4=1", "2"])
    assert stream_for(rules, "card/C0001.mp4") == StreamChoice(1, strict=True)
    assert stream_for(rules, "rec.wav") == StreamChoice(2, strict=False)
    assert stream_for(parse_stream_rules(["*cam2/*=0"]), "f/cam2/a.mov") == StreamChoice(0)
    assert parse_stream_rules([]) is None
    for bad in (["x"], ["=1"], ["*.mov=-1"], ["1", "2"]):
        with pytest.raises(UsageError):
            parse_stream_rules(bad)


@pytest.fixture(scope="module")
def auto(shoot, tmp_path_factory):
    """One plain `syncfp align` (the table on stdout, JSON to a file) of the recorder, both two-stream cameras,
    the LTC poly WAV and the inverted stereo: every automatic stream and channel choice, read by the tests
    below from this one run."""
    d, rec, cams = shoot
    out = tmp_path_factory.mktemp("auto") / "auto.json"
    r = subprocess.run([sys.executable, "-m", "syncfp", "align", "--no-cache", "-o", str(out), rec, cams[".mkv"],
                        cams[".mp4"], str(d / "poly_ltc.wav"), str(d / "inverted.wav")],
                       capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "200"})
    clips = {os.path.basename(c["path"]): c for c in json.loads(out.read_text())["clips"]} if out.exists() else {}
    return r, clips


@pytest.mark.slow
@pytest.mark.parametrize("ext", [".mkv", ".mp4"])
def test_two_stream_camera_found_automatically(auto, ext):
    r, clips = auto
    assert r.returncode == 0, r.stderr
    cam = clips[f"cam2{ext}"]
    assert cam["audio_stream"] == 1 and cam["audio_streams"] == 2 and "by level" in cam["stream_choice"], cam
    assert abs(cam["offset"] - clips["rec.wav"]["offset"] - 8.0) < 0.002, cam
    assert clips["rec.wav"]["audio_streams"] == 1 and clips["rec.wav"]["stream_choice"] is None


@pytest.mark.slow
def test_stream_option_per_file_and_lenient(shoot):
    _, rec, cams = shoot
    r, clips = run_align("--stream", "1", rec, cams[".mkv"])  # the recorder has no stream 1: its own is used
    assert r.returncode == 0, r.stderr
    assert clips["cam2.mkv"]["stream_choice"] == "stream 1 as asked"
    assert abs(clips["cam2.mkv"]["offset"] - clips["rec.wav"]["offset"] - 8.0) < 0.002
    r, clips = run_align("--stream", "cam2*=0", rec, cams[".mkv"])  # the hiss, as asked: nothing to match
    assert r.returncode == 0 and clips["cam2.mkv"]["group"] is None, r.stderr
    assert clips["cam2.mkv"]["audio_stream"] == 0
    r, clips = run_align("--stream", "*.wav=1", rec, cams[".mkv"])
    assert r.returncode == 3 and "audio stream 1 not found (1 present)" in r.stderr, r.stderr
    r = subprocess.run([sys.executable, "-m", "syncfp", "align", "--stream", "a=b", rec], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2 and "PATTERN=N" in r.stderr


@pytest.mark.slow
def test_ltc_channel_and_inverted_stereo_are_placed(auto):
    r, clips = auto
    assert r.returncode == 0, r.stderr
    base = clips["rec.wav"]["offset"]
    poly, inv = clips["poly_ltc.wav"], clips["inverted.wav"]
    assert poly["downmix"] == "channel 4 of 4: LTC timecode, left out", poly
    assert abs(poly["offset"] - base - 12.0) < 0.002, poly
    assert "cancel" in inv["downmix"] and abs(inv["offset"] - base - 4.0) < 0.002, inv
    assert "LTC" in r.stdout  # the table says it too
