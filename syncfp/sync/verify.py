"""candidate offsets of a clip pair (fingerprint hypotheses) → one verified edge, "ambiguous", or nothing.

A fingerprint offset is only a hypothesis: music repeats (a chorus, a loop, a whole song), so the best
histogram line may sit at a repeat, and a line that fits 20 hashes may still be chance. Each hypothesis
is tested by GCC-PHAT on a grid of windows over the pair's overlap. A window *confirms* it when its
correlation peak stands far above the curve's spread (z) and lies on the line that the confirming windows
agree on to a fraction of a millisecond. Every window that should overlap under the hypothesis and
does not confirm counts against it, so a repeat (which only explains the windows inside the repeated
passage) loses to the truth (which explains all of them). When two hypotheses explain the same windows,
one more thing can tell them apart: one moment heard by two devices lines up to tens of microseconds in
every window, while a repeat played again does not (a band's timing wanders by tenths of a millisecond
from one chorus to the next). Otherwise the audio cannot tell them apart: the pair is *ambiguous* and is
left to the caller, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..audio.extract import read_window
from ..config import RescueConfig, VerifyConfig
from ..engine.refine import gcc_phat_z
from ..types import Fingerprint, PairMatch


@dataclass(frozen=True)
class Evidence:
    """GCC-PHAT windows of one hypothesis, keyed by their grid index on clip a's time axis."""

    edge: PairMatch  # the hypothesis, refined when `ok`
    ok: bool
    tried: dict[int, bool] = field(default_factory=dict)  # grid index → confirmed
    z_sum: float = 0.0
    scatter: float = float("nan")  # rms of the confirming windows about the line (s; `_scatter`), nan if stacked

    @property
    def stacked(self) -> bool:
        """Confirmed only by the windows summed together (each alone too weak): the edge carries it on."""
        return self.edge.stacked

    @property
    def confirmed(self) -> int:
        return sum(self.tried.values())

    @property
    def share(self) -> float:
        return self.confirmed / max(len(self.tried), 1)


@dataclass(frozen=True)
class PairVerdict:
    """The outcome for one pair: `edge` when one hypothesis is confirmed and beats every other; otherwise
    `ambiguous` lists the offsets (s) that fit equally well, or both are empty (nothing confirmed)."""

    a: int
    b: int
    edge: PairMatch | None
    ambiguous: tuple[float, ...] = ()
    evidence: tuple[Evidence, ...] = ()


def _span(e: PairMatch, dur_a: float, dur_b: float, cfg: VerifyConfig) -> tuple[float, float, float]:
    """(first, last usable window start, window length) on a's time inside the overlap of hypothesis *e*."""
    alpha = -e.offset_s * e.rate
    lo = max(0.0, -alpha / e.rate) + cfg.search_s
    hi = min(dur_a, (dur_b - alpha) / e.rate) - cfg.search_s
    w = cfg.window_s if hi - lo >= 4 * cfg.window_s else cfg.short_window_s
    return lo, hi - w, w


def _grid(e: PairMatch, dur_a: float, dur_b: float, cfg: VerifyConfig, stride: int) -> tuple[np.ndarray, float]:
    """Grid indices (step: half a short window, on a's time) of hypothesis *e*'s windows: every *stride*-th
    point inside its overlap, so hypotheses of one pair share the windows where their overlaps meet."""
    lo, last, w = _span(e, dur_a, dur_b, cfg)
    step = cfg.short_window_s / 2
    idx = np.arange(int(np.ceil(lo / step)), int(np.floor(last / step)) + 1)
    return idx[(idx % stride) == 0], w


def _stride(hyps: list[PairMatch], dur_a: float, dur_b: float, cfg: VerifyConfig) -> int:
    """One grid stride for all hypotheses of a pair: the smallest overlap still gets up to `max_windows`
    windows (of its own length, not overlapping), the largest at most three times that."""
    step = cfg.short_window_s / 2
    points = []
    for e in hyps:
        lo, last, w = _span(e, dur_a, dur_b, cfg)
        if last >= lo:
            points.append(((last - lo) / step + 1, w / step / 2))  # windows overlap by half at most
    if not points:
        return 1
    least = min(max(np.ceil(n / cfg.max_windows), own) for n, own in points)
    most = max(np.ceil(n / (3 * cfg.max_windows)) for n, _ in points)
    return int(max(least, most, 1))


def _measure(fa: Fingerprint, fb: Fingerprint, e: PairMatch, t_a0: float, w: float, cfg: VerifyConfig):
    """(t_a centre, t_b centre, z) of one window under hypothesis *e*, or None when either side is silent."""
    rate = fa.rate_hz
    alpha, beta = -e.offset_s * e.rate, e.rate
    xa, ia = read_window(fa, t_a0, w)
    if xa.size < rate * 0.25 or not np.any(xa):
        return None
    t_a = ia / rate
    t_b0 = alpha + beta * t_a - cfg.search_s
    stretch = abs(beta - 1.0) > 20e-6
    if stretch:  # put b on a's clock so a window stays coherent under large drift
        raw, ib = read_window(fb, t_b0 - 0.01, beta * (xa.size / rate + 2 * cfg.search_s) + 0.02)
        pos = (t_b0 + beta * np.arange(int(xa.size + 2 * cfg.search_s * rate)) / rate) * rate - ib
        xb = np.interp(pos, np.arange(raw.size), raw) if raw.size else raw
        b_start = t_b0
    else:
        xb, ib = read_window(fb, t_b0, xa.size / rate + 2 * cfg.search_s)
        b_start = ib / rate
    if xb.size < xa.size + 2 or not np.any(xb):
        return None
    lag, _, z, curve = gcc_phat_z(xa, xb, xb.size - xa.size, curve=True, band=cfg.band_hz, rate=rate)
    half = 0.5 * xa.size / rate
    step = beta if stretch else 1.0
    at = lambda tb: _curve_at(curve, ((tb - b_start) / step - half) * rate)  # noqa: E731
    return t_a + half, b_start + step * (lag / rate + half), z, at, (curve, b_start, step, half)


