"""`Hashes` of many items → one hash table as sorted arrays with CSR offsets. Storage only: no matching here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..types import Hashes


@dataclass(frozen=True)
class Index:
    """Postings sorted by (hash, item, frame). ``keys[k]``'s postings are ``starts[k]:starts[k+1]``."""

    keys: np.ndarray  # uint32[u], unique hashes, ascending
    starts: np.ndarray  # int64[u + 1]
    items: np.ndarray  # int32[m]
    frames: np.ndarray  # int32[m]

    @property
    def n_postings(self) -> int:
        return int(self.items.shape[0])

    def bucket_sizes(self) -> np.ndarray:
        return np.diff(self.starts)

    def lookup(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each query hash, the (start, stop) of its postings; stop == start when absent."""
        return csr_ranges(self.keys, self.starts, hashes)


def csr_ranges(keys: np.ndarray, starts: np.ndarray, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(start, stop) of each hash's postings in a CSR table of sorted *keys*; stop == start when absent.

    The one lookup behind `Index` and the on-disk `Library`.
    """
    hashes = np.asarray(hashes, np.uint32)
    if keys.shape[0] == 0:
        z = np.zeros(hashes.shape, np.int64)
        return z, z
    k = np.minimum(np.searchsorted(keys, hashes), keys.shape[0] - 1)
    found = keys[k] == hashes
    return np.where(found, starts[k], 0), np.where(found, starts[k + 1], 0)


def build(hashes: list[Hashes]) -> Index:
    """One index over every item's hashes; item ids are positions in *hashes*."""
    if not hashes:
        z = np.zeros(0, np.int32)
        return Index(np.zeros(0, np.uint32), np.zeros(1, np.int64), z, z)
    h = np.concatenate([x.hash for x in hashes]).astype(np.uint32)
    fr = np.concatenate([x.frame for x in hashes]).astype(np.int32)
    it = np.concatenate([np.full(len(x), i, np.int32) for i, x in enumerate(hashes)])
    order = np.lexsort((fr, it, h))
    h, fr, it = h[order], fr[order], it[order]
    edge = np.flatnonzero(np.diff(h)) + 1 if h.size else np.zeros(0, np.int64)
    starts = np.concatenate([[0], edge, [h.size]]).astype(np.int64)
    keys = h[starts[:-1]] if h.size else np.zeros(0, np.uint32)
    return Index(keys=keys, starts=starts, items=it, frames=fr)


# --- CSR tables whose postings are single integer values (used by the persistent library) ---


def range_positions(start: np.ndarray, stop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(start, stop) pairs → (length of each, every position inside them, in pair order). Callers that need
    something per position repeat it by the lengths (cheaper than indexing by a pair number)."""
    n = np.maximum(np.asarray(stop, np.int64) - np.asarray(start, np.int64), 0)
    pos = np.repeat(np.asarray(start, np.int64) - (np.cumsum(n) - n), n)  # bucket start - positions before it
    pos += np.arange(pos.size)
    return n, pos


def expand_ranges(start: np.ndarray, stop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(start, stop) pairs → (pair number, position) of every position inside them, in pair order."""
    n, pos = range_positions(start, stop)
    return np.repeat(np.arange(n.size), n), pos


def merged_keys(
    keys_a: np.ndarray, starts_a: np.ndarray, keys_b: np.ndarray, starts_b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Keys and starts of the union of two CSR tables; each bucket holds a's postings, then b's."""
    keys = np.union1d(np.asarray(keys_a), np.asarray(keys_b)).astype(np.uint32)
    count = np.zeros(keys.size, np.int64)
    count[np.searchsorted(keys, keys_a)] += np.diff(np.asarray(starts_a, np.int64))
    count[np.searchsorted(keys, keys_b)] += np.diff(np.asarray(starts_b, np.int64))
    return keys, np.concatenate([[0], np.cumsum(count)]).astype(np.int64)


def merge_values(
    keys: np.ndarray, starts: np.ndarray, parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]], out: np.ndarray,
    *, chunk: int = 1 << 22,
) -> None:
    """Write the postings of CSR tables *parts* = [(keys, starts, values), ...] into *out* (laid out by
    `merged_keys` over the same parts, in order), a chunk of buckets at a time so memory stays bounded."""
    filled = np.zeros(keys.size, np.int64)
    for k_p, s_p, v_p in parts:
        s_p = np.asarray(s_p, np.int64)
        pos = np.searchsorted(keys, k_p)
        shift = starts[pos] + filled[pos] - s_p[:-1]  # output index - input index, per bucket of this part
        b0 = 0
        while b0 < pos.size:
            b1 = int(np.searchsorted(s_p, s_p[b0] + chunk, side="right")) - 1
            b1 = min(max(b1, b0 + 1), pos.size)
            lo, hi = int(s_p[b0]), int(s_p[b1])
            sizes = np.diff(s_p[b0 : b1 + 1])
            out[np.arange(lo, hi) + np.repeat(shift[b0:b1], sizes)] = v_p[lo:hi]
            b0 = b1
        filled[pos] += np.diff(s_p)


def filter_values(
    keys: np.ndarray, starts: np.ndarray, values: np.ndarray, drop: Callable[[np.ndarray], np.ndarray],
    *, chunk: int = 1 << 22,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The table without the postings for which ``drop(values)`` is True; empty buckets disappear."""
    n = int(starts[-1])
    kept_count = np.zeros(keys.size, np.int64)
    kept: list[np.ndarray] = []
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        v = np.asarray(values[lo:hi])
        keep = ~drop(v)
        bucket = np.searchsorted(starts, np.arange(lo, hi)[keep], side="right") - 1
        kept_count += np.bincount(bucket, minlength=keys.size)
        kept.append(v[keep])
    nz = kept_count > 0
    new_starts = np.concatenate([[0], np.cumsum(kept_count[nz])]).astype(np.int64)
    vals = np.concatenate(kept) if kept else np.zeros(0, np.asarray(values).dtype)
    return np.asarray(keys)[nz], new_starts, vals
