"""Run one fuzz case in a forked child with a time limit and an address-space cap; classify what happened.

A case is a callable that returns normally (the input was accepted) or raises. The parent sees one of:
``ok``, ``error`` (the expected, user-facing exception class), or a failure: ``exception`` (anything else,
with its type and message), ``crash`` (killed by a signal other than the alarm), ``hang`` (the time limit),
``memory`` (MemoryError under the cap: a giant allocation). Forking keeps a crash or a leak of one case
from touching the next, and costs a few milliseconds on Linux.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import resource
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field

FAILURES = ("exception", "crash", "hang", "memory")


@dataclass(frozen=True)
class Outcome:
    status: str  # ok | error | exception | crash | hang | memory
    detail: str = ""


@dataclass
class Tally:
    """Outcomes of a fuzz run: counts overall and per label, the failures with what made them, the clock."""

    counts: collections.Counter = field(default_factory=collections.Counter)
    failures: list = field(default_factory=list)
    inputs: int = 0
    t0: float = field(default_factory=time.monotonic)

    def more(self, cases: int | None, seconds: float | None) -> bool:
        """Whether to run another case under a case count or a time budget."""
        return (cases is None or self.inputs < cases) and (seconds is None or time.monotonic() - self.t0 < seconds)

    def add(self, res: Outcome, label: str, **info) -> bool:
        """Count *res* under *label*; True when it is a failure (then kept with *info*)."""
        self.inputs += 1
        self.counts[res.status] += 1
        self.counts[f"{label}:{res.status}"] += 1
        if res.status in FAILURES:
            self.failures.append({**info, **res.__dict__})
            return True
        return False

    def summary(self) -> dict:
        return {"inputs": self.inputs, "seconds": round(time.monotonic() - self.t0, 1),
                "counts": dict(sorted(self.counts.items())), "failures": self.failures}


def arg_parser(doc: str) -> argparse.ArgumentParser:
    """The options every fuzzer takes: a case count or a time budget, and a seed."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--cases", type=int)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=0)
    return ap


def run_isolated(case: Callable[[], object], *, expected: type[BaseException], timeout_s: float = 10.0,
                 mem_bytes: int = 2 << 30) -> Outcome:
    """Run *case* in a child process; see the module notes for the outcomes."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        code = 0
        try:
            os.close(r)
            resource.setrlimit(resource.RLIMIT_AS, (mem_bytes, mem_bytes))
            signal.setitimer(signal.ITIMER_REAL, timeout_s)
            signal.signal(signal.SIGALRM, signal.SIG_DFL)
            try:
                case()
                out = Outcome("ok")
            except expected as exc:  # the message must be one line: the CLI prints it as is
                text = str(exc) or type(exc).__name__
                out = Outcome("error" if "\n" not in text else "exception", text[:300])
            except MemoryError:
                out = Outcome("memory", "MemoryError")
            except BaseException as exc:  # noqa: BLE001 - the point is to see everything
                out = Outcome("exception", f"{type(exc).__name__}: {str(exc)[:200]}")
            os.write(w, json.dumps(out.__dict__).encode())
        except BaseException:  # noqa: BLE001
            code = 70
        finally:
            os._exit(code)
    os.close(w)
    chunks = []
    while True:
        b = os.read(r, 65536)
        if not b:
            break
        chunks.append(b)
    os.close(r)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        return Outcome("hang" if sig == signal.SIGALRM else "crash", signal.Signals(sig).name)
    if not chunks:
        return Outcome("crash", f"exit status {os.WEXITSTATUS(status)}")
    return Outcome(**json.loads(b"".join(chunks)))


def mutate(data: bytes, rng, *, kinds=("flip", "truncate", "zero", "dup", "insert", "splice")) -> tuple[str, bytes]:
    """One random structural or bit-level damage of *data*: (kind, damaged bytes)."""
    kind = kinds[int(rng.integers(len(kinds)))]
    b = bytearray(data)
    n = len(b)
    if kind == "flip":
        for _ in range(int(rng.integers(1, 9))):
            i = int(rng.integers(n))
            b[i] ^= 1 << int(rng.integers(8))
    elif kind == "truncate":
        b = b[: int(rng.integers(0, n))]
    elif kind == "zero":
        i, m = int(rng.integers(n)), int(rng.integers(1, 4096))
        b[i : i + m] = bytes(len(b[i : i + m]))
    elif kind == "dup":
        i, m = int(rng.integers(n)), int(rng.integers(1, 8192))
        b[i:i] = b[i : i + m]
    elif kind == "insert":
        i = int(rng.integers(n))
        b[i:i] = rng.bytes(int(rng.integers(1, 512)))
    elif kind == "splice":  # overwrite a 4- or 8-byte field with an extreme value (sizes, counts)
        i = int(rng.integers(max(n - 8, 1)))
        val = [b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x7f\xff\xff\xff", b"\x80\x00\x00\x00",
               b"\xff" * 8, b"\x00\x00\x00\x01"][int(rng.integers(6))]
        b[i : i + len(val)] = val
    return kind, bytes(b)
