"""numpy audio → the media files phones, cameras and recorders write (PyAV), with codec and bitrate chosen.

`bench.encode.write` picks the codec by suffix only; the hard bench also needs Opus in MKV, a bitrate per
device and PCM WAV / FLAC / MP3 / AAC in MP4, MOV, M4A. Same frame loop, codec passed explicitly.
"""

from __future__ import annotations

import os
from fractions import Fraction

import numpy as np

import av

from bench.encode import encode_audio, encode_video

_FMT = {"pcm_s16le": "s16", "flac": "s16", "libmp3lame": "fltp", "aac": "fltp", "libopus": "flt"}


def write(path: str, x: np.ndarray, *, rate_hz: int, codec: str, bitrate: int | None = None,
          video_fps: Fraction | None = None) -> None:
    """Encode mono (n,) or (n, ch) float audio in [-1, 1] to *path* with *codec*, atomically."""
    data = np.atleast_2d(np.asarray(x, np.float32).T) if x.ndim == 2 else np.asarray(x, np.float32)[None, :]
    channels = data.shape[0]
    layout = {1: "mono", 2: "stereo"}[channels]
    ext = os.path.splitext(path)[1]
    tmp = path + ".part" + ext
    fmt = _FMT[codec]
    with av.open(tmp, "w") as out:
        vstream = None
        if video_fps is not None:
            vstream = out.add_stream("libx264", rate=video_fps)
            vstream.width, vstream.height, vstream.pix_fmt = 64, 64, "yuv420p"
            vstream.options = {"preset": "ultrafast", "crf": "45"}
        astream = out.add_stream(codec, rate=rate_hz, layout=layout)
        if bitrate:
            astream.bit_rate = bitrate
        n = data.shape[1]
        encode_audio(out, astream, data, fmt=fmt, layout=layout, rate_hz=rate_hz)
        if vstream is not None:
            encode_video(out, vstream, int(n / rate_hz * float(video_fps)), Fraction(video_fps))
    os.replace(tmp, path)
