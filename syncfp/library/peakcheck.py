"""Candidate offsets checked peak by peak: how many of the query's peaks sit on a stored peak of the track.

A landmark hash survives noise only when *both* of its peaks do and the query pairs them as the library
did; under a talking crowd a tenth of the query's peaks are the music's and barely 1-2 % of its hashes.
The offsets the hashes voted for are still mostly there, only unrated: so the leading offsets of the denser
look (`identify._dense`) are checked against the peaks the library stored (`store.Library.peaks_in`): a
query peak counts when the track has a peak within ±1 frame and ±1 bin of it. Chance is measured where it
is checked: the track's own peaks around the offset (±`IdentifyConfig.peak_region` frames), bin by bin,
give each query peak's chance of landing on one. Measured in docs/library.md ("Peaks checked one by one").
"""

from __future__ import annotations

import numpy as np

from ..engine.hashtable import range_positions
from .store import PEAK_BIN_BITS

_NB = 1 << PEAK_BIN_BITS
_SELF_PEAKS = 96  # stored peaks of a passage `self_repeats` looks for elsewhere in its track


def check(lib, qt: np.ndarray, qf: np.ndarray, goff: np.ndarray, *, region: int) -> tuple[np.ndarray, np.ndarray]:
    """For each global offset in *goff* (the query's frame 0 at that library frame): the query peaks found
    on a stored peak (±1 frame, ±1 bin) and how many chance alone would put there (the track's peak density
    per bin within ±*region* frames of the query's span). All offsets are looked up at once in the stored
    peaks of the union of their regions: a query peak's ±1 frames lie inside its offset's region, so the
    union holds the same peaks there as the region alone."""
    goff = np.asarray(goff, np.int64)
    found = np.zeros(goff.shape[0], np.int64)
    chance = np.zeros(goff.shape[0])
    if qt.size == 0 or goff.size == 0:
        return found, chance
    span = int(qt.max()) + 1
    lo, hi = goff - region, goff + span + region
    keys = _union_peaks(lib, lo, hi)
    if keys.size == 0:
        return found, chance
    near = (qt[:, None] + np.arange(-1, 2)[None, :]).reshape(-1)  # the 3 frames around each peak
    at = (near[None, :] + goff[:, None]) << PEAK_BIN_BITS  # offsets × (peaks × 3 frames)
    hit = np.zeros((goff.size, qt.size), bool)
    for df in (-1, 0, 1):
        want = at | np.repeat(qf + df, 3)[None, :]
        p = np.minimum(np.searchsorted(keys, want), keys.size - 1)
        hit |= (keys[p] == want).reshape(goff.size, qt.size, 3).any(axis=2)
    found[:] = hit.sum(axis=1)
    first = np.searchsorted(keys, lo << PEAK_BIN_BITS)
    last = np.searchsorted(keys, hi << PEAK_BIN_BITS)
    for j in np.flatnonzero(last > first):  # each offset's own region gives its chance
        per_bin = np.bincount(keys[first[j] : last[j]] & (_NB - 1), minlength=_NB + 1).astype(float)
        around = per_bin[np.maximum(qf - 1, 0)] + per_bin[qf] + per_bin[np.minimum(qf + 1, _NB)]
        chance[j] = float(np.minimum(3.0 * around / (span + 2 * region), 1.0).sum())
    return found, chance


