"""Recording clocks for the hard bench: the `creation_time` tags real devices write, with their real errors.

Names carry the start time for Android, Pixel, the FLAC recorder app and OBS. Version 1 rendered them
exact (wall time of the first sample, whole seconds); version 2 renames those files so the name comes
from the same clock as the device's tag (its network-clock error) and is taken when the user tapped
record, 0.15-0.9 s before the first sample arrives (a real phone's start-up latency, new per clip). This
step also adds the container tag where real devices write one, remuxing (packets copied, decoded audio
bit-identical):

- iPhone video and voice memos: the start in UTC (the names are local time, UTC+2 here), network clock off
  by a few hundred ms, whole seconds; one iPhone in four lost its tags on the way (a messenger transfer).
- Android and Pixel MP4: the *end* of the recording in UTC (what many Android builds stamp).
- Cameras: local time written as if UTC, from a hand-set clock off by 20 s to 15 min (one constant per
  camera), whole seconds.
- MP3, FLAC, WAV and MKV: no tag.

Version 3 adds what iPhone *video* files also carry, `com.apple.quicktime.creationdate`: the same start, from
the same network clock and in whole seconds, in local time with its UTC offset ("2026-06-12T21:03:05+0200").
Voice memos keep `creation_time` alone; an iPhone that lost its tags lost this one too.

Idempotent: the truth records `clock_version` and each clip's tag and clock error.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone

import av
import numpy as np

CLOCK_VERSION = 3
NAMED = ("android", "pixel", "android_flac", "laptop_obs")  # presets whose names carry the start
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


def _remux(path: str, tag: str, apple_local: str | None = None) -> None:
    """Copy *path*'s packets into a new file with ``creation_time`` = *tag* (and, given *apple_local*,
    ``com.apple.quicktime.creationdate``, which the MOV muxer writes only with ``use_metadata_tags``), atomically."""
    ext = os.path.splitext(path)[1]
    tmp = path + ".clock" + ext
    with av.open(path) as inp, av.open(tmp, "w", format="mov" if apple_local else inp.format.name.split(",")[0],
                                       options={"movflags": "use_metadata_tags"} if apple_local else {}) as out:
        out.metadata["creation_time"] = tag
        if apple_local:
            out.metadata["com.apple.quicktime.creationdate"] = apple_local
        streams = {s.index: out.add_stream_from_template(s) for s in inp.streams}
        for pkt in inp.demux():
            if pkt.dts is None:
                continue
            pkt.stream = streams[pkt.stream.index]
            out.mux(pkt)
    os.replace(tmp, path)


def _rename(truth: dict, media: str, wall_origin_s: float) -> None:
    """Version 2: name-timed files renamed to their device clock's reading at the tap (see the module doc)."""
    devs = {d["name"]: d for d in truth["devices"]}
    taken = {c["file"].lower() for c in truth["clips"]}
    for c in truth["clips"]:
        dev = devs.get(c.get("device"))
        if dev is None or dev["preset"] not in NAMED:
            continue
        _, err = _device_clock(dev)
        r = np.random.default_rng(c["seed"] + 11)
        latency = float(r.uniform(0.15, 0.9))
        local = wall_origin_s + c["wall_start_s"] + 2 * (dev["event"] or 0) * 3600 + err - latency
        hh, mm, ss = int(local // 3600) % 24, int(local % 3600 // 60), int(local % 60)
        base = dev["pattern"].format(n=0, date="20260612", time=f"{hh:02d}{mm:02d}{ss:02d}",
                                     ms=int(local % 1 * 1000), dash="2026-06-12", tdash=f"{hh:02d}-{mm:02d}-{ss:02d}")
        name, k = base + dev["ext"], 1
        while name.lower() in taken and name != c["file"]:
            k += 1
            name = f"{base}_{k}{dev['ext']}"
        if name != c["file"]:
            os.replace(os.path.join(media, c["file"]), os.path.join(media, name))
            taken.discard(c["file"].lower())
            taken.add(name.lower())
            c["file"] = name
        c["name_clock"] = {"error_s": round(err, 3), "latency_s": round(latency, 3)}


def stamp(truth: dict, media: str, wall_origin_s: float) -> dict:
    """Write the tags of every clip in *truth* (rendered into *media*) once, and rename name-timed files
    (version 2); returns the updated truth."""
    version = truth.get("clock_version", 0)
    if version == CLOCK_VERSION:
        return truth
    if version < 2:
        _rename(truth, media, wall_origin_s)
    if version < 1:
        _tags(truth, media, wall_origin_s)
    _apple(truth, media)
    return _save(truth, media)


def _apple(truth: dict, media: str) -> None:
    """Version 3: iPhone video files with a `creation_time` tag get Apple's local-time tag as well."""
    devs = {d["name"]: d for d in truth["devices"]}
    for c in truth["clips"]:
        dev, clock = devs.get(c.get("device")), c.get("clock") or {}
        if dev is None or dev["preset"] != "iphone" or not clock.get("tag") or clock.get("apple_local"):
            continue
        utc = datetime.strptime(clock["tag"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
        local = (utc + timedelta(seconds=UTC_OFFSET_S)).strftime("%Y-%m-%dT%H:%M:%S")
        clock["apple_local"] = f"{local}+{UTC_OFFSET_S // 3600:02d}00"
        _remux(os.path.join(media, c["file"]), clock["tag"], clock["apple_local"])


def _tags(truth: dict, media: str, wall_origin_s: float) -> None:
    """Version 1: the `creation_time` tags (see the module doc)."""
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


def _save(truth: dict, media: str) -> dict:
    truth["clock_version"] = CLOCK_VERSION
    path = os.path.join(media, "truth.json")
    with open(path + ".tmp", "w") as f:
        json.dump(truth, f, indent=1)
    os.replace(path + ".tmp", path)
    return truth
