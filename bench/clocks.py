"""Recording clocks for the hard bench: the `creation_time` tags real devices write, with their real errors.

Names already carry the start time for Android, Pixel, the FLAC recorder app and OBS (the phone's network
clock; the bench's names have no clock error beyond whole seconds, see docs/benchmarks.md). This step adds
the container tag where real devices write one, remuxing (packets copied, decoded audio bit-identical):

- iPhone video and voice memos: the start in UTC (the names are local time, UTC+2 here), network clock off
  by a few hundred ms, whole seconds; one iPhone in four lost its tags on the way (a messenger transfer).
- Android and Pixel MP4: the *end* of the recording in UTC (what many Android builds stamp).
- Cameras: local time written as if UTC, from a hand-set clock off by 20 s to 15 min (one constant per
  camera), whole seconds.
- MP3, FLAC, WAV and MKV: no tag.

Idempotent: the truth records `clock_version` and each clip's tag and clock error.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone

import av
import numpy as np

CLOCK_VERSION = 1
UTC_OFFSET_S = 2 * 3600  # the concert's local time zone (names are local)
DAY = datetime(2026, 6, 12, tzinfo=timezone.utc)


def _device_clock(dev: dict) -> tuple[str | None, float]:
    """(which tag rule applies, the device's clock error in s) for one device, seeded by the device."""
    r = np.random.default_rng(dev["seed"] + 7)
    preset = dev["preset"]
    if preset in ("iphone", "iphone_memo"):
        return ("start_utc" if r.random() >= 0.25 else None), float(r.normal(0.0, 0.3))
    if preset in ("android", "pixel"):
        return "end_utc", float(r.normal(0.0, 0.3))
    if dev["kind"] == "camera":
        return "start_local", float(r.choice([-1, 1]) * np.exp(r.uniform(np.log(20), np.log(900))))
    return None, 0.0


def _remux(path: str, tag: str) -> None:
    """Copy *path*'s packets into a new file with ``creation_time`` = *tag*, atomically."""
    ext = os.path.splitext(path)[1]
    tmp = path + ".clock" + ext
    with av.open(path) as inp, av.open(tmp, "w", format=inp.format.name.split(",")[0]) as out:
        out.metadata["creation_time"] = tag
        streams = {s.index: out.add_stream_from_template(s) for s in inp.streams}
        for pkt in inp.demux():
            if pkt.dts is None:
                continue
            pkt.stream = streams[pkt.stream.index]
            out.mux(pkt)
    os.replace(tmp, path)


def stamp(truth: dict, media: str, wall_origin_s: float) -> dict:
    """Write the tags of every clip in *truth* (rendered into *media*) once; returns the updated truth."""
    if truth.get("clock_version") == CLOCK_VERSION:
        return truth
    devs = {d["name"]: d for d in truth["devices"]}
    for c in truth["clips"]:
        dev = devs.get(c.get("device"))
        if dev is None:
            continue
        rule, err = _device_clock(dev)
        # wall time of the first sample in local time: the name's clock (see hard.Planner._name)
        local = wall_origin_s + c["wall_start_s"] + 2 * (dev["event"] or 0) * 3600 + err
        if rule == "end_utc":
            local += c["dur_s"]
        shift = 0 if rule == "start_local" else UTC_OFFSET_S
        tag = None
        if rule is not None:
            t = DAY + timedelta(seconds=int(local - shift))
            tag = t.strftime("%Y-%m-%dT%H:%M:%S.000000Z")
            _remux(os.path.join(media, c["file"]), tag)
        c["clock"] = {"tag": tag, "rule": rule, "error_s": round(err, 3)}
    truth["clock_version"] = CLOCK_VERSION
    path = os.path.join(media, "truth.json")
    with open(path + ".tmp", "w") as f:
        json.dump(truth, f, indent=1)
    os.replace(path + ".tmp", path)
    return truth
