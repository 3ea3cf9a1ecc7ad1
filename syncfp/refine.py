"""coarse `PairMatch` + analysis audio → sample-accurate offset and clock rate by GCC-PHAT over windows.

Windows spread over the pair's overlap are cross-correlated with phase-transform weighting (robust to the
different EQ and reverb of each device), the peak is interpolated to a fraction of a sample, and a line
through the windows' positions gives the offset and the relative clock rate; its scatter gives the error.
"""

from __future__ import annotations

from dataclasses import replace

from functools import lru_cache

import numpy as np
import scipy.fft

from .config import RefineConfig
from .extract import read_window
from .types import Fingerprint, PairMatch


@lru_cache(maxsize=8)
def _hann(n: int) -> np.ndarray:
    return np.hanning(n).astype(np.float32)


def gcc_phat(a: np.ndarray, b: np.ndarray, max_lag: int) -> tuple[float, float]:
    """Lag (samples, fractional) of *a* inside *b* and the normalised peak height (1 = identical)."""
    # lags 0..max_lag of a inside b never wrap once nfft covers b (b.size >= a.size + max_lag)
    nfft = scipy.fft.next_fast_len(max(b.size, a.size + max_lag + 1), real=True)
    fa = scipy.fft.rfft((a * _hann(a.size)).astype(np.float32), nfft)
    fb = scipy.fft.rfft(b.astype(np.float32), nfft)
    cross = np.conj(fa) * fb
    mag = np.abs(cross)
    top = float(mag.max())
    if not top > 0.0:  # a window of digital silence: no timing in it (0/0 would poison the line fit)
        return 0.0, 0.0
    cross /= np.maximum(mag, 1e-12 * top)
    lo = int(0.012 * nfft)  # ~100 Hz at 8 kHz: rumble and handling noise carry no timing
    cross[:lo] = 0
    r = scipy.fft.irfft(cross, nfft)
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


def window_plan(e: PairMatch, dur_a: float, dur_b: float, cfg: RefineConfig) -> tuple[np.ndarray, float]:
    """Where `refine_edge` puts its windows: their starts in a's seconds (spread over the overlap, inside
    the search margin) and their length; no starts when the overlap is under half a second."""
    alpha = -e.offset_s * e.rate
    lo = max(0.0, -alpha / e.rate) + cfg.search_s
    hi = min(dur_a, (dur_b - alpha) / e.rate) - cfg.search_s
    if hi - lo < 0.5:
        return np.zeros(0), 0.0
    w = min(cfg.window_s, hi - lo)
    n_win = int(min(cfg.max_windows, max(1, np.floor((hi - lo) / w))))
    return (np.linspace(lo, hi - w, n_win) if n_win > 1 else np.array([lo])), w


def refine_edge(
    e: PairMatch, fa: Fingerprint, fb: Fingerprint, cfg: RefineConfig = RefineConfig()
) -> PairMatch:
    """Refine one edge; returns it unchanged (refined=False) when too few windows correlate."""
    rate = fa.rate_hz
    alpha = -e.offset_s * e.rate  # t_b = alpha + beta * t_a, seconds
    beta = e.rate
    margin = cfg.search_s
    starts, w = window_plan(e, fa.duration_s, fb.duration_s, cfg)
    if not starts.size:
        return e
    n_win = starts.size
    ta, tb, peak = [], [], []
    max_lag = int(np.ceil(2 * margin * rate))
    for s in starts:
        xa, ia = read_window(fa, s, w)
        if xa.size < rate * 0.25 or not np.any(xa):
            continue
        t_a0 = ia / rate
        t_b0 = alpha + beta * t_a0 - margin
        stretch = abs(beta - 1.0) > max(20e-6, 2 * e.rate_error)
        if stretch:  # put b on a's clock so windows stay coherent under large drift
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
        # a residual rate error makes the correlation line up the windows' centres, so measure there
        half = 0.5 * xa.size / rate
        step = beta if stretch else 1.0
        ta.append(t_a0 + half)
        tb.append(b_start + step * lag / rate + step * half)
        peak.append(height)
    if len(ta) < min(cfg.min_windows, n_win):
        return e
    return _fit(e, np.array(ta), np.array(tb), np.array(peak), beta)



def _line(t: np.ndarray, y: np.ndarray, w: np.ndarray, beta0: float, fit_rate: bool):
    """Weighted line y = alpha + beta t, or with beta fixed to *beta0*; returns (alpha, beta, slope std)."""
    if fit_rate:
        tm = np.average(t, weights=w)
        dt = t - tm
        beta = float(np.sum(w * dt * (y - np.average(y, weights=w))) / np.sum(w * dt * dt))
        alpha = float(np.average(y, weights=w) - beta * tm)
        res = y - (alpha + beta * t)
        sigma = np.sqrt(np.sum(w * res**2) / np.sum(w) * t.size / max(t.size - 2, 1))
        slope_std = float(max(sigma, 2e-5) / np.sqrt(np.sum(dt * dt)))
        return alpha, beta, slope_std
    alpha = float(np.average(y - beta0 * t, weights=w))
    return alpha, beta0, None


def _fit(e: PairMatch, ta: np.ndarray, tb: np.ndarray, peak: np.ndarray, beta0: float) -> PairMatch:
    """Robust line t_b = alpha + beta t_a through the windows (outliers dropped by MAD).

    Over a short span the windows cannot measure drift; the rate then stays 1 with a wide error, so the
    graph solve takes clock rates from longer overlaps.
    """
    span_all = float(ta.max() - ta.min())
    fit_rate = ta.size >= 3 and span_all >= 8.0
    base = beta0 if fit_rate else 1.0
    keep = np.ones(ta.size, bool)
    alpha, beta, slope_std = _line(ta, tb, peak, base, fit_rate)
    for _ in range(3):
        res = tb - (alpha + beta * ta)
        med = np.median(res[keep])
        mad = np.median(np.abs(res[keep] - med))
        new_keep = np.abs(res - med) <= max(5 * 1.4826 * mad, 0.0005)
        if new_keep.sum() < 2 or np.array_equal(new_keep, keep):
            break
        keep = new_keep
        fit_rate = fit_rate and keep.sum() >= 3 and float(np.ptp(ta[keep])) >= 8.0
        alpha, beta, slope_std = _line(ta[keep], tb[keep], peak[keep], base, fit_rate)
    res = (tb - (alpha + beta * ta))[keep]
    n = int(keep.sum())
    n_par = 2 if slope_std is not None else 1
    spread = float(np.sqrt(np.sum(res**2) / max(n - n_par, 1))) if n > n_par else 0.0005
    # an 8 kHz sample over sqrt(12) is the floor of what the windows can tell
    err = max(spread / np.sqrt(max(n, 1)), 3.6e-5)
    rate_error = slope_std if slope_std is not None else 1e-3
    return replace(
        e, offset_s=float(-alpha / beta), rate=float(beta), refined=True, error_s=float(err), windows=n,
        rate_error=float(max(rate_error, 1e-7)),
    )