def _curve_at(curve: np.ndarray, lag: float) -> float:
    """The correlation curve's z near a lag (±1 sample), or 0 outside the searched lags."""
    i = int(round(lag))
    if i < 0 or i >= curve.size:
        return 0.0
    return float(curve[max(0, i - 1) : i + 2].max())


def _line(ta: np.ndarray, tb: np.ndarray, w: np.ndarray, beta0: float, fit_rate: bool) -> tuple[float, float, float]:
    """Weighted line tb = alpha + beta·ta (beta fixed at *beta0* unless *fit_rate*); (alpha, beta, slope std)."""
    if fit_rate:
        tm = np.average(ta, weights=w)
        d = ta - tm
        beta = float(np.sum(w * d * (tb - np.average(tb, weights=w))) / np.sum(w * d * d))
        alpha = float(np.average(tb, weights=w) - beta * tm)
        res = tb - (alpha + beta * ta)
        sigma = np.sqrt(np.sum(w * res**2) / np.sum(w) * ta.size / max(ta.size - 2, 1))
        return alpha, beta, float(max(sigma, 2e-5) / np.sqrt(np.sum(d * d)))
    return float(np.average(tb - beta0 * ta, weights=w)), beta0, 1e-3


def _consensus(ta: np.ndarray, tb: np.ndarray, z: np.ndarray, cfg: VerifyConfig):
    """The largest set of strong windows that agree on one line within `agree_s`, and that line.

    Candidate lines go through every two strong windows (any rate within ±2000 ppm: a short overlap's
    fingerprint rate can be off by hundreds of ppm) and through each one at rate 1. Returns (mask of
    confirming windows, alpha, beta, slope std); slope std is 1e-3 where the windows cannot measure drift.
    """
    none = np.zeros(ta.size, bool)
    s = np.flatnonzero(z >= cfg.min_z)
    if s.size < 2:
        return none, 0.0, 1.0, 1e-3
    i, j = np.triu_indices(s.size, 1)
    i, j = s[i], s[j]
    far = np.abs(ta[j] - ta[i]) >= 1.0
    slopes = np.concatenate([(tb[j] - tb[i])[far] / (ta[j] - ta[i])[far], np.ones(s.size)])
    through = np.concatenate([i[far], s])
    ok = np.abs(slopes - 1.0) <= 2e-3
    slopes, through = slopes[ok], through[ok]
    alphas = tb[through] - slopes * ta[through]
    res = np.abs(tb[None, s] - (alphas[:, None] + slopes[:, None] * ta[None, s]))
    inl = res <= cfg.agree_s
    score = inl.sum(axis=1) - np.where(inl, res, 0.0).sum(axis=1) / cfg.agree_s * 1e-3
    best = int(np.argmax(score))
    alpha, beta = float(alphas[best]), float(slopes[best])
    keep = none.copy()
    keep[s[inl[best]]] = True
    sstd = 1e-3
    for _ in range(3):
        if keep.sum() < 2:
            return none, 0.0, 1.0, 1e-3
        fit_rate = keep.sum() >= 3 and float(np.ptp(ta[keep])) >= 2.0
        alpha, beta, sstd = _line(ta[keep], tb[keep], z[keep], 1.0, fit_rate)
        new = (z >= cfg.min_z) & (np.abs(tb - (alpha + beta * ta)) <= cfg.agree_s)
        if np.array_equal(new, keep):
            break
        keep = new
    if float(np.ptp(ta[keep])) < cfg.min_rate_span_s:
        sstd = max(sstd, 1e-3)  # the fit needed some rate to agree, but it says little about the clocks
    return keep, alpha, beta, sstd


@dataclass(frozen=True)
class _Windows:
    """The measured windows of one hypothesis: grid index, centres on a and b, peak z, a reader of each
    curve at any t_b, and each curve with the geometry that maps its lags to t_b (for stacking)."""

    ks: np.ndarray
    ta: np.ndarray
    tb: np.ndarray
    z: np.ndarray
    readers: list
    geoms: list


def _windows(fa: Fingerprint, fb: Fingerprint, e: PairMatch, idx, step: float, w: float,
             cfg: VerifyConfig) -> _Windows | None:
    """`_measure` at every grid index in *idx*; None when no window has audio on both sides."""
    rows = [(int(k), *m) for k in idx if (m := _measure(fa, fb, e, float(k * step), w, cfg)) is not None]
    if not rows:
        return None
    ta, tb, z = (np.array([r[i] for r in rows], np.float64) for i in (1, 2, 3))
    return _Windows(np.array([r[0] for r in rows]), ta, tb, z, [r[4] for r in rows], [r[5] for r in rows])


