"""media paths → library file: lock, content-hash dedup, resumable incremental indexing, track removal.

Each fingerprinted track is first saved on its own in ``<library>.pending/`` (hashes `.npy`, then its
`.json`, which marks it complete). Pending tracks are merged into the library file from time to time and at
the end; a killed run leaves them there and the next run merges them, so no work is lost or done twice.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from ..audio.decode import read_tags
from ..audio.extract import fingerprint_files
from ..config import DecodeConfig, FingerprintConfig
from ..engine import hashtable as index_mod
from ..engine.fingerprint import hash_peaks
from ..errors import OutputError
from ..fsutil import atomic_file, remove_quietly
from ..types import Hashes
from .store import (LIBRARY_FINGERPRINT, PEAK_BIN_BITS, Library, LibraryError, TableWriter, Track, open_library,
                    peak_table, remove_stale_temps)

IndexProgress = Callable[[int, int, float], None]  # tracks done, tracks total, audio-hours done
MERGE_FRACTION = 0.25  # merge once pending hashes reach this share of the library: amortized linear cost


@dataclass(frozen=True)
class IndexReport:
    added: list[str]
    skipped: list[str]  # already in the library (same content)
    failed: list[tuple[str, str]]  # path, reason
    library: Library


class WriteLock:
    """Exclusive advisory lock on ``<library>.lock`` (released by the OS if the process dies)."""

    def __init__(self, path: str) -> None:
        self.path = path + ".lock"
        self.fh = None

    def __enter__(self) -> "WriteLock":
        import fcntl

        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        self.fh = open(self.path, "a+")
        try:
            fcntl.flock(self.fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.fh.close()
            raise LibraryError(f"{self.path[:-5]}: another syncfp process is writing this library; try again later")
        return self

    def __exit__(self, *exc) -> None:
        self.fh.close()  # closing releases the flock


def content_hash(path: str) -> str:
    """sha256 of the file's bytes: the identity of a track, whatever its name or location."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def track_name(path: str, tags: dict[str, str]) -> tuple[str, str | None, str | None]:
    """(display name, title, artist): "Artist - Title" from tags, else the file name without suffix."""
    title, artist = tags.get("title") or None, tags.get("artist") or tags.get("album_artist") or None
    if title and artist:
        return f"{artist} - {title}", title, artist
    return title or os.path.splitext(os.path.basename(path))[0], title, artist


def _pending_dir(path: str) -> str:
    return path + ".pending"


def _save_pending(path: str, track: Track, hashes: Hashes) -> None:
    d = _pending_dir(path)
    os.makedirs(d, exist_ok=True)
    packed = (hashes.hash.astype(np.int64) << 32) | hashes.frame.astype(np.int64)
    for suffix, write in ((".npy", lambda fh: np.save(fh, packed, allow_pickle=False)),
                          (".json", lambda fh: fh.write(json.dumps(asdict(track)).encode()))):
        try:
            with atomic_file(os.path.join(d, track.sha256 + suffix)) as fh:
                write(fh)
        except OSError as exc:  # disk full, quota: the library file itself is untouched
            raise OutputError(f"{path}: cannot save indexing progress ({exc.strerror or exc})") from None


def _load_pending(path: str) -> list[tuple[Track, Hashes]]:
    """The complete entries of the pending folder; anything else there is a killed run's and is deleted
    (we hold the write lock): a temp file, a `.npy` whose `.json` was never written, or a `.json`/`.npy`
    left when a kill fell between the two removals of `_clear_pending`. Its track is fingerprinted again
    if the library lacks it."""
    d = _pending_dir(path)
    names = sorted(os.listdir(d)) if os.path.isdir(d) else []
    out = []
    for stem in sorted({os.path.splitext(n)[0] for n in names}):
        base = os.path.join(d, stem)
        try:
            with open(base + ".json", encoding="utf-8") as fh:
                track = Track(**json.load(fh))
            packed = np.load(base + ".npy", allow_pickle=False)
        except (OSError, ValueError, TypeError):
            for name in names:
                if os.path.splitext(name)[0] == stem:
                    remove_quietly(os.path.join(d, name))
            continue
        out.append((track, Hashes((packed >> 32).astype(np.uint32), (packed & 0xFFFFFFFF).astype(np.int32),
                                  track.n_frames)))
    return out


def _clear_pending(path: str, shas: set[str]) -> None:
    d = _pending_dir(path)
    for sha in shas:
        for suffix in (".json", ".npy"):
            remove_quietly(os.path.join(d, sha + suffix))


def work_prefix(path: str) -> str:
    """Name prefix of the temp folder an index run of the library at *path* decodes into: one library's,
    so that a run holding its write lock knows any other such folder is a killed run's."""
    return f"syncfp-index-{hashlib.sha1(os.path.abspath(path).encode()).hexdigest()[:10]}-"


