"""real music → proof that `engine/spectral.py` gives the fingerprint exactly SciPy's numbers.

The fingerprint's FFT and running mean come from `syncfp.engine.spectral` (SciPy's pocketfft loaded
without ``scipy.fft``'s import, ndimage's running mean written out in numpy). This fingerprints real tracks
twice in one process, once with those functions and once with ``scipy.fft.rfft`` and
``scipy.ndimage.uniform_filter1d`` patched in, and compares bit for bit: the spectrogram, the whitening
mean, the hashes of whole tracks (library and align parameters, `fingerprint_blocks`) and of 10-s query
cuts (`fingerprint` with the query parameters and noise-floor ranking of `identify`'s first and denser
second look).

    python bench/spectral_identity.py --tracks 30 [FILES...]

Without FILES, tracks are taken in turn from the five Debian music packages docs/benchmarks.md uses
(`wesnoth-1.16-music`, `warzone2100-music`, `supertux-data`, `xmoto-data`, `neverball-data`) where
installed. Exit status 1 if anything differs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import scipy.fft
import scipy.ndimage

from syncfp.audio.extract import extract
from syncfp.config import FingerprintConfig, IdentifyConfig
from syncfp.engine import fingerprint as fp_mod
from syncfp.engine import spectral
from syncfp.errors import MediaError
from syncfp.fsutil import remove_quietly
from syncfp.library.identify import query_config
from syncfp.library.store import LIBRARY_FINGERPRINT

MUSIC_DIRS = ["/usr/share/games/wesnoth/1.16/data/core/music", "/usr/share/games/warzone2100/music",
              "/usr/share/games/supertux2/music", "/usr/share/games/xmoto/Textures/Musics",
              "/usr/share/games/neverball/bgm"]
SUFFIXES = {".ogg", ".mp3", ".flac", ".wav", ".opus", ".mod", ".xm", ".s3m", ".it"}


def scipy_rfft(a: np.ndarray, *, axis: int = -1) -> np.ndarray:
    return scipy.fft.rfft(a, axis=axis)


def scipy_running_mean(x: np.ndarray, size: int, *, axis: int = -1) -> np.ndarray:
    return scipy.ndimage.uniform_filter1d(x, size=size, axis=axis, mode="nearest")


def same(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def default_tracks(n: int) -> list[str]:
    """Round-robin over the packages' folders (sorted), so every package is represented."""
    per_dir = [sorted(str(p) for p in Path(d).rglob("*") if p.suffix.lower() in SUFFIXES)
               for d in MUSIC_DIRS if Path(d).is_dir()]
    out: list[str] = []
    while len(out) < n and any(per_dir):
        for files in per_dir:
            if files and len(out) < n:
                out.append(files.pop(0))
    return out


def both(fn, *args, **kwargs):
    """fn(*args) with spectral.py's functions, then with SciPy's patched into the fingerprint module."""
    ours = fn(*args, **kwargs)
    saved = fp_mod.rfft, fp_mod.running_mean
    fp_mod.rfft, fp_mod.running_mean = scipy_rfft, scipy_running_mean
    try:
        theirs = fn(*args, **kwargs)
    finally:
        fp_mod.rfft, fp_mod.running_mean = saved
    return ours, theirs


def check_track(path: str, work: str, counts: dict) -> list[str]:
    bad = []
    icfg = IdentifyConfig()
    queries = [query_config(LIBRARY_FINGERPRINT, icfg),  # identify's first look, then its denser second look
               query_config(LIBRARY_FINGERPRINT, replace(icfg, query_density=icfg.dense_density))]
    for label, cfg in (("library", LIBRARY_FINGERPRINT), ("align", FingerprintConfig())):
        try:
            fp = extract(path, cfg=cfg, cache_dir=None, work_dir=work, hashes=False)
        except MediaError as exc:
            return [f"skipped ({exc.reason})"] if label == "library" else bad
        try:
            pcm = np.memmap(fp.pcm_path, dtype=np.int16, mode="r")
            x = fp_mod.as_float(pcm[: 120 * cfg.rate_hz])  # spectrogram compared on the first 2 minutes
            frames = np.lib.stride_tricks.sliding_window_view(x, cfg.n_fft)[:: cfg.hop]
            window = np.hanning(cfg.n_fft + 2)[1:-1].astype(np.float32)
            if not same(spectral.rfft(frames * window, axis=1), scipy.fft.rfft(frames * window, axis=1)):
                bad.append(f"{label}: rfft")
            spec = fp_mod.spectrogram_db(x, cfg)
            band = spec[:, cfg.fmin_bin : cfg.fmax_bin + 1]
            if not same(spectral.running_mean(band, cfg.whiten_frames, axis=0),
                        scipy.ndimage.uniform_filter1d(band.T, size=cfg.whiten_frames, axis=1, mode="nearest").T):
                bad.append(f"{label}: running mean")
            ours, theirs = both(fp_mod.fingerprint_blocks, pcm, cfg)
            counts["hashes"] += len(ours.hash)
            if not (same(ours.hash, theirs.hash) and same(ours.frame, theirs.frame)):
                bad.append(f"{label}: track hashes ({len(ours.hash)} vs {len(theirs.hash)})")
            if label == "library":  # identify's query path: 10-s cuts, noise-floor ranking
                for start_s, qcfg in ((5.0, queries[0]), (30.0, queries[0]), (61.3, queries[1])):
                    seg = pcm[int(start_s * cfg.rate_hz) : int((start_s + 10) * cfg.rate_hz)]
                    if seg.shape[0] < cfg.n_fft:
                        continue
                    q_ours, q_theirs = both(fp_mod.fingerprint, seg, qcfg, floor_pct=icfg.noise_floor_pct)
                    counts["queries"] += 1
                    counts["query_hashes"] += len(q_ours.hash)
                    if not (same(q_ours.hash, q_theirs.hash) and same(q_ours.frame, q_theirs.frame)):
                        bad.append(f"query at {start_s} s: hashes")
            counts["audio_s"] += fp.duration_s if label == "library" else 0.0
            del pcm
        finally:
            remove_quietly(fp.pcm_path)
    return bad


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="*")
    ap.add_argument("--tracks", type=int, default=30)
    args = ap.parse_args()
    files = args.files or default_tracks(args.tracks)
    counts = {"tracks": 0, "hashes": 0, "queries": 0, "query_hashes": 0, "audio_s": 0.0}
    failed = 0
    with tempfile.TemporaryDirectory(prefix="syncfp-spectral-") as work:
        for path in files:
            bad = check_track(path, work, counts)
            if bad and bad[0].startswith("skipped"):
                print(f"{path}: {bad[0]}")
                continue
            counts["tracks"] += 1
            failed += bool(bad)
            print(f"{path}: {'identical' if not bad else 'DIFFERS: ' + ', '.join(bad)}", flush=True)
    print(f"{counts['tracks']} tracks ({counts['audio_s'] / 3600:.2f} audio-hours), {counts['hashes']} track hashes "
          f"(library + align parameters), {counts['queries']} query cuts ({counts['query_hashes']} hashes): "
          f"{'all bit-identical' if not failed else f'{failed} tracks differ'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