def _accepted(e: PairMatch, wins: _Windows, cfg: VerifyConfig):
    """(the refined evidence or None, the windows' verdicts, their z sum): the normal check of hypothesis *e*
    on its measured windows *wins*."""
    ks, ta, tb, z, readers = wins.ks, wins.ta, wins.tb, wins.z, wins.readers
    keep, alpha, beta, sstd = _consensus(ta, tb, z, cfg)
    tried = {int(k): bool(c) for k, c in zip(ks, keep)}
    n = int(keep.sum())
    z_sum = float(z[keep].sum())
    # strong peaks off the line: noise lowers peaks, it does not move them; a wandering clock or speed does
    against = int(((z >= cfg.against_z) & ~keep).sum())
    weak = n < cfg.min_share * ks.size and float(z[keep].mean() if n else 0.0) < cfg.strong_mean_z
    if n < cfg.min_windows or weak or against > cfg.max_against * n or _partial(keep, ta, alpha, beta, readers, cfg):
        return None, tried, z_sum
    res = (tb - (alpha + beta * ta))[keep]
    n_par = 2 if n >= 3 and float(np.ptp(ta[keep])) >= 2.0 else 1
    spread = float(np.sqrt(np.sum(res**2) / max(n - n_par, 1)))
    scatter = _scatter(res, n_par) if n >= cfg.coherent_windows else float("nan")
    err = max(spread / np.sqrt(n), cfg.error_floor_s)
    edge = replace(e, offset_s=float(-alpha / beta), rate=float(beta), refined=True, error_s=float(err),
                   windows=n, tried=int(ks.size), rate_error=float(max(sstd, 1e-7)), trusted=True, stacked=False,
                   scatter_s=float(scatter) if np.isfinite(scatter) else None)
    return Evidence(edge=edge, ok=True, tried=tried, z_sum=z_sum, scatter=scatter), tried, z_sum


def check_hypothesis(e: PairMatch, fa: Fingerprint, fb: Fingerprint, cfg: VerifyConfig = VerifyConfig(), *,
                     stride: int | None = None, remeasure: bool = True) -> Evidence:
    """GCC-PHAT windows over the overlap of hypothesis *e*; refined and `ok` when enough of them confirm.
    A line confirmed at a rate far from the hypothesis's is timed again by windows read at its own rate."""
    if stride is None:
        stride = _stride([e], fa.duration_s, fb.duration_s, cfg)
    idx, w = _grid(e, fa.duration_s, fb.duration_s, cfg, stride)
    step = cfg.short_window_s / 2
    wins = _windows(fa, fb, e, idx, step, w, cfg)
    if wins is None:
        return Evidence(edge=e, ok=False)
    ev, tried, z_sum = _accepted(e, wins, cfg)
    if ev is None:
        if abs(e.rate - 1.0) > cfg.stack_prior_rate:  # a fingerprint rate this far off misleads the windows:
            # measure again on the clocks' prior (rate 1), over the same stretches of a
            e1 = replace(e, rate=1.0)
            wins1 = _windows(fa, fb, e1, wins.ks, step, w, cfg)
            if wins1 is not None and wins1.ks.size >= cfg.min_windows:
                if cfg.prior_rate_alone:  # read on the prior's clock the windows may stand alone
                    ev = _accepted(e1, wins1, cfg)[0]
                if ev is None and (stacked := _stacked(e1, wins1, fa.rate_hz, cfg)) is not None:
                    return stacked
        if ev is None:
            stacked = _stacked(e, wins, fa.rate_hz, cfg)
            if stacked is not None:
                return stacked
            return Evidence(edge=e, ok=False, tried=tried, z_sum=z_sum)
    edge = ev.edge
    if remeasure and abs(edge.rate - e.rate) * w > cfg.remeasure_smear_s:
        again = check_hypothesis(replace(e, offset_s=edge.offset_s, rate=edge.rate), fa, fb, cfg, stride=stride,
                                 remeasure=False)
        if again.ok and not again.stacked:  # the windows and their verdicts stay the first reading's
            timed = again.edge
            ev = replace(ev, edge=replace(edge, offset_s=timed.offset_s, rate=timed.rate, error_s=timed.error_s,
                                          rate_error=timed.rate_error), scatter=again.scatter)
    return ev


def _scatter(res: np.ndarray, n_par: int) -> float:
    """Rms of a line's residuals (s) without the worst one when five or more windows confirm it: one window
    can lean on a reflection tenths of a millisecond away, where a repeat's wandering moves them all."""
    if res.size >= 5:
        res = np.sort(np.abs(res))[:-1]
    return float(np.sqrt(np.sum(res**2) / max(res.size - n_par, 1)))


def _coherent_one(evs: list[Evidence], cfg: VerifyConfig) -> Evidence | None:
    """Of hypotheses the windows cannot otherwise tell apart, the only one whose windows agree as one moment
    heard twice does (scatter within `coherent_s`) while each other one scatters like a repeat played again
    (beyond `incoherent_s`: the players' timing wanders by tenths of a ms between a chorus and its repeat),
    and no other confirms a larger share of its windows."""
    one = [ev for ev in evs if ev.scatter <= cfg.coherent_s]
    if len(one) != 1:
        return None
    rest = [ev for ev in evs if ev is not one[0]]
    return one[0] if all(ev.scatter > cfg.incoherent_s and ev.share <= one[0].share for ev in rest) else None


