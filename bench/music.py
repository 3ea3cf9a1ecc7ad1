"""Programme material for the benchmarks: installed OGG music tracks → mono float32 at a chosen rate.

Real music (Debian's ``wesnoth-1.16-music``, 41 orchestral tracks) is far harder for a fingerprint than
a synthetic signal: it has quiet passages, fades, repeated motifs and long sustained chords. The files are
read where the package installed them and are never copied anywhere; when the package is absent the
benchmark falls back to `bench.synth.concert`, so it still runs on any machine.
"""

from __future__ import annotations

import glob
import os

import numpy as np

import av

from bench import synth

MUSIC_GLOBS = (
    "/usr/share/games/wesnoth/*/data/core/music/*.ogg",
    "/usr/share/games/wesnoth/data/core/music/*.ogg",
)


def find_tracks() -> list[str]:
    """Paths of the installed music tracks, sorted (empty when the package is not installed)."""
    paths: set[str] = set()
    for pattern in MUSIC_GLOBS:
        paths.update(glob.glob(pattern))
    return sorted(paths)


def track_duration_s(path: str) -> float:
    """Container duration without decoding."""
    with av.open(path) as c:
        s = c.streams.audio[0]
        if s.duration is not None and s.time_base is not None:
            return float(s.duration * s.time_base)
        return (c.duration or 0) / av.time_base


def decode_mono(path: str, *, rate_hz: int) -> np.ndarray:
    """Whole track as mono float32 at *rate_hz* (FFmpeg's resampler; tracks are a few minutes long); a packet
    that does not decode is skipped."""
    chunks = []
    with av.open(path) as c:
        stream = c.streams.audio[0]
        res = av.AudioResampler(format="flt", layout="mono", rate=rate_hz)
        for packet in c.demux(stream):
            try:
                frames = packet.decode()
            except av.error.FFmpegError:  # a damaged packet in a package's file: skipped, as ffmpeg does
                continue
            for frame in frames:
                frame.pts = None
                chunks.extend(o.to_ndarray().reshape(-1) for o in res.resample(frame))
        chunks.extend(o.to_ndarray().reshape(-1) for o in res.resample(None))
    return np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)


class Source:
    """A pool of programme material: real tracks when installed, else seeded synthetic 'songs'."""

    def __init__(self, *, rate_hz: int, force_synth: bool = False) -> None:
        self.rate_hz = rate_hz
        self.tracks = [] if force_synth else find_tracks()
        self.kind = "wesnoth-1.16-music" if self.tracks else "syncfp.synth.concert"
        if self.tracks:
            self.durations = [track_duration_s(p) for p in self.tracks]
        else:
            # 40 synthetic songs of 2.5-4 min, each its own seed and tempo
            rng = np.random.default_rng(12345)
            self.durations = list(rng.uniform(150, 240, 40))

    def __len__(self) -> int:
        return len(self.durations)

    def name(self, i: int) -> str:
        return os.path.basename(self.tracks[i]) if self.tracks else f"synth-song-{i:02d}"

    def load(self, i: int) -> np.ndarray:
        if self.tracks:
            return decode_mono(self.tracks[i], rate_hz=self.rate_hz)
        tempo = 90.0 + (i * 7) % 60
        return synth.concert(self.durations[i], rate_hz=self.rate_hz, seed=1000 + i, tempo_bpm=tempo)

    def programme(
        self, order: list[int], *, duration_s: float, gap_s: float = 1.5
    ) -> tuple[np.ndarray, list[str]]:
        """Concatenate tracks from *order* (short pauses between songs) until *duration_s*; cropped."""
        need = int(duration_s * self.rate_hz)
        parts: list[np.ndarray] = []
        names: list[str] = []
        have = 0
        gap = np.zeros(int(gap_s * self.rate_hz), np.float32)
        for i in order:
            x = self.load(i)
            x = x / (np.max(np.abs(x)) + 1e-9) * 0.5
            parts += [x, gap]
            names.append(self.name(i))
            have += x.size + gap.size
            if have >= need:
                break
        out = np.concatenate(parts)[:need] if parts else np.zeros(need, np.float32)
        if out.size < need:  # not enough material: loop (only with a tiny source)
            out = np.resize(out, need)
        return out.astype(np.float32), names
