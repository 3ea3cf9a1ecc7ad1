"""library directory (JSON manifest + self-contained library files) ↔ one `ShardSet` that identify scores as one.

A sharded library is a folder::

    manifest.json          {"format", "kind", "digest", "next_id", "distinct_keys", "shards": [{"file", ...}]}
    shard-000001.sfp       each exactly a single-file library (`library.py`): own header, checksums, digest
    shard-000002.sfp

Shard *i*'s global frames are displaced by the sum of the earlier shards' ``next_base``: that is exactly the
frame layout one library would have had if the same runs had been merged into it, so the votes, the
bucket filter (computed on the union's totals) and therefore every match, offset and score are those of
the merged library. `compact` merges consecutive shards keeping that layout. Each `index` run on a
folder writes one new shard; the manifest is replaced atomically once the shard is complete.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from ..config import FingerprintConfig, IdentifyConfig
from ..engine import hashtable as index_mod
from ..fsutil import atomic_write_text, remove_quietly
from ..types import Hashes
from .identify import Hits, bucket_cap
from .store import (LIBRARY_FINGERPRINT, PEAK_BIN_BITS, Library, LibraryError, TableWriter, Track, open_library,
                    peak_table)

MANIFEST = "manifest.json"
KIND = "syncfp-shards"
FORMAT = 1
COMPACT_BYTES = 256 << 20  # `compact` merges consecutive shards up to this size (checksummed on every open)

# (shard paths, query hashes, bucket cap) → per shard (bucket sizes int32[m], hash index int32[k], posting
# uint32[k]); local by default, fanned out to Dask workers by `cluster.ClusterLookup`
PartsFn = Callable[[list[str], np.ndarray, float], list[tuple[np.ndarray, np.ndarray, np.ndarray]]]


def is_sharded(path: str) -> bool:
    """A folder (existing or to be created by `index`) rather than a library file."""
    return os.path.isdir(path) or path.endswith(os.sep) or os.path.exists(os.path.join(path, MANIFEST))


def shard_hits(lib: Library, hashes: np.ndarray, cap: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One shard's part of a lookup: every query hash's bucket size here, and the postings of buckets not
    already over *cap* here (the caller drops those over it in total)."""
    start, stop = lib.ranges(hashes)
    sizes = (stop - start).astype(np.int32)
    ok = np.flatnonzero(sizes <= cap)
    which, pos = index_mod.expand_ranges(start[ok], stop[ok])
    return sizes, ok[which].astype(np.int32), np.asarray(lib.postings[pos], np.uint32)