def _wide_line(h: PairMatch, fa: Fingerprint, fb: Fingerprint, cfg: VerifyConfig, stride: int, search_s: float,
               *, grid_cfg: VerifyConfig):
    """(windows, mask of those agreeing, alpha, beta) of the line that windows searched ±*search_s* around
    *h* agree on (`_consensus`), or None when fewer than `min_windows` agree. *grid_cfg* lays the windows
    (a wider search shrinks the span they may start in)."""
    wins = _wide_windows(h, fa, fb, cfg, stride, search_s, grid_cfg)
    if wins is None:
        return None
    keep, alpha, beta, _ = _consensus(wins.ta, wins.tb, wins.z, cfg)
    return None if keep.sum() < cfg.min_windows else (wins, keep, alpha, beta)


def _wide_windows(h: PairMatch, fa: Fingerprint, fb: Fingerprint, cfg: VerifyConfig, stride: int, search_s: float,
                  grid_cfg: VerifyConfig) -> _Windows | None:
    """The windows of hypothesis *h* laid by *grid_cfg*, each searched ±*search_s*."""
    idx, w = _grid(h, fa.duration_s, fb.duration_s, grid_cfg, stride)
    return _windows(fa, fb, h, idx, cfg.short_window_s / 2, w, replace(cfg, search_s=search_s))


def _check_or_recentre(h: PairMatch, fa: Fingerprint, fb: Fingerprint, cfg: VerifyConfig, stride: int) -> Evidence:
    """`check_hypothesis`, and when it fails, once more around the line that windows searched over a wider
    range agree on: a reverberant recording's spectral peaks build up late, so its fingerprint offset can
    miss the direct sound by more than the normal search. The decision is still the normal check's."""
    ev = check_hypothesis(h, fa, fb, cfg, stride=stride)
    if ev.ok or h.support < cfg.recentre_min_support:
        return ev
    wide = replace(cfg, search_s=cfg.recentre_search_s)
    found = _wide_line(h, fa, fb, cfg, stride, cfg.recentre_search_s, grid_cfg=wide)
    if found is None:
        return ev
    _, _, alpha, beta = found
    moved = replace(h, offset_s=float(-alpha / beta), rate=float(beta))
    if abs(moved.offset_s - h.offset_s) <= cfg.search_s:
        return ev  # the normal search already covered that line
    again = check_hypothesis(moved, fa, fb, cfg, stride=stride)
    return again if again.ok else ev


def check_near(h: PairMatch, fa: Fingerprint, fb: Fingerprint, cfg: VerifyConfig) -> Evidence:
    """The normal check of a hypothesis that comes from where a solve put two clips (not from hashes), centred
    on it and on lags `search_s` apart out to ±`recentre_search_s` (a reverberant phone's place can be further
    off than one search reaches, and near the edge of a search a window's peak falls outside it), on the
    shorter clip's windows as `verify_pair` lays them. Each line found is read again by windows searched only
    ±`near_search_s` about it; the one most of whose windows stand alone there is the answer (the others that
    stand too, a reflection or a second path, as its `rivals`), else the check at *h* itself."""
    if fb.duration_s < fa.duration_s:
        ev = check_near(_flip(h), fb, fa, cfg)
        return replace(ev, edge=_flip(ev.edge))
    stride = _stride([h], fa.duration_s, fb.duration_s, cfg)
    reach = int(round(cfg.recentre_search_s / cfg.search_s))
    narrow = replace(cfg, search_s=cfg.near_search_s)
    first = best = check_hypothesis(h, fa, fb, cfg, stride=stride)
    seen: list[float] = []
    standing: list[float] = []
    for k in sorted(range(-reach, reach + 1), key=abs) if cfg.near_search_s > 0 else []:
        ev = first if k == 0 else check_hypothesis(replace(h, offset_s=h.offset_s + k * cfg.search_s), fa, fb, cfg,
                                                   stride=stride)
        if not ev.ok or any(abs(ev.edge.offset_s - o) <= cfg.same_offset_s for o in seen):
            continue
        seen.append(ev.edge.offset_s)
        line = replace(h, offset_s=ev.edge.offset_s, rate=ev.edge.rate)
        again = check_hypothesis(line, fa, fb, narrow, stride=stride)
        if not again.ok or again.stacked:
            continue
        standing.append(again.edge.offset_s)
        if not best.ok or best.stacked or again.confirmed > best.confirmed:
            best = again
    others = tuple(o for o in standing if abs(o - best.edge.offset_s) > cfg.same_offset_s)
    return replace(best, edge=replace(best.edge, rivals=others)) if others else best


