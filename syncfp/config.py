"""Frozen parameter sets for fingerprinting, matching and refinement; a digest names a fingerprint set."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class FingerprintConfig:
    """Landmark fingerprint parameters. Changing any of them changes `digest()` and invalidates caches."""

    rate_hz: int = 8000  # analysis rate: 0-4 kHz holds most musical energy; cheap to decode to
    n_fft: int = 512  # 64 ms window, 15.6 Hz bins
    hop: int = 256  # 32 ms hop: the coarse time grid; refinement does the rest
    fmin_bin: int = 6  # ~94 Hz: below this phones hear wind, handling and rumble
    fmax_bin: int = 250  # ~3.9 kHz: stay clear of the resampler's anti-alias roll-off
    peak_df: int = 12  # half-height of the 2-D max filter in bins (+-190 Hz)
    peak_dt: int = 3  # half-width of the 2-D max filter in frames (+-96 ms)
    whiten_frames: int = 93  # ~3 s running mean per bin removed before picking: flattens mic EQ
    peaks_per_s: float = 32.0  # density: strongest peaks kept per second
    rank_frames: int = 32  # density is enforced per window of this many frames
    floor_db: float = -75.0  # absolute floor: no peaks in digital silence
    fan_out: int = 6  # targets paired with each anchor
    zone_dt: int = 63  # target zone: 1..zone_dt frames (2 s) after the anchor (6-bit field)
    zone_df: int = 48  # target zone: |f2 - f1| <= zone_df bins
    level_weight: float = 0.0  # peaks ranked by whitened height + this × level (dB): loud peaks survive noise
    peak_on_level: bool = False  # local maxima of the level instead of the whitened level: they do not move
    # with the frame phase (a clip's frames never line up with the library's)

    @property
    def hop_s(self) -> float:
        return self.hop / self.rate_hz

    def digest(self) -> str:
        """Short stable digest of every parameter; stored with caches and libraries."""
        fields = asdict(self)
        for name in ("level_weight", "peak_on_level"):  # added later: digests made before them stay valid
            if not fields[name]:
                del fields[name]
        blob = json.dumps(fields, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


@dataclass(frozen=True)
class MatchConfig:
    """All-pairs matching: offset histograms per time segment, then a line fit over offset and drift."""

    segment_s: float = 10.0  # per-segment histograms: 1000 ppm smears only 10 ms across one
    max_bucket: int = 256  # hashes seen more often than this are uninformative (silence, hum)
    max_drift_ppm: float = 1200.0  # search range of the relative clock rate
    min_support: int = 14  # aligned hits a trusted edge needs
    min_z: float = 8.0  # support above the pair's chance level, in Poisson standard deviations
    min_ratio: float = 1.5  # best line vs best line elsewhere (periodic music gives close seconds)


@dataclass(frozen=True)
class RefineConfig:
    """Cross-correlation refinement of each used edge around its coarse offset."""

    window_s: float = 2.0
    max_windows: int = 8  # spread over the overlap; 16 gave the same accuracy on bench/align.py at twice the cost
    search_s: float = 0.06  # +- search around the coarse position (a few hops plus drift residue)
    min_peak: float = 0.08  # GCC-PHAT peak height below which a window is ignored
    min_windows: int = 2


@dataclass(frozen=True)
class SolveConfig:
    """Graph solve: edges that disagree with their cycle by more than this are rejected."""

    max_residual_s: float = 0.05