def _remove_stale_work(path: str) -> None:
    """Delete the temp folders (decoded PCM) that killed index runs of *path* left behind; call only while
    holding its write lock."""
    root, prefix = tempfile.gettempdir(), work_prefix(path)
    try:
        names = os.listdir(root)
    except OSError:
        return
    for name in names:
        if name.startswith(prefix):
            shutil.rmtree(os.path.join(root, name), ignore_errors=True)


def _open_or_empty(path: str, cfg: FingerprintConfig) -> Library:
    if os.path.exists(path):
        return open_library(path, cfg=cfg)
    z = np.zeros(0, np.uint32)
    return Library(path=path, cfg=cfg, tracks=[], keys=z, starts=np.zeros(1, np.int64), postings=z,
                   next_base=0, file_bytes=0)


def merge_tracks(lib: Library, new: list[tuple[Track, Hashes]]) -> Library:
    """Write *lib* plus *new* tracks (bases assigned here, after every existing frame) and reopen it."""
    known = {t.sha256 for t in lib.tracks}
    new = [(t, h) for t, h in new if t.sha256 not in known]
    tracks = list(lib.tracks)
    base = lib.next_base
    bases = []
    for t, h in new:
        tracks.append(Track(**{**asdict(t), "base": base}))
        bases.append(base)
        base += t.n_frames + 1  # one spare frame between tracks: no posting is ever ambiguous
    if base >= 2**32:
        raise LibraryError(f"{lib.path}: library full (2^32 frames of audio)")
    add = index_mod.build([h for _, h in new])
    add_vals = (np.asarray(bases, np.int64)[add.items] + add.frames).astype(np.uint32)
    keys, starts = index_mod.merged_keys(lib.keys, lib.starts, add.keys, add.starts)
    # the new tracks' peaks (for `identify`'s peak check) go after the old ones: their frames all come later
    new_peaks = np.concatenate([hash_peaks(h, lib.cfg) + (b << PEAK_BIN_BITS) for (_, h), b in zip(new, bases)]
                               or [np.zeros(0, np.int64)])
    values, peak_starts = peak_table(lib.peak_starts, new_peaks, base)
    n_old = 0 if lib.peaks is None else lib.peaks.shape[0]
    with TableWriter(lib.path, n_postings=int(starts[-1]), n_keys=keys.size, n_peaks=n_old + values.size,
                     n_peak_chunks=peak_starts.size - 1) as writer:
        writer.array("keys")[:] = keys
        writer.array("starts")[:] = starts
        index_mod.merge_values(keys, starts, [(lib.keys, lib.starts, lib.postings), (add.keys, add.starts, add_vals)],
                               writer.array("postings"))
        peaks = writer.array("peaks")
        if n_old:
            peaks[:n_old] = lib.peaks
        peaks[n_old:] = values
        writer.array("peak_starts")[:] = peak_starts
        writer.commit(cfg=lib.cfg, tracks=tracks, next_base=base)
    return open_library(lib.path, cfg=lib.cfg, verify=False)


def _sort_new(files: Sequence[str], known: set[str]):
    """(to index as (file, sha256), already known, failed as (file, reason), sha256 → the file of this batch
    that indexes it, later files with the same content as (file, sha256): their fate follows the first's)."""
    todo, skipped, failed = [], [], []
    first: dict[str, str] = {}
    copies: list[tuple[str, str]] = []
    for f in files:
        try:
            if not stat.S_ISREG(os.stat(f).st_mode):  # hashing a FIFO would block forever
                failed.append((f, "is a directory" if os.path.isdir(f) else "not a regular file"))
                continue
            sha = content_hash(f)
        except OSError as exc:
            failed.append((f, exc.strerror or str(exc)))
            continue
        if sha in known:
            skipped.append(f)
        elif sha in first:
            copies.append((f, sha))
        else:
            first[sha] = f
            todo.append((f, sha))
    return todo, skipped, failed, first, copies