def search_near(h: PairMatch, fa: Fingerprint, fb: Fingerprint, cfg: VerifyConfig,
                near: RescueConfig) -> Evidence | None:
    """The line within ±`near.timed_search_s` of hypothesis *h* that the windows agree on, confirmed by the
    normal check (`check_hypothesis`), or None: no line, a failed check, or a second line as well supported
    within the range (a loop or a repeat closer than the prior can tell apart).

    For a prior that already narrows an offset to seconds (a recording's clock), where no fingerprint line
    exists: at this width the ≥ 3 windows agreeing to `agree_s` stay as rare by chance as in the normal
    check, while a far phone's windows, each too weak to stand out of a whole recording, do. Unlike the
    re-centring, the windows keep the normal span: a short clip would lose seconds of them to the range.

    Its windows are `near.timed_windows` (twice the normal check's): a loud room's windows are each too
    weak to stand out of ±2.5 s, and their sum gains √windows. A summed line stands from `timed_stack_z`,
    or from `timed_checked_z` when the normal check then confirms at least `timed_checked_windows` windows
    and `timed_checked_share` of those it tried (chance does neither). A line the normal check cannot confirm
    is checked once more by the search's own windows (`timed_dense_check`): a loud room's 12 windows rarely
    stand even summed, twice as many often do."""
    if fb.duration_s < fa.duration_s:  # windows on the shorter clip, as `verify_pair` lays them
        ev = search_near(_flip(h), fb, fa, cfg, near)
        return None if ev is None else replace(ev, edge=_flip(ev.edge))
    search_s, stack_z = near.timed_search_s, near.timed_stack_z
    stride = _stride([h], fa.duration_s, fb.duration_s, cfg)
    dense = replace(cfg, max_windows=near.timed_windows)
    wins = _wide_windows(h, fa, fb, cfg, _stride([h], fa.duration_s, fb.duration_s, dense), search_s, dense)
    if wins is None:
        return None
    keep, alpha, beta, _ = _consensus(wins.ta, wins.tb, wins.z, cfg)
    pool, z = None, np.inf
    if keep.sum() >= cfg.min_windows:
        rest = ~keep
        other = _consensus(wins.ta[rest], wins.tb[rest], wins.z[rest], cfg)[0]
        if other.sum() >= max(cfg.min_windows, 0.5 * keep.sum()):
            return None
        moved = replace(h, offset_s=float(-alpha / beta), rate=float(beta))
    else:
        if len(wins.geoms) < cfg.min_windows:
            return None
        pool = _pooled(h, wins, fa.rate_hz, cfg, search_s)
        floor = min(stack_z, near.timed_checked_z)
        if (found := _stacked_wide(h, wins, fa.rate_hz, cfg, pool, floor)) is None:
            return None
        moved, z = found
    ev = check_hypothesis(moved, fa, fb, cfg, stride=stride)
    if not ev.ok and near.timed_dense_check:
        ev = check_hypothesis(moved, fa, fb, dense)
    if not ev.ok:
        return None
    if z < stack_z and ev.confirmed < max(near.timed_checked_windows, near.timed_checked_share * len(ev.tried)):
        return None
    pool = pool or _pooled(h, wins, fa.rate_hz, cfg, search_s)
    return None if _wide_rival(h, ev.edge, wins, fa.rate_hz, cfg, pool) else ev


def _curves(wins: _Windows, pool: int = 1) -> np.ndarray:
    """The windows' correlation curves (z units, deep troughs cut at −3: they carry no timing) as rows of one
    zero-padded array; with *pool* > 1, max-pooled to bins of that many samples and standardised per window
    (pooling raises chance values)."""
    size = max(g[0].size for g in wins.geoms)
    if pool > 1:
        size = size // pool * pool
    curves = np.zeros((len(wins.geoms), size))
    for r, g in enumerate(wins.geoms):
        c = np.maximum(g[0][:size], -3.0)
        curves[r, : c.size] = c
    if pool == 1:
        return curves
    pooled = curves.reshape(len(wins.geoms), -1, pool).max(axis=2)
    return (pooled - np.median(pooled, axis=1, keepdims=True)) / (pooled.std(axis=1, keepdims=True) + 1e-9)


def _geometry(h: PairMatch, wins: _Windows, rate: int, cfg: VerifyConfig, search_s: float, pool: int = 1,
              max_drift: float | None = None):
    """Where hypothesis *h*'s line sits in each curve (`_curves`, in bins of *pool* samples) and what to
    stack along: (base, dt, lags u within ±*search_s*, rate offsets vs over every rate devices reach —
    ±`max_drift` (or *max_drift*), a fingerprint's rate can be hundreds of ppm off —, their step dv)."""
    ta = wins.ta
    tm = float(ta.mean())
    tb_pred = -h.offset_s * h.rate + h.rate * ta
    b0 = np.array([g[1] for g in wins.geoms])
    st = np.array([g[2] for g in wins.geoms])
    half = np.array([g[3] for g in wins.geoms])
    base = ((tb_pred - b0) / st - half) * rate / pool  # index of the hypothesis's own line in each curve
    dt = (ta - tm) * rate / pool
    reach = int(round(search_s * rate / pool))
    u = np.arange(-reach, reach + 1, dtype=np.float64)
    span = max(float(np.abs(ta - tm).max()), 1e-3)
    reach_v = cfg.max_drift if max_drift is None else max_drift
    lo_v, hi_v = 1.0 - reach_v - h.rate, 1.0 + reach_v - h.rate
    dv = max(0.5 / (span * rate / pool), (hi_v - lo_v) / 400)
    vs = np.arange(np.ceil(lo_v / dv), np.floor(hi_v / dv) + 1) * dv
    return base, dt, u, vs, dv


def _pooled(h: PairMatch, wins: _Windows, rate: int, cfg: VerifyConfig, search_s: float):
    """The clock search's stack: curves max-pooled to `wide_pool` samples and its geometry in those bins,
    (curves, base, dt, u, vs); computed once per search for `_stacked_wide` and `_wide_rival`."""
    base, dt, u, vs, _ = _geometry(h, wins, rate, cfg, search_s, cfg.wide_pool)
    return _curves(wins, cfg.wide_pool), base, dt, u, vs


