"""Fuzz library loading: damaged and crafted `.sfp` files → `open_library` + `identify_audio`.

Damage classes: random byte damage (bit flips, truncation, zeroed/duplicated/inserted runs, extreme 4/8-byte
fields), a wrong format number, a wrong parameter digest, huge declared lengths/offsets/frames, and crafted
headers whose checksums are recomputed (wrong dtypes, nonsense parameters, deep nesting, scrambled tables
with matching array checksums). Each case must open and identify, or raise `LibraryError` (one line);
never another exception, a crash, a hang or a giant allocation (2 GB address-space cap per case).

    python -m bench.fuzz_library --seconds 300
"""

from __future__ import annotations

import json
import os
import struct
import tempfile
import zlib

import numpy as np
from scipy.signal import resample_poly

from bench.fuzzkit import Tally, arg_parser, mutate, run_isolated
from bench import encode, synth
from syncfp.library.identify import identify_audio
from syncfp.library.build import index_files
from syncfp.library.store import _PREFIX, LibraryError, open_library

KINDS = ("bytes", "format", "digest", "huge", "crafted")
HUGE = (2**31, 2**32 - 1, 2**40, 2**62, 2**63 - 1, -1, -(2**40))


def build_base(directory: str) -> tuple[bytes, np.ndarray]:
    """A three-track library's bytes and a 6-s query (8 kHz) cut from its second track."""
    paths = []
    for i in range(3):
        p = os.path.join(directory, f"song{i}.wav")
        encode.write(p, synth.concert(15.0, rate_hz=16000, seed=300 + i), rate_hz=16000)
        paths.append(p)
    lib = os.path.join(directory, "base.sfp")
    index_files(lib, paths)
    x = synth.concert(15.0, rate_hz=16000, seed=301)[int(4 * 16000) : int(10 * 16000)]
    return open(lib, "rb").read(), resample_poly(x, 1, 2).astype(np.float32)


def split(data: bytes) -> tuple[int, dict, bytes]:
    """(header offset, header dict, the bytes before the header)."""
    _, _, off, length, _ = _PREFIX.unpack_from(data)
    return off, json.loads(data[off : off + length]), data[:off]


def join(body: bytes, off: int, head_blob: bytes, *, fmt: int = 1) -> bytes:
    """Write *head_blob* at *off* with a matching prefix (length, crc32): passes the header checks."""
    prefix = _PREFIX.pack(b"SYNCFPLB", fmt, off, len(head_blob), zlib.crc32(head_blob))
    return prefix + body[_PREFIX.size : off] + head_blob


def damage(data: bytes, kind: str, rng) -> tuple[str, bytes]:
    off, head, body = split(data)
    if kind == "bytes":
        sub, out = mutate(data, rng)
        return f"bytes:{sub}", out
    if kind == "format":
        return "format", data[:8] + struct.pack("<I", int(rng.choice([0, 2, 3, 255, 2**32 - 1]))) + data[12:]
    if kind == "digest":
        field = str(rng.choice(["hop", "n_fft", "fan_out", "peaks_per_s", "whiten_frames"]))
        head["fingerprint"][field] = head["fingerprint"][field] + 1
        return f"digest:{field}", join(body, off, json.dumps(head).encode())
    if kind == "huge":
        what = int(rng.integers(6))
        big = int(rng.choice(HUGE))
        if what == 0:
            name = str(rng.choice(list(head["arrays"])))
            head["arrays"][name]["count"] = big
        elif what == 1:
            name = str(rng.choice(list(head["arrays"])))
            head["arrays"][name]["offset"] = big
        elif what == 2:
            t = head["tracks"][int(rng.integers(len(head["tracks"])))]
            t[str(rng.choice(["n_frames", "base", "n_hashes"]))] = big
        elif what == 3:
            head["next_base"] = big
        elif what == 4:  # declared header length / offset in the prefix
            blob = json.dumps(head).encode()
            return "huge:prefix", _PREFIX.pack(b"SYNCFPLB", 1, off, max(big, 0) % 2**64, zlib.crc32(blob)) + data[_PREFIX.size :]
        else:
            head["fingerprint"][str(rng.choice(["n_fft", "hop", "rate_hz", "zone_dt"]))] = big
        return f"huge:{what}", join(body, off, json.dumps(head).encode())
    return crafted(data, off, head, body, rng)


