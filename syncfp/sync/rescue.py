"""unplaced clips + long placed clips → extra edges from onset-envelope cross-correlation, each verified by
GCC-PHAT windows before it is trusted.

Landmark hashes need spectral peaks that survive; a phone at 0 dB SNR in a crowd, clipped and reverberant,
may keep too few of them. Its onsets still follow the music: multi-band onset envelopes at 100 frames/s,
correlated over the whole clip (a correlation coefficient per lag, so a quiet intro competes with a loud
chorus), find candidate lags where hashes found nothing. Envelopes of unrelated music with the same tempo
also correlate, so a candidate must first light up one of a few GCC-PHAT windows (cheap), and only becomes
an edge when most 2-second GCC-PHAT windows (the refinement) agree with it to a fraction of a millisecond.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np
import scipy.fft

from ..audio.extract import PcmFile, read_window
from ..config import RescueConfig, VerifyConfig
from ..engine.refine import gcc_phat_z
from ..types import Fingerprint, PairMatch
from .verify import check_hypothesis, verify_pair

ENV_RATE = 8000  # the analysis rate the envelope's hop is counted in
ENV_HOP = 80  # samples at 8 kHz: 10 ms envelope frames
ENV_NFFT = 256
N_BANDS = 8


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


class _Anchor:
    """An anchor's envelope prepared once for every query: its spectrum, and its squares summed over bands."""

    def __init__(self, env: np.ndarray, max_query_frames: int):
        self.env = env
        self.frames = env.shape[1]
        self.n = scipy.fft.next_fast_len(self.frames + max_query_frames)
        self.spec = scipy.fft.rfft(env, self.n, axis=1)
        self.power = np.einsum("bf,bf->f", env, env, dtype=np.float64)


def _window_sums(x: np.ndarray, lq: int) -> np.ndarray:
    """Sums of anchor row *x* over the frames each lag's query covers, for lags -(lq-1) .. x.size-1."""
    # zeros beyond the ends count for nothing in a window that hangs over them
    c = np.cumsum(np.pad(x.astype(np.float64), (lq, lq)))
    return c[lq : lq + x.size + lq - 1] - c[: x.size + lq - 1]


def _xcorr(query: np.ndarray, anchor: _Anchor, min_frames: int) -> tuple[np.ndarray, int]:
    """Correlation coefficient × sqrt(overlap) for every lag; returns (c, lag of c[0]).

    Centred and normalised per band over each lag's overlap, so a quiet intro competes with a loud rhythmic
    chorus on equal terms; lags overlapping fewer than *min_frames* frames (or the whole query) score 0.
    One band at a time, so a 3-hour anchor costs a few arrays of its length, not one per band.
    """
    lq, la, n = query.shape[1], anchor.frames, anchor.n
    raw = scipy.fft.irfft((np.conj(scipy.fft.rfft(query, n, axis=1)) * anchor.spec).sum(axis=0), n)
    # lags -(lq-1) .. la-1: anchor frame where the query's first frame lands
    lag = np.arange(-(lq - 1), la)
    cnt = (np.minimum(la, lag + lq) - np.maximum(0, lag)).astype(np.float64)
    # the query's own sums are those of the whole query, except where it hangs over either end of the anchor
    edge = np.flatnonzero((lag < 0) | (lag > la - lq))
    q = query.astype(np.float64)
    cq = np.concatenate([np.zeros((q.shape[0] + 1, 1)),
                         np.cumsum(np.concatenate([q, (q * q).sum(axis=0, keepdims=True)]), axis=1)], axis=1)
    hi, lo = np.clip(la - lag[edge], 0, lq), np.clip(-lag[edge], 0, lq)
    sq_edge = cq[:, hi] - cq[:, lo]  # (bands + 1, edge lags)
    cross = np.zeros(lag.size)  # sum over bands of (sum a)(sum q) over the overlap
    a2 = np.zeros(lag.size)  # ... of (sum a)^2
    q2 = np.full(lag.size, float((cq[:-1, -1] ** 2).sum()))  # ... of (sum q)^2
    q2[edge] = (sq_edge[:-1] ** 2).sum(axis=0)
    for b in range(q.shape[0]):
        sa = _window_sums(anchor.env[b], lq)
        cross += sa * cq[b, -1]
        cross[edge] += sa[edge] * (sq_edge[b] - cq[b, -1])
        a2 += sa * sa
    va = _window_sums(anchor.power, lq) - a2 / cnt
    vq = np.full(lag.size, cq[-1, -1])
    vq[edge] = sq_edge[-1]
    vq -= q2 / cnt
    num = np.concatenate([raw[n - (lq - 1) :], raw[:la]]) - cross / cnt
    c = num / np.sqrt(np.maximum(va * vq, 1e-12)) * np.sqrt(cnt)
    c[cnt < min(lq, min_frames)] = 0.0
    return c, -(lq - 1)


