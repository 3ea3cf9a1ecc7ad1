"""library file ↔ memory-mapped hash table + track table. Storage only: no matching here.

One file, read by `np.memmap` without loading it::

    prefix (64 bytes)  magic "SYNCFPLB", format u32, header offset u64, header length u64, header crc32 u32
    postings uint32[m] global frame of each posting (track base + frame in the track), bucket by bucket
    keys     uint32[u] the distinct landmark hashes, ascending
    starts   int64[u+1] bucket k is postings[starts[k]:starts[k+1]]
    peaks        uint16[p] (optional) every peak the hashes were made of, ascending by (global frame, bin):
                 (frame mod 256) << 8 | bin, so 2 bytes a peak
    peak_starts  int64[c+1] (optional) the peaks of global frames [256 k, 256 k + 256) are
                 peaks[peak_starts[k]:peak_starts[k+1]]
    header   JSON: format, fingerprint parameters and their digest, tracks, array offsets, sizes, crc32s

Each array starts on a 64-byte boundary. A posting is one uint32 *global* frame: a track's postings lie in
[base, base + n_frames), so the track follows from a binary search over the bases and the offset inside it
is exact for any track length (no time field to wrap). 2**32 frames of 32 ms is ~38,000 hours.

The peak arrays (~0.17 MB per audio-hour) let `identify` check a candidate offset peak by peak, where a
talking crowd has left too few of the query's hash *pairs* (`peakcheck`). They are optional: files written
before them open without, and readers that do not know them ignore them.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from dataclasses import asdict, dataclass, field

import numpy as np

from ..config import FingerprintConfig
from ..engine.hashtable import csr_ranges
from ..errors import OutputError, SyncfpError
from ..fsutil import PendingFile, default_file_mode, remove_quietly

MAGIC = b"SYNCFPLB"
FORMAT = 1
_PREFIX = struct.Struct("<8sIQQI")  # magic, format, header offset, header length, header crc32
_PREFIX_SIZE = 64
_ALIGN = 64
VERIFY_AUTO_BYTES = 256 << 20  # above this, checksums of the arrays are checked only on request
SUFFIX = ".sfp"
PEAK_CHUNK_BITS = 8  # peaks are indexed by chunks of 256 global frames (~8 s)
PEAK_BIN_BITS = 8  # a peak key is global frame << 8 | bin: bins must stay under 256 (fmax_bin 250)

# Parameters of every library, spelled out in full so that tuning `align`'s defaults never invalidates
# libraries. Lower density than align (24 peaks/s, fan-out 5 → ~120 hashes/s): at 4 bytes a posting
# that is ~1.7 MB per audio-hour, inside the 2 MB budget; queries make up for it with a wider fan-out.
# A 1 s whitening window (align: 3 s) and a smaller max filter (±94 Hz × ±64 ms) pick the same peaks in a
# 1-2 s query as in the whole track, and more of them survive noise (measured in docs/library.md).
# Peaks are ranked by whitened height + 0.5 × level: whitening alone ranks a faint peak in a quiet treble
# bin like a loud one, and noise buries the faint ones first (0 dB pink, 10 s: 33 → 90 % top-1).
# They are local maxima of the level, not of the whitened level: those stay put when the frames move by
# part of a hop, as a clip's frames always do against the library's (0 dB white, 5 s: 42 → 87 % top-1).
LIBRARY_FINGERPRINT = FingerprintConfig(
    rate_hz=8000, n_fft=512, hop=256, fmin_bin=6, fmax_bin=250, peak_df=6, peak_dt=2, whiten_frames=31,
    peaks_per_s=24.0, rank_frames=32, floor_db=-75.0, fan_out=5, zone_dt=63, zone_df=48, level_weight=0.5,
    peak_on_level=True,
)


class LibraryError(SyncfpError):
    """The library file is missing, damaged, locked or made with other parameters."""

    exit_code = 5


@dataclass(frozen=True)
class Track:
    """One indexed recording; its postings are the global frames [base, base + n_frames)."""

    name: str
    path: str
    sha256: str
    base: int
    n_frames: int
    duration_s: float
    n_hashes: int
    title: str | None = None
    artist: str | None = None


@dataclass
class Library:
    """An open library: track table plus the memory-mapped hash table (read-only)."""

    path: str
    cfg: FingerprintConfig
    tracks: list[Track]
    keys: np.ndarray
    starts: np.ndarray
    postings: np.ndarray
    next_base: int
    file_bytes: int
    peaks: np.ndarray | None = None  # uint16, see the module notes; None in files written before them
    peak_starts: np.ndarray | None = None
    _bases: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._bases = np.array([t.base for t in self.tracks], np.int64)

    @property
    def n_postings(self) -> int:
        return int(self.postings.shape[0])

    @property
    def audio_hours(self) -> float:
        return sum(t.duration_s for t in self.tracks) / 3600.0

    def ranges(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each hash, the (start, stop) of its postings; stop == start when absent."""
        start, stop = csr_ranges(self.keys, self.starts, hashes)
        return start, np.minimum(stop, self.n_postings)  # a damaged table never reads past the postings

    def track_of(self, global_frame: np.ndarray) -> np.ndarray:
        """Index into `tracks` of the track holding each global frame."""
        return np.maximum(np.searchsorted(self._bases, global_frame, side="right") - 1, 0)

    def bases(self) -> np.ndarray:
        return self._bases

    @property
    def has_peaks(self) -> bool:
        """Whether the file stores its tracks' peaks (files written before them do not)."""
        return self.peaks is not None

    @property
    def n_peaks(self) -> int | None:
        """Stored peaks (None: a file written before them, which `identify` cannot peak-check)."""
        return None if self.peaks is None else int(self.peaks.shape[0])

    def peaks_in(self, g0: int, g1: int) -> np.ndarray:
        """Keys ``global frame << 8 | bin`` (int64, ascending) of the stored peaks in frames [g0, g1)."""
        if self.peaks is None or self.peak_starts is None or g1 <= g0:
            return np.zeros(0, np.int64)
        n_chunks = self.peak_starts.shape[0] - 1
        c0, c1 = max(int(g0) >> PEAK_CHUNK_BITS, 0), min((int(g1) - 1 >> PEAK_CHUNK_BITS) + 1, n_chunks)
        if c1 <= c0:
            return np.zeros(0, np.int64)
        bounds = np.asarray(self.peak_starts[c0 : c1 + 1], np.int64)
        v = np.asarray(self.peaks[bounds[0] : bounds[-1]], np.int64)
        chunk = np.repeat(np.arange(c0, c1, dtype=np.int64), np.diff(bounds))
        keys = (chunk << (PEAK_CHUNK_BITS + PEAK_BIN_BITS)) | v
        lo, hi = np.searchsorted(keys, [int(g0) << PEAK_BIN_BITS, int(g1) << PEAK_BIN_BITS])
        return keys[lo:hi]


