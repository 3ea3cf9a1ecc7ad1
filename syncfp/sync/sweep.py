"""unplaced clips + anchors (placed clips, and the longest unplaced ones) → edges from low-band GCC-PHAT over
the whole clip at a few clock rates, kept only when full-band windows confirm the lag as one moment heard
twice (coherent), never as a repeat played again.

A far phone in a talking crowd keeps few spectral peaks, and its onsets drown in babble, but the music's
phase in the low mid band (150-1000 Hz) still lines up with another device's over tens of seconds: on the
hard bench's missed clips this correlation puts the true lag far above chance for many where hashes and
onset envelopes find nothing. It puts repeats of the music there too (game music and loops repeat whole
sections), and a window check alone confirms a repeat about as often as the truth. What tells them apart is
how tightly the confirming windows line up (`verify._scatter`): one moment agrees to tens of µs, a repeat
played again wanders by tenths of a millisecond, once the windows span more than the few seconds over which
a player's timing holds still. So a lag found here becomes an edge only when windows confirming it stand
alone (not summed), scatter within `VerifyConfig.coherent_s` and span `RescueConfig.sweep_min_span_s`.
Decimated to a quarter of the analysis rate (2 kHz): the band fits, and a 20-minute anchor is a
2.4 M-point FFT. The query is read at each of `sweep_rates_ppm`: two devices' clocks may differ by 200 ppm,
which smears a 2-minute query's ~1-ms peak over 24 ms, below the sweep's threshold.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np
import scipy.fft

from ..audio.extract import PcmFile
from ..config import RescueConfig, VerifyConfig
from ..engine.solve import Solution
from ..types import Fingerprint, PairMatch
from .rescue import repeat_rivals
from .verify import Evidence, search_near

DECIMATE = 4  # analysis rate / this: the correlation's rate


def _stretched(x: np.ndarray, rho: float) -> np.ndarray:
    """*x* played in *rho* times its duration (linear interpolation: the sweep's band is under an eighth of
    the analysis rate, where it is exact to well under 1 %)."""
    t = np.arange(int(x.size * rho), dtype=np.float64) / rho
    return np.interp(t, np.arange(x.size), x).astype(np.float32)


def lowrate(fp: Fingerprint, start_s: float = 0.0, dur_s: float | None = None, block: int = 1 << 20,
             rho: float = 1.0) -> np.ndarray:
    """*fp*'s analysis audio from *start_s* for *dur_s* at rate_hz / DECIMATE, float32, stretched *rho* times
    in time (a query read in another clock). Decimated in blocks of *block* samples with a margin past the
    filter's reach either side (the same output as one call over the whole stretch): `resample_poly` works
    in float64, so an hour-long anchor at once took ~0.3 GB."""
    from scipy.signal import resample_poly  # scipy.signal is slow to import; only a sweep needs it
    pcm = PcmFile(fp.pcm_path)
    i0 = int(start_s * fp.rate_hz)
    i1 = pcm.shape[0] if dur_s is None else min(pcm.shape[0], i0 + int(dur_s * fp.rate_hz))
    if i1 - i0 < 64:
        return np.zeros(0, np.float32)
    if rho != 1.0:  # a query (at most `max_query_s`): stretched whole, then decimated once
        y = _stretched(pcm[i0:i1].astype(np.float32) / np.float32(32768.0), rho)
        return resample_poly(y, 1, DECIMATE).astype(np.float32)
    out = np.empty(-(-(i1 - i0) // DECIMATE), np.float32)
    margin = 32 * DECIMATE  # > the default filter's half-length (10 × DECIMATE input samples)
    for b in range(0, i1 - i0, block):  # block and margin are multiples of DECIMATE: outputs line up
        lo, hi = max(0, b - margin), min(i1 - i0, b + block + margin)
        y = resample_poly(pcm[i0 + lo: i0 + hi].astype(np.float32) / np.float32(32768.0), 1, DECIMATE)
        k0 = (b - lo) // DECIMATE
        n = min(block // DECIMATE, out.size - b // DECIMATE)
        out[b // DECIMATE: b // DECIMATE + n] = y[k0: k0 + n]
    return out


def _phasors(x: np.ndarray, n: int, rate: float, band: tuple[float, float]) -> np.ndarray:
    """Unit-magnitude spectrum of *x* zero-padded to *n*, zero outside *band*: GCC-PHAT's weighting applied
    to each side once, so a pair costs one product and one inverse FFT."""
    spec = scipy.fft.rfft(x, n)
    spec /= np.abs(spec) + 1e-12
    lo, hi = int(np.ceil(band[0] * n / rate)), int(np.floor(band[1] * n / rate))  # bins inside the band
    spec[:lo] = 0.0
    spec[hi + 1:] = 0.0
    return spec.astype(np.complex64, copy=False)


def fft_size(length: int, max_query_s: float, rate: float) -> int:
    """The correlation's FFT size for an anchor of *length* samples at the sweep's rate: the smallest of
    5, 6, 7 or 8 times a power of two that holds it and a query, so anchors of about one length share it,
    and a query's spectrum with them, and at most a fifth of it is padding (a power of two wasted a quarter
    to a half on the hard bench's anchors; these sizes cost the FFT no more per point)."""
    need = length + int(max_query_s * rate) + 1
    step = 1 << max(0, int(np.ceil(np.log2(need))) - 3)  # need lies in (4, 8] steps
    return -(-need // step) * step


def _anchor_size(fp: Fingerprint, cfg: RescueConfig) -> int:
    """`SweepAnchor(fp).n`, from the analysis file's length alone (`lowrate`'s output is ⌈samples / 4⌉)."""
    n = PcmFile(fp.pcm_path).shape[0]
    return fft_size(-(-n // DECIMATE) if n >= 64 else 0, cfg.max_query_s, fp.rate_hz / DECIMATE)


class SweepAnchor:
    """An anchor's whitened low-band spectrum, computed once for every lost clip searched against it."""

    def __init__(self, fp: Fingerprint, max_query_s: float, band: tuple[float, float]):
        self.rate = fp.rate_hz / DECIMATE
        x = lowrate(fp)
        self.length = x.size
        self.n = fft_size(x.size, max_query_s, self.rate)
        self.spec = _phasors(x, self.n, self.rate, band)
        self.band = band


class SweepMemo:
    """The lags and searched lines of one align run's sweeps, for the sweeps and checks after them: a clip
    lost in one round is swept again in the next against the same anchors (on the hard bench's festival a
    sixth of the sweeps' work had been done before). Only these small results are kept: an anchor's spectrum
    (tens of MB) is made again where some lag against it is not known yet; keeping those too cost 130 MB more
    for no measurable saving. One instance per `align` call: nothing outlives it."""

    def __init__(self) -> None:
        self._small: dict[Hashable, object] = {}
        self._lock = threading.Lock()

    def lags(self, fq: Fingerprint, q_start: float, fa: Fingerprint, anchor: Callable[[], SweepAnchor],
             cfg: RescueConfig, k: int, *, spectra: dict[int, np.ndarray] | None = None, q: np.ndarray | None = None,
             rho: float = 1.0, smear: bool = False) -> tuple[list[tuple[float, float]], float | None]:
        """`candidates` of query *fq* in anchor *fa* (made by *anchor*() only when not known yet) and, with
        *smear*, its rate-screen energy (else None): computed once per run."""
        def made() -> tuple[list[tuple[float, float]], float | None]:
            sm: list[float] = []
            found = candidates(fq, q_start, anchor(), cfg, k, spectra, q, rho, sm if smear else None)
            return found, (sm[0] if sm else None)
        return self.once(lag_key(fq, q_start, fa, rho, cfg, k, smear), made)

    def has(self, key: Hashable) -> bool:
        """Whether `once` has a value for *key*."""
        with self._lock:
            return key in self._small

    def once(self, key: Hashable, make: Callable[[], object]) -> object:
        """*make*()'s value for *key*, made at most once per run (the first call's value after a race)."""
        with self._lock:
            if key in self._small:
                return self._small[key]
        value = make()
        with self._lock:
            return self._small.setdefault(key, value)


def candidates(fq: Fingerprint, q_start: float, anchor: SweepAnchor, cfg: RescueConfig, k: int,
               spectra: dict[int, np.ndarray] | None = None, q: np.ndarray | None = None,
               rho: float = 1.0, smear: list[float] | None = None) -> list[tuple[float, float]]:
    """The *k* best lags of the query (`max_query_s` of *fq* from *q_start*) in the anchor: (position of
    *fq*'s first sample in the anchor's time, robust z), strongest first, at least 50 ms apart. Only lags
    that overlap the anchor by `sweep_min_overlap_s` (or the whole query) are scored. *spectra*: the query's
    whitened spectra by FFT size, filled and reused across anchors of one size; *q*: the query already read
    at the sweep's rate, stretched *rho* times into the anchor's clock (`lowrate`)."""
    q = lowrate(fq, q_start, cfg.max_query_s, rho=rho) if q is None else q
    if q.size < int(2 * anchor.rate) or anchor.length < int(2 * anchor.rate):
        return []
    spectra = {} if spectra is None else spectra
    if anchor.n not in spectra:
        spectra[anchor.n] = np.conj(_phasors(q, anchor.n, anchor.rate, anchor.band))
    need = min(q.size, int(cfg.sweep_min_overlap_s * anchor.rate))
    neg, pos = q.size - need, anchor.length - need  # lags (where the query's first sample lands) -neg..pos
    if neg + pos + 1 < 100:
        return []
    c = scipy.fft.irfft(anchor.spec * spectra[anchor.n], anchor.n)
    z = np.concatenate([c[anchor.n - neg:], c[: pos + 1]]) if neg else c[: pos + 1].copy()  # lag i - neg
    del c
    z /= 1.4826 * float(np.median(np.abs(z[:: max(1, z.size // 20000)]))) + 1e-12  # spread from a sample
    if smear is not None:  # how far the curve's energy in 24-ms blocks stands out: a lag smeared by drift
        blk = int(0.024 * anchor.rate)
        e = np.square(z[: z.size // blk * blk]).reshape(-1, blk).sum(axis=1)
        med = float(np.median(e))
        smear.append(float((e.max() - med) / (1.4826 * float(np.median(np.abs(e - med))) + 1e-12)) if e.size else 0.0)
    guard = max(1, int(0.05 * anchor.rate))
    out = []
    for _ in range(k):
        i = int(np.argmax(z))
        if not np.isfinite(z[i]):
            break
        out.append((float(i - neg) / anchor.rate - q_start * rho, float(z[i])))
        z[max(0, i - guard): i + guard + 1] = -np.inf
    return out


def query_start(fq: Fingerprint, cfg: RescueConfig) -> float:
    """Where the sweep's query (`max_query_s` of the clip, `sweep_query_at`) starts in the clip."""
    spare = max(0.0, fq.duration_s - cfg.max_query_s)
    return {"head": 0.0, "tail": spare}.get(cfg.sweep_query_at, spare / 2)


def lag_key(fq: Fingerprint, q_start: float, fa: Fingerprint, rho: float, cfg: RescueConfig, k: int,
            smear: bool = False) -> tuple:
    """What `candidates`' answer for query *fq* (from *q_start*) in anchor *fa* at rate *rho* depends on: its key
    in a `SweepMemo`."""
    return ("lags", fq.pcm_path, q_start, cfg.max_query_s, fa.pcm_path, rho, k, cfg.sweep_band_hz,
            cfg.sweep_min_overlap_s, smear)


def coherent(ev: Evidence | None, vcfg: VerifyConfig, cfg: RescueConfig, *, pooled: bool = False) -> bool:
    """Windows confirm the line as one moment: enough of them, spread over enough time, scattering about it
    within `coherent_s` — standing alone, or with *pooled*, in groups summed where each window is too weak
    alone (`verify._pooled_scatter`), most of them (`sweep_pooled_share`) leaning on the line."""
    if ev is None:
        return False
    scatter = ev.edge.pooled_scatter_s if ev.stacked and pooled else ev.scatter
    if scatter is None or not scatter <= vcfg.coherent_s:
        return False
    if ev.stacked and ev.share < cfg.sweep_pooled_share:  # a sum hides what its groups average out: a wander
        return False  # of ms within seconds, a partial match; most windows must lean on the line
    ks = [k for k, ok in ev.tried.items() if ok]
    span = (max(ks) - min(ks)) * vcfg.short_window_s / 2 if ks else 0.0
    return len(ks) >= cfg.sweep_min_windows and ev.share >= cfg.sweep_min_share and span >= cfg.sweep_min_span_s


def _sure(ev: Evidence | None, vcfg: VerifyConfig, cfg: RescueConfig) -> bool:
    """The line counts: coherent standing alone, or (with `sweep_pooled`) as pooled groups of summed windows."""
    return coherent(ev, vcfg, cfg) or (cfg.sweep_pooled and coherent(ev, vcfg, cfg, pooled=True))


def _windows_for(shorter_s: float, vcfg: VerifyConfig, cfg: RescueConfig) -> VerifyConfig:
    """*vcfg* with the windows a swept lag is checked by: `sweep_window_s` long (a far phone's 2-s window is
    too weak to stand out of ±0.15 s; three times longer, it gains √3), shortened down to the usual ones
    where the pair's shorter clip could not otherwise hold windows spread over `sweep_min_span_s`."""
    room = shorter_s - cfg.sweep_min_span_s - 2 * cfg.sweep_search_s
    return replace(vcfg, window_s=max(vcfg.window_s, min(cfg.sweep_window_s, room)))


def _searched(lags: list[tuple[float, int, float, float]], n: int,
              placed: frozenset[int]) -> list[tuple[float, int, float, float]]:
    """The *n* strongest of *lags* (z, anchor, offset, rho), one lag read at neighbouring rates counted once,
    then as many more of the strongest lags into *placed* anchors as lost anchors took among those: a lost
    clip's own lags add searches rather than push a placed partner's true lag out of them."""
    out: list[tuple[float, int, float, float]] = []
    seen = lambda a, o: any(a == a2 and abs(o - o2) < 0.05 for _, a2, o2, _ in out)  # noqa: E731
    order = sorted(lags, reverse=True)
    for lag in order:
        if len(out) == n:
            break
        if not seen(lag[1], lag[2]):
            out.append(lag)
    more = sum(1 for lag in out if lag[1] not in placed)
    for lag in order:
        if more == 0:
            break
        if lag[1] in placed and not seen(lag[1], lag[2]):
            out.append(lag)
            more -= 1
    return out


def lag_hypothesis(q: int, a: int, o: float, rho: float, z: float = 0.0, k: int = 0) -> PairMatch:
    """Clip *q* with its first sample at *o* in clip *a*'s time, read *rho* times slower (a sweep lag), as
    hypothesis *k* of the pair (a < b; `PairMatch.rate` is k_a / k_b)."""
    if a < q:
        return PairMatch(a=a, b=q, offset_s=o, rate=1.0 / rho, support=0, z=z, ratio=1.0, trusted=False, hypothesis=k)
    return PairMatch(a=q, b=a, offset_s=-o / rho, rate=rho, support=0, z=z, ratio=1.0, trusted=False, hypothesis=k)


def _search(q: int, lags: list[tuple[float, int, float, float]], fps: list[Fingerprint], cfg: RescueConfig,
            vcfg: VerifyConfig, where: Callable[[int, PairMatch], tuple[int, float]],
            placed: frozenset[int] = frozenset(), memo: SweepMemo | None = None) -> PairMatch | None:
    """The edge for lost clip *q* from its strongest low-band *lags* (z, anchor, offset, rho) over all anchors
    and clock rates (those `_searched` picks; one not confirmed is searched again at its rate moved by
    `sweep_search_rates_ppm`, where more of its windows must lean on the line): the first coherent line,
    unless another coherent one puts the clip elsewhere in the same group (*where*: anchor, edge → (group, the
    clip's implied position)), or None. Lines coherent only as pooled groups of summed windows (`sweep_pooled`)
    count when no line's windows stand alone: a weaker confirmation, and an orchestral repeat 36 s away once
    passed as one."""
    near = replace(cfg, timed_search_s=cfg.sweep_search_s)
    memo = SweepMemo() if memo is None else memo
    searched = lambda h, fa, fb, wcfg: memo.once(  # noqa: E731  (a line searched in an earlier round)
        ("near", h, fa.pcm_path, fb.pcm_path, wcfg, near), lambda: search_near(h, fa, fb, wcfg, near))
    found: list[tuple[tuple[int, float], PairMatch]] = []
    pooled: list[tuple[tuple[int, float], PairMatch]] = []
    for z, a, o, rho in _searched(lags, cfg.sweep_searches, placed):
        # the anchor hears the query's second t at o + rho·t: PairMatch.rate is k_a / k_b (syncfp.types)
        h = lag_hypothesis(q, a, o, rho, z)
        lo, hi = h.a, h.b
        wcfg = _windows_for(min(fps[lo].duration_s, fps[hi].duration_s), vcfg, cfg)
        ev = searched(h, fps[lo], fps[hi], wcfg)
        share = 0.0 if ev is None else ev.share
        for step in cfg.sweep_search_rates_ppm:  # between the sweep's rates: summed windows need the true one
            if _sure(ev, vcfg, cfg):
                break
            other = searched(replace(h, rate=h.rate * (1.0 + step * 1e-6)), fps[lo], fps[hi], wcfg)
            if other is not None and other.share >= share + cfg.sweep_rate_share_gain and _sure(other, vcfg, cfg):
                ev = other  # more windows lean on it, not the same ones drawn tighter (a repeat's wobble)
        if coherent(ev, vcfg, cfg):
            kept = found
        elif cfg.sweep_pooled and coherent(ev, vcfg, cfg, pooled=True):
            kept = pooled
        else:
            continue
        kept.append((where(a, ev.edge), ev.edge))
    for lines in (found, pooled):
        if not lines:
            continue
        if any(g == g2 and abs(p - p2) > cfg.sweep_same_s
               for k, ((g, p), _) in enumerate(lines) for (g2, p2), _ in lines[k + 1:]):
            return None  # two coherent places in one group: a loop that holds still; left alone
        edge = lines[0][1]
        return replace(edge, support=4 * edge.windows, ratio=2.0)
    return None


def _covering(placed: list[int], fps: list[Fingerprint], sol: Solution, cfg: RescueConfig) -> list[int]:
    """The `sweep_anchors` longest of *placed*, then up to `sweep_cover_anchors` more (longest first), each
    holding at least `sweep_cover_s` of its group's timeline that the ones before it do not: a festival's
    later concerts get anchors too, where the longest clips all lie in its first."""
    out = list(placed[: cfg.sweep_anchors])
    held: dict[int, list[tuple[float, float]]] = {}

    def span(j: int) -> tuple[int, float, float]:
        lo = float(sol.position_s[j])
        return int(sol.group[j]), lo, lo + float(sol.k[j]) * fps[j].duration_s

    for j in out:
        g, lo, hi = span(j)
        held[g] = _merged(held.get(g, []) + [(lo, hi)])
    extra = 0
    for j in placed[cfg.sweep_anchors:]:
        if extra == cfg.sweep_cover_anchors:
            break
        g, lo, hi = span(j)
        spans = held.setdefault(g, [])
        new = (hi - lo) - sum(max(0.0, min(hi, b) - max(lo, a)) for a, b in spans)  # spans never overlap
        if new >= cfg.sweep_cover_s:
            out.append(j)
            extra += 1
            spans[:] = _merged(spans + [(lo, hi)])
    return out


def _merged(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """*spans* as disjoint intervals, in order."""
    out: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def sweep_rescue(lost: list[int], fps: list[Fingerprint], sol: Solution, *, cfg: RescueConfig = RescueConfig(),
                 verify_cfg: VerifyConfig = VerifyConfig(), workers: int = 1,
                 may_pair: Callable[[int, int], bool] | None = None,
                 anchors: list[int] | None = None, memo: SweepMemo | None = None) -> list[PairMatch]:
    """Coherent edges between clips in *lost* and the `sweep_anchors` longest clips *sol* placed (or the
    given placed *anchors* alone); clips are searched on *workers* threads, each independently. *memo*: the
    run's `SweepMemo`, so what an earlier sweep computed is not computed again."""
    if cfg.sweep_anchors <= 0:  # off, lost anchors included
        return []
    memo = SweepMemo() if memo is None else memo
    longest = lambda j: (-fps[j].duration_s, fps[j].path)  # noqa: E731
    placed = sorted((j for j in range(len(fps)) if sol.group[j] >= 0), key=longest)
    # a clip too short for its windows to span `sweep_min_span_s` can never pass `coherent`: not swept
    lost = [q for q in lost if fps[q].duration_s >= cfg.sweep_min_span_s + verify_cfg.window_s + 2 * cfg.sweep_search_s]
    # lost clips are anchors too: two far phones that only hear each other well make a group of their own
    if anchors is None:
        used = _covering(placed, fps, sol, cfg) + sorted(lost, key=longest)[: cfg.sweep_lost_anchors]
    else:
        given = set(anchors)
        used = [a for a in placed if a in given]
    if not lost or not used:
        return []

    def where(a: int, e: PairMatch) -> tuple[int, float]:
        # the clip's start in the anchor's clock: an edge from the clip holds it in the clip's clock, and
        # PairMatch.rate = k_clip / k_anchor turns it over (150 ppm over 326 s is 49 ms: left unturned, a
        # clip found through three anchors at one place looked like three places, a loop)
        off = e.offset_s if e.a == a else -e.offset_s * e.rate
        if sol.group[a] < 0:  # an unplaced anchor is a group of its own, in its own clock
            return -1 - a, float(off)
        return int(sol.group[a]), float(sol.position_s[a] + sol.k[a] * off)

    starts = {q: query_start(fps[q], cfg) for q in lost}
    rhos = [1.0 + p * 1e-6 for p in cfg.sweep_rates_ppm]
    lows = {q: [lowrate(fps[q], starts[q], cfg.max_query_s, rho=r) for r in rhos] for q in lost}  # read once
    screen = cfg.sweep_rate_screen > 0

    key = lambda q, a, rho: lag_key(fps[q], starts[q], fps[a], rho, cfg, cfg.sweep_candidates,  # noqa: E731
                                    screen and rho == 1.0)
    lags: dict[int, list[tuple[float, int, float, float]]] = {q: [] for q in lost}
    by_size: dict[int, list[int]] = {}
    for a in used:
        by_size.setdefault(_anchor_size(fps[a], cfg), []).append(a)

    def scan(q: int, group: list[int], swept: dict[int, SweepAnchor]) -> None:
        order = sorted(range(len(rhos)), key=lambda r: abs(rhos[r] - 1.0))  # rate 1 first (for the screen)
        energy: dict[int, float] = {}
        for r in order:  # a drift of 100 ppm smears a 2-minute query's peak over 12 ms
            rho, low = rhos[r], lows[q][r]
            spectra: dict[int, np.ndarray] = {}  # the query's whitened spectrum at this size, for every anchor
            for a in group:
                if a == q or (may_pair is not None and not may_pair(a, q)):
                    continue
                if screen and rho != 1.0 and energy.get(a, np.inf) < cfg.sweep_rate_screen:
                    continue  # nothing, not even smeared, where the clip could lie in this anchor
                found, sm = memo.lags(fps[q], starts[q], fps[a], lambda a=a: swept[a], cfg, cfg.sweep_candidates,
                                      spectra=spectra, q=low, rho=rho, smear=screen and rho == 1.0)
                lags[q] += [(z, a, o, rho) for o, z in found if z >= cfg.sweep_min_z]
                if sm is not None:
                    energy[a] = sm

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for group in by_size.values():  # one FFT size's anchors in memory at a time (an hour-long anchor's
            # spectrum is ~34 MB, and so is each query's at that size)
            # only anchors some (query, rate) has not met yet in this run
            need = [a for a in group if any(not memo.has(key(q, a, r)) for q in lost if q != a for r in rhos)]
            swept = dict(zip(need, pool.map(lambda a: SweepAnchor(fps[a], cfg.max_query_s, cfg.sweep_band_hz),
                                            need)))
            list(pool.map(lambda q: scan(q, group, swept), lost))
            del swept
        placed_set = frozenset(j for j in used if sol.group[j] >= 0)
        edges = list(pool.map(lambda q: _search(q, lags[q], fps, cfg, verify_cfg, where, placed_set, memo), lost))
    found = list({(e.a, e.b): e for e in edges if e is not None}.values())  # two lost clips may find each other
    if found and cfg.sweep_repeat_veto:
        # no prior chose these lines: where the longer clip repeats the matched stretch and the windows confirm
        # the clip there too (a loop or a song played twice, sample for sample, is coherent at every repeat;
        # the scale bench's game loops are), the line is dropped (`rescue.repeat_rivals`, strict)
        rivals = repeat_rivals(found, fps, cfg=cfg, verify_cfg=verify_cfg, workers=workers, strict=True)
        found = [e for e, r in zip(found, rivals) if not r]
    return found


def swept_lags(clips: list[int], anchors: list[int], k: int, fps: list[Fingerprint], *,
               cfg: RescueConfig = RescueConfig(), memo: SweepMemo | None = None, workers: int = 1,
               may_pair: Callable[[int, int], bool] | None = None) -> dict[tuple[int, int], list[tuple[float, float]]]:
    """{(anchor, clip): the *k* strongest low-band lags of the clip in the anchor over the sweep's clock rates}
    (position of the clip's first sample in the anchor's time, robust z), one lag read at neighbouring rates
    counted once: unverified, for the recording clocks' votes (`stamps.voted_origins`). Clips too short for
    the sweep's check are read whole: one 5-s phone clip's lag in loop music is as often a repeat as the
    truth, but a device's takes agree on one clock reading only at the truth. Read as the sweep reads them
    (same query, same rates), so a lag the sweep found is not computed again (*memo*)."""
    memo = SweepMemo() if memo is None else memo
    rhos = [1.0 + p * 1e-6 for p in cfg.sweep_rates_ppm]
    starts = {q: query_start(fps[q], cfg) for q in clips}
    pairs = {(a, q) for a in anchors for q in clips if a != q and (may_pair is None or may_pair(a, q))}
    if not pairs:
        return {}
    anchors_used = sorted({a for a, _ in pairs})
    made: dict[int, SweepAnchor] = {}
    lock = threading.Lock()

    def anchor(a: int) -> SweepAnchor:
        with lock:
            if a not in made:
                made[a] = SweepAnchor(fps[a], cfg.max_query_s, cfg.sweep_band_hz)
            return made[a]

    def one(q: int) -> dict[tuple[int, int], list[tuple[float, float]]]:
        out = {}
        for a in anchors_used:
            if (a, q) not in pairs:
                continue
            found: list[tuple[float, float]] = []
            for rho in rhos:
                lags, _ = memo.lags(fps[q], starts[q], fps[a], lambda a=a: anchor(a), cfg, cfg.sweep_candidates,
                                    rho=rho)
                found += lags
            best: list[tuple[float, float]] = []
            for o, z in sorted(found, key=lambda t: -t[1]):
                if len(best) == k:
                    break
                if all(abs(o - o2) >= 0.05 for o2, _ in best):
                    best.append((o, z))
            out[(a, q)] = best
        return out

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        result: dict[tuple[int, int], list[tuple[float, float]]] = {}
        for d in pool.map(one, clips):
            result.update(d)
    return result