def _union_peaks(lib, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The stored peaks' keys (ascending) in the union of the frame ranges [lo, hi)."""
    order = np.argsort(lo, kind="stable")
    parts, a, b = [], int(lo[order[0]]), int(hi[order[0]])
    for j in order[1:]:
        if lo[j] > b:
            parts.append(lib.peaks_in(a, b))
            a, b = int(lo[j]), int(hi[j])
        else:
            b = max(b, int(hi[j]))
    parts.append(lib.peaks_in(a, b))
    return np.concatenate(parts)


def _distinct(x: np.ndarray) -> np.ndarray:
    """The distinct values of *x*, ascending: by a sort (numpy 2's hashing `np.unique` took ~17 times as
    long on the ~10^5 int64 keys a check makes)."""
    s = np.sort(x)
    return s[np.concatenate([[True], s[1:] != s[:-1]])] if s.size else s


def zscore(found: np.ndarray, chance: np.ndarray) -> np.ndarray:
    """How far *found* stands above *chance*, in Poisson standard deviations (+1: a floor for tiny chance)."""
    return (found - chance) / np.sqrt(chance + 1.0)


def lag_profile(lib, qt: np.ndarray, qf: np.ndarray, g: int, *, reach: int) -> np.ndarray:
    """Query peaks found on a stored peak (±1 frame, ±1 bin) at each offset ``g + lag``, lag in
    [-reach, reach]: a true offset is a sharp peak of this profile, a song of the same key and beat is a
    comb of many."""
    out = np.zeros(2 * reach + 1, np.int64)
    if qt.size == 0:
        return out
    keys = lib.peaks_in(int(g) + int(qt.min()) - reach - 1, int(g) + int(qt.max()) + reach + 2)
    if keys.size == 0:
        return out
    by_bin = np.sort(((keys & (_NB - 1)) << 40) | (keys >> PEAK_BIN_BITS))  # (bin, frame) order
    i = np.repeat(np.arange(qt.size), 3)
    f = (qf[:, None] + np.arange(-1, 2)[None, :]).reshape(-1)
    t = np.repeat(qt + int(g), 3)
    lo = np.searchsorted(by_bin, (f << 40) + (t - reach - 1))  # + not |: frames before the library's first are < 0
    hi = np.searchsorted(by_bin, (f << 40) + (t + reach + 1), side="right")
    n, pos = range_positions(lo, hi)  # every stored peak in each range
    lag = (by_bin[pos] & ((1 << 40) - 1)) - np.repeat(t, n)
    who = np.repeat(i, n)
    lag3 = (lag[:, None] + np.arange(-1, 2)[None, :]).reshape(-1)  # ±1 frame of slack
    who3 = np.repeat(who, 3)
    ok = np.abs(lag3) <= reach
    pair = _distinct(who3[ok] * (2 * reach + 1) + lag3[ok] + reach)  # each query peak once per lag
    return np.bincount(pair % (2 * reach + 1), minlength=2 * reach + 1)


def sharpness(profile: np.ndarray, *, near: int = 3) -> float:
    """How far the centre of a `lag_profile` stands over its lags more than *near* frames away, in sd of
    those (at least their Poisson sd): a true offset stands alone, a shared key and beat make a comb."""
    reach = profile.shape[0] // 2
    far = np.concatenate([profile[: reach - near], profile[reach + near + 1 :]]).astype(float)
    if far.size == 0:
        return 0.0
    return float((profile[reach] - far.mean()) / np.sqrt(max(far.var(), far.mean()) + 1.0))


def self_repeats(lib, track, frame: int, n_frames: int) -> np.ndarray:
    """Per frame of *track*: the share of the stored peaks of its frames [*frame*, *frame* + *n_frames*) that
    its own stored peaks repeat with the passage starting there (within ±1 frame, same bin). What the library
    itself says of a passage (a loop, a copied chorus), whatever the query heard: high at every place a clip
    of it fits nearly alike (and at *frame* itself). Empty when the passage holds no peaks."""
    keys = lib.peaks_in(track.base + frame, track.base + frame + n_frames)
    if keys.size == 0:
        return np.zeros(0)
    if keys.size > _SELF_PEAKS:  # a share needs no more (±5 % at 0.2) and the work grows with them
        keys = keys[np.linspace(0, keys.size - 1, _SELF_PEAKS).astype(np.int64)]
    every = lib.peaks_in(track.base, track.base + track.n_frames)
    pt, pb = (keys >> PEAK_BIN_BITS) - track.base - frame, keys & (_NB - 1)
    by_bin = np.sort(((every & (_NB - 1)) << 40) | ((every >> PEAK_BIN_BITS) - track.base))  # (bin, frame) order
    lo = np.searchsorted(by_bin, pb << 40)
    hi = np.searchsorted(by_bin, (pb + 1) << 40)
    n, pos = range_positions(lo, hi)  # every stored peak on each peak's bin
    start = ((by_bin[pos] & ((1 << 40) - 1)) - np.repeat(pt, n))[:, None] + np.arange(-1, 2)[None, :]
    who = np.repeat(np.repeat(np.arange(keys.size), n), 3)
    span = track.n_frames + 2
    ok = ((start >= 0) & (start < span)).reshape(-1)
    return np.bincount(_distinct(who[ok] * span + start.reshape(-1)[ok]) % span, minlength=span) / keys.size