def peak_table(old_starts: np.ndarray | None, new_keys: np.ndarray, next_base: int) -> tuple[np.ndarray, np.ndarray]:
    """(uint16 values of *new_keys*, chunk starts of all peaks) for a table whose first peaks are those
    indexed by *old_starts* and the rest *new_keys* (ascending, all after the old ones)."""
    n_chunks = -(-int(next_base) // (1 << PEAK_CHUNK_BITS)) + 1
    new_keys = new_keys[new_keys < (int(next_base) << PEAK_BIN_BITS)]  # inside the tracks' frames, always
    counts = np.zeros(n_chunks, np.int64)
    if old_starts is not None and old_starts.shape[0] > 1:
        old = np.diff(np.asarray(old_starts, np.int64))[:n_chunks]
        counts[: old.shape[0]] += old
    shift = PEAK_CHUNK_BITS + PEAK_BIN_BITS
    counts += np.bincount(new_keys >> shift, minlength=n_chunks)[:n_chunks] if new_keys.size else 0
    starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return (new_keys & ((1 << shift) - 1)).astype(np.uint16), starts


def default_path() -> str:
    """`SYNCFP_LIBRARY`, else the platform data dir (XDG_DATA_HOME, ~/Library/Application Support, APPDATA)."""
    env = os.environ.get("SYNCFP_LIBRARY")
    if env:
        return env
    if os.name == "nt":
        base = os.environ.get("APPDATA") or os.path.expanduser("~")
    elif os.uname().sysname == "Darwin":
        base = os.path.join(os.path.expanduser("~"), "Library", "Application Support")
    else:
        base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "syncfp", "library" + SUFFIX)


