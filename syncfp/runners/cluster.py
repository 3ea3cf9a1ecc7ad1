"""Dask scheduler address → decode/fingerprint tasks and shard lookups on its workers (optional: `syncfp[cluster]`).

Tasks are pure functions of paths the workers can see: a fingerprint task returns the compact hashes (and,
for `align`, writes the analysis audio into a folder the caller names, which must be shared); a lookup task
returns one shard's postings for the query hashes. The client keeps every write (the library writer, the
manifest), so a worker lost mid-job only means Dask runs its tasks again elsewhere.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from ..audio.extract import DecodeTally, extract_one
from ..config import DecodeConfig, FingerprintConfig, MatchConfig
from ..engine.stream import MAX_PAIRS, chunk_groups, plan, run_chunks
from ..errors import SyncfpError, UsageError
from ..inputs import stream_for
from ..library.shards import shard_hits
from ..library.store import open_library
from ..types import Fingerprint, StreamChoice, StreamRules

ENV = "SYNCFP_CLUSTER"


class ClusterError(SyncfpError):
    """The Dask scheduler cannot be reached."""

    exit_code = 1


def connect(address: str, *, timeout_s: float = 20.0):
    """A `distributed.Client` for the scheduler at *address* (tcp://host:port)."""
    try:
        from distributed import Client
    except ImportError:
        raise UsageError("--cluster needs Dask distributed: pip install 'syncfp[cluster]'") from None
    try:
        return Client(address, timeout=timeout_s, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {address} ({exc})") from None


def _extract_task(path: str, cfg: FingerprintConfig, cache_dir: str | None, work_dir: str | None,
                  stream_index: int | StreamChoice | None,
                  decode: DecodeConfig) -> tuple[Fingerprint | None, str | None]:
    """On a worker: decode + fingerprint *path*. Without *work_dir* the analysis audio stays on the worker
    (deleted) and only the hashes travel back."""
    if work_dir is not None:
        _, fp, err = extract_one((0, path, cfg, cache_dir, work_dir, stream_index, decode))
        return fp, err
    with tempfile.TemporaryDirectory(prefix="syncfp-worker-") as tmp:
        _, fp, err = extract_one((0, path, cfg, None, tmp, stream_index, decode))
        return (None if fp is None else replace(fp, pcm_path="")), err


class ClusterFingerprinter:
    """`audio.extract.fingerprint_files` with the same signature, each file one task on the cluster.

    *keep_audio* (align): the analysis audio is written to the caller's cache or work folder, which must be
    on a filesystem the workers share at the same path; otherwise only hashes come back.
    """

    def __init__(self, client, *, keep_audio: bool = False) -> None:
        self.client, self.keep_audio = client, keep_audio

    def __call__(self, paths: Sequence[str], *, cfg: FingerprintConfig, cache_dir: str | None, work_dir: str,
                 workers: int = 1, stream_index: int | StreamRules | None = None, progress=None,
                 decode: DecodeConfig = DecodeConfig()):
        from distributed import as_completed

        progress = progress or (lambda stage, done, total: None)
        fps: list[Fingerprint | None] = [None] * len(paths)
        errors: list[str | None] = [None] * len(paths)
        wd = work_dir if self.keep_audio else None
        cd = cache_dir if self.keep_audio else None
        futures = {self.client.submit(_extract_task, os.path.abspath(p), cfg, cd, wd, stream_for(stream_index, p),
                                      decode, pure=False): i
                   for i, p in enumerate(paths)}
        tally = DecodeTally(progress, len(paths))
        for fut in as_completed(list(futures), loop=self.client.loop):
            i = futures[fut]
            try:
                fps[i], errors[i] = fut.result()
            except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker: a file that kills every worker
                fps[i], errors[i] = None, f"failed on the cluster ({type(exc).__name__})"
            if fps[i] is not None and fps[i].path != paths[i]:
                fps[i] = replace(fps[i], path=paths[i])
            tally(fps[i])
        return fps, errors


def _match_task(index, pl, n_frames: list[int], cfg: MatchConfig, seg_frames: int, screen: bool, start: int,
                stop: int) -> dict:
    """One range of the streamed join's chunks on a worker → the fitted lines of its pairs."""
    return run_chunks(index, pl, n_frames, cfg, seg_frames, screen=screen, chunks=range(start, stop))


class ClusterMatcher:
    """`engine.stream.stream_lines` with the same signature, its chunks grouped into tasks of about equal
    work (`chunk_groups`, *tasks_per_worker* per worker): the hash table and the plan go to every worker once,
    only each pair's fitted line (a few numbers) comes back; the solve stays here."""

    def __init__(self, client, *, tasks_per_worker: int = 4) -> None:
        self.client, self.tasks_per_worker = client, tasks_per_worker

    def __call__(self, index, n_frames: list[int], cfg: MatchConfig, seg_frames: int, *, screen: bool = True,
                 max_pairs: int = MAX_PAIRS, progress=None, pairs=None) -> dict:
        from distributed import as_completed

        pl = plan(index, n_frames=n_frames, cfg=cfg, seg_frames=seg_frames, max_pairs=max_pairs)
        n_workers = max(1, len(self.client.scheduler_info().get("workers", {})))
        groups = chunk_groups(pl, n_workers * self.tasks_per_worker)
        idx_f, pl_f = self.client.scatter([index, pl], broadcast=True)
        futures = [self.client.submit(_match_task, idx_f, pl_f, n_frames, cfg, seg_frames, screen, g.start, g.stop,
                                      pure=False) for g in groups]
        lines: dict = {}
        done = 0
        for fut in as_completed(futures, loop=self.client.loop):
            lines.update(fut.result())
            done += 1
            if progress is not None:
                progress(done, len(futures))
            if pairs is not None:
                pairs(len(lines))
        return lines


# Worker side: shards a worker has opened stay mapped for later queries (per worker process, keyed by the
# file's identity, so a rewritten shard is opened afresh).
_OPEN: dict[tuple[str, int, int], object] = {}


def _shard(path: str):
    st = os.stat(path)
    key = (path, st.st_ino, st.st_mtime_ns)
    lib = _OPEN.get(key)
    if lib is None:
        for k in [k for k in _OPEN if k[0] == path]:
            del _OPEN[k]
        lib = _OPEN[key] = open_library(path, verify=False)  # the client opened (and checked) it already
    return lib


def _load_task(path: str) -> int:
    return _shard(path).n_postings


def _lookup_task(path: str, hashes: np.ndarray, cap: float):
    return shard_hits(_shard(path), hashes, cap)


class ClusterLookup:
    """`shards.PartsFn` on a cluster: shard *i* lives on worker *i* mod n (kept open there); every lookup
    fans out to all shards; a lost worker's shards are opened by another on demand."""

    def __init__(self, client, shard_paths: Sequence[str]) -> None:
        self.client = client
        workers = sorted(client.scheduler_info()["workers"]) or [None]
        self.home = {os.path.abspath(p): workers[i % len(workers)] for i, p in enumerate(shard_paths)}
        client.gather([self._submit(_load_task, p) for p in self.home])  # map the shards before the first query

    def _submit(self, fn, path: str, *args):
        w = self.home.get(path)
        return self.client.submit(fn, path, *args, workers=[w] if w else None, allow_other_workers=True,
                                  pure=False)

    def __call__(self, paths: list[str], hashes: np.ndarray, cap: float):
        return self.client.gather([self._submit(_lookup_task, os.path.abspath(p), hashes, cap) for p in paths])
