"""Fingerprint cache on disk: hashes (.npy, no pickle), info (.json) and analysis audio (.pcm) per file.

A file is identified by its resolved path, size, modification time, inode and status-change time,
together with the fingerprint parameter digest (and the decode one, when not the default), so edited
files and changed parameters never reuse stale entries — nor does a file swapped for another of the same
size with its mtime restored (copy tools and card readers do that): the swap gives a new inode, or at
least a new ctime, which no tool can set back.

The cache is an optimisation: when it cannot be written (read-only, full) the caller decodes into a work
folder instead and says so once (`unusable_reason`).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from fractions import Fraction

import numpy as np

from ..config import DecodeConfig, FingerprintConfig
from ..fsutil import PendingFile, atomic_file
from ..types import Fingerprint, Hashes, MediaInfo

FORMAT = 6  # 2: MediaInfo.time_reference; 3: stream start times, video length, VFR flag; 4: stream choice, downmix;
# 5: timestamp jitter no longer decoded as dropouts (Ogg/Vorbis decoded up to 7 % long before); 6: MediaInfo.local_time


def default_dir() -> str:
    """`SYNCFP_CACHE`, else `$XDG_CACHE_HOME/syncfp`, else `~/.cache/syncfp`."""
    env = os.environ.get("SYNCFP_CACHE")
    if env:
        return env
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "syncfp")


def key_for(path: str, cfg: FingerprintConfig, stream_index: object,
            decode: DecodeConfig = DecodeConfig()) -> str | None:
    """Cache key of a file, or None when it cannot be stat'ed (the decoder then reports why). Decode
    settings other than the default are part of it (the default's keys are those made before them)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    ident = (f"{FORMAT}|{os.path.realpath(path)}|{st.st_size}|{st.st_mtime_ns}|{st.st_ino}|{st.st_ctime_ns}|"
             f"{stream_index}|{cfg.digest()}")
    if decode != DecodeConfig():
        ident += f"|{decode.digest()}"
    return hashlib.sha256(ident.encode()).hexdigest()[:32]


def unusable_reason(cache_dir: str) -> str | None:
    """Why *cache_dir* cannot take new entries (created if absent, a probe file written and removed), or
    None when it can."""
    try:
        os.makedirs(cache_dir, exist_ok=True)
        with PendingFile(os.path.join(cache_dir, "probe")) as probe, probe.handle() as fh:
            fh.write(b"\0" * 4096)  # flushed on close: a full disk raises here; never committed, so removed
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def fallback_note(cache_dir: str, pcm_paths: list[str]) -> str | None:
    """What to tell the user when some analysis audio landed outside *cache_dir* (`extract` decodes into
    the work folder when the cache cannot take a file), or None when everything was cached."""
    inside = os.path.join(os.path.realpath(cache_dir), "")
    missed = sum(1 for p in pcm_paths if p and not os.path.realpath(p).startswith(inside))
    if not missed:
        return None
    try:
        st = os.statvfs(cache_dir)
        full = st.f_bavail * st.f_frsize < (1 << 20)
    except OSError:
        full = True
    reason = "no space left on device" if full else "writing to it failed"
    return (f"fingerprint cache {cache_dir} could not take {missed} file(s) ({reason}); they were decoded into "
            "a temporary folder and will be decoded again next time")


def _info_to_json(info: MediaInfo) -> dict:
    d = asdict(info)
    d["fps"] = None if info.fps is None else f"{info.fps.numerator}/{info.fps.denominator}"
    return d


def _info_from_json(d: dict, path: str) -> MediaInfo:
    d = dict(d)
    d["fps"] = None if d.get("fps") is None else Fraction(d["fps"])
    d["path"] = path
    return MediaInfo(**d)


def load(cache_dir: str, key: str, path: str) -> Fingerprint | None:
    """The cached fingerprint for *key*, or None when absent or unreadable (then it is simply rebuilt)."""
    base = os.path.join(cache_dir, key)
    try:
        with open(base + ".json", encoding="utf-8") as fh:
            meta = json.load(fh)
        if meta.get("format") != FORMAT or not os.path.exists(base + ".pcm"):
            return None
        arr = np.load(base + ".npy", allow_pickle=False)
        if arr.dtype != np.int64 or arr.ndim != 1:
            return None
        hashes = Hashes(
            hash=(arr >> 32).astype(np.uint32), frame=(arr & 0xFFFFFFFF).astype(np.int32),
            n_frames=int(meta["n_frames"]),
        )
        return Fingerprint(
            path=path, info=_info_from_json(meta["info"], path), hashes=hashes,
            duration_s=float(meta["duration_s"]), pcm_path=base + ".pcm", rate_hz=int(meta["rate_hz"]),
            rms_db=float(meta["rms_db"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save(cache_dir: str, key: str, fp: Fingerprint) -> None:
    """Write the hashes and metadata atomically; a failure to cache never fails the run."""
    base = os.path.join(cache_dir, key)
    packed = (fp.hashes.hash.astype(np.int64) << 32) | fp.hashes.frame.astype(np.int64)
    meta = {
        "format": FORMAT, "n_frames": fp.hashes.n_frames, "duration_s": fp.duration_s,
        "rate_hz": fp.rate_hz, "rms_db": fp.rms_db, "info": _info_to_json(fp.info),
    }
    try:
        # not durable: a cache entry lost in a crash is rebuilt, an fsync per entry would cost every run
        with atomic_file(base + ".npy", durable=False) as fh:
            np.save(fh, packed, allow_pickle=False)
        with atomic_file(base + ".json", durable=False) as fh:
            fh.write(json.dumps(meta).encode())
    except OSError:
        pass