def _crc(arr: np.ndarray, chunk: int = 1 << 24) -> int:
    """crc32 of an array's bytes, read in chunks (works on memmaps without loading them)."""
    flat = arr.reshape(-1)
    crc = 0
    step = max(1, chunk // max(flat.itemsize, 1))
    for lo in range(0, flat.shape[0], step):
        crc = zlib.crc32(np.ascontiguousarray(flat[lo : lo + step]).view(np.uint8), crc)
    return crc


def _bad(path: str, why: str) -> LibraryError:
    return LibraryError(f"{path}: {why}; re-create it with `syncfp index` (or restore a backup)")


def open_library(path: str, *, cfg: FingerprintConfig | None = LIBRARY_FINGERPRINT, verify: bool | None = None) -> Library:
    """Map *path* read-only. Refuses damaged files and, when *cfg* is given, other fingerprint parameters.

    *verify*: check the arrays' crc32s (None: only for files up to `VERIFY_AUTO_BYTES`); the header's
    checksum, the file size and the table's shape are always checked.
    """
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            raw = fh.read(_PREFIX_SIZE)
            magic, fmt, h_off, h_len, h_crc = _PREFIX.unpack_from(raw) if len(raw) >= _PREFIX.size else (b"",) * 5
            if magic != MAGIC:
                raise _bad(path, "not a syncfp library (bad magic bytes)" if raw else "empty file")
            if fmt != FORMAT:
                raise LibraryError(f"{path}: library format {fmt} is not supported (this syncfp reads {FORMAT})")
            if h_off + h_len > size:
                raise _bad(path, f"truncated ({size} bytes, header ends at {h_off + h_len})")
            fh.seek(h_off)
            blob = fh.read(h_len)
    except FileNotFoundError:
        raise LibraryError(f"{path}: no such library; build one with `syncfp index FILES --library {path}`") from None
    except IsADirectoryError:
        raise LibraryError(f"{path}: is a directory, not a library file") from None
    except OSError as exc:
        raise LibraryError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if zlib.crc32(blob) != h_crc:
        raise _bad(path, "corrupted (header checksum mismatch)")
    try:
        head = json.loads(blob)
        lib_cfg = FingerprintConfig(**head["fingerprint"])
        tracks = [Track(**t) for t in head["tracks"]]
        arrays = {name: _map(path, size, name, head["arrays"][name]) for name in _DTYPES}
        arrays.update({name: _map(path, size, name, head["arrays"][name]) for name in _OPTIONAL
                       if name in head["arrays"]})
        next_base = int(head["next_base"])
        _check_tracks(path, tracks, next_base)
    except LibraryError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, IndexError, OverflowError, RecursionError) as exc:
        # RecursionError: a crafted header of deeply nested brackets; the others: wrong shapes or types
        raise _bad(path, f"corrupted header ({type(exc).__name__})") from None
    if cfg is not None and lib_cfg.digest() != cfg.digest():
        diff = sorted(k for k, v in asdict(cfg).items() if asdict(lib_cfg).get(k) != v)
        raise LibraryError(
            f"{path}: made with other fingerprint parameters (digest {lib_cfg.digest()}, expected "
            f"{cfg.digest()}; differs in {', '.join(diff)}); re-index the tracks into a new library"
        )
    keys, starts, postings = arrays["keys"], arrays["starts"], arrays["postings"]
    if (
        starts.shape[0] != keys.shape[0] + 1 or int(starts[0]) != 0 or int(starts[-1]) != postings.shape[0]
    ):
        raise _bad(path, "corrupted (hash table shape)")
    if postings.shape[0] and not tracks:
        raise _bad(path, "corrupted header (hashes but no tracks)")
    # order of the (small) key and bucket arrays: lookups rely on it and a crafted file could break it
    # with matching checksums; at most 2^22 keys, so this reads at most ~50 MB
    if not (np.all(keys[1:] > keys[:-1]) and np.all(starts[1:] >= starts[:-1])):
        raise _bad(path, "corrupted (hash table out of order)")
    peaks, peak_starts = arrays.get("peaks"), arrays.get("peak_starts")
    if (peaks is None) != (peak_starts is None):
        raise _bad(path, "corrupted header (half of the peak table)")
    if peak_starts is not None and (
        peak_starts.shape[0] < 1 + -(-next_base >> PEAK_CHUNK_BITS) or int(peak_starts[0]) != 0
        or int(peak_starts[-1]) != peaks.shape[0] or not np.all(peak_starts[1:] >= peak_starts[:-1])
    ):  # read only inside these bounds (`Library.peaks_in`); ~1 entry per 8 s of audio
        raise _bad(path, "corrupted (peak table shape)")
    if verify or (verify is None and size <= VERIFY_AUTO_BYTES):
        for name in arrays:
            spec = head["arrays"][name]
            if _crc(arrays[name]) != int(spec["crc32"]):
                raise _bad(path, f"corrupted (checksum mismatch in {name})")
    return Library(
        path=path, cfg=lib_cfg, tracks=tracks, keys=keys, starts=starts, postings=postings,
        next_base=next_base, file_bytes=size, peaks=peaks, peak_starts=peak_starts,
    )


