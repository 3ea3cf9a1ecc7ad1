"""`Index` of all clips → every clip pair's fitted `Line`, joined one bounded chunk of the batch at a time.

A hit pairs an *anchor* posting with a later posting of the same bucket (items a < b, `match.join_anchors`):
every hit has exactly one anchor, whose clip is the pair's *a*, and one partner clip *b*. A chunk is either
a run of whole anchor clips, paired with every partner, or one anchor clip paired with a range of partner
clips; its candidate hits (each anchor's later postings in its bucket, counted before any join) stay
within *max_pairs*, estimated for a split clip. Either way a chunk holds every hit of each pair it
touches, so its pairs are fitted (`match.pair_lines`) and its cells dropped before the next chunk starts:
nothing is carried, and chunks can run anywhere in any order (`--cluster`). Memory is bounded by one chunk
(and, at the least, by one pair's cells) instead of every co-occurring hash pair of the batch, and the
answer is the one-chunk join's, pair for pair and bit for bit (`tests/test_stream.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..config import MatchConfig
from .hashtable import Index
from .match import Line, join_anchors, later_in_bucket, pair_lines, usable_postings

MAX_PAIRS = 1 << 22  # candidate hits per chunk: ~70-100 bytes each at the join's peak, so ~0.3-0.4 GB a chunk
ONE_CHUNK = 1 << 62  # as *max_pairs*: the whole batch in one join (the reference the tests compare with)


@dataclass(frozen=True)
class Plan:
    """The join's anchors in clip order and the chunks they are joined in."""

    anchors: np.ndarray  # int64[m], usable postings sorted by item (index order within an item)
    spans: np.ndarray  # int64[c, 2]: chunk i joins anchors[lo:hi]...
    partners: np.ndarray  # int64[c, 2]: chunk i pairs them with items in [lo, hi) only
    pairs: np.ndarray  # int64[c]: candidate hits per chunk (a split clip's shared out by partner postings)

    @property
    def total_pairs(self) -> int:
        return int(self.pairs.sum())


def plan(index: Index, *, n_frames: list[int], cfg: MatchConfig, seg_frames: int, max_pairs: int) -> Plan:
    """Chunks of at most about *max_pairs* candidate hits: runs of whole clips, and a clip over the budget
    alone with its partner clips cut into ranges of about equal postings (*seg_frames*: unused, kept for a
    uniform signature with the join)."""
    n = len(n_frames)
    pos = usable_postings(index, cfg)
    items = index.items[pos]
    load = np.bincount(items, weights=later_in_bucket(index, pos), minlength=n)  # candidate hits per clip
    count = np.bincount(items, minlength=n)
    first = np.concatenate([[0], np.cumsum(count)])  # each clip's first anchor
    pos = pos[np.argsort(items, kind="stable")]
    del items
    cum = np.cumsum(load)
    chunks: list[tuple[int, int, int, int, float]] = []  # (first clip, stop clip, partner lo, hi, load)
    a = 0
    while a < n:
        if load[a] > max_pairs and a + 1 < n:  # one clip alone, its partners in ranges of equal postings
            share = np.cumsum(count[a + 1 :]).astype(np.float64)
            parts = int(np.ceil(load[a] / max_pairs))
            inner = a + 1 + np.searchsorted(share, share[-1] * np.arange(1, parts) / parts, side="left") + 1
            bounds = np.unique(np.concatenate([[a + 1], np.minimum(inner, n), [n]]))
            weight = np.diff(np.concatenate([[0.0], share])[bounds - a - 1]) / max(share[-1], 1.0)
            chunks += [(a, a + 1, int(lo), int(hi), load[a] * w) for lo, hi, w in zip(bounds[:-1], bounds[1:], weight)]
            a += 1
            continue
        q = max(a + 1, int(np.searchsorted(cum, (cum[a - 1] if a else 0.0) + max_pairs, side="right")))
        chunks.append((a, q, 0, n, float(cum[q - 1] - (cum[a - 1] if a else 0.0))))
        a = q
    chunks = [c for c in chunks if first[c[1]] > first[c[0]]]  # clips without anchors need no chunk
    return Plan(
        anchors=pos,
        spans=np.asarray([(first[c[0]], first[c[1]]) for c in chunks], np.int64).reshape(-1, 2),
        partners=np.asarray([(c[2], c[3]) for c in chunks], np.int64).reshape(-1, 2),
        pairs=np.asarray([round(c[4]) for c in chunks], np.int64),
    )


def stream_lines(
    index: Index, n_frames: list[int], cfg: MatchConfig, seg_frames: int, *, screen: bool = True,
    max_pairs: int = MAX_PAIRS, progress: Callable[[int, int], None] | None = None,
    pairs: Callable[[int], None] | None = None,
) -> dict[tuple[int, int], Line]:
    """Every clip pair's fitted line (as `match.pair_lines` over the whole batch's cells), joined a chunk of
    about *max_pairs* candidate hits at a time; *progress* gets (chunks done, chunks) after each, *pairs*
    the number of pairs with a line so far."""
    pl = plan(index, n_frames=n_frames, cfg=cfg, seg_frames=seg_frames, max_pairs=max_pairs)
    return run_chunks(index, pl, n_frames, cfg, seg_frames, screen=screen, chunks=range(pl.pairs.size),
                      progress=progress, pairs=pairs)


def run_chunks(
    index: Index, pl: Plan, n_frames: list[int], cfg: MatchConfig, seg_frames: int, *, screen: bool,
    chunks: range, progress: Callable[[int, int], None] | None = None, pairs: Callable[[int], None] | None = None,
) -> dict[tuple[int, int], Line]:
    """The lines of every pair of *chunks* of *pl* (chunks share no pair: any subset runs anywhere)."""
    n_items, max_frames = len(n_frames), (max(n_frames) + 1 if n_frames else 1)
    lines: dict[tuple[int, int], Line] = {}
    for c in chunks:
        anchors = pl.anchors[pl.spans[c, 0] : pl.spans[c, 1]]
        first, last = int(index.items[anchors[0]]), int(index.items[anchors[-1]])
        lo, hi = (int(v) for v in pl.partners[c])
        cells = join_anchors(index, anchors, n_items=n_items, max_frames=max_frames, seg_frames=seg_frames,
                             row0=first, n_rows=last - first + 1, partners=None if (lo, hi) == (0, n_items) else (lo, hi))
        lines.update(pair_lines(cells, n_frames, cfg, seg_frames, screen=screen))
        if progress is not None:
            progress(c + 1 - chunks.start, len(chunks))
        if pairs is not None:
            pairs(len(lines))
    return lines


def chunk_groups(pl: Plan, n_groups: int) -> list[range]:
    """Up to *n_groups* consecutive ranges of chunks with about equal candidate hits: the tasks of a
    distributed join (any split is valid, since no chunk depends on another)."""
    n = pl.pairs.size
    if n == 0:
        return []
    done = np.concatenate([[0], np.cumsum(pl.pairs)])
    inner = np.searchsorted(done, done[-1] * np.arange(1, n_groups) / n_groups)
    starts = np.unique(np.concatenate([[0], np.clip(inner, 0, n - 1)]))
    stops = np.concatenate([starts[1:], [n]])
    return [range(int(a), int(b)) for a, b in zip(starts, stops) if b > a]
