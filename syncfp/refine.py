"""coarse `PairMatch` + analysis audio → sample-accurate offset and clock rate by GCC-PHAT over windows.

Windows spread over the pair's overlap are cross-correlated with phase-transform weighting (robust to the
different EQ and reverb of each device), the peak is interpolated to a fraction of a sample, and a line
through the windows' positions gives the offset and the relative clock rate; its scatter gives the error.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .config import RefineConfig
from .extract import read_window
from .types import Fingerprint, PairMatch


def gcc_phat(a: np.ndarray, b: np.ndarray, max_lag: int) -> tuple[float, float]:
    """Lag (samples, fractional) of *a* inside *b* and the normalised peak height (1 = identical)."""
    n = a.size + b.size
    nfft = 1 << int(np.ceil(np.log2(n)))
    fa = np.fft.rfft(a * np.hanning(a.size), nfft)
    fb = np.fft.rfft(b, nfft)
    cross = np.conj(fa) * fb
    mag = np.abs(cross)
    cross /= np.maximum(mag, 1e-12 * (mag.max() + 1e-30))
    lo = int(0.012 * nfft)  # ~100 Hz at 8 kHz: rumble and handling noise carry no timing
    cross[:lo] = 0
    r = np.fft.irfft(cross, nfft)
    lags = np.arange(0, max_lag + 1)
    seg = r[lags]
    i = int(np.argmax(seg))
    peak = float(seg[i])
    frac = 0.0
    if 0 < i < seg.size - 1:
        y0, y1, y2 = seg[i - 1], seg[i], seg[i + 1]
        den = y0 - 2 * y1 + y2
        if den < 0:
            frac = 0.5 * (y0 - y2) / den
    norm = (nfft // 2 + 1 - lo) / nfft
    return float(lags[i] + frac), peak / max(norm, 1e-9)


def refine_edge(
    e: PairMatch, fa: Fingerprint, fb: Fingerprint, cfg: RefineConfig = RefineConfig()
) -> PairMatch:
    """Refine one edge; returns it unchanged (refined=False) when too few windows correlate."""
    rate = fa.rate_hz
    alpha = -e.offset_s * e.rate  # t_b = alpha + beta * t_a, seconds
    beta = e.rate
    lo = max(0.0, -alpha / beta)
    hi = min(fa.duration_s, (fb.duration_s - alpha) / beta)
    margin = cfg.search_s
    lo, hi = lo + margin, hi - margin
    if hi - lo < 0.5:
        return e
    w = min(cfg.window_s, hi - lo)
    n_win = int(min(cfg.max_windows, max(1, np.floor((hi - lo) / w))))
    starts = np.linspace(lo, hi - w, n_win) if n_win > 1 else np.array([lo])
    ta, tb, peak = [], [], []
    max_lag = int(np.ceil(2 * margin * rate))
    for s in starts:
        xa, ia = read_window(fa, s, w)
        if xa.size < rate * 0.25 or not np.any(xa):
            continue
        t_a0 = ia / rate
        t_b0 = alpha + beta * t_a0 - margin
        if abs(beta - 1.0) > 20e-6:  # stretch b onto a's clock so long windows stay coherent
            xb_raw, ib = read_window(fb, t_b0 - 0.01, beta * (xa.size / rate + 2 * margin) + 0.02)
            pos = (t_b0 + beta * np.arange(int(xa.size + 2 * margin * rate)) / rate) * rate - ib
            xb = np.interp(pos, np.arange(xb_raw.size), xb_raw) if xb_raw.size else xb_raw
            b_start = t_b0
        else:
            xb, ib = read_window(fb, t_b0, xa.size / rate + 2 * margin)
            b_start = ib / rate
        if xb.size < xa.size + 2:
            continue
        lag, height = gcc_phat(xa, xb, min(max_lag, xb.size - xa.size))
        if height < cfg.min_peak:
            continue
        ta.append(t_a0)
        step = beta if abs(beta - 1.0) > 20e-6 else 1.0
        tb.append(b_start + step * lag / rate)
        peak.append(height)
    if len(ta) < min(cfg.min_windows, n_win):
        return e
    return _fit(e, np.array(ta), np.array(tb), np.array(peak), beta)


def _fit(e: PairMatch, ta: np.ndarray, tb: np.ndarray, peak: np.ndarray, beta0: float) -> PairMatch:
    """Robust line t_b = alpha + beta t_a through the windows; keeps the coarse rate over short spans."""
    keep = np.ones(ta.size, bool)
    alpha = beta = None
    for _ in range(3):
        t, y, wt = ta[keep], tb[keep], peak[keep]
        span = t.max() - t.min() if t.size else 0.0
        if t.size >= 3 and span >= 20.0:
            beta, alpha = np.polyfit(t, y, 1, w=np.sqrt(wt))
        else:
            beta = beta0
            alpha = float(np.average(y - beta0 * t, weights=wt))
        res = tb - (alpha + beta * ta)
        mad = np.median(np.abs(res[keep] - np.median(res[keep]))) if keep.sum() else 0.0
        new_keep = np.abs(res) <= max(5 * 1.4826 * mad, 0.0005)
        if new_keep.sum() < 1 or np.array_equal(new_keep, keep):
            break
        keep = new_keep
    t, res = ta[keep], (tb - (alpha + beta * ta))[keep]
    n = int(keep.sum())
    spread = float(np.sqrt(np.mean(res**2))) if n > 1 else 0.0005
    # one sample at 8 kHz / sqrt(12) is the floor of what the windows can tell
    err = max(spread / np.sqrt(max(n - (2 if t.size >= 3 else 1), 1)), 3.6e-5)
    return replace(
        e, offset_s=float(-alpha / beta), rate=float(beta), refined=True, error_s=float(err), windows=n,
    )
