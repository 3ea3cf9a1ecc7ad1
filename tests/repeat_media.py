"""A recorder that heard a whole song and a phone that heard a stretch of it, encoded and fingerprinted: the
pair the strict repeat-check tests (`rescue.repeat_rivals`) ask about a line and the song's repeats."""

from __future__ import annotations

import numpy as np

from bench import encode, synth
from syncfp.audio.extract import extract
from syncfp.config import FingerprintConfig
from syncfp.types import Fingerprint, PairMatch


def recorder_and_phone(tmp_path, master: np.ndarray, rate_hz: int, at_s: float, len_s: float,
                       names: tuple[str, str]) -> list[Fingerprint]:
    """*master* as a clean recorder heard it (30 dB SNR) and [*at_s*, *at_s* + *len_s*) as a phone did (20 dB)."""
    out = []
    for seed, (name, start, dur, kw) in enumerate(((names[0], 0.0, master.size / rate_hz, {"eq": "none", "snr_db": 30}),
                                                   (names[1], at_s, len_s, {"eq": "phone", "snr_db": 20}))):
        path = str(tmp_path / name)
        seg = master[int(start * rate_hz): int((start + dur) * rate_hz)]
        encode.write(path, synth.device(seg.astype(np.float32), rate_hz=rate_hz, seed=seed, **kw), rate_hz=rate_hz)
        out.append(extract(path, cfg=FingerprintConfig(), cache_dir=None, work_dir=str(tmp_path)))
    return out


def line(at_s: float) -> PairMatch:
    """A verified line: the phone starts *at_s* into the recorder."""
    return PairMatch(a=0, b=1, offset_s=at_s, rate=1.0, support=30, z=10.0, ratio=2.0, trusted=True, rate_error=1e-6,
                     refined=True, error_s=5e-5, windows=8, tried=10)
