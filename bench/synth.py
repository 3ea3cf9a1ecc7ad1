"""Deterministic test and demo audio: a non-repeating 'concert' signal and the ways devices degrade it.

Used by the tests, the benchmarks and `scripts/make_samples.py`; numpy and scipy only.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, fftconvolve, sosfilt, sosfiltfilt

_SCALE = np.array([0, 2, 3, 5, 7, 8, 10])  # natural minor


def concert(duration_s: float, *, rate_hz: int = 48000, seed: int = 0, tempo_bpm: float = 118.0) -> np.ndarray:
    """A band-like signal: chords, a random melody, bass, kick, snare and hats; never repeats exactly."""
    rng = np.random.default_rng(seed)
    n = int(duration_s * rate_hz)
    out = np.zeros(n, np.float64)
    beat = 60.0 / tempo_bpm
    root = 45 + rng.integers(0, 7)
    t_beat = 0.0
    while t_beat < duration_s:
        bar_chord = root + _SCALE[rng.integers(0, 7)] - 12
        for b in range(4):
            t = t_beat + b * beat
            if t >= duration_s:
                break
            _note(out, t, beat * 0.9, bar_chord, rate_hz, 0.10, partials=3)
            _note(out, t, beat * 0.9, bar_chord + 19, rate_hz, 0.04, partials=4)
            for sub in range(2):
                mt = t + sub * beat / 2 + rng.normal(0, 0.004)
                if rng.random() < 0.8:
                    pitch = root + 12 + _SCALE[rng.integers(0, 7)] + 12 * rng.integers(0, 2)
                    _note(out, mt, beat / 2 * rng.uniform(0.5, 1.0), pitch, rate_hz, rng.uniform(0.05, 0.12),
                          partials=6)
            _drum(out, t, rate_hz, rng, kind="kick" if b % 2 == 0 else "snare")
            _drum(out, t + beat / 2, rate_hz, rng, kind="hat")
        t_beat += 4 * beat
    out /= np.max(np.abs(out)) + 1e-9
    return (0.5 * out).astype(np.float32)


def _note(out, t0, dur, midi, rate, amp, partials):
    i0 = int(t0 * rate)
    if i0 >= out.size or i0 < 0:
        return
    m = min(int(dur * rate), out.size - i0)
    tt = np.arange(m) / rate
    f0 = 440.0 * 2 ** ((midi - 69) / 12)
    env = np.minimum(1.0, tt / 0.01) * np.exp(-tt * 3.0)
    sig = sum(np.sin(2 * np.pi * f0 * k * tt) / k for k in range(1, partials + 1) if f0 * k < rate / 2)
    out[i0 : i0 + m] += amp * env * sig


def _drum(out, t0, rate, rng, kind):
    i0 = int(t0 * rate)
    if i0 >= out.size:
        return
    m = min(int(0.25 * rate), out.size - i0)
    tt = np.arange(m) / rate
    if kind == "kick":
        sig = 0.5 * np.sin(2 * np.pi * (50 + 80 * np.exp(-tt * 30)) * tt) * np.exp(-tt * 12)
    elif kind == "snare":
        sig = 0.25 * rng.standard_normal(m) * np.exp(-tt * 20) + 0.1 * np.sin(2 * np.pi * 190 * tt) * np.exp(-tt * 25)
    else:
        sos = butter(2, min(6000, 0.4 * rate), "highpass", fs=rate, output="sos")
        sig = 0.08 * sosfilt(sos, rng.standard_normal(m)) * np.exp(-tt * 60)
    out[i0 : i0 + m] += sig


def pink_noise(n: int, *, seed: int = 0) -> np.ndarray:
    """Unit-RMS 1/f noise (crowd-like rumble without the voices)."""
    rng = np.random.default_rng(seed)
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(spec.size)
    spec[1:] /= np.sqrt(f[1:])
    spec[0] = 0
    x = np.fft.irfft(spec, n)
    return (x / (np.std(x) + 1e-12)).astype(np.float32)


def babble(n: int, *, rate_hz: int, seed: int = 0, voices: int = 12) -> np.ndarray:
    """Unit-RMS crowd babble: many amplitude-modulated, formant-filtered noise voices."""
    rng = np.random.default_rng(seed)
    out = np.zeros(n)
    for _ in range(voices):
        f1 = rng.uniform(300, 900)
        sos = butter(2, [f1, f1 * 2.5], "bandpass", fs=rate_hz, output="sos")
        v = sosfilt(sos, rng.standard_normal(n))
        syll = np.repeat(rng.random(n // int(0.18 * rate_hz) + 2) > 0.4, int(0.18 * rate_hz))[:n]
        out += v * syll
    return (out / (np.std(out) + 1e-12)).astype(np.float32)


def room_ir(rt60_s: float, *, rate_hz: int, seed: int = 0, drr_db: float = 3.0) -> np.ndarray:
    """Room response: the direct sound at t=0, then after 4 ms a decaying diffuse tail *drr_db* below it."""
    rng = np.random.default_rng(seed)
    m = int(rt60_s * rate_hz)
    pre = int(0.004 * rate_hz)
    tail = rng.standard_normal(m) * np.exp(-np.arange(m) * 6.9 / max(m, 1))
    tail[:pre] = 0.0
    tail *= 10 ** (-drr_db / 20) / (np.sqrt(np.sum(tail**2)) + 1e-12)
    tail[0] = 1.0
    return tail


def drift(x: np.ndarray, ppm: float) -> np.ndarray:
    """What a device whose clock runs *ppm* fast records: sample n holds x at n / (1 + ppm·1e-6)."""
    if ppm == 0:
        return x
    pos = np.arange(int(x.size * (1 + ppm * 1e-6) - 1)) / (1 + ppm * 1e-6)
    return np.interp(pos, np.arange(x.size), x).astype(np.float32)


def crowd_noise(n: int, *, rate_hz: int, seed: int = 0, fast: bool = False) -> np.ndarray:
    """Pink rumble plus babble, unit RMS. *fast*: the babble drawn at a third of the rate and resampled, the
    pink noise on an FFT-friendly length (about 3x cheaper; other draws, same kind of noise: for the tests)."""
    if not fast:
        noise = 0.5 * pink_noise(n, seed=seed + 1) + babble(n, rate_hz=rate_hz, seed=seed + 2)
    else:
        from scipy.fft import next_fast_len
        from scipy.signal import resample_poly

        low = -(-n // 3) + 64
        talk = resample_poly(babble(low, rate_hz=rate_hz // 3, seed=seed + 2), 3, 1)[:n]
        noise = 0.5 * pink_noise(next_fast_len(n, real=True), seed=seed + 1)[:n] + talk
    return noise / (np.std(noise) + 1e-12)


def device(
    x: np.ndarray, *, rate_hz: int, seed: int = 0, snr_db: float | None = 20.0, eq: str = "phone",
    reverb_s: float = 0.0, clip: bool = False, drr_db: float = 3.0, fast_noise: bool = False,
) -> np.ndarray:
    """Colour *x* like a device in a room: mic EQ, reverb, crowd noise at *snr_db*, optional hard clipping.
    *fast_noise*: `crowd_noise(fast=True)` (the tests' choice; the benchmarks keep the exact draws)."""
    rng = np.random.default_rng(seed)
    y = x.astype(np.float64)
    # zero-phase EQ: a device's own filter delay is a property of the device, not of the sync, and would
    # make the ground truth of the benchmarks ambiguous by a millisecond
    if eq == "phone":
        y = sosfiltfilt(butter(2, [250, min(6000, 0.45 * rate_hz)], "bandpass", fs=rate_hz, output="sos"), y)
    elif eq == "camera":
        y = sosfiltfilt(butter(1, 120, "highpass", fs=rate_hz, output="sos"), y)
    if reverb_s > 0:
        y = fftconvolve(y, room_ir(reverb_s, rate_hz=rate_hz, seed=seed, drr_db=drr_db))[: x.size]
    if snr_db is not None:
        noise = crowd_noise(x.size, rate_hz=rate_hz, seed=seed, fast=fast_noise)
        y = y + noise * np.std(y) * 10 ** (-snr_db / 20)
    y = 0.3 * y / (np.max(np.abs(y)) + 1e-9)
    if clip:
        y = np.clip(y * 4.0, -0.5, 0.5)
    return y.astype(np.float32)