def _peaks(c: np.ndarray, k: int, guard: int) -> list[tuple[int, float]]:
    """The k highest local peaks of c, at least *guard* apart, as (index, robust z).

    The spread is taken over the lags that were scored (`_xcorr` zeroes lags with too little overlap): two
    short clips leave few of them, and a spread over mostly zeros would be zero and every z enormous."""
    valid = c != 0.0
    if valid.sum() < 2 * guard:
        return []
    med = np.median(c[valid])
    spread = 1.4826 * np.median(np.abs(c[valid] - med)) + 1e-12
    z = (c - med) / spread
    out = []
    zz = np.where(valid, z, -np.inf)
    for _ in range(k):
        i = int(np.argmax(zz))
        if not np.isfinite(zz[i]):
            break
        out.append((i, float(z[i])))
        zz[max(0, i - guard) : i + guard + 1] = -np.inf
    return out


def _query(fq: Fingerprint, cfg: RescueConfig) -> tuple[float, np.ndarray]:
    """(start s, envelope) of the middle `max_query_s` of a clip: what is correlated against anchors."""
    q_start = max(0.0, (fq.duration_s - cfg.max_query_s) / 2)
    return q_start, onset_envelope(fq, start_s=q_start, dur_s=cfg.max_query_s)


def _candidates(envq: np.ndarray, q_start: float, rate_hz: int, anchor: _Anchor, cfg: RescueConfig,
                k: int) -> list[tuple[float, float]]:
    """The *k* best envelope lags of a query against an anchor: (position of the query's first sample in
    the anchor's time, robust z), strongest first."""
    c, lag0 = _xcorr(envq, anchor, cfg.min_overlap_frames)
    return [((i + lag0) * ENV_HOP / rate_hz - q_start, z) for i, z in _peaks(c, k, guard=100)]


def envelope_offsets(clips: list[int], anchors: list[int], fps: list[Fingerprint], *, cfg: RescueConfig,
                     k: int, workers: int = 1) -> dict[tuple[int, int], list[tuple[float, float]]]:
    """{(anchor, clip): its *k* best envelope lags (`_candidates`)}: unverified, for callers that weigh many
    clips' candidates together (recording clocks' votes)."""
    if not clips or not anchors:
        return {}

    def one(q: int) -> dict:
        q_start, envq = _query(fps[q], cfg)
        if envq.shape[1] < 200:
            return {}
        return {(a, q): _candidates(envq, q_start, fps[q].rate_hz, envs[a], cfg, k)
                for a in anchors if a != q and envs[a] is not None}

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        envs = _anchor_envelopes(anchors, fps, fps[clips[0]].rate_hz, cfg, pool)
        out: dict = {}
        for d in pool.map(one, clips):
            out.update(d)
    return out


def _anchor_envelopes(anchors: list[int], fps: list[Fingerprint], rate_hz: int, cfg: RescueConfig,
                      pool: ThreadPoolExecutor) -> dict[int, _Anchor | None]:
    """Each anchor's envelope prepared for queries up to `max_query_s` (None: under 2 s of envelope)."""
    envq_max = int(cfg.max_query_s * rate_hz) // ENV_HOP + 1  # longest query envelope

    def anchor(a: int) -> _Anchor | None:
        env = onset_envelope(fps[a])
        return _Anchor(env, envq_max) if env.shape[1] >= 200 else None

    return dict(zip(anchors, pool.map(anchor, anchors)))


def rescue(
    lost: list[int], anchors: list[int], fps: list[Fingerprint], *, cfg: RescueConfig = RescueConfig(),
    verify_cfg: VerifyConfig = VerifyConfig(), workers: int = 1, may_pair: Callable[[int, int], bool] | None = None,
) -> list[PairMatch]:
    """Verified edges between each clip in *lost* and the *anchors* (indices into *fps*); *may_pair(a, q)*
    false skips an anchor for that clip before any work (two takes of one device cannot overlap).

    Clips are searched on *workers* threads (the FFTs, file reads and long numpy passes release the GIL);
    each clip's search is independent, so the result does not depend on the number of threads.
    """
    if not lost:
        return []
    used = anchors[: cfg.anchors]
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        envs = _anchor_envelopes(used, fps, fps[lost[0]].rate_hz, cfg, pool)
        edges = list(pool.map(lambda q: _rescue_one(q, used, envs, fps, cfg, verify_cfg, may_pair), lost))
    return [e for e in edges if e is not None]