def index_files(
    path: str, files: Sequence[str], *, cfg: FingerprintConfig = LIBRARY_FINGERPRINT, workers: int = 1,
    progress: IndexProgress | None = None, batch: int | None = None, exclude: frozenset[str] = frozenset(),
    fingerprinter: Callable = fingerprint_files, decode: DecodeConfig = DecodeConfig(),
) -> IndexReport:
    """Add every file not yet in the library at *path* (created if absent); see the module notes.

    *exclude*: sha256s to skip as already indexed (a sharded library's other shards); *fingerprinter*:
    `audio.extract.fingerprint_files` or a drop-in with its signature (`runners.cluster.ClusterFingerprinter`);
    *decode*: the stream choice, channel mix and what a usable file must hold."""
    with WriteLock(path):
        remove_stale_temps(path)
        lib = _open_or_empty(path, cfg)
        pending = _load_pending(path)
        if pending:
            lib = merge_tracks(lib, pending)
            _clear_pending(path, {t.sha256 for t, _ in pending})
        todo, skipped, failed, first, copies = _sort_new(files, {t.sha256 for t in lib.tracks} | set(exclude))
        added: list[str] = []
        staged: list[tuple[Track, Hashes]] = []
        hours = 0.0
        total = len(todo)
        report = progress or (lambda done, tot, h: None)
        report(0, total, 0.0)
        step = batch or max(4, 2 * workers)
        _remove_stale_work(path)
        with tempfile.TemporaryDirectory(prefix=work_prefix(path)) as work:
            for lo in range(0, total, step):
                chunk = todo[lo : lo + step]

                def files_done(stage: str, d: int, t: int, lo: int = lo) -> None:
                    if stage == "decode":  # files; the "audio" stage counts seconds, which `report` is not
                        report(lo + d, total, hours)

                fps, errors = fingerprinter(
                    [f for f, _ in chunk], cfg=cfg, cache_dir=None, work_dir=work, workers=workers,
                    progress=files_done, decode=decode,
                )
                for (f, sha), fp, error in zip(chunk, fps, errors):
                    if fp is None:
                        failed.append((f, error or "unusable"))
                        continue
                    name, title, artist = track_name(f, read_tags(f))
                    track = Track(name=name, path=os.path.abspath(f), sha256=sha, base=-1,
                                  n_frames=fp.hashes.n_frames, duration_s=fp.duration_s,
                                  n_hashes=len(fp.hashes), title=title, artist=artist)
                    _save_pending(path, track, fp.hashes)
                    staged.append((track, fp.hashes))
                    added.append(f)
                    hours += fp.duration_s / 3600.0
                    remove_quietly(fp.pcm_path)
                report(min(lo + step, total), total, hours)
                if sum(len(h) for _, h in staged) >= MERGE_FRACTION * max(lib.n_postings, 1) or lo + step >= total:
                    if staged:
                        lib = merge_tracks(lib, staged)
                        _clear_pending(path, {t.sha256 for t, _ in staged})
                        staged = []
        if not os.path.exists(path):
            lib = merge_tracks(lib, [])  # an empty library file, so that `info` and `identify` work
        why = dict(failed)
        for f, sha in copies:
            if first[sha] in why:
                failed.append((f, why[first[sha]]))
            else:
                skipped.append(f)
    return IndexReport(added=added, skipped=skipped, failed=failed, library=lib)


def remove_tracks(path: str, names: Sequence[str], *, cfg: FingerprintConfig = LIBRARY_FINGERPRINT) -> list[Track]:
    """Remove tracks whose name, path, file name (with or without suffix) or sha256 prefix (≥ 8 hex digits) equals an entry of *names*."""
    with WriteLock(path):
        remove_stale_temps(path)
        lib = open_library(path, cfg=cfg)
        gone = [t for t in lib.tracks if _selected(t, names)]
        if not gone:
            return []
        lo = np.array([t.base for t in gone], np.int64)
        hi = lo + np.array([t.n_frames for t in gone], np.int64)
        order = np.argsort(lo)
        lo, hi = lo[order], hi[order]

        def drop(v: np.ndarray) -> np.ndarray:
            k = np.searchsorted(lo, v, side="right") - 1
            return (k >= 0) & (v < hi[np.maximum(k, 0)])

        keys, starts, vals = index_mod.filter_values(lib.keys, lib.starts, lib.postings, drop)
        kept = lib.peaks_in(0, lib.next_base)
        kept = kept[~drop(kept >> PEAK_BIN_BITS)]
        values, peak_starts = peak_table(None, kept, lib.next_base)
        with TableWriter(path, n_postings=vals.size, n_keys=keys.size,
                         n_peaks=None if lib.peaks is None else values.size, n_peak_chunks=peak_starts.size - 1) as writer:
            writer.array("keys")[:] = keys
            writer.array("starts")[:] = starts
            writer.array("postings")[:] = vals
            if lib.peaks is not None:
                writer.array("peaks")[:] = values
                writer.array("peak_starts")[:] = peak_starts
            gone_sha = {t.sha256 for t in gone}
            writer.commit(cfg=lib.cfg, tracks=[t for t in lib.tracks if t.sha256 not in gone_sha],
                          next_base=lib.next_base)
        return gone


def _selected(t: Track, names: Sequence[str]) -> bool:
    for n in names:
        stem = os.path.splitext(os.path.basename(t.path))[0]
        if n in (t.name, t.path, os.path.basename(t.path), stem) or os.path.abspath(n) == t.path:
            return True
        if len(n) >= 8 and t.sha256.startswith(n.lower()):
            return True
    return False

