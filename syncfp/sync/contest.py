"""Pairs that two stages joined at different places: each stage verifies its own edge, so a pair can end up
with a fingerprint edge at a repeat and a rescue, clock or sweep edge at the truth, both trusted. The solve
would then choose by hash support, and a loop's repeat often has more hashes than the truth (fresh17's
two_concerts: a camera 24 s off at confidence 0.75, taking two phones with it). Here the pair's rival
offsets are checked together, as one pair's hypotheses (`verify.verify_pair`): one that explains windows the
others cannot stays; otherwise the pair is contested and none of its rival edges is used.
"""

from __future__ import annotations

import os
from dataclasses import replace

from ..config import VerifyConfig
from ..types import Fingerprint, PairMatch
from .verify import verify_pair


def _apart(e: PairMatch, f: PairMatch, durations: list[float], min_apart_s: float) -> bool:
    """Do *e* and *f* (one pair) put b further apart than *min_apart_s* where either says the two overlap?
    Compared at b's middle, so two clock rates measured over one overlap do not read as two places."""
    mid_b = 0.5 * durations[e.b]
    return abs((e.offset_s + mid_b / e.rate) - (f.offset_s + mid_b / f.rate)) > min_apart_s


def settle_contested(edges: list[PairMatch], fps: list[Fingerprint], cfg: VerifyConfig,
                     min_apart_s: float) -> dict[int, str]:
    """Removes from *edges* (in place) the trusted edges of every pair whose trusted edges place it more
    than *min_apart_s* apart, but the one that `verify_pair` prefers when every rival passes its check and
    one beats the others. Returns, for the clips of pairs left with none, why (the shorter clip of the
    pair: its audio is what fits twice)."""
    durations = [f.duration_s for f in fps]
    by_pair: dict[tuple[int, int], list[int]] = {}
    for i, e in enumerate(edges):
        if e.trusted:
            by_pair.setdefault((e.a, e.b), []).append(i)
    drop: set[int] = set()
    why: dict[int, str] = {}
    for (a, b), idx in by_pair.items():
        if len(idx) < 2:
            continue
        rivals: list[int] = []  # one edge per place, the first one found there
        for i in idx:
            if all(_apart(edges[i], edges[r], durations, min_apart_s) for r in rivals):
                rivals.append(i)
        if len(rivals) < 2:
            continue
        hyps = [replace(edges[i], trusted=False, hypothesis=h) for h, i in enumerate(rivals)]
        verdict = verify_pair(hyps, fps[a], fps[b], cfg)
        every_ok = len(verdict.evidence) == len(rivals) and all(ev.ok for ev in verdict.evidence)
        keep = None
        if verdict.edge is not None and every_ok:
            keep = min(rivals, key=lambda i: abs(edges[i].offset_s - verdict.edge.offset_s))
        drop.update(i for i in idx if i != keep and (keep is None or _apart(edges[i], edges[keep], durations,
                                                                              min_apart_s)))
        if keep is None:
            shorter = a if durations[a] <= durations[b] else b
            other = b if shorter == a else a
            gap = max(abs(edges[i].offset_s - edges[rivals[0]].offset_s) for i in rivals)
            why.setdefault(shorter, f"ambiguous: two checks placed it against {os.path.basename(fps[other].path)} "
                                    f"{gap:.2f} s apart and neither explains audio the other cannot (repeating "
                                    "music or a loop); left out")
    if drop:
        edges[:] = [e for i, e in enumerate(edges) if i not in drop]
    return why