@dataclass
class ShardSet:
    """Several shards seen as one library: virtual track bases, lookups merged before scoring."""

    path: str
    cfg: FingerprintConfig
    shards: list[Library]
    n_keys: int  # distinct hashes over all shards (the bucket filter's mean is that of the union)
    parts_fn: PartsFn | None = None
    tracks: list[Track] = field(init=False)
    displacement: np.ndarray = field(init=False, repr=False)
    _bases: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        d = np.cumsum([0] + [s.next_base for s in self.shards])
        self.displacement = d[:-1].astype(np.int64)
        self.next_base = int(d[-1])
        self.tracks = [replace(t, base=t.base + int(off)) for s, off in zip(self.shards, self.displacement)
                       for t in s.tracks]
        self._bases = np.array([t.base for t in self.tracks], np.int64)

    @property
    def n_postings(self) -> int:
        return sum(s.n_postings for s in self.shards)

    @property
    def file_bytes(self) -> int:
        return sum(s.file_bytes for s in self.shards)

    @property
    def audio_hours(self) -> float:
        return sum(t.duration_s for t in self.tracks) / 3600.0

    def track_of(self, global_frame: np.ndarray) -> np.ndarray:
        return np.maximum(np.searchsorted(self._bases, global_frame, side="right") - 1, 0)

    def bases(self) -> np.ndarray:
        return self._bases

    @property
    def has_peaks(self) -> bool:
        return any(s.has_peaks for s in self.shards)

    @property
    def n_peaks(self) -> int | None:
        return sum(s.n_peaks or 0 for s in self.shards) if self.has_peaks else None

    def peaks_in(self, g0: int, g1: int) -> np.ndarray:
        """`Library.peaks_in` in the virtual frame space: the peaks of the shard holding the middle of
        the range (a range never spans two shards' tracks: it is one offset's neighbourhood)."""
        k = int(np.clip(np.searchsorted(self.displacement, (g0 + g1) // 2, side="right") - 1, 0, len(self.shards) - 1))
        d = int(self.displacement[k])
        return self.shards[k].peaks_in(g0 - d, g1 - d) + (d << PEAK_BIN_BITS)

    def hits(self, hashes: Hashes, cfg: IdentifyConfig) -> Hits:
        """Every shard's postings of the query hashes as votes in the virtual frame space (see module notes)."""
        h = np.asarray(hashes.hash, np.uint32)
        cap = bucket_cap(self.n_postings, self.n_keys, cfg)
        paths = [s.path for s in self.shards]
        parts = self.parts_fn(paths, h, cap) if self.parts_fn else [shard_hits(s, h, cap) for s in self.shards]
        total = np.zeros(h.shape, np.int64)
        for sizes, _, _ in parts:
            total += sizes
        ok = total <= cap
        which = np.concatenate([w for _, w, _ in parts] or [np.zeros(0, np.int32)])
        glob = np.concatenate([p.astype(np.int64) + d for (_, _, p), d in zip(parts, self.displacement)]
                              or [np.zeros(0, np.int64)])
        keep = ok[which]
        t_q = np.asarray(hashes.frame)[which[keep]]
        return Hits(t_q=t_q.astype(np.int32), goff=glob[keep] - t_q, n_hashes=len(hashes),
                    n_frames=hashes.n_frames)


def _read_manifest(directory: str) -> dict:
    path = os.path.join(directory, MANIFEST)
    try:
        with open(path, encoding="utf-8") as fh:
            man = json.load(fh)
    except FileNotFoundError:
        raise LibraryError(f"{directory}: no sharded library here; build one with "
                           f"`syncfp index FILES --library {directory}/`") from None
    except (OSError, ValueError) as exc:
        raise LibraryError(f"{path}: unreadable manifest ({type(exc).__name__})") from None
    if not isinstance(man, dict) or man.get("kind") != KIND or not isinstance(man.get("shards"), list):
        raise LibraryError(f"{path}: not a syncfp shard manifest")
    if man.get("format") != FORMAT:
        raise LibraryError(f"{path}: manifest format {man.get('format')} is not supported (this syncfp reads {FORMAT})")
    return man


def _write_manifest(directory: str, shards: list[Library], *, next_id: int, n_keys: int) -> None:
    man = {"format": FORMAT, "kind": KIND, "digest": LIBRARY_FINGERPRINT.digest(), "next_id": next_id,
           "distinct_keys": n_keys, "shards": [_entry(s) for s in shards]}
    atomic_write_text(os.path.join(directory, MANIFEST), json.dumps(man, indent=1) + "\n")


def _entry(lib: Library) -> dict:
    return {"file": os.path.basename(lib.path), "tracks": len(lib.tracks), "postings": lib.n_postings,
            "keys": int(lib.keys.shape[0]), "next_base": lib.next_base}


def _union_keys(shards: Sequence[Library]) -> int:
    keys = np.zeros(0, np.uint32)
    for s in shards:
        keys = np.union1d(keys, np.asarray(s.keys))
    return int(keys.size)


def open_shards(directory: str, *, cfg: FingerprintConfig | None = LIBRARY_FINGERPRINT, verify: bool | None = None,
                parts_fn: PartsFn | None = None) -> ShardSet:
    """Open every shard the manifest lists (each checked as a library file is)."""
    man = _read_manifest(directory)
    shards = [open_library(os.path.join(directory, os.path.basename(str(e.get("file")))), cfg=cfg, verify=verify)
              for e in man["shards"]]
    listed = [(e.get("postings"), e.get("keys"), e.get("next_base")) for e in man["shards"]]
    actual = [(s.n_postings, int(s.keys.shape[0]), s.next_base) for s in shards]
    n_keys = man.get("distinct_keys")
    if listed != actual or not isinstance(n_keys, int):  # a shard edited behind the manifest's back
        n_keys = _union_keys(shards)
    return ShardSet(path=directory, cfg=shards[0].cfg if shards else (cfg or LIBRARY_FINGERPRINT),
                    shards=shards, n_keys=n_keys, parts_fn=parts_fn)


def open_any(path: str, *, verify: bool | None = None) -> Library | ShardSet:
    """A library file or a sharded folder, whichever *path* is."""
    return open_shards(path, verify=verify) if is_sharded(path) else open_library(path, verify=verify)


def as_shards(lib: Library | ShardSet, *, parts_fn: PartsFn | None = None) -> ShardSet:
    """*lib* as a `ShardSet` (a single file is one shard) with its lookups done by *parts_fn*."""
    if isinstance(lib, ShardSet):
        return replace(lib, parts_fn=parts_fn)
    return ShardSet(path=lib.path, cfg=lib.cfg, shards=[lib], n_keys=int(lib.keys.shape[0]), parts_fn=parts_fn)


def index_shards(directory: str, files: Sequence[str], **options):
    """`indexer.index_files` into a new shard of *directory* (created if absent); files already in any
    shard are skipped. A killed run resumes into the same, not yet listed, shard."""
    from .build import IndexReport, WriteLock, index_files

    os.makedirs(directory, exist_ok=True)
    with WriteLock(os.path.join(directory, MANIFEST)):
        has = os.path.exists(os.path.join(directory, MANIFEST))
        current = open_shards(directory) if has else None
        man = _read_manifest(directory) if has else {"next_id": 1}
        shards = list(current.shards) if current else []
        next_id = int(man.get("next_id", len(shards) + 1))
        shard_path = os.path.join(directory, f"shard-{next_id:06d}.sfp")
        known = frozenset(t.sha256 for s in shards for t in s.tracks)
        rep = index_files(shard_path, files, exclude=known, **options)
        _tidy(shard_path)
        if rep.library.tracks:
            shards.append(rep.library)
            n_keys = _union_keys(shards)
            _write_manifest(directory, shards, next_id=next_id + 1, n_keys=n_keys)
        else:
            remove_quietly(shard_path)
            n_keys = current.n_keys if current else 0
            if not has:
                _write_manifest(directory, [], next_id=next_id, n_keys=0)
        lib = ShardSet(path=directory, cfg=rep.library.cfg, shards=shards, n_keys=n_keys)
    return IndexReport(added=rep.added, skipped=rep.skipped, failed=rep.failed, library=lib)


class _Displaced:
    """Slices of a posting array with a frame displacement added (what `merge_values` reads)."""

    def __init__(self, values: np.ndarray, d: int) -> None:
        self.values, self.d = values, d

    def __getitem__(self, sl: slice) -> np.ndarray:
        return (np.asarray(self.values[sl], np.int64) + self.d).astype(np.uint32)


def merge_shards(libs: Sequence[Library], path: str) -> Library:
    """One library file at *path* holding *libs* in order, each displaced as in a `ShardSet` (same layout)."""
    disp = np.cumsum([0] + [s.next_base for s in libs])
    if disp[-1] > 2**32:
        raise LibraryError(f"{path}: these shards together exceed 2^32 frames; keep them apart")
    keys, starts = libs[0].keys, libs[0].starts
    for s in libs[1:]:
        keys, starts = index_mod.merged_keys(keys, starts, s.keys, s.starts)
    with_peaks = any(s.has_peaks for s in libs)
    peaks = np.concatenate([s.peaks_in(0, s.next_base) + (int(d) << PEAK_BIN_BITS) for s, d in zip(libs, disp)]
                           or [np.zeros(0, np.int64)])
    values, peak_starts = peak_table(None, peaks, int(disp[-1]))
    with TableWriter(path, n_postings=int(starts[-1]), n_keys=int(keys.size),
                     n_peaks=values.size if with_peaks else None, n_peak_chunks=peak_starts.size - 1) as writer:
        writer.array("keys")[:] = keys
        writer.array("starts")[:] = starts
        parts = [(s.keys, s.starts, _Displaced(s.postings, int(d))) for s, d in zip(libs, disp)]
        index_mod.merge_values(keys, starts, parts, writer.array("postings"))
        if with_peaks:
            writer.array("peaks")[:] = values
            writer.array("peak_starts")[:] = peak_starts
        tracks = [replace(t, base=t.base + int(d)) for s, d in zip(libs, disp) for t in s.tracks]
        writer.commit(cfg=libs[0].cfg, tracks=tracks, next_base=int(disp[-1]))
    return open_library(path, cfg=libs[0].cfg, verify=False)


def compact(directory: str, *, target_bytes: int = COMPACT_BYTES) -> tuple[int, int]:
    """Merge runs of consecutive shards while together under *target_bytes*; (shards before, after)."""
    from .build import WriteLock

    with WriteLock(os.path.join(directory, MANIFEST)):
        man = _read_manifest(directory)
        cur = open_shards(directory)
        groups: list[list[Library]] = []
        for s in cur.shards:
            if groups and sum(g.file_bytes for g in groups[-1]) + s.file_bytes <= target_bytes:
                groups[-1].append(s)
            else:
                groups.append([s])
        next_id = int(man.get("next_id", len(cur.shards) + 1))
        out, old = [], []
        for g in groups:
            if len(g) == 1:
                out.append(g[0])
                continue
            out.append(merge_shards(g, os.path.join(directory, f"shard-{next_id:06d}.sfp")))
            next_id += 1
            old += [s.path for s in g]
        _write_manifest(directory, out, next_id=next_id, n_keys=cur.n_keys)
        for p in old:  # readers holding them open keep their copy until they close it
            remove_quietly(p)
            _tidy(p)
    return len(cur.shards), len(out)


def remove_from_shards(directory: str, names: Sequence[str]) -> list[Track]:
    """`library remove` on a folder: each shard holding a selected track is rewritten (frames keep their
    places, so the layout of the others is unchanged)."""
    from .build import WriteLock, remove_tracks

    gone: list[Track] = []
    with WriteLock(os.path.join(directory, MANIFEST)):
        man = _read_manifest(directory)
        cur = open_shards(directory)
        for s in cur.shards:
            gone += remove_tracks(s.path, names, cfg=s.cfg)
            _tidy(s.path)
        shards = [open_library(s.path, cfg=s.cfg) for s in cur.shards]
        _write_manifest(directory, shards, next_id=int(man.get("next_id", len(shards) + 1)),
                        n_keys=_union_keys(shards) if gone else cur.n_keys)
    return gone


def _tidy(shard_path: str) -> None:
    """Drop a shard's writer lock file and empty pending folder (the manifest's lock guards the folder)."""
    remove_quietly(shard_path + ".lock")
    try:
        os.rmdir(shard_path + ".pending")
    except OSError:
        pass

