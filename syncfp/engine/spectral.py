"""float32 frames → spectra, and a running mean, with SciPy's exact numerics but not its import cost.

`import scipy.fft` costs ~0.2 s (its array-API layer alone ~0.13 s) and `scipy.ndimage` ~0.07 s, more than
a whole `syncfp identify` query takes (docs/benchmarks.md, "Start-up"). The fingerprint needs one
function of each:

- `rfft`: SciPy's own pocketfft extension (``scipy/fft/_pocketfft/pypocketfft``), loaded from its file
  without running ``scipy.fft``'s package code, called as ``scipy.fft.rfft`` calls it. numpy.fft is no
  substitute: it transforms float32 in float64 and rounds, which changes a quarter of the bins in the
  last bit (and so, rarely, which of two equal peaks wins). If the file is not where SciPy 1.x keeps it,
  ``scipy.fft.rfft`` itself is used: slower to import, same numbers.
- `running_mean`: ``scipy.ndimage.uniform_filter1d(x, size, axis, mode="nearest")`` written out in numpy
  with ndimage's own order of float64 operations (SciPy 1.17: a sum of the first window added in order,
  then ``sum += entering - leaving`` per sample, each output ``sum / size``), so every value is
  bit-identical, not merely close; an older SciPy that divided before summing gives last-bit differences,
  which the unit test would show.

tests/test_engine_units.py holds both to SciPy's output bit for bit; bench/spectral_identity.py holds the
hashes of real music to those of the SciPy calls.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
from collections.abc import Callable
from functools import lru_cache

import numpy as np

_POCKETFFT = "scipy.fft._pocketfft.pypocketfft"


@lru_cache(maxsize=1)
def _load_r2c() -> Callable:
    """pypocketfft's ``r2c(a, axes, forward, inorm, out, nthreads)``; ``scipy.fft``'s rfft on failure."""
    try:
        spec = importlib.util.find_spec("scipy")  # a top-level spec: runs none of SciPy's code
        for root in (spec.submodule_search_locations or []) if spec else []:
            finder = importlib.machinery.FileFinder(
                f"{root}/fft/_pocketfft", (importlib.machinery.ExtensionFileLoader,
                                           importlib.machinery.EXTENSION_SUFFIXES))
            found = finder.find_spec(_POCKETFFT)
            if found is not None and found.loader is not None:
                module = importlib.util.module_from_spec(found)
                found.loader.exec_module(module)
                if callable(getattr(module, "r2c", None)):
                    return module.r2c
    except (ImportError, OSError, AttributeError):
        pass
    import scipy.fft

    return lambda a, axes, forward, inorm, out, nthreads: scipy.fft.rfft(a, axis=axes[0], workers=nthreads)


def rfft(frames: np.ndarray, *, axis: int = -1) -> np.ndarray:
    """``scipy.fft.rfft(frames, axis=axis)`` of real float32 or float64 *frames*: same dtype rules, same bits."""
    a = np.asarray(frames)
    if a.dtype not in (np.float32, np.float64):
        a = a.astype(np.float64)
    if a.shape[axis] < 1:
        raise ValueError(f"invalid number of data points ({a.shape[axis]}) specified")
    # what scipy.fft.rfft passes for norm=None, workers=None: forward, no scaling (inorm 0), one thread
    return _load_r2c()(a, (axis % a.ndim,), True, 0, None, 1)


def running_mean(x: np.ndarray, size: int, *, axis: int = -1) -> np.ndarray:
    """Centred mean over *size* samples along *axis*, edges held (``mode="nearest"``), in *x*'s float dtype:
    bit-identical to ``scipy.ndimage.uniform_filter1d(x, size, axis=axis, mode="nearest")``."""
    if size < 1:
        raise ValueError("incorrect filter size")
    y = np.moveaxis(np.asarray(x), axis, 0)
    n = y.shape[0]
    if n == 0:
        return np.array(x, copy=True)
    before = size // 2
    after = size - before - 1
    pad = np.concatenate([np.repeat(y[:1], before, 0), y, np.repeat(y[-1:], after, 0)]).astype(np.float64)
    sums = np.empty((n, *y.shape[1:]), np.float64)
    # ndimage: sum = the first window, added in order; then sum += (entering - leaving); out = sum / size
    sums[0] = np.add.accumulate(pad[:size], axis=0)[-1]
    np.subtract(pad[size : size + n - 1], pad[: n - 1], out=sums[1:])
    np.add.accumulate(sums, axis=0, out=sums)
    sums /= size
    return np.moveaxis(sums.astype(y.dtype, copy=False), 0, axis)
