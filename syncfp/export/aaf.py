"""`Timeline` → AAF through OpenTimelineIO's optional ``otio-aaf-adapter`` (experimental: the same tracks as
the ``.otio`` file, media ranges at the timeline rate, placeholder MobIDs, every timecode marked drop-frame
exactly when the timeline is; not checked in Avid)."""

from __future__ import annotations

from ..errors import OutputError
from ..fsutil import PendingFile, atomic_write_bytes
from .common import per_group
from .options import DEFAULT_OPTIONS, ExportOptions
from .otio import to_timeline
from .timeline import Timeline


def available() -> bool:
    """True when the AAF adapter is installed (``pip install otio-aaf-adapter``)."""
    try:
        import opentimelineio as otio

        return "AAF" in otio.adapters.available_adapter_names()
    except Exception:  # noqa: BLE001 - a broken plugin means no AAF, nothing worse
        return False


def set_drop_frame(path: str, drop: bool) -> int:
    """Mark every Timecode segment of an AAF file drop-frame or not; returns how many were set.

    The adapter (2.0) writes the sequence's timecode with ``drop=False`` whatever the rate, so 01:00:00;00 at
    29.97 DF (frame 107892) reads as 00:59:56:12 in Avid, and marks every tape drop-frame at 29.97 even on
    a non-drop timeline. Starts are frame counts, so only the flag needs setting.
    """
    import aaf2

    n = 0
    with aaf2.open(path, "rw") as f:
        for mob in f.content.mobs:
            for slot in mob.slots:
                seg = slot.segment
                if isinstance(seg, aaf2.components.Timecode):
                    seg.drop = bool(drop)
                    n += 1
    return n


def write_to_file(tl: Timeline, path: str, *, options: ExportOptions = DEFAULT_OPTIONS) -> list[str]:
    import opentimelineio as otio

    title = options.title
    written = []
    for i, (name, group) in enumerate(per_group(path, tl)):
        timeline = to_timeline(tl, group, title=title, with_unplaced=i == 0, uniform_rate=True)
        # the adapter writes to a path only: write a scratch file beside the target (never committed, so
        # removed on the way out), then move its bytes in with atomic_write_bytes (pipes, links, media guard)
        try:
            with PendingFile(name, suffix=".aaf") as scratch:
                otio.adapters.write_to_file(timeline, scratch.tmp, adapter_name="AAF", use_empty_mob_ids=True)
                set_drop_frame(scratch.tmp, tl.drop_frame)
                with open(scratch.tmp, "rb") as fh:
                    atomic_write_bytes(name, fh.read())
        except OutputError:
            raise
        except Exception as exc:  # noqa: BLE001 - the adapter's own errors become one line
            raise OutputError(f"{name}: AAF export failed ({type(exc).__name__}: {str(exc)[:160]})") from None
        written.append(name)
    return written