def crafted(data: bytes, off: int, head: dict, body: bytes, rng) -> tuple[str, bytes]:
    what = int(rng.integers(7))
    if what == 0:
        name = str(rng.choice(list(head["arrays"])))
        head["arrays"][name]["dtype"] = str(rng.choice(["O", "<f8", ">u4", "V0", "S1000000", "<i2", "u1"]))
    elif what == 1:
        head[str(rng.choice(["tracks", "arrays", "fingerprint"]))] = [None, 3, "x", [], {}][int(rng.integers(5))]
    elif what == 2:
        return "crafted:nesting", join(body, off, b"[" * 200000 + b"]" * 200000)
    elif what == 3:
        return "crafted:not-json", join(body, off, rng.bytes(int(rng.integers(1, 300))))
    elif what == 4:  # scrambled table, array checksums recomputed to match
        spec = head["arrays"]["starts" if rng.random() < 0.5 else "keys"]
        arr = bytearray(data)
        dt = np.dtype(spec["dtype"])
        a = np.frombuffer(arr, dt, count=spec["count"], offset=spec["offset"]).copy()
        if a.size > 2:
            i = int(rng.integers(1, a.size - 1))
            a[i] = a[i] + int(rng.choice([-(10**6), 10**6, 2**30])) if dt.kind == "i" else rng.integers(2**32)
            arr[spec["offset"] : spec["offset"] + a.nbytes] = a.tobytes()
            spec["crc32"] = zlib.crc32(a.tobytes())
        return "crafted:table", join(bytes(arr), off, json.dumps(head).encode())
    elif what == 5:  # postings outside every track (valid checksums)
        spec = head["arrays"]["postings"]
        arr = bytearray(data)
        a = np.frombuffer(arr, "<u4", count=spec["count"], offset=spec["offset"]).copy()
        a[rng.integers(a.size, size=max(1, a.size // 10))] = rng.integers(2**32, size=max(1, a.size // 10), dtype=np.uint64).astype(np.uint32)
        arr[spec["offset"] : spec["offset"] + a.nbytes] = a.tobytes()
        spec["crc32"] = zlib.crc32(a.tobytes())
        return "crafted:postings", join(bytes(arr), off, json.dumps(head).encode())
    else:
        fp = head["fingerprint"]
        fp[str(rng.choice(list(fp)))] = [0, -1, "x", None, 1e300, [1]][int(rng.integers(6))]
    return f"crafted:{what}", join(body, off, json.dumps(head).encode())


def identify_case(path: str, query: np.ndarray):
    def case() -> None:
        lib = open_library(path)
        identify_audio(lib, query)
    return case


def run(*, cases: int | None, seconds: float | None, seed: int, timeout_s: float = 20.0) -> dict:
    rng = np.random.default_rng(seed)
    tally = Tally()
    with tempfile.TemporaryDirectory(prefix="syncfp-libfuzz-") as d:
        base, query = build_base(d)
        while tally.more(cases, seconds):
            kind = KINDS[tally.inputs % len(KINDS)]
            label, data = damage(base, kind, rng)
            path = os.path.join(d, "case.sfp")
            with open(path, "wb") as fh:
                fh.write(data)
            res = run_isolated(identify_case(path, query), expected=LibraryError, timeout_s=timeout_s)
            tally.add(res, kind, kind=label)
    return tally.summary()


def main() -> None:
    ap = arg_parser(__doc__)
    a = ap.parse_args()
    print(json.dumps(run(cases=a.cases, seconds=None if a.cases else a.seconds, seed=a.seed), indent=1))


if __name__ == "__main__":
    main()
