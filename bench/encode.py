"""numpy audio → media files with PyAV (WAV, FLAC, MP3, AAC in MP4/MOV/M4A, optional tiny video track).

Write-only counterpart of `decode` for tests, benchmarks and the sample set; it never reads media.
"""

from __future__ import annotations

import os
from fractions import Fraction

import numpy as np

import av

_AUDIO_CODEC = {".wav": "pcm_s16le", ".flac": "flac", ".mp3": "libmp3lame", ".mp4": "aac", ".m4a": "aac",
                ".mov": "aac", ".mkv": "aac", ".opus": "libopus"}


def encode_audio(out, astream, data: np.ndarray, *, fmt: str, layout: str, rate_hz: int) -> None:
    """Feed (channels, samples) float audio in [-1, 1] to *astream* frame by frame and mux every packet."""
    frame_size = astream.codec_context.frame_size or 1024
    planar = fmt.endswith("p")
    for s in range(0, data.shape[1], frame_size):
        block = np.clip(data[:, s : s + frame_size], -1, 1)
        if fmt.startswith("s16"):
            block = (block * 32767).astype(np.int16)
        arr = block if planar else np.ascontiguousarray(block.T).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(arr), format=fmt, layout=layout)
        frame.sample_rate = rate_hz
        frame.pts = s
        frame.time_base = Fraction(1, rate_hz)
        for packet in astream.encode(frame):
            out.mux(packet)
    for packet in astream.encode(None):
        out.mux(packet)


def encode_video(out, vstream, frames: int, fps: Fraction) -> None:
    """*frames* small flat frames whose grey level steps each frame (cheap picture for a real video stream)."""
    for i in range(frames):
        img = np.full((64, 64, 3), (i * 7) % 255, np.uint8)
        vf = av.VideoFrame.from_ndarray(img, format="rgb24")
        vf.pts = i
        vf.time_base = 1 / fps
        for packet in vstream.encode(vf):
            out.mux(packet)
    for packet in vstream.encode(None):
        out.mux(packet)


def write(
    path: str,
    x: np.ndarray,
    *,
    rate_hz: int,
    video_fps: Fraction | None = None,
    timecode: str | None = None,
    bitrate: int | None = None,
    metadata: dict[str, str] | None = None,
) -> None:
    """Encode mono (n,) or multichannel (n, ch) float audio in [-1, 1] to *path*; codec by suffix."""
    ext = os.path.splitext(path)[1].lower()
    codec = _AUDIO_CODEC[ext]
    data = np.atleast_2d(np.asarray(x, np.float32).T) if x.ndim == 2 else np.asarray(x, np.float32)[None, :]
    channels = data.shape[0]
    layout = {1: "mono", 2: "stereo"}.get(channels, f"{channels}c")
    with av.open(path, "w") as out:
        for k, v in (metadata or {}).items():
            out.metadata[k] = v
        vstream = None
        if video_fps is not None and ext in (".mp4", ".mov", ".mkv"):
            vstream = out.add_stream("libx264", rate=video_fps)
            vstream.width, vstream.height, vstream.pix_fmt = 64, 64, "yuv420p"
            vstream.options = {"preset": "ultrafast", "crf": "40"}
            if timecode:
                vstream.metadata["timecode"] = timecode
        astream = out.add_stream(codec, rate=rate_hz, layout=layout)
        if bitrate:
            astream.bit_rate = bitrate
        if timecode and vstream is None:
            out.metadata["timecode"] = timecode
        fmt = "s16" if codec == "pcm_s16le" else ("s16p" if codec == "flac" else "fltp")
        if codec == "flac":
            fmt = "s16"
        if codec == "libopus":
            fmt = "flt"
        n = data.shape[1]
        encode_audio(out, astream, data, fmt=fmt, layout=layout, rate_hz=rate_hz)
        if vstream is not None:
            encode_video(out, vstream, int(n / rate_hz * float(video_fps)), Fraction(video_fps))
