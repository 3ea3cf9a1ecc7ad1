"""Music and query degradations for `bench.identify`: installed packages → (path, kind); clip → degraded clip.

Music of two kinds, read where Debian installed it (never copied): *orchestral* (`wesnoth-1.16-music`) and
*band/loop* game music (`warzone2100-music`, `supertux-data`, `xmoto-data`, `neverball-data`), found with
`bench.concert.PACKAGES`. A kind with no package installed falls back to synthesized songs.

Degradations at the bench's 8 kHz (the SNR is always over the clip, noise at unit RMS):

* ``white``/``pink``/``babble`` + SNR: the first session's conditions (`bench.synth`; babble there is
  formant-filtered noise, not speech).
* ``speech`` + SNR: 3-11 espeak-ng talkers (`bench.concert.espeak_pool` sentences cut into words, each
  word re-pitched by `concert._talker`), so no two queries share a noise waveform.
* ``crowd`` + SNR: a distant crowd, 20-40 talkers low-passed at 0.7-1.6 kHz (distance, walls, bodies),
  plus a pink floor 6 dB under them.
* ``room``: a far reverberant room (`bench.concert.room_ir`, RT60 0.5-2 s, DRR −6…+4 dB) over the clip
  and the music before it (the tail of what came before is in the clip, as in a hall); ``room+crowd5``
  adds the distant crowd at +5 dB over the reverberant music.
* ``reverb+phone+aac``: `synth.device` reverb 0.6 s + phone band + AAC 32 kb/s (first session).
"""

from __future__ import annotations

import glob
import os

import numpy as np
from scipy.signal import butter, oaconvolve, resample_poly, sosfilt, sosfiltfilt

from bench import concert, encode, synth

KINDS = {
    "orchestral": ("wesnoth-1.16-music",),
    "band/loop": ("warzone2100-music", "supertux-data", "xmoto-data", "neverball-data"),
}
MIN_TRACK_S = 20.0
SPEECH_LEAD_S = 4  # s of talk generated before a clip and dropped
ROOM_PRE_S = 2.0  # music before the clip that the room's tail carries into it (≥ the longest RT60)


def package_tracks(package: str) -> list[str]:
    """Decodable tracks of *package* of 20 s or more, sorted (empty when not installed)."""
    paths: set[str] = set()
    for g in concert.PACKAGES[package]:
        paths.update(glob.glob(g, recursive=True))
    return [p for p in sorted(paths) if concert._duration(p) >= MIN_TRACK_S]


def _spread(paths: list[str], max_hours: float) -> list[str]:
    """At most *max_hours* of *paths*, taken evenly over the sorted list (all when *max_hours* ≤ 0)."""
    if max_hours <= 0:
        return paths
    rng = np.random.default_rng(len(paths))
    out, total = [], 0.0
    for i in rng.permutation(len(paths)):
        if total >= max_hours * 3600:
            break
        out.append(paths[int(i)])
        total += concert._duration(paths[int(i)])
    return sorted(out)


def sources(work: str, *, kinds=tuple(KINDS), max_hours_per_package: float = 0.0,
            synth_songs: int = 20) -> tuple[list[tuple[str, str]], dict]:
    """[(path, kind)] of every track used, and {kind: description}; synthesized songs for a missing kind."""
    out: list[tuple[str, str]] = []
    desc: dict[str, str] = {}
    for k, kind in enumerate(kinds):
        found = []
        parts = []
        for pkg in KINDS[kind]:
            ps = _spread(package_tracks(pkg), max_hours_per_package)
            if ps:
                hours = sum(concert._duration(p) for p in ps) / 3600
                parts.append(f"{pkg} {len(ps)} tracks {hours:.2f} h")
                found += ps
        if not found:
            for i in range(synth_songs):
                p = os.path.join(work, f"synth-{k}-{i:02d}.mp3")
                encode.write(p, synth.concert(150.0, rate_hz=22050, seed=500 + 100 * k + i,
                                              tempo_bpm=90 + 3 * i), rate_hz=22050)
                found.append(p)
            parts.append(f"synthesized ({', '.join(KINDS[kind])} not installed)")
        out += [(p, kind) for p in found]
        desc[kind] = "; ".join(parts)
    return out, desc


