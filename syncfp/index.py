"""`Hashes` of many items → one hash table as sorted arrays with CSR offsets. Storage only: no matching here."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .types import Hashes


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
        k = np.searchsorted(self.keys, hashes)
        k = np.minimum(k, max(self.keys.shape[0] - 1, 0))
        found = (self.keys.shape[0] > 0) & (self.keys[k] == hashes) if self.keys.shape[0] else np.zeros(
            hashes.shape, bool
        )
        start = np.where(found, self.starts[k], 0)
        stop = np.where(found, self.starts[k + 1], 0) if self.keys.shape[0] else start
        return start, stop


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
