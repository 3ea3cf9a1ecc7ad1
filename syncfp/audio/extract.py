"""media path → `Fingerprint`: stream-decode to an int16 analysis-rate file on disk, fingerprint it in blocks.

The analysis audio goes to disk (cache or temp dir) as it is decoded, so memory stays at one chunk plus the
compact hashes, and refinement can later read short windows without decoding again. `fingerprint_files`
runs `extract` over many paths in a local process pool; both products (align and the library) use it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from ..config import DecodeConfig, FingerprintConfig
from ..engine.fingerprint import fingerprint_blocks, n_frames_for
from ..errors import MediaError
from ..fsutil import atomic_file, remove_quietly
from ..inputs import stream_for
from ..types import Fingerprint, Hashes, StreamChoice, StreamRules
from . import cache as cache_mod
from .decode import stream_audio

Progress = Callable[[str, int, int], None]  # stage, done, total; two stages only count (total 0): "audio"
# (seconds of audio decoded so far) and "pairs" (clip pairs with a fitted line so far)


class DecodeTally:
    """The "decode" (files) and "audio" (seconds decoded) progress stages, reported as each file finishes:
    one tally for the local pool and the cluster fingerprinter alike."""

    def __init__(self, progress: Progress, total: int) -> None:
        self.progress, self.total, self.done, self.seconds = progress, total, 0, 0.0
        progress("decode", 0, total)

    def __call__(self, fp: Fingerprint | None) -> None:
        self.done += 1
        self.seconds += fp.duration_s if fp is not None else 0.0
        self.progress("audio", int(self.seconds), 0)
        self.progress("decode", self.done, self.total)


def _noop(stage: str, done: int, total: int) -> None:
    pass


def extract(
    path: str,
    *,
    cfg: FingerprintConfig,
    cache_dir: str | None,
    work_dir: str,
    stream_index: int | StreamChoice | None = None,
    hashes: bool = True,
    decode: DecodeConfig = DecodeConfig(),
) -> Fingerprint:
    """Decode and fingerprint *path*, or load it from *cache_dir* when its identity and parameters match.

    ``hashes=False`` only decodes (empty `Hashes`): for callers that fingerprint the audio their own way.
    *decode*: the stream choice, the channel mix and what a usable file must hold (length, level).

    Raises `MediaError` with a one-line reason for anything that makes the file unusable.
    """
    key = None
    if cache_dir is not None:
        key = cache_mod.key_for(path, cfg, stream_index, decode)
        if key is not None:
            hit = cache_mod.load(cache_dir, key, path)
            if hit is not None:
                return hit
    out_dir = cache_dir if (cache_dir is not None and key is not None) else work_dir
    stem = key or f"{os.getpid()}-{abs(hash(path))}"
    try:
        pcm_path, info, chunks, n, sumsq = _decode_to(out_dir, stem, path, cfg, stream_index, decode)
    except OSError:
        if out_dir == work_dir:
            raise
        # the cache is full or read-only: an optimisation lost, not a reason to fail the file
        key = None
        pcm_path, info, chunks, n, sumsq = _decode_to(work_dir, stem, path, cfg, stream_index, decode)
    warning = chunks.truncated
    if chunks.mix is not None and chunks.mix.note:  # known only once audio was read
        info = replace(info, downmix=chunks.mix.note)
    duration = n / cfg.rate_hz
    if n == 0:
        remove_quietly(pcm_path)
        raise MediaError(path, "no audio samples decoded")
    if duration < decode.min_duration_s:
        remove_quietly(pcm_path)
        raise MediaError(path, f"too short ({duration:.2f} s of audio; at least {decode.min_duration_s:g} s needed)")
    rms_db = 10 * np.log10(sumsq / n + 1e-20)
    if rms_db < decode.silence_db:
        remove_quietly(pcm_path)
        raise MediaError(path, f"silent (audio level {rms_db:.0f} dBFS)")
    hashes = fingerprint_blocks(PcmFile(pcm_path), cfg) if hashes else _no_hashes(n, cfg)
    fp = Fingerprint(
        path=path, info=info, hashes=hashes, duration_s=duration, pcm_path=pcm_path,
        rate_hz=cfg.rate_hz, rms_db=float(rms_db), warning=warning,
    )
    if key is not None and warning is None and len(fp.hashes):
        cache_mod.save(cache_dir, key, fp)
    return fp


def extract_one(args) -> tuple[int, Fingerprint | None, str | None]:
    i, path, cfg, cache_dir, work_dir, stream_index, decode = args
    try:
        return i, extract(path, cfg=cfg, cache_dir=cache_dir, work_dir=work_dir, stream_index=stream_index,
                          decode=decode), None
    except MediaError as exc:
        return i, None, exc.reason
    except MemoryError:
        return i, None, "out of memory while decoding"
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
        return i, None, f"internal error ({type(exc).__name__}: {str(exc)[:100]})"


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _mp_context():
    """fork where the platform has it (no re-import of the caller's script), spawn elsewhere."""
    import multiprocessing as mp  # here, not at the top: a one-file `identify` never starts a pool

    methods = mp.get_all_start_methods()
    return mp.get_context("fork" if "fork" in methods else "spawn")


def fingerprint_files(
    paths: Sequence[str],
    *,
    cfg: FingerprintConfig,
    cache_dir: str | None,
    work_dir: str,
    workers: int = 1,
    stream_index: int | StreamRules | None = None,
    progress: Progress = _noop,
    decode: DecodeConfig = DecodeConfig(),
) -> tuple[list[Fingerprint | None], list[str | None]]:
    """Decode and fingerprint every path (in worker processes when workers > 1); errors per file."""
    fps: list[Fingerprint | None] = [None] * len(paths)
    errors: list[str | None] = [None] * len(paths)
    jobs = [(i, str(p), cfg, cache_dir, work_dir, stream_for(stream_index, str(p)), decode)
            for i, p in enumerate(paths)]
    tally = DecodeTally(progress, len(jobs))
    if workers <= 1 or len(jobs) <= 1:
        results = map(extract_one, jobs)
        for i, fp, err in results:
            fps[i], errors[i] = fp, err
            tally(fp)
    else:
        import gc
        from concurrent.futures import ProcessPoolExecutor, as_completed

        # Garbage this process holds is freed here, before the workers fork, and they never collect what they
        # inherit: a PyAV resampler left in a reference cycle owns a filter graph whose worker threads exist
        # only here, and a forked worker that collected it waited for them forever (a test suite hang).
        gc.collect()
        gc.freeze()
        try:
            with ProcessPoolExecutor(max_workers=workers, mp_context=_mp_context()) as pool:
                # largest files first: a long take started last would leave the other workers idle at the end
                futures = [pool.submit(extract_one, j) for j in sorted(jobs, key=lambda j: -_size(j[1]))]
                for fut in as_completed(futures):
                    i, fp, err = fut.result()
                    fps[i], errors[i] = fp, err
                    tally(fp)
        finally:
            gc.unfreeze()
    return fps, errors


def _decode_to(out_dir: str, stem: str, path: str, cfg: FingerprintConfig,
               stream_index: int | StreamChoice | None, decode: DecodeConfig):
    """Stream-decode *path* into ``out_dir/stem.pcm``; (pcm path, info, chunk source, samples, sum of squares)."""
    pcm_path = os.path.join(out_dir, stem + ".pcm")
    info, chunks = stream_audio(path, rate_hz=cfg.rate_hz, stream_index=stream_index, cfg=decode)
    n, sumsq = _write_pcm(chunks, pcm_path)
    return pcm_path, info, chunks, n, sumsq


def _write_pcm(chunks, pcm_path: str) -> tuple[int, float]:
    """Write chunks as int16 to a temp file renamed into place; return (samples, sum of squares)."""
    n = 0
    sumsq = 0.0
    try:
        # not durable: scratch audio, rebuilt from the media when lost
        with atomic_file(pcm_path, durable=False) as fh:
            for chunk in chunks:
                if not chunk.size:
                    continue
                if not np.isfinite(chunk).all():  # a broken decoder's NaN/inf must not reach the int16 file
                    chunk = np.nan_to_num(chunk, nan=0.0, posinf=0.0, neginf=0.0)
                sumsq += float(np.dot(chunk, chunk))
                scaled = chunk * np.float32(32767.0)
                np.clip(scaled, -32768, 32767, out=scaled)
                fh.write(scaled.astype(np.int16).tobytes())
                n += chunk.size
    finally:
        close = getattr(chunks, "close", None)
        if close:
            close()
    return n, sumsq



def _no_hashes(n_samples: int, cfg: FingerprintConfig) -> Hashes:
    return Hashes(np.zeros(0, np.uint32), np.zeros(0, np.int32), n_frames_for(n_samples, cfg))


class PcmFile:
    """Raw int16 analysis audio on disk, sliced by explicit reads.

    A memmap would do the same, but every page it touches stays mapped and counts as resident memory
    until it is closed; reading blocks keeps the process's footprint at one block for any file length.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.shape = (os.path.getsize(path) // 2,)
        self.dtype = np.dtype(np.int16)

    def __getitem__(self, key: slice) -> np.ndarray:
        start, stop, step = key.indices(self.shape[0])
        if step != 1:
            raise ValueError("PcmFile supports contiguous slices only")
        count = max(0, stop - start)
        with open(self.path, "rb") as fh:
            fh.seek(2 * start)
            return np.fromfile(fh, dtype=np.int16, count=count)


def read_window(fp: Fingerprint, start_s: float, dur_s: float) -> tuple[np.ndarray, int]:
    """Analysis-rate samples of *fp* from *start_s* for *dur_s* (clipped to the file) and the first index."""
    pcm = PcmFile(fp.pcm_path)
    i0 = max(0, int(np.floor(start_s * fp.rate_hz)))
    i1 = min(pcm.shape[0], int(np.ceil((start_s + dur_s) * fp.rate_hz)))
    out = pcm[i0 : max(i0, i1)].astype(np.float32) / 32768.0
    return out, i0
