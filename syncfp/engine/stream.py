"""`Index` of all clips → every clip pair's fitted `Line`, joined one bounded chunk of postings at a time.

A hit pairs an *anchor* posting with a later posting of the same bucket (items a < b, `match.join_anchors`),
so every hit belongs to exactly one anchor, and the anchor's clip is the pair's *a*. Walking the anchors in
(clip, segment of its time) order, a chunk of at most *max_pairs* candidate hits completes the cells of
every pair whose anchor clip it finishes: those pairs are fitted at once (`match.pair_lines`) and their
cells dropped. A clip too big for one chunk is cut between segments, and only its cells are carried to the
next chunk (a cell is keyed by a's segment, so none is ever split). Memory is then bounded by the chunk and
one clip's carried cells instead of every co-occurring hash pair of the batch, and the answer is the
one-chunk join's, pair for pair and bit for bit (`tests/test_stream.py`): the same cells reach the same fit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..config import MatchConfig
from .hashtable import Index
from .match import Cells, Line, join_anchors, later_in_bucket, pair_lines, usable_postings

MAX_PAIRS = 1 << 22  # candidate hits per chunk: ~100 bytes each at the join's peak, so ~0.4 GB a chunk
ONE_CHUNK = 1 << 62  # as *max_pairs*: the whole batch in one join (the reference the tests compare with)


@dataclass(frozen=True)
class Plan:
    """The join's anchors in (clip, segment) order and where the chunks start and end."""

    anchors: np.ndarray  # int64[m], usable postings sorted by (item, segment)
    cuts: np.ndarray  # int64[c + 1]: chunk i holds anchors[cuts[i]:cuts[i + 1]]
    pairs: np.ndarray  # int64[c]: candidate hits per chunk (pairs with another posting of its bucket)

    @property
    def total_pairs(self) -> int:
        return int(self.pairs.sum())


def plan(index: Index, *, n_frames: list[int], cfg: MatchConfig, seg_frames: int, max_pairs: int) -> Plan:
    """Chunks of at most *max_pairs* candidate hits, cut between clips where one fits, else between
    segments of the one clip (a single segment over the budget is still one chunk)."""
    pos = usable_postings(index, cfg)
    n_seg = (max(n_frames) + 1) // seg_frames + 1 if n_frames else 1
    rank = index.items[pos].astype(np.int64) * n_seg + index.frames[pos] // seg_frames
    n_rank = max(len(n_frames), 1) * n_seg
    load = np.cumsum(np.bincount(rank, weights=later_in_bucket(index, pos), minlength=n_rank))
    first = np.concatenate([[0], np.cumsum(np.bincount(rank, minlength=n_rank))])  # of each rank's anchors
    pos = pos[np.argsort(rank, kind="stable")]
    del rank
    cuts = [0]
    while cuts[-1] < n_rank:
        p = cuts[-1]
        q = int(np.searchsorted(load, (load[p - 1] if p else 0.0) + max_pairs, side="right"))
        if q < n_rank:  # end at a clip's edge; one clip over the budget is cut between its segments
            edge = q // n_seg * n_seg
            q = edge if edge > p else max(q, p + 1)  # one segment over the budget stays whole
        cuts.append(q)
    cuts_n = np.unique(first[np.asarray(cuts)])  # empty chunks merged away
    done = np.concatenate([[0.0], load])[np.searchsorted(first, cuts_n, side="right") - 1]
    return Plan(anchors=pos, cuts=cuts_n, pairs=np.diff(done).astype(np.int64))


def stream_lines(
    index: Index, n_frames: list[int], cfg: MatchConfig, seg_frames: int, *, screen: bool = True,
    max_pairs: int = MAX_PAIRS, progress: Callable[[int, int], None] | None = None,
) -> dict[tuple[int, int], Line]:
    """Every clip pair's fitted line (as `match.pair_lines` over the whole batch's cells), joined a chunk of
    at most *max_pairs* candidate hits at a time; *progress* gets (chunks done, chunks) after each."""
    pl = plan(index, n_frames=n_frames, cfg=cfg, seg_frames=seg_frames, max_pairs=max_pairs)
    return run_chunks(index, pl, n_frames, cfg, seg_frames, screen=screen, chunks=range(pl.cuts.size - 1),
                      progress=progress)


def run_chunks(
    index: Index, pl: Plan, n_frames: list[int], cfg: MatchConfig, seg_frames: int, *, screen: bool,
    chunks: range, progress: Callable[[int, int], None] | None = None,
) -> dict[tuple[int, int], Line]:
    """The lines of every pair anchored in *chunks* of *pl*, a range that starts and ends at clips' edges
    (all of them, or one of `clip_groups`): ranges share no pair, so they can run anywhere and merge."""
    n_items, max_frames = len(n_frames), (max(n_frames) + 1 if n_frames else 1)
    lines: dict[tuple[int, int], Line] = {}
    carry: Cells | None = None
    for c in chunks:
        anchors = pl.anchors[pl.cuts[c] : pl.cuts[c + 1]]
        first, last = int(index.items[anchors[0]]), int(index.items[anchors[-1]])
        cells = join_anchors(index, anchors, n_items=n_items, max_frames=max_frames, seg_frames=seg_frames,
                             row0=first, n_rows=last - first + 1)
        if carry is not None:
            cells = _concat(carry, cells, n_items)
        nxt = pl.cuts[c + 1]
        finished = last if nxt >= pl.anchors.size or index.items[pl.anchors[nxt]] != last else last - 1
        cut = int(np.searchsorted(cells.a, finished, side="right"))
        carry = _take(cells, slice(cut, None)) if cut < cells.a.size else None
        lines.update(pair_lines(_take(cells, slice(0, cut)), n_frames, cfg, seg_frames, screen=screen))
        if progress is not None:
            progress(c + 1 - chunks.start, len(chunks))
    return lines


def clip_groups(index: Index, pl: Plan, n_groups: int) -> list[range]:
    """Up to *n_groups* consecutive ranges of chunks with about equal candidate hits, each starting where a
    clip starts (no clip's cells are carried from one range into the next): the tasks of a distributed join."""
    n = pl.cuts.size - 1
    if n <= 0:
        return []
    firsts = index.items[pl.anchors[pl.cuts[:-1]]]
    lasts = index.items[pl.anchors[pl.cuts[1:] - 1]]
    edges = np.flatnonzero(np.concatenate([[True], firsts[1:] != lasts[:-1]]))  # chunks that start a clip
    done = np.concatenate([[0], np.cumsum(pl.pairs)])
    want = done[-1] * np.arange(1, n_groups) / n_groups
    starts = np.unique(np.concatenate([[0], edges[np.minimum(np.searchsorted(done[edges], want), edges.size - 1)]]))
    stops = np.concatenate([starts[1:], [n]])
    return [range(int(a), int(b)) for a, b in zip(starts, stops) if b > a]


def _take(cells: Cells, sel: slice) -> Cells:
    """The cells in *sel* (a slice of the pair-sorted arrays)."""
    return Cells(cells.a[sel], cells.b[sel], cells.seg[sel], cells.dt[sel], cells.count[sel])


def _concat(before: Cells, after: Cells, n_items: int) -> Cells:
    """Carried cells then a chunk's, back in (pair, segment, dt) order: a carried clip's segments all come
    before the chunk's, so a stable sort by pair is enough."""
    parts = [np.concatenate([getattr(before, f), getattr(after, f)]) for f in ("a", "b", "seg", "dt", "count")]
    order = np.argsort(parts[0].astype(np.int64) * n_items + parts[1], kind="stable")
    return Cells(*(p[order] for p in parts))
