"""channel blocks (nch, n) float32 → mono float32: the analysis mix, without timecode or cancelling channels.

Averaging every channel fails two kinds of real file: a poly WAV or camera whose last track carries LTC
timecode (a loud square wave whose harmonics swamp the landmarks), and a stereo file with one side
polarity-inverted (L, −L sums to digital silence). The mix is decided from running statistics of the first
seconds with sound, then frozen: the analysis audio keeps one consistent mix, and memory stays one block.
"""

from __future__ import annotations

import numpy as np

from ..config import DecodeConfig


def looks_ltc(x: np.ndarray, rate_hz: int, cfg: DecodeConfig = DecodeConfig()) -> bool:
    """True when the samples *x* (one channel, ~1 s) look like LTC: square-ish, with zero crossings one
    bit cell or half a bit cell apart, the cell at 23.976-30 fps. Music and speech fail the regularity."""
    peak = float(np.abs(x).max(initial=0.0))
    if peak < 10 ** (cfg.audible_db / 20) or np.count_nonzero(np.abs(x) > 0.5 * peak) < cfg.ltc_square * x.size:
        return False
    edges = np.flatnonzero(np.signbit(x[1:]) != np.signbit(x[:-1]))
    if edges.size < 100:
        return False
    d = np.diff(edges) / rate_hz
    cell = float(np.percentile(d, 95))
    if not cfg.ltc_bit_s[0] <= cell <= cfg.ltc_bit_s[1]:
        return False
    regular = (np.abs(d - cell) < 0.25 * cell) | (np.abs(d - cell / 2) < 0.125 * cell)
    return bool(regular.mean() > cfg.ltc_regular)


def _names(channels: np.ndarray) -> str:
    numbers = [str(int(c) + 1) for c in channels]
    return ("channel " if len(numbers) == 1 else "channels ") + ", ".join(numbers)


class Downmix:
    """Callable turning (nch, n) blocks of one stream into mono with weights learnt from its first seconds.

    Channels that look like LTC are left out, and so are unused ones (``cfg.dead_db`` below the loudest);
    when what is left cancels in the sum, the loudest channel is used alone. ``note`` says what was done
    (None for a plain average), ``only_timecode`` marks a stream whose every audible channel is LTC. *cfg*
    (`DecodeConfig`) holds the levels and the LTC test's limits.
    """

    def __init__(self, channels: int, rate_hz: int, cfg: DecodeConfig = DecodeConfig()) -> None:
        self.channels, self.rate_hz, self.cfg = channels, rate_hz, cfg
        self.weights = np.full(channels, 1.0 / channels, np.float32)
        self.frozen = channels == 1
        self.note: str | None = None
        self.only_timecode = False
        self._cov = np.zeros((channels, channels))
        self._ltc_blocks = np.zeros(channels, np.int64)
        self._loud_blocks = np.zeros(channels, np.int64)
        self._audible_s = self._seen_s = 0.0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if self.channels == 1:
            return x[0]
        if not self.frozen:
            self._learn(x)
        return self.weights @ x

    def _learn(self, x: np.ndarray) -> None:
        dur = x.shape[1] / self.rate_hz
        block = (x @ x.T).astype(np.float64)
        self._cov += block
        level = 10 * np.log10(np.diag(block) / max(1, x.shape[1]) + 1e-20)
        loud = level > self.cfg.audible_db
        self._loud_blocks += loud
        for c in np.flatnonzero(loud):  # a loop over channels, not samples
            self._ltc_blocks[c] += looks_ltc(x[c], self.rate_hz, self.cfg)
        ltc = (self._ltc_blocks > 0) & (2 * self._ltc_blocks >= self._loud_blocks)
        keep = ~ltc if not ltc.all() else np.ones_like(ltc)
        self.only_timecode = bool(ltc.all())
        if np.any(loud & keep):
            self._audible_s += dur
        self._seen_s += dur
        self._decide(keep, ltc)
        self.frozen = self._audible_s >= self.cfg.lock_s or self._seen_s >= self.cfg.stats_max_s

    def _decide(self, keep: np.ndarray, ltc: np.ndarray) -> None:
        energy = np.diag(self._cov)
        top = float(energy[keep].max())
        if top <= 0:
            return
        kept = keep & (energy >= top * 10 ** (-self.cfg.dead_db / 10))
        w = kept / kept.sum()
        notes = []
        if ltc.any() and not ltc.all():
            notes.append(f"{_names(np.flatnonzero(ltc))} of {self.channels}: LTC timecode, left out")
        if (keep & ~kept).any():
            notes.append(f"{_names(np.flatnonzero(keep & ~kept))}: silent, left out")
        mix = float(w @ self._cov @ w)
        if kept.sum() > 1 and mix < energy[kept].mean() * 10 ** (-self.cfg.cancel_db / 10):
            best = int(np.argmax(np.where(kept, energy, -1.0)))
            w = np.eye(self.channels)[best]
            drop = 10 * np.log10(mix / energy[kept].mean() + 1e-20)
            notes.append(f"channels cancel in the sum ({drop:.0f} dB): channel {best + 1} alone")
        self.weights = w.astype(np.float32)
        self.note = "; ".join(notes) or None