def _rescue_one(q: int, anchors: list[int], envs: dict, fps: list[Fingerprint], cfg: RescueConfig,
                vcfg: VerifyConfig, may_pair: Callable[[int, int], bool] | None = None) -> PairMatch | None:
    """The verified edge for lost clip *q* against the first anchor that yields one, or None.

    The envelope's candidate lags against one anchor are hypotheses of one pair, decided by `verify_pair`
    like the fingerprint's: a loop that fits at several lags is left alone."""
    fq = fps[q]
    q_start, envq = _query(fq, cfg)
    if envq.shape[1] < 200:  # under 2 s of envelope tells nothing
        return None
    for a in anchors:
        anchor = envs[a]
        if anchor is None or a == q or (may_pair is not None and not may_pair(a, q)):
            continue
        offsets = []  # position of q's first sample in a's time, per candidate that lights up
        for offset, z in _candidates(envq, q_start, fq.rate_hz, anchor, cfg, cfg.candidates):
            if z < cfg.min_z:
                break
            if _probe(fps[a], fq, offset, cfg, vcfg):
                offsets.append((offset, z))
        if not offsets:
            continue
        lo, hi = (a, q) if a < q else (q, a)
        hyps = [PairMatch(a=lo, b=hi, offset_s=o if a < q else -o, rate=1.0, support=0, z=z, ratio=1.0,
                          trusted=False, hypothesis=h) for h, (o, z) in enumerate(offsets)]
        verdict = verify_pair(hyps, fps[hyps[0].a], fps[hyps[0].b], vcfg)
        if verdict.ambiguous:
            return None
        if verdict.edge is not None:
            seen: list[float] = []
            if _repeated(verdict.edge, a, q, anchor, envq.shape[1], q_start, fps, cfg, vcfg, seen=seen):
                return None  # it fits as well where the anchor repeats itself
            return replace(verdict.edge, support=4 * verdict.edge.windows, ratio=2.0,
                           rivals=tuple(seen) if cfg.keep_rivals else ())
    return None


def _repeats(anchor: _Anchor, start: int, length: int, cfg: RescueConfig) -> list[int]:
    """Frame shifts at which the anchor's own envelope over [start, start + length) recurs in the anchor
    (a loop, a repeated chorus), strongest first; the stretch's own place is left out."""
    lo, hi = max(0, start), min(anchor.frames, start + length)
    if hi - lo < 200:
        return []
    c, lag0 = _xcorr(anchor.env[:, lo:hi], anchor, cfg.min_overlap_frames)
    return [i + lag0 - lo for i, z in _peaks(c, cfg.candidates + 1, guard=100)
            if z >= cfg.min_z and abs(i + lag0 - lo) * ENV_HOP > cfg.repeat_min_s * ENV_RATE]


