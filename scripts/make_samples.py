"""Regenerate samples/: a small synthesized multi-camera shoot with known offsets, drift and a distractor.

    python scripts/make_samples.py [OUT_DIR]

Writes the media and `truth.json` (each clip's start in the master programme, its device's clock drift).
"""

from __future__ import annotations

import json
import os
import sys
from fractions import Fraction

import numpy as np

from syncfp import encode, synth

RATE = 48000
NTSC = Fraction(30000, 1001)

# name, start in master (s), length (s), drift ppm, snr dB, eq, reverb s, file rate, channels, video fps, timecode
CLIPS = [
    ("cam1/GOPR0001.MP4", 0.0, 35.0, 0.0, 30, "camera", 0.3, 48000, 2, NTSC, None),
    ("cam1/GOPR0002.MP4", 38.0, 22.0, 0.0, 30, "camera", 0.3, 48000, 2, NTSC, None),
    ("cam2/C0001.MOV", 10.0, 45.0, 100.0, 20, "camera", 0.5, 48000, 2, NTSC, "01:00:10;00"),
    ("phone/IMG_0001.MOV", 20.0, 12.0, -25.0, 6, "phone", 0.6, 44100, 1, Fraction(30), None),
    ("recorder/ZOOM0001.WAV", 30.0, 28.0, -40.0, 35, "none", 0.2, 44100, 1, None, None),
]
DISTRACTOR = ("phone/IMG_0002.MOV", 15.0, -25.0, 10, "phone", 0.6, 44100, 1, Fraction(30))


def _render(x: np.ndarray, rate: int, channels: int) -> np.ndarray:
    from scipy.signal import resample_poly

    if rate != RATE:
        g = np.gcd(rate, RATE)
        x = resample_poly(x, rate // g, RATE // g).astype(np.float32)
    return np.stack([x, x * 0.9], axis=1) if channels == 2 else x


def main(out: str) -> None:
    master = synth.concert(62.0, rate_hz=RATE, seed=7)
    truth = {}
    for i, (name, start, length, ppm, snr, eq, rev, rate, ch, fps, tc) in enumerate(CLIPS):
        seg = master[int(start * RATE) : int((start + length) * RATE)]
        y = synth.device(synth.drift(seg, ppm), rate_hz=RATE, seed=10 + i, snr_db=snr, eq=eq, reverb_s=rev)
        path = os.path.join(out, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        encode.write(path, _render(y, rate, ch), rate_hz=rate, video_fps=fps, timecode=tc, bitrate=96000)
        truth[name] = {"start_s": start, "drift_ppm": ppm}
    name, length, ppm, snr, eq, rev, rate, ch, fps = DISTRACTOR
    other = synth.concert(length, rate_hz=RATE, seed=99, tempo_bpm=96)
    y = synth.device(synth.drift(other, ppm), rate_hz=RATE, seed=50, snr_db=snr, eq=eq, reverb_s=rev)
    encode.write(os.path.join(out, name), _render(y, rate, ch), rate_hz=rate, video_fps=fps, bitrate=96000)
    truth[name] = {"start_s": None, "drift_ppm": None}
    with open(os.path.join(out, "truth.json"), "w") as fh:
        json.dump(truth, fh, indent=2)
        fh.write("\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "samples"))