class Degrader:
    """Degrades clips by condition name; holds the speech pool (espeak-ng sentences, low-passed for 8 kHz)."""

    def __init__(self, work: str, *, rate_hz: int, seed: int = 12) -> None:
        self.work = work
        self.rate_hz = rate_hz
        self._pool: list[np.ndarray] | None = None
        self.pool_kind = "not used"
        self.seed = seed
        self.rooms: list[dict] = []  # RT60 / DRR drawn for each room clip, for the report

    @property
    def pool(self) -> list[np.ndarray]:
        if self._pool is None:
            pool, self.pool_kind = concert.espeak_pool(self.work, self.seed, n=96)
            # `_talker` reads the pool at concert.RATE and interpolates to our rate: take away what would
            # alias first (espeak-ng speaks up to 11 kHz)
            sos = butter(8, 0.45 * self.rate_hz, "lowpass", fs=concert.RATE, output="sos")
            self._pool = [sosfiltfilt(sos, u.astype(np.float64)).astype(np.float32) for u in pool]
        return self._pool

    def speech(self, n: int, rng: np.random.Generator, talkers: int) -> np.ndarray:
        """Unit-RMS babble of *talkers* re-pitched espeak-ng voices, levels spread over 8 dB.

        `_talker` starts each voice 0-3 s into its buffer; the clip is the tail of a longer one, so people
        are already talking when it starts (else short clips would hold seconds of music alone)."""
        lead = SPEECH_LEAD_S * self.rate_hz
        out = np.zeros(n, np.float32)
        for _ in range(talkers):
            t = concert._talker(n + lead, self.pool, rng, rate_hz=self.rate_hz,
                                busy=float(rng.uniform(0.5, 1.0)))[lead:]
            out += t * np.float32(10 ** (rng.uniform(-8, 0) / 20) / (np.std(t) + 1e-9))
        return out / np.float32(np.std(out) + 1e-9)

    def crowd(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Unit-RMS distant crowd: 20-40 talkers low-passed at 0.7-1.6 kHz + a pink floor 6 dB under."""
        b = self.speech(n, rng, int(rng.integers(20, 41))).astype(np.float64)
        b = sosfilt(butter(2, float(rng.uniform(700, 1600)), "lowpass", fs=self.rate_hz, output="sos"), b)
        b /= np.std(b) + 1e-9
        floor = synth.pink_noise(n, seed=int(rng.integers(1 << 30)))
        out = b + 0.5 * floor
        return (out / (np.std(out) + 1e-9)).astype(np.float32)

    def room(self, x: np.ndarray, pre: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """*x* as heard far away in a reverberant room; *pre* is the music just before it."""
        rt60, drr = float(rng.uniform(0.5, 2.0)), float(rng.uniform(-6.0, 4.0))
        # room_ir splits its tail at 4 kHz: design at 48 kHz and bring the reflections and tail to our rate;
        # the direct sound is put back as one sample at 0 and the rest scaled to the DRR at this rate
        # (resampling the 48 kHz impulse would spread the direct sound and count it as reverberation)
        h48 = concert.room_ir(rng, rt60_s=rt60, drr_db=drr, rate_hz=concert.RATE)
        h48[0] = 0.0
        h = resample_poly(h48, self.rate_hz, concert.RATE)
        h[0] = 0.0
        h *= np.sqrt(10 ** (-drr / 10) / (np.sum(h**2) + 1e-20))
        h[0] = 1.0
        self.rooms.append({"rt60_s": rt60, "drr_db": drr, "drr_at_rate_db": concert.drr_of(h)})
        y = oaconvolve(np.concatenate([pre, x]).astype(np.float64), h)[pre.size : pre.size + x.size]
        return y.astype(np.float32)

    def __call__(self, x: np.ndarray, cond: str, rng: np.random.Generator, *, pre: np.ndarray | None = None
                 ) -> np.ndarray:
        seed = int(rng.integers(1 << 30))
        if cond == "clean":
            return x
        if cond.startswith("room"):
            y = self.room(x, np.zeros(0, np.float32) if pre is None else pre, rng)
            if cond == "room+crowd5":
                y = y + self.crowd(y.size, rng) * np.float32(np.std(y) * 10 ** (-5 / 20))
            return y.astype(np.float32)
        kind = cond.rstrip("-+0123456789")
        if kind in ("white", "pink", "babble", "speech", "crowd"):
            snr = float(cond[len(kind):])
            if kind == "white":
                noise = np.random.default_rng(seed).standard_normal(x.size).astype(np.float32)
            elif kind == "pink":
                noise = synth.pink_noise(x.size, seed=seed)
            elif kind == "babble":
                noise = synth.babble(x.size, rate_hz=self.rate_hz, seed=seed)
            elif kind == "speech":
                noise = self.speech(x.size, rng, int(rng.integers(3, 12)))
            else:
                noise = self.crowd(x.size, rng)
            return (x + noise * np.std(x) * 10 ** (-snr / 20)).astype(np.float32)
        if cond == "reverb+phone+aac":
            from bench.identify import decode  # noqa: PLC0415 - the bench's own decoder

            y = synth.device(x, rate_hz=self.rate_hz, seed=seed, snr_db=None, eq="phone", reverb_s=0.6)
            path = os.path.join(self.work, "q.m4a")
            encode.write(path, y, rate_hz=self.rate_hz, bitrate=32000)
            return decode(path)[: x.size]
        raise ValueError(f"unknown condition {cond!r}")