_DTYPES = {"postings": "<u4", "keys": "<u4", "starts": "<i8"}  # what `TableWriter` writes and every reader needs
_OPTIONAL = {"peaks": "<u2", "peak_starts": "<i8"}  # read when present (files from before them have none)


def _map(path: str, size: int, name: str, spec: dict) -> np.ndarray:
    want = _DTYPES.get(name) or _OPTIONAL[name]
    if spec["dtype"] != want:
        raise _bad(path, f"corrupted header ({name} has dtype {str(spec['dtype'])[:20]!r})")
    dtype = np.dtype(want)
    count, offset = int(spec["count"]), int(spec["offset"])
    if count < 0 or offset < 0:
        raise _bad(path, f"corrupted header (negative size or offset of {name})")
    if offset + count * dtype.itemsize > size:
        raise _bad(path, f"truncated ({size} bytes, arrays end at {offset + count * dtype.itemsize})")
    if count == 0:
        return np.zeros(0, dtype)
    return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=(count,))


def _check_tracks(path: str, tracks: list[Track], next_base: int) -> None:
    """Track frame ranges must be disjoint, ascending and inside [0, next_base] ⊂ [0, 2^32]."""
    end = 0
    for t in tracks:
        if not all(isinstance(v, int) for v in (t.base, t.n_frames, t.n_hashes)) or not isinstance(t.name, str):
            raise _bad(path, "corrupted header (track fields of the wrong type)")
        if t.base < end or t.n_frames < 0 or t.n_hashes < 0:
            raise _bad(path, "corrupted header (overlapping or negative track ranges)")
        end = t.base + t.n_frames
    if not end <= next_base <= 2**32:
        raise _bad(path, "corrupted header (track ranges beyond the library's frame range)")


