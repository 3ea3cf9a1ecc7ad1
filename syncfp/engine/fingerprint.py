"""mono audio → landmark `Hashes`: log spectrogram, whitened 2-D peaks at a set density, anchor→target pairs.

Everything is vectorized over frames, peaks and pairs. Long audio is processed in blocks whose padding
covers every filter's reach, so a 3-hour file costs one block of memory and gives the same hashes as
processing it whole.
"""

from __future__ import annotations

import numpy as np

from ..config import FingerprintConfig
from ..types import Hashes
from .spectral import rfft, running_mean  # SciPy's numbers without importing scipy.fft or scipy.ndimage

# Hash bit layout: | f1: 8 | f2: 8 | dt: 6 |, frequencies counted from cfg.fmin_bin.
F_BITS = 8
DT_BITS = 6
HASH_BITS = 2 * F_BITS + DT_BITS


def pack(f1: np.ndarray, f2: np.ndarray, dt: np.ndarray) -> np.ndarray:
    """Pack anchor bin, target bin (both relative to fmin_bin) and frame gap into uint32 hashes."""
    return (
        (f1.astype(np.uint32) << (F_BITS + DT_BITS)) | (f2.astype(np.uint32) << DT_BITS) | dt.astype(np.uint32)
    )


def unpack(h: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inverse of `pack`."""
    h = h.astype(np.uint32)
    mask_f = (1 << F_BITS) - 1
    return (h >> (F_BITS + DT_BITS)) & mask_f, (h >> DT_BITS) & mask_f, h & ((1 << DT_BITS) - 1)


def hash_peaks(h: Hashes, cfg: FingerprintConfig) -> np.ndarray:
    """The peaks *h* was made of, as ascending unique keys ``frame << 8 | bin``: every anchor and every target
    (a peak paired with nothing is missing: ~0.05 % of a track's). Needs ``cfg.fmax_bin < 256``."""
    f1, f2, dt = unpack(h.hash)
    t = np.concatenate([h.frame, h.frame.astype(np.int64) + dt]).astype(np.int64)
    f = np.concatenate([f1, f2]).astype(np.int64) + cfg.fmin_bin
    return np.unique((t << 8) | f)


def n_frames_for(n_samples: int, cfg: FingerprintConfig) -> int:
    """Number of full STFT frames in *n_samples* (frame i covers samples [i*hop, i*hop + n_fft))."""
    return max(0, 1 + (n_samples - cfg.n_fft) // cfg.hop) if n_samples >= cfg.n_fft else 0


def spectrogram_db(x: np.ndarray, cfg: FingerprintConfig) -> np.ndarray:
    """Power spectrogram in dB, shape (frames, n_fft // 2 + 1), Hann window."""
    n = n_frames_for(x.shape[0], cfg)
    if n == 0:
        return np.zeros((0, cfg.n_fft // 2 + 1), np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(x.astype(np.float32, copy=False), cfg.n_fft)[:: cfg.hop][:n]
    window = np.hanning(cfg.n_fft + 2)[1:-1].astype(np.float32)
    spec = rfft(frames * window, axis=1)
    power = spec.real**2
    power += spec.imag**2  # in place from here on: one array of this size instead of four
    power *= np.float32(4.0 / window.sum() ** 2)  # a full-scale sine reads ~0 dB
    power += np.float32(1e-12)
    np.log10(power, out=power)
    power *= np.float32(10.0)
    return power


def sliding_max(x: np.ndarray, size: int, axis: int) -> np.ndarray:
    """Centred running maximum over *size* (odd) samples along *axis*, edges held: log2(size) np.maximum."""
    half = size // 2
    y = np.moveaxis(x, axis, 0)
    n = y.shape[0]
    cur = np.concatenate([np.repeat(y[:1], half, 0), y, np.repeat(y[-1:], half, 0)])
    span = 1
    while span * 2 <= size:
        cur = np.maximum(cur[:-span], cur[span:])
        span *= 2
    if size - span:
        cur = np.maximum(cur[: -(size - span)], cur[size - span :])
    return np.moveaxis(cur[:n], 0, axis)


def find_peaks(
    spec_db: np.ndarray, cfg: FingerprintConfig, *, bias_db: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Whitened local maxima, strongest `peaks_per_s` per rank window → (frame, bin, strength) arrays.

    Strength is the whitened height, plus ``cfg.level_weight`` × the level, plus *bias_db* (per bin of
    ``fmin_bin..fmax_bin``; queries pass minus their noise floor). Frame numbers are relative to row 0 of
    *spec_db*, which must start on a rank-window boundary.
    """
    band = spec_db[:, cfg.fmin_bin : cfg.fmax_bin + 1]
    if band.shape[0] == 0:
        empty = np.zeros(0, np.int32)
        return empty, empty, np.zeros(0, np.float32)
    # the running mean down each bin (ndimage's uniform_filter1d, mode "nearest", bit for bit: spectral.py)
    white = band - running_mean(band, cfg.whiten_frames, axis=0)
    on = band if cfg.peak_on_level else white
    local_max = sliding_max(sliding_max(on, 2 * cfg.peak_dt + 1, 0), 2 * cfg.peak_df + 1, 1)
    is_peak = (on == local_max) & (band > cfg.floor_db)
    if not cfg.peak_on_level:
        is_peak &= white > 0.0
    t, f = np.nonzero(is_peak)
    strength = white[t, f]
    if cfg.level_weight:
        strength = strength + np.float32(cfg.level_weight) * band[t, f]
    if bias_db is not None:
        strength = strength + bias_db[f]
    keep_n = max(1, int(round(cfg.peaks_per_s * cfg.rank_frames * cfg.hop_s)))
    win = t // cfg.rank_frames
    order = np.lexsort((-strength, win))
    win_sorted = win[order]
    first = np.searchsorted(win_sorted, win_sorted, side="left")
    rank = np.arange(order.size) - first
    sel = np.sort(order[rank < keep_n])  # back to (t, f) order
    return t[sel].astype(np.int32), (f[sel] + cfg.fmin_bin).astype(np.int32), strength[sel]


def landmarks(t: np.ndarray, f: np.ndarray, cfg: FingerprintConfig) -> tuple[np.ndarray, np.ndarray]:
    """Pair each anchor peak with its first `fan_out` peaks in the target zone → (hash uint32, frame int32).

    Peaks must be sorted by (t, f). One vectorized pass per neighbour distance k, not per peak.
    """
    n = t.shape[0]
    taken = np.zeros(n, np.int32)
    active = np.arange(n)
    hashes, frames = [], []
    k = 1
    while active.size:
        active = active[active + k < n]
        if not active.size:
            break
        j = active + k
        dt = t[j] - t[active]
        active, j, dt = active[dt <= cfg.zone_dt], j[dt <= cfg.zone_dt], dt[dt <= cfg.zone_dt]
        df = f[j] - f[active]
        ok = (dt >= 1) & (np.abs(df) <= cfg.zone_df) & (taken[active] < cfg.fan_out)
        a, b = active[ok], j[ok]
        hashes.append(pack(f[a] - cfg.fmin_bin, f[b] - cfg.fmin_bin, t[b] - t[a]))
        frames.append(t[a])
        taken[a] += 1
        active = active[taken[active] < cfg.fan_out]
        k += 1
    if not hashes:
        return np.zeros(0, np.uint32), np.zeros(0, np.int32)
    h = np.concatenate(hashes)
    fr = np.concatenate(frames).astype(np.int32)
    order = np.argsort(fr, kind="stable")
    return h[order], fr[order]


def as_float(raw: np.ndarray) -> np.ndarray:
    """Analysis audio as float32 in [-1, 1]: int16 PCM (read from disk) scaled, float audio as it is."""
    raw = np.asarray(raw)
    return raw.astype(np.float32) / 32768.0 if np.issubdtype(raw.dtype, np.integer) else raw.astype(np.float32)


def noise_floor_bias(spec_db: np.ndarray, cfg: FingerprintConfig, pct: float) -> np.ndarray:
    """Minus each bin's *pct* percentile level over the stretch (its noise floor), as `find_peaks`'s
    *bias_db*: a peak that stands far above the noise in its bin is the one most likely to be the library's
    peak too, and in a noise-free bin the floor is the music's own, so the ranking is nearly the library's."""
    band = spec_db[:, cfg.fmin_bin : cfg.fmax_bin + 1]
    kth = int(pct / 100 * (band.shape[0] - 1))
    return -np.partition(np.ascontiguousarray(band.T), kth, axis=1)[:, kth]


def signal_peaks(x: np.ndarray, cfg: FingerprintConfig, *, floor_pct: float | None = None
                 ) -> tuple[np.ndarray, np.ndarray, int]:
    """(frame, bin, number of frames) of a whole in-memory signal's peaks (mono float or int16 at
    cfg.rate_hz). With *floor_pct* (queries), peaks are also ranked by their height over their bin's noise
    floor (`noise_floor_bias`)."""
    spec = spectrogram_db(as_float(x), cfg)
    bias = noise_floor_bias(spec, cfg, floor_pct) if floor_pct is not None and spec.shape[0] else None
    t, f, _ = find_peaks(spec, cfg, bias_db=bias)
    return t, f, spec.shape[0]


def fingerprint(x: np.ndarray, cfg: FingerprintConfig, *, floor_pct: float | None = None) -> Hashes:
    """Hashes of a whole in-memory signal: its `signal_peaks` paired by `landmarks`."""
    t, f, n_frames = signal_peaks(x, cfg, floor_pct=floor_pct)
    h, fr = landmarks(t, f, cfg)
    return Hashes(hash=h, frame=fr, n_frames=n_frames)


def fingerprint_blocks(x: np.ndarray, cfg: FingerprintConfig, *, block_windows: int = 64) -> Hashes:
    """Same hashes as `fingerprint`, computed block by block.

    *x* is anything sliceable with a ``shape``: an array, a memmap or `extract.PcmFile`; int16 is scaled.
    Blocks start on rank-window boundaries, so the density ranking sees the same windows as a whole pass.
    """
    n_frames = n_frames_for(x.shape[0], cfg)
    block = block_windows * cfg.rank_frames
    reach = cfg.whiten_frames // 2 + cfg.peak_dt + 1  # how far a peak's value depends on other frames
    pad_l = -(-reach // cfg.rank_frames) * cfg.rank_frames
    pad_r = -(-(reach + cfg.zone_dt + 1) // cfg.rank_frames) * cfg.rank_frames
    out_h, out_f = [], []
    for f0 in range(0, max(n_frames, 1), block):
        f1 = min(f0 + block, n_frames)
        a, b = max(0, f0 - pad_l), min(n_frames, f1 + pad_r)
        if b <= a:
            break
        seg = as_float(x[a * cfg.hop : (b - 1) * cfg.hop + cfg.n_fft])  # int16 from disk, or float in memory
        t, f, _ = find_peaks(spectrogram_db(seg, cfg), cfg)
        t = t + a
        keep = t < f1 + cfg.zone_dt + 1
        t, f = t[keep], f[keep]
        h, fr = landmarks(t, f, cfg)
        core = (fr >= f0) & (fr < f1)
        out_h.append(h[core])
        out_f.append(fr[core])
    if not out_h:
        return Hashes(np.zeros(0, np.uint32), np.zeros(0, np.int32), n_frames)
    return Hashes(np.concatenate(out_h), np.concatenate(out_f), n_frames)

