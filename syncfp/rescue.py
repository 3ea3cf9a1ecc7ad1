"""unplaced clips + long placed clips → extra edges from onset-envelope cross-correlation, each verified by
GCC-PHAT windows before it is trusted.

Landmark hashes need spectral peaks that survive; a phone at 0 dB SNR in a crowd, clipped and reverberant,
may keep too few of them. Its onsets still follow the music: multi-band onset envelopes at 100 frames/s,
cross-correlated over the whole clip, find a candidate lag where hashes found nothing. Envelopes of
unrelated music with the same tempo also correlate, so a candidate only becomes an edge when most
2-second GCC-PHAT windows (the refinement) agree with it to a fraction of a millisecond.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import scipy.fft

from .config import RefineConfig
from .extract import PcmFile
from .refine import refine_edge
from .types import Fingerprint, PairMatch

ENV_HOP = 80  # samples at 8 kHz: 10 ms envelope frames
ENV_NFFT = 256
N_BANDS = 8


@dataclass(frozen=True)
class RescueConfig:
    """Limits of the rescue search."""

    anchors: int = 3  # longest placed clips each unplaced clip is searched against
    max_query_s: float = 120.0  # the middle of longer clips is enough
    min_z: float = 6.0  # envelope correlation peak over its robust spread
    candidates: int = 3  # lags tried per anchor
    max_error_s: float = 0.00025  # verified: the windows agree to a quarter millisecond
    min_windows: int = 3
    min_window_share: float = 0.5  # of the windows tried


def onset_envelope(fp: Fingerprint, *, start_s: float = 0.0, dur_s: float | None = None) -> np.ndarray:
    """(bands, frames) z-scored half-wave-rectified log-energy differences in log-spaced bands.

    Computed in blocks of a minute, so a 3-hour anchor costs its envelope (100 frames/s), not its audio.
    """
    pcm = PcmFile(fp.pcm_path)
    i0 = int(start_s * fp.rate_hz)
    i1 = pcm.shape[0] if dur_s is None else min(pcm.shape[0], i0 + int(dur_s * fp.rate_hz))
    n = 1 + (i1 - i0 - ENV_NFFT) // ENV_HOP if i1 - i0 >= ENV_NFFT else 0
    if n < 4:
        return np.zeros((N_BANDS, 0), np.float32)
    edges = np.unique(np.geomspace(4, ENV_NFFT // 2 - 6, N_BANDS + 1).astype(int))
    window = np.hanning(ENV_NFFT).astype(np.float32)
    block = 6000  # frames: one minute
    parts = []
    for f0 in range(0, n, block):
        f1 = min(n, f0 + block)
        s0 = i0 + f0 * ENV_HOP
        x = pcm[s0 : s0 + (f1 - f0 - 1) * ENV_HOP + ENV_NFFT].astype(np.float32) / 32768.0
        frames = np.lib.stride_tricks.sliding_window_view(x, ENV_NFFT)[::ENV_HOP][: f1 - f0]
        spec = np.abs(scipy.fft.rfft(frames * window, axis=1)) ** 2
        parts.append(np.log(np.add.reduceat(spec, edges[:-1], axis=1)[:, : edges.size - 1] + 1e-9))
    loge = np.concatenate(parts)
    flux = np.maximum(np.diff(loge, axis=0, prepend=loge[:1]), 0.0).T
    flux -= flux.mean(axis=1, keepdims=True)
    flux /= flux.std(axis=1, keepdims=True) + 1e-9
    return flux.astype(np.float32)


def _xcorr(query: np.ndarray, anchor: np.ndarray) -> tuple[np.ndarray, int]:
    """Band-summed correlation for every lag where they overlap; returns (c, lag of c[0])."""
    lq, la = query.shape[1], anchor.shape[1]
    n = scipy.fft.next_fast_len(lq + la)
    fq = scipy.fft.rfft(query, n, axis=1)
    fa = scipy.fft.rfft(anchor, n, axis=1)
    c = scipy.fft.irfft((np.conj(fq) * fa).sum(axis=0), n)
    # lags -(lq-1) .. la-1: anchor frame where the query's first frame lands
    c = np.concatenate([c[n - (lq - 1) :], c[:la]])
    return c, -(lq - 1)


def _peaks(c: np.ndarray, k: int, guard: int) -> list[tuple[int, float]]:
    """The k highest local peaks of c, at least *guard* apart, as (index, robust z)."""
    med = np.median(c)
    spread = 1.4826 * np.median(np.abs(c - med)) + 1e-12
    z = (c - med) / spread
    out = []
    zz = z.copy()
    for _ in range(k):
        i = int(np.argmax(zz))
        out.append((i, float(z[i])))
        zz[max(0, i - guard) : i + guard + 1] = -np.inf
    return out


def rescue(
    lost: list[int], anchors: list[int], fps: list[Fingerprint], *, cfg: RescueConfig = RescueConfig(),
    refine_cfg: RefineConfig = RefineConfig(),
) -> list[PairMatch]:
    """Verified edges between each clip in *lost* and the *anchors* (indices into *fps*)."""
    env_cache: dict[int, np.ndarray] = {}
    found: list[PairMatch] = []
    for q in lost:
        fq = fps[q]
        q_start = max(0.0, (fq.duration_s - cfg.max_query_s) / 2)
        envq = onset_envelope(fq, start_s=q_start, dur_s=cfg.max_query_s)
        if envq.shape[1] < 200:  # under 2 s of envelope tells nothing
            continue
        for a in anchors[: cfg.anchors]:
            if a == q:
                continue
            if a not in env_cache:
                env_cache[a] = onset_envelope(fps[a])
            enva = env_cache[a]
            if enva.shape[1] < 200:
                continue
            c, lag0 = _xcorr(envq, enva)
            verified = []
            for i, z in _peaks(c, cfg.candidates, guard=100):
                if z < cfg.min_z:
                    break
                # position of q's first sample in a's time
                offset = (i + lag0) * ENV_HOP / fq.rate_hz - q_start
                edge = _verify(a, q, offset, z, fps, cfg, refine_cfg)
                if edge is not None:
                    verified.append(edge)
            if verified:
                verified.sort(key=lambda e: (-e.windows, -e.z))
                best = verified[0]
                # several offsets fit sample-exactly (a loop): take one only if it clearly fits better
                if len(verified) > 1 and best.windows == verified[1].windows and best.z < 1.5 * verified[1].z:
                    break
                found.append(best)
                break
    return found


def _verify(a: int, q: int, offset_s: float, z: float, fps, cfg: RescueConfig, rcfg: RefineConfig):
    """GCC-PHAT windows around the candidate; the edge only if most of them agree closely."""
    lo, hi = (a, q) if a < q else (q, a)
    off = offset_s if a < q else -offset_s
    cand = PairMatch(a=lo, b=hi, offset_s=off, rate=1.0, support=0, z=z, ratio=1.0, trusted=False)
    tried = _windows_tried(cand, fps[lo], fps[hi], rcfg)
    if tried == 0:
        return None
    ref = refine_edge(cand, fps[lo], fps[hi], rcfg)
    if not ref.refined or ref.windows < cfg.min_windows or ref.windows < cfg.min_window_share * tried:
        return None
    if ref.error_s is None or ref.error_s > cfg.max_error_s:
        return None
    return replace(ref, trusted=True, support=4 * ref.windows, ratio=2.0)


def _windows_tried(e: PairMatch, fa: Fingerprint, fb: Fingerprint, rcfg: RefineConfig) -> int:
    """How many windows `refine_edge` will try for *e* (mirrors its overlap arithmetic)."""
    alpha = -e.offset_s * e.rate
    lo = max(0.0, -alpha / e.rate) + rcfg.search_s
    hi = min(fa.duration_s, (fb.duration_s - alpha) / e.rate) - rcfg.search_s
    if hi - lo < 0.5:
        return 0
    w = min(rcfg.window_s, hi - lo)
    return int(min(rcfg.max_windows, max(1, np.floor((hi - lo) / w))))
