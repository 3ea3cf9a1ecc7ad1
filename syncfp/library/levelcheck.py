"""Candidate offsets checked by the query's level where the library stored its peaks.

Under a talking crowd the music's peaks are mostly no longer maxima of the query's spectrogram (of all its
level maxima a tenth are the music's at −5 dB), so counting coinciding peaks (`peakcheck`) sees little.
The music's energy is still there: at the true offset the query is louder than usual exactly where the
library stored the track's peaks. Two scores per offset, each the mean over the stored peaks in the
query's span: the level over the bin's median in the query (steady noise and EQ out; ±1 frame for the
clip's frame phase), and the level over the bins 3 away in the same frame (a peak stands over its sides,
which a talker's broadband syllable does not shift). Each is turned into z over the same scores at offsets
spread evenly through the library (the query's own chance level), and the two z are averaged.
Measured in docs/library.md ("The level where the peaks are").
"""

from __future__ import annotations

import numpy as np

from ..config import FingerprintConfig
from ..engine.fingerprint import as_float, sliding_max, spectrogram_db
from .store import PEAK_BIN_BITS

_NB = 1 << PEAK_BIN_BITS


class LevelMaps:
    """The query's two level maps (frames × bins fmin..fmax) that stored peaks are read on."""

    def __init__(self, x: np.ndarray, cfg: FingerprintConfig) -> None:
        spec = spectrogram_db(as_float(x), cfg)[:, cfg.fmin_bin : cfg.fmax_bin + 1]
        self.fmin = cfg.fmin_bin
        self.n_frames = spec.shape[0]
        if spec.shape[0] == 0:
            self.over_median = self.over_sides = spec
            return
        # ±1 frame: where the clip's frames fall between the library's
        self.over_median = sliding_max(spec - np.median(spec, axis=0, keepdims=True), 3, 0)
        side = np.empty_like(spec)  # the louder of the bins 3 below and 3 above (the one there at the band's edges)
        side[:, 3:] = spec[:, :-3]
        side[:, :3] = spec[:, 3:6]
        side[:, 3:-3] = np.maximum(side[:, 3:-3], spec[:, 6:])
        self.over_sides = spec - side

    def scores(self, lib, goff: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(level over the median, level over the sides), each the mean at the stored peaks of the query's span
        at each global offset in *goff* (nan where the span holds no stored peak)."""
        a = np.full(goff.shape[0], np.nan)
        b = np.full(goff.shape[0], np.nan)
        n_bins = self.over_median.shape[1]
        for j, g in enumerate(np.asarray(goff, np.int64)):
            keys = lib.peaks_in(int(g), int(g) + self.n_frames)
            if keys.size == 0:
                continue
            t = (keys >> PEAK_BIN_BITS) - int(g)
            f = (keys & (_NB - 1)) - self.fmin
            ok = (f >= 0) & (f < n_bins)
            if not ok.any():
                continue
            a[j] = float(self.over_median[t[ok], f[ok]].mean())
            b[j] = float(self.over_sides[t[ok], f[ok]].mean())
        return a, b


def null_offsets(n_global: int, span: int, n: int) -> np.ndarray:
    """*n* global offsets spread evenly over a library of *n_global* frames (the chance level's sample)."""
    last = max(n_global - span, 1)
    return np.unique(np.linspace(0, last - 1, num=min(n, last)).astype(np.int64))


def chance(lib, maps: LevelMaps, null: np.ndarray) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """(mean, sd) of each level score at the *null* offsets: the query's own chance level (None when fewer
    than 8 of them hold stored peaks, e.g. a library of one short track)."""
    out = []
    for ns in maps.scores(lib, null):
        ns = ns[np.isfinite(ns)]
        if ns.size < 8:
            return None
        out.append((float(ns.mean()), float(ns.std()) or 1.0))
    return out[0], out[1]


def zscores(lib, maps: LevelMaps, goff: np.ndarray, level: tuple[tuple[float, float], tuple[float, float]]
            ) -> np.ndarray:
    """The averaged z of the two level scores at each offset in *goff*, over their *level* of `chance`."""
    out = np.zeros(goff.shape[0])
    for s, (mean, sd) in zip(maps.scores(lib, goff), level):
        out += np.nan_to_num((s - mean) / sd, nan=0.0)
    return out / 2.0