def _stacked_wide(h: PairMatch, wins: _Windows, rate: int, cfg: VerifyConfig, pool: tuple,
                  stack_z: float) -> tuple[PairMatch, float] | None:
    """The line the windows' curves, summed, agree on within ±*search_s* of *h*, where no three windows do
    alone (each far phone window too weak to stand out of seconds of lags), and its stacked z; or None.

    As `_stacked`, on curves max-pooled to 1-ms bins (`_pooled`), so a search 40 times wider costs about as
    much; the peak must reach *stack_z* (calibrated for this width), and no other lag may come near it
    (`_wide_rival`)."""
    w = len(wins.geoms)
    if w < cfg.min_windows:
        return None
    pooled, base, dt, u, vs = pool
    peak, v, i = _stack_best(pooled, base, dt, u, vs)
    if peak / np.sqrt(w) < stack_z:
        return None
    idx = (base + u[i] + v * dt) * cfg.wide_pool + cfg.wide_pool / 2  # sample index of the line in each curve
    st = np.array([g[2] for g in wins.geoms])
    tb_line = np.array([g[1] for g in wins.geoms]) + st * (idx / rate + np.array([g[3] for g in wins.geoms]))
    beta, alpha = np.polyfit(wins.ta, tb_line, 1) if np.ptp(wins.ta) > 0 else (
        h.rate, float(tb_line[0] - h.rate * wins.ta[0]))
    return replace(h, offset_s=float(-alpha / beta), rate=float(beta)), peak / np.sqrt(w)