def temp_prefix(path: str) -> str:
    """Name prefix of `TableWriter`'s temp files for the library at *path* (one library's, not its neighbours')."""
    return f".{os.path.basename(path)}.syncfp-lib-"


def remove_stale_temps(path: str) -> None:
    """Delete temp files a killed writer of *path* left behind; call only while holding its write lock."""
    directory, prefix = os.path.dirname(os.path.abspath(path)), temp_prefix(path)
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if name.startswith(prefix) and name.endswith(".part"):
            remove_quietly(os.path.join(directory, name))


def _aligned(n: int) -> int:
    return -(-n // _ALIGN) * _ALIGN


class TableWriter:
    """Writes a new library file next to *path*: allocate arrays, fill them, `commit` renames it into place
    (a `PendingFile`); as a context manager, leaving without `commit` aborts.

    Arrays are memory-mapped from the temp file, so tables larger than memory can be filled in chunks.
    """

    def __init__(self, path: str, *, n_postings: int, n_keys: int, n_peaks: int | None = None,
                 n_peak_chunks: int = 0) -> None:
        self.path = path
        try:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            # mode: not mkstemp's 0600, libraries are shared
            self.pending = PendingFile(path, prefix=temp_prefix(path), mode=default_file_mode())
        except OSError as exc:
            raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None
        self.layout: dict[str, tuple[str, int, int]] = {}
        off = _PREFIX_SIZE
        extra = [] if n_peaks is None else [("peaks", "<u2", n_peaks), ("peak_starts", "<i8", n_peak_chunks + 1)]
        for name, dtype, count in (("postings", "<u4", n_postings), ("keys", "<u4", n_keys),
                                   ("starts", "<i8", n_keys + 1), *extra):
            self.layout[name] = (dtype, off, count)
            off = _aligned(off + count * np.dtype(dtype).itemsize)
        self.header_offset = off
        try:
            with open(self.pending.tmp, "r+b") as fh:
                if hasattr(os, "posix_fallocate"):
                    # reserve the blocks now: writing a sparse memmap on a full disk would die of SIGBUS
                    os.posix_fallocate(fh.fileno(), 0, off)
                else:
                    fh.truncate(off)
        except OSError as exc:
            self.abort()
            raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None

    def array(self, name: str) -> np.ndarray:
        dtype, off, count = self.layout[name]
        if count == 0:
            return np.zeros(0, dtype)
        return np.memmap(self.pending.tmp, dtype=dtype, mode="r+", offset=off, shape=(count,))

    def commit(self, *, cfg: FingerprintConfig, tracks: list[Track], next_base: int) -> None:
        """Checksum the arrays, append the header, fsync and rename over the library."""
        arrays = {}
        for name, (dtype, off, count) in self.layout.items():
            arr = self.array(name)
            if isinstance(arr, np.memmap):
                arr.flush()
            arrays[name] = {"dtype": dtype, "offset": off, "count": count, "crc32": _crc(arr)}
        head = {
            "format": FORMAT, "fingerprint": asdict(cfg), "digest": cfg.digest(), "next_base": int(next_base),
            "arrays": arrays, "tracks": [asdict(t) for t in tracks],
        }
        blob = json.dumps(head, separators=(",", ":")).encode()
        prefix = _PREFIX.pack(MAGIC, FORMAT, self.header_offset, len(blob), zlib.crc32(blob))
        try:
            with open(self.pending.tmp, "r+b") as fh:
                fh.seek(self.header_offset)
                fh.write(blob)
                fh.seek(0)
                fh.write(prefix.ljust(_PREFIX_SIZE, b"\0"))
            self.pending.commit(sync_dir=True)
        except OSError as exc:
            self.abort()
            raise OutputError(f"{self.path}: cannot write ({exc.strerror or exc})") from None

    def abort(self) -> None:
        """Remove the temp file (no-op after `commit`)."""
        self.pending.abort()

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.abort()  # no commit (an error while filling): the library at `path` stays as it was
