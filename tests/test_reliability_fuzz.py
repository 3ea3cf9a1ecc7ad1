"""Short fuzz runs (the long ones are `bench/fuzz_decode.py` and `bench/fuzz_library.py`, figures in
docs/reliability.md): damaged media and damaged libraries end in a result or a one-line error, never a
crash, a hang (per-input time limit in a forked child) or a giant allocation (address-space cap)."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from bench import fuzz_library  # noqa: E402
from bench.fuzz_decode import decode_case, make_seeds  # noqa: E402
from bench.fuzzkit import FAILURES, run_isolated  # noqa: E402
from syncfp.errors import MediaError  # noqa: E402

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the fuzz runner forks")


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> dict[str, bytes]:
    return make_seeds(str(tmp_path_factory.mktemp("fuzz-seeds")), seconds=3.0)


# a damage: (relative position, action, value); hypothesis shrinks a failure to the fewest, smallest ones
_edit = st.tuples(st.floats(0.0, 1.0), st.sampled_from(["xor", "cut", "zero", "ins", "big"]), st.integers(1, 255))


def _apply(data: bytes, edits) -> bytes:
    b = bytearray(data)
    for pos, action, v in edits:
        i = min(int(pos * len(b)), max(len(b) - 1, 0))
        if not b:
            break
        if action == "xor":
            b[i] ^= v
        elif action == "cut":
            del b[i:]
        elif action == "zero":
            b[i : i + 64 * v] = bytes(len(b[i : i + 64 * v]))
        elif action == "ins":
            b[i:i] = bytes([v]) * v
        else:  # an extreme size field
            b[i : i + 4] = b"\xff\xff\xff\xff" if v % 2 else b"\x7f\xff\xff\xff"
    return bytes(b)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ext=st.sampled_from([".wav", ".flac", ".mp3", ".mp4", ".mov", ".m4a", ".mkv", ".opus"]),
       edits=st.lists(_edit, min_size=1, max_size=4))
def test_decode_survives_damaged_media(seeds, tmp_path, ext, edits):
    path = str(tmp_path / f"case{ext}")
    with open(path, "wb") as fh:
        fh.write(_apply(seeds[ext], edits))
    res = run_isolated(decode_case(path, str(tmp_path)), expected=MediaError, timeout_s=20.0)
    assert res.status not in FAILURES, res


@pytest.mark.slow
def test_library_loading_survives_damage():
    res = fuzz_library.run(cases=150, seconds=None, seed=11)
    assert res["inputs"] == 150
    assert res["failures"] == []
    for kind in fuzz_library.KINDS:  # every damage class was tried and most were refused
        assert res["counts"].get(f"{kind}:error", 0) > 0, kind
    assert res["counts"]["format:error"] == res["counts"]["digest:error"] == 30