def _wide_rival(h: PairMatch, line: PairMatch, wins: _Windows, rate: int, cfg: VerifyConfig, pool: tuple) -> bool:
    """Does another lag within ±*search_s* of *h* stack (`_pooled`, at *line*'s rate) to `wide_second` of
    what *line* does? A beat or a bar of a loop a second or two away fits a short clip as well; a few
    windows voting for the line (the consensus) do not show that, their sum over every lag does."""
    if len(wins.geoms) < 2:
        return False
    pooled, base, dt, u, _ = pool
    v = line.rate - h.rate
    row = _stack_at(pooled, base, dt, u, v)
    tm = float(wins.ta.mean())  # the rows' lags are counted at the windows' mean time
    at = ((line.rate * (tm - line.offset_s)) - (h.rate * (tm - h.offset_s))) * rate / cfg.wide_pool
    i = int(np.clip(np.rint(at) + (u.size - 1) // 2, 0, u.size - 1))
    own = float(row[max(0, i - 4): i + 5].max())  # the pooled line sits within a few bins of the fine one
    other = np.concatenate([row[: max(0, i - 8)], row[i + 9:]])
    return own > 0 and other.size > 0 and float(other.max()) >= cfg.wide_second * own


def _stack_rows(curves: np.ndarray, base: np.ndarray, dt: np.ndarray, u: np.ndarray, vs: np.ndarray,
                chunk: int = 32):
    """Yield (first v's index, rows) for blocks of rates in *vs*: rows[r, j] is the sum over windows of each
    curve at index base + u[j] + vs[r]·dt (rounded; 0 outside the curve); *u* is a run of consecutive integer
    lags. One gather of contiguous slices per block of rates from zero-padded curves, not one per rate."""
    w, size = curves.shape
    shifts = np.rint(base[None, :] + vs[:, None] * dt[None, :]).astype(np.int64)  # (V, W)
    lo = int(min(0, shifts.min() + int(u[0])))
    hi = int(max(size, shifts.max() + int(u[-1]) + 1))
    padded = np.zeros((w, hi - lo))
    padded[:, -lo: -lo + size] = curves
    ui = np.rint(u).astype(np.int64)
    # u is a run of consecutive lags: each (rate, window) reads one contiguous slice of its padded curve
    view = np.lib.stride_tricks.sliding_window_view(padded, ui.size, axis=1)  # (w, starts, lags), no copy
    starts = shifts + (int(ui[0]) - lo)
    rows = np.arange(w)[None, :]
    for c0 in range(0, vs.size, chunk):
        yield c0, view[rows, starts[c0:c0 + chunk]].sum(axis=1)


def _stack_best(curves: np.ndarray, base: np.ndarray, dt: np.ndarray, u: np.ndarray,
                vs: np.ndarray) -> tuple[float, float, int]:
    """(peak, rate offset v, index into u) of the best stacked row over every v in *vs* (the first on a tie)."""
    best = (-np.inf, 0.0, 0)
    for c0, rows in _stack_rows(curves, base, dt, u, vs):
        r, i = divmod(int(np.argmax(rows)), rows.shape[1])
        if rows[r, i] > best[0]:
            best = (float(rows[r, i]), float(vs[c0 + r]), int(i))
    return best


def _stack_at(curves: np.ndarray, base: np.ndarray, dt: np.ndarray, u: np.ndarray, v: float) -> np.ndarray:
    """The stacked row at one rate offset *v* (see `_stack_rows`)."""
    return next(_stack_rows(curves, base, dt, u, np.array([v])))[1][0]


def _stacked(e: PairMatch, wins: _Windows, rate: int, cfg: VerifyConfig) -> Evidence | None:
    """Verification by the windows together, where each alone is too weak (a far phone at 0 dB SNR).

    The windows' correlation curves (z units) are summed along candidate lines near the hypothesis
    (offset within the search, rate within the hypothesis's uncertainty): noise adds up as √windows, a
    true line as windows. The edge needs a stacked peak far above chance, at least `min_windows` windows
    leaning towards it, and no stretch of plainly different audio (`_partial`); its error comes from how
    far two halves of the windows disagree."""
    ks, ta, z, geoms, readers = wins.ks, wins.ta, wins.z, wins.geoms, wins.readers
    w = len(geoms)
    if w < cfg.min_windows:
        return None
    curves = _curves(wins)
    b0 = np.array([g[1] for g in geoms])
    st = np.array([g[2] for g in geoms])
    half = np.array([g[3] for g in geoms])
    # windows spanning too little to measure a rate (`min_rate_span_s`) search only the rates devices drift
    # by: over a few seconds a repeat's wandering timing fits some slope of the whole ±`max_drift` (a loop
    # clip 162 s off at −406 ppm, stated 0.35 ms), and the rate found there is chance anyway
    short = float(np.ptp(ta)) < cfg.min_rate_span_s
    base, dt, u, vs, dv = _geometry(e, wins, rate, cfg, cfg.search_s,
                                    max_drift=cfg.short_stack_drift + abs(e.rate - 1.0) if short else None)
    # most stacked checks fail: every 4th rate first (a line between them loses at most a couple of
    # samples at the far windows), and the full search only when that comes near the threshold
    if _stack_best(curves, base, dt, u, vs[::4])[0] / np.sqrt(w) < cfg.stack_prescreen * cfg.stack_z:
        return None
    best = _stack_best(curves, base, dt, u, vs)
    finer = _stack_best(curves, base, dt, u, best[1] + np.linspace(-dv, dv, 9))  # around the winner
    peak, v, i = finer if finer[0] > best[0] else best
    if peak / np.sqrt(w) < cfg.stack_z:
        return None
    row = _stack_at(curves, base, dt, u, v)
    other = row.copy()
    other[max(0, i - int(0.001 * rate)): i + int(0.001 * rate) + 1] = -np.inf
    if other.max() >= cfg.stack_second * peak:  # two lags nearly as good (an echo, a delay effect): unsure
        return None
    u_hat = u[i] + _vertex(row, i)
    idx = base + u_hat + v * dt
    tb_line = b0 + st * (idx / rate + half)
    beta, alpha = np.polyfit(ta, tb_line, 1) if np.ptp(ta) > 0 else (e.rate, float(tb_line[0] - e.rate * ta[0]))
    lean = np.array([rd(alpha + beta * t) >= cfg.lean_z for rd, t in zip(readers, ta)])
    # strong peaks elsewhere with nothing at the line: the timing wanders (a room's strong reflection
    # leaves the direct path leaning, so it does not count here)
    against = int(((z >= cfg.against_z) & ~lean).sum())
    if lean.sum() < cfg.min_windows or against > cfg.max_against * lean.sum() or _partial(
            lean, ta, alpha, beta, readers, cfg):
        return None
    halves = []
    for part in (slice(0, None, 2), slice(1, None, 2)):
        r2 = _stack_at(curves[part], base[part], dt[part], u, v)
        j = int(np.argmax(r2[max(0, i - 8): i + 9])) + max(0, i - 8)
        halves.append(u[j] + _vertex(r2, j))
    err = max(abs(halves[0] - halves[1]) / 2 / rate, 2 * cfg.error_floor_s)
    n = int(lean.sum())
    span_ok = not short  # the same span decided the rate search above
    pooled = _pooled_scatter(curves, base, dt, u, v, i, u_hat, ta, rate, cfg)
    edge = replace(e, offset_s=float(-alpha / beta), rate=float(beta), refined=True, error_s=float(err),
                   windows=n, tried=w, rate_error=float(dv if span_ok else 1e-3), trusted=True, stacked=True,
                   pooled_scatter_s=pooled)
    return Evidence(edge=edge, ok=True, tried={int(k): bool(c) for k, c in zip(ks, lean)},
                    z_sum=float(peak / np.sqrt(w)))


def _pooled_scatter(curves: np.ndarray, base: np.ndarray, dt: np.ndarray, u: np.ndarray, v: float, i: int,
                    lag: float, ta: np.ndarray, rate: int, cfg: VerifyConfig) -> float | None:
    """`_scatter` of a stacked line, from groups of `pool_windows` consecutive windows each summed along it:
    where the peak of each group lies about the whole stack's *lag* (in samples; at index *i* of *u*). Windows
    too weak to show a peak alone still tell one moment heard twice (the groups agree to tens of µs on the
    hard bench) from a repeat played again (0.1-0.5 ms: the players' timing wanders); None under
    `pool_min_windows` windows; from there up to `3 × pool_windows`, three groups of two or so."""
    if cfg.pool_windows <= 0 or ta.size < (cfg.pool_min_windows or 3 * cfg.pool_windows):
        return None
    reach = int(0.001 * rate)
    lo = max(0, i - reach)
    res = []
    for grp in np.array_split(np.argsort(ta, kind="stable"), max(3, ta.size // cfg.pool_windows)):
        row = _stack_at(curves[grp], base[grp], dt[grp], u, v)
        j = lo + int(np.argmax(row[lo: i + reach + 1]))
        res.append((u[j] + _vertex(row, j) - lag) / rate)
    r = np.asarray(res)
    return _scatter(r - r.mean(), 1)


def _vertex(row: np.ndarray, i: int) -> float:
    """Sub-sample offset of a parabola through row[i-1..i+1] (0 at an edge or a flat top)."""
    if 0 < i < row.size - 1:
        den = row[i - 1] - 2 * row[i] + row[i + 1]
        if den < 0:
            return float(0.5 * (row[i - 1] - row[i + 1]) / den)
    return 0.0


def _partial(keep: np.ndarray, ta: np.ndarray, alpha: float, beta: float, readers: list, cfg: VerifyConfig) -> bool:
    """Does the line explain only part of the overlap, with the rest plainly different audio?

    Noise makes windows miss the threshold here and there, but their curves still lean towards the
    line's lag (z ~3 there). Where the two recordings hold different music (a repeat matched in one part
    of a clip, other music in the rest), the curve at the line's lag is chance (z ~0). A run of such
    windows at least `partial_run` long and `partial_share` of those tried marks a repeat, not noise."""
    miss = ~keep
    if miss.sum() < cfg.partial_run:
        return False
    at_line = np.array([rd(alpha + beta * t) if m else np.inf for rd, t, m in zip(readers, ta, miss)])
    blank = at_line < cfg.partial_z
    run = best = 0
    for b in blank:
        run = run + 1 if b else 0
        best = max(best, run)
    return best >= cfg.partial_run and best >= cfg.partial_share * keep.size


def _flip(e: PairMatch) -> PairMatch:
    """The same edge seen from b (a and b swapped; offset in b's clock, inverse rate; its other readings,
    `rivals` and `unsure_at`, seen from b too)."""
    return replace(e, a=e.b, b=e.a, offset_s=-e.offset_s * e.rate, rate=1.0 / e.rate,
                   rate_error=e.rate_error / e.rate**2, rivals=tuple(-r * e.rate for r in e.rivals),
                   unsure_at=tuple(-lag for lag in e.unsure_at))


def _beats(x: Evidence, y: Evidence, cfg: VerifyConfig) -> bool:
    """Does *x* explain windows that *y* cannot (so *y* is a repeat or chance, not an equal)?

    First the windows both overlaps hold: confirmed by one and not the other is direct evidence. When
    those tie, windows only *x*'s overlap holds decide: under *y* that audio would lie outside the other
    recording, though it is heard inside it where *x* puts it (the song would have to repeat exactly where
    no one recorded)."""
    common = x.tried.keys() & y.tried.keys()
    only_x = sum(1 for k in common if x.tried[k] and not y.tried[k])
    only_y = sum(1 for k in common if y.tried[k] and not x.tried[k])
    if only_x >= cfg.min_unique and only_x >= 3 * only_y:
        return True
    if only_y:
        return False
    outside_x = sum(1 for k in x.tried.keys() - common if x.tried[k])
    outside_y = sum(1 for k in y.tried.keys() - common if y.tried[k])
    return outside_x >= cfg.min_unique and outside_y == 0


def verify_pair(hyps: list[PairMatch], fa: Fingerprint, fb: Fingerprint,
                cfg: VerifyConfig = VerifyConfig()) -> PairVerdict:
    """Test every hypothesis of one pair (best fingerprint line first) and decide between them.

    Windows lie on the shorter clip's time axis: its audio is what slides along the other recording, so
    every hypothesis tests the same stretches of it."""
    if fb.duration_s < fa.duration_s:
        v = verify_pair([_flip(h) for h in hyps], fb, fa, cfg)
        flipped = tuple(replace(ev, edge=_flip(ev.edge)) for ev in v.evidence)
        return PairVerdict(v.b, v.a, v.edge and _flip(v.edge), tuple(sorted(-o for o in v.ambiguous)), flipped)
    a, b = hyps[0].a, hyps[0].b
    stride = _stride(hyps, fa.duration_s, fb.duration_s, cfg)
    evs = [_check_or_recentre(h, fa, fb, cfg, stride) for h in hyps]
    ok = sorted((ev for ev in evs if ev.ok), key=lambda ev: (ev.stacked, -ev.confirmed, -ev.z_sum))
    if ok and not ok[0].stacked:  # a stacked line is weaker evidence than windows that stand alone: it
        # only ties them when the hashes found it nearly as strong (a repeat), not as a chance line
        top = ok[0].edge.support
        ok = [ev for ev in ok if not ev.stacked or ev.edge.support >= cfg.stacked_rival_support * top]
    if not ok:
        return PairVerdict(a, b, None, evidence=tuple(evs))
    best = ok[0]
    rivals = [ev for ev in ok[1:] if abs(ev.edge.offset_s - best.edge.offset_s) > cfg.same_offset_s]
    if any(_beats(ev, best, cfg) for ev in rivals):  # the most windows are not always the most telling
        best = next(ev for ev in rivals if _beats(ev, best, cfg))
        rivals = [ev for ev in ok if ev is not best and abs(ev.edge.offset_s - best.edge.offset_s) > cfg.same_offset_s]
    equal = [ev for ev in rivals if not _beats(best, ev, cfg)]
    if equal and (one := _coherent_one([best, *equal], cfg)) is not None:
        best, equal = one, []
    if equal:
        offs = tuple(sorted(ev.edge.offset_s for ev in [best, *equal]))
        return PairVerdict(a, b, None, ambiguous=offs, evidence=tuple(evs))
    return PairVerdict(a, b, best.edge, evidence=tuple(evs))