def _repeated(edge: PairMatch, a: int, q: int, anchor: _Anchor, q_frames: int, q_start: float,
              fps: list[Fingerprint], cfg: RescueConfig, vcfg: VerifyConfig, strict: bool = False,
              seen: list[float] | None = None) -> tuple[float, ...]:
    """The offsets (edge's convention) where the query fits as well as the edge puts it, or () when the
    edge stands: places where the anchor repeats the stretch the edge matched, tested against the edge.

    Candidates from the envelope or the hashes miss a repeat that scored a little lower; a loop or a
    chorus then verifies at one of its places only because the others were never tried. The edge stands
    only if it still wins when those places compete with it (`verify_pair`); otherwise the tying (or
    winning) offsets come back and the pair is ambiguous. *seen* (when the edge stands) receives the repeat
    places the windows confirm too, standing alone and as one moment, that the edge out-scored."""
    fq = fps[q]
    offset = edge.offset_s if edge.a == a else -edge.offset_s * edge.rate  # q's start in a's time
    start = int(round((offset + q_start) * fq.rate_hz / ENV_HOP))
    base = replace(edge, refined=False, error_s=None, trusted=False, windows=0, tried=0, hypothesis=0)
    rivals = []
    for shift in _repeats(anchor, start, q_frames, cfg):
        shift_s = shift * ENV_HOP / fq.rate_hz
        if _probe(fps[a], fq, offset + shift_s, cfg, vcfg):
            # no hash hits back a rival: a line only the stacked windows find does not tie windows that
            # confirm on their own (see `verify_pair`)
            rivals.append(replace(base, offset_s=edge.offset_s + (shift_s if edge.a == a else -shift_s),
                                  support=0, z=0.0, hypothesis=len(rivals) + 1))
    if not rivals:
        return ()
    if strict:  # any repeat place the windows confirm on their own ties with the edge...
        checked = [(r.offset_s, ev) for r in rivals if (ev := check_hypothesis(r, fps[edge.a], fps[edge.b], vcfg)).ok]
        if checked and cfg.rival_alone:  # ...unless the edge's windows line up as one moment heard twice and
            # the repeat's need summing or scatter like a repeat played again (a sample-identical loop lines
            # up at every repeat, and still ties); between the two, the share of windows each explains decides
            own = check_hypothesis(base, fps[edge.a], fps[edge.b], vcfg)
            if own.ok and own.scatter <= vcfg.coherent_s:
                tight = vcfg.coherent_s if cfg.rival_tighter <= 0 else min(vcfg.coherent_s,
                                                                           cfg.rival_tighter * own.scatter)
                checked = [(o, ev) for o, ev in checked if not (
                    ev.stacked or ev.scatter > vcfg.incoherent_s
                    or (cfg.rival_share and ev.scatter > tight and ev.share <= own.share)
                    or (cfg.rival_few and np.isnan(ev.scatter) and ev.share < own.share))]
        return tuple(sorted([edge.offset_s, *(o for o, _ in checked)])) if checked else ()
    verdict = verify_pair([base, *rivals], fps[edge.a], fps[edge.b], vcfg)
    # the rivals lie a second or more away (`_repeats`): anything nearer is the edge's own line, refined
    # on other windows (a reflection can move it by a few ms), not a repeat
    same = 0.5 * cfg.repeat_min_s
    if verdict.edge is not None and abs(verdict.edge.offset_s - edge.offset_s) <= same:
        if seen is not None:
            seen += [ev.edge.offset_s for ev in verdict.evidence[1:] if ev.ok and not ev.stacked
                     and ev.scatter <= vcfg.coherent_s and abs(ev.edge.offset_s - edge.offset_s) > same]
        return ()
    offs = verdict.ambiguous or (edge.offset_s, verdict.edge.offset_s if verdict.edge else edge.offset_s)
    if max(offs) - min(offs) <= same:
        return ()
    return tuple(sorted(offs))


def repeat_rivals(edges: list[PairMatch], fps: list[Fingerprint], *, cfg: RescueConfig = RescueConfig(),
                  verify_cfg: VerifyConfig = VerifyConfig(), workers: int = 1, strict: bool = False
                  ) -> list[tuple[float, ...]]:
    """Per verified edge: the offsets it ties with where the longer clip repeats the matched stretch
    (`_repeated`), or () when it stands. *strict*: every repeat place the windows confirm ties, even one
    the edge out-scores (for lines found near a clock prior, which only the prior chose). Envelopes are
    computed once per longer clip."""
    longer = [(e.a, e.b) if fps[e.a].duration_s >= fps[e.b].duration_s else (e.b, e.a) for e in edges]
    fps_env = ENV_RATE // ENV_HOP  # envelope frames per second
    frames = int(cfg.max_query_s * fps_env) + 1

    def anchor(a: int) -> _Anchor | None:
        env = onset_envelope(fps[a])
        return _Anchor(env, frames) if env.shape[1] >= 200 else None

    def one(k: int) -> tuple[float, ...]:
        a, q = longer[k]
        if envs[a] is None:
            return ()
        q_frames = min(frames - 1, int(fps[q].duration_s * fps_env))
        return _repeated(edges[k], a, q, envs[a], q_frames, 0.0, fps, cfg, verify_cfg, strict)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        used = sorted({a for a, _ in longer})
        envs = dict(zip(used, pool.map(anchor, used)))
        return list(pool.map(one, range(len(edges))))


def _probe(fa: Fingerprint, fq: Fingerprint, offset_s: float, cfg: RescueConfig, vcfg: VerifyConfig) -> bool:
    """A few GCC-PHAT windows, before the full verification: does any of them peak clearly?

    Most candidates (chance peaks of the envelope correlation) fail here at a fraction of the cost.
    """
    m = vcfg.search_s
    lo, hi = max(0.0, -offset_s) + m, min(fq.duration_s, fa.duration_s - offset_s) - m  # in q's time
    w = min(vcfg.window_s, hi - lo)
    if w < 0.5:
        return False
    for s in np.linspace(lo, hi - w, cfg.probe_windows):
        xq, iq = read_window(fq, s, w)
        xa, _ = read_window(fa, iq / fq.rate_hz + offset_s - m, w + 2 * m)
        if xq.size and xa.size >= xq.size + 2 and np.any(xq):
            if gcc_phat_z(xq, xa, xa.size - xq.size)[2] >= vcfg.min_z:
                return True
    return False
