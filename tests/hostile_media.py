"""A hostile-media corpus made at test time: broken containers, odd formats and odd levels, real encodes.

`bad_corpus` files must each be rejected with a one-line reason; `odd_good_corpus` files are unusual but
usable and must be placed. Both are written with `bench.encode` / PyAV, never downloaded.
"""

from __future__ import annotations

import os
import struct
from fractions import Fraction

import numpy as np
import soundfile as sf

import av
from bench import encode


def top_level_boxes(data: bytes) -> list[tuple[bytes, int, int]]:
    """(type, start, end) of the top-level ISO-BMFF boxes of an MP4/MOV file."""
    out, pos = [], 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if size == 1 and pos + 16 <= len(data):
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
        elif size == 0:
            size = len(data) - pos
        if size < 8:
            break
        out.append((kind, pos, min(pos + size, len(data))))
        pos += size
    return out


def without_box(data: bytes, kind: bytes) -> bytes:
    """*data* with every top-level box of type *kind* removed (a moov-less MP4 for kind=b'moov')."""
    return b"".join(data[s:e] for k, s, e in top_level_boxes(data) if k != kind)


def faststart(src: str, dst: str) -> None:
    """Remux *src* with the moov box first, as cameras write it, so that a truncated copy still decodes."""
    with av.open(src) as inp, av.open(dst, "w", options={"movflags": "faststart"}) as out:
        mapping = {}
        for s in inp.streams:
            if s.type in ("audio", "video"):
                mapping[s.index] = out.add_stream_from_template(s)
        for packet in inp.demux():
            if packet.dts is None or packet.stream.index not in mapping:
                continue
            packet.stream = mapping[packet.stream.index]
            out.mux(packet)


def video_only(path: str) -> None:
    with av.open(path, "w") as out:
        v = out.add_stream("libx264", rate=25)
        v.width = v.height = 64
        v.pix_fmt = "yuv420p"
        for i in range(50):
            f = av.VideoFrame.from_ndarray(np.full((64, 64, 3), i, np.uint8), format="rgb24")
            f.pts = i
            for p in v.encode(f):
                out.mux(p)
        for p in v.encode(None):
            out.mux(p)


def bad_corpus(d: str, donor_mp4: str, donor_mov: str) -> dict[str, str]:
    """name → path of files that cannot be used; *donor_* are good encodes to break."""
    os.makedirs(d, exist_ok=True)
    out: dict[str, str] = {}

    def put(name: str, data: bytes) -> None:
        out[name] = os.path.join(d, name)
        with open(out[name], "wb") as fh:
            fh.write(data)

    mp4, mov = open(donor_mp4, "rb").read(), open(donor_mov, "rb").read()
    for frac in (0.001, 0.05, 0.3, 0.6, 0.95):  # moov at the end: any truncation loses the index
        put(f"trunc{int(frac * 1000):03d}.mp4", mp4[: max(1, int(len(mp4) * frac))])
        put(f"trunc{int(frac * 1000):03d}.mov", mov[: max(1, int(len(mov) * frac))])
    put("moovless.mp4", without_box(mp4, b"moov"))
    rng = np.random.default_rng(5)
    for ext in ("mp4", "mov", "wav", "mp3", "m4a", "mkv"):
        put(f"random.{ext}", rng.bytes(4096 + 1000 * len(ext)))
    put("zero.wav", b"")
    put("zero.mp4", b"")
    put("header_only.wav", _wav_bytes(np.zeros(0, np.int16))[:44])
    out["dir.mp4"] = os.path.join(d, "dir.mp4")
    os.makedirs(out["dir.mp4"], exist_ok=True)
    out["video_only.mp4"] = os.path.join(d, "video_only.mp4")
    video_only(out["video_only.mp4"])
    for n in (0, 1):
        out[f"samples{n}.wav"] = os.path.join(d, f"samples{n}.wav")
        sf.write(out[f"samples{n}.wav"], np.full(n, 0.5, np.float32), 48000, subtype="PCM_16")
    out["silence.flac"] = os.path.join(d, "silence.flac")
    encode.write(out["silence.flac"], np.zeros(48000 * 8, np.float32), rate_hz=48000)
    out["missing.wav"] = os.path.join(d, "missing.wav")
    out["loop_link.mp4"] = os.path.join(d, "loop_link.mp4")
    os.symlink(out["loop_link.mp4"], out["loop_link.mp4"])  # ELOOP on open
    out["fifo.wav"] = os.path.join(d, "fifo.wav")
    os.mkfifo(out["fifo.wav"])  # opening it for reading would block forever
    return out


def _wav_bytes(x: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    sf.write(buf, x, 48000, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def odd_good_corpus(d: str, make) -> dict[str, str]:
    """name → path of unusual but usable recordings; ``make(path, start_s, length_s, **cut_kw)`` encodes
    a cut of the shared master, so every file here overlaps the others."""
    out: dict[str, str] = {}
    out["8k_mono.wav"] = make(os.path.join(d, "8k_mono.wav"), 2.0, 20.0, rate_hz=8000)
    out["192k_8ch.wav"] = make(os.path.join(d, "192k_8ch.wav"), 6.0, 20.0, rate_hz=192000, channels=8)
    out["clipped.mp3"] = make(os.path.join(d, "clipped.mp3"), 4.0, 20.0, gain=12.0)
    out["dc.flac"] = make(os.path.join(d, "dc.flac"), 8.0, 20.0, dc=0.4)
    out["long_silence.m4a"] = make(os.path.join(d, "long_silence.m4a"), 0.0, 30.0, silence=(8.0, 20.0))
    out["ünï cödé clip ✓.mov"] = make(os.path.join(d, "sub dir ä", "ünï cödé clip ✓.mov"), 10.0, 20.0,
                                      video_fps=Fraction(25))
    return out
