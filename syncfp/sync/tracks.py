"""placed clips → track names: one track per recording device, split where a device's clips overlap.

The device is guessed from container metadata (make/model), else from the folder and the file-name
pattern (``GOPR0012.MP4`` → ``GOPR``, ``cam2_003.mov`` → ``cam2``), so a camera's clips share a track.
"""

from __future__ import annotations

import os
import re

from ..lanes import first_fit, lane_names

_TRAILING_NUMBER = re.compile(r"^(.*?)[ _\-.]*\(?\d+\)?$")


def device_key(path: str, device_tag: str | None = None) -> str:
    """A short name for the device that recorded *path*."""
    folder = os.path.basename(os.path.dirname(os.path.abspath(path)))
    stem = os.path.splitext(os.path.basename(path))[0]
    m = _TRAILING_NUMBER.match(stem)
    prefix = (m.group(1) if m else stem).strip(" _-.") or stem
    if device_tag:
        base = re.sub(r"\s+", "-", device_tag.strip())
        return f"{folder}/{base}" if folder else base
    return f"{folder}/{prefix}" if folder else prefix


def assign(
    clips: list[tuple[int, str, str | None, int, float, float]],
    others: list[tuple[str, str | None]] = (),
) -> dict[int, str]:
    """Map clip id → track name for (id, path, device_tag, group, start_s, end_s) of placed clips.

    Clips of one device share a track unless they overlap in time (then the device gets extra tracks,
    filled first-fit by `lanes.first_fit` with 1 ms of slack); names are short, unique and stable for the
    same inputs. *others*: (path, device_tag) of clips laid elsewhere whose devices the names must tell
    apart as well (`byclock` names its lanes as the placed clips' are named).
    """
    by_device: dict[str, list[tuple[int, int, float, float]]] = {}
    for cid, path, tag, group, start, end in clips:
        by_device.setdefault(device_key(path, tag), []).append((cid, group, start, end))
    short = _short_names(sorted(set(by_device) | {device_key(p, t) for p, t in others}))
    taken = set(short.values())  # a device's extra lanes never take another device's name
    out: dict[int, str] = {}
    for dev in sorted(by_device):
        mine = sorted(by_device[dev], key=lambda c: (c[1], c[2], c[0]))
        lane: list[int] = []
        for group in dict.fromkeys(c[1] for c in mine):  # each group fills the device's lanes afresh
            lane += first_fit([(c[2], c[3]) for c in mine if c[1] == group], tolerance=1e-3)
        names = lane_names(short[dev], max(lane) + 1, taken=taken)
        out.update((c[0], names[i]) for c, i in zip(mine, lane))
    return out


def _short_names(devices: list[str]) -> dict[str, str]:
    """Readable unique names for "folder/device" keys.

    A folder that holds one device names it (footage sorted into cam1/, cam2/, phone/); devices sharing
    a folder are named by their file-name pattern, with the folder added only where that is ambiguous.
    """
    folders = [d.split("/", 1)[0] if "/" in d else "" for d in devices]
    tails = [d.split("/", 1)[-1] for d in devices]
    names = {}
    for d, folder, tail in zip(devices, folders, tails):
        if folder and folders.count(folder) == 1:
            names[d] = folder
        elif tails.count(tail) == 1:
            names[d] = tail
        else:
            names[d] = d.replace("/", "-")
    if len(set(names.values())) < len(names):  # a folder name equal to another device's pattern
        names = {d: d.replace("/", "-") for d in devices}
    return names
