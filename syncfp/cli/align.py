"""Command line for multi-camera sync: `align` → progress bars, a rich table and the requested exports.

Registered on the main typer app by `register(app)` (see `syncfp.cli` for the entry point and exit codes).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from ..errors import CacheWarning, OutputError, UsageError
from .console import LazyConsole, escape, make_console
from .usage import Command

if TYPE_CHECKING:
    from rich.console import Console

    from ..export import ExportOptions
    from ..types import Alignment

# The engine, the exporters and their libraries (PyAV, SciPy, OpenTimelineIO) are imported inside the
# command that needs them, so `syncfp --help` and `--version` start in typer's time, not the engine's; so
# are rich (consoles, tables, bars: `console.py`) and the package's own dataclass modules (types, config:
# ~10 ms each to build).

err = LazyConsole(stderr=True)

def _out_console(stderr: bool) -> Console:
    """Wide enough for the table when output is not a terminal (pipes, CI logs)."""
    return make_console(stderr=stderr)

_STAGES = {"decode": "Decoding + fingerprinting", "match": "Matching all pairs", "refine": "Refining offsets",
           "repeats": "Testing musical repeats", "rescue": "Correlating unmatched clips",
           "clocks": "Searching near recording clocks"}
_COUNTS = {"audio": ("decode", lambda s: f"{s / 3600:.2f} audio-h"), "pairs": ("match", lambda n: f"{n} pairs")}


class _Bars:
    """Progress callback drawing one rich bar per stage on stderr."""

    def __init__(self, enabled: bool) -> None:
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                   TimeRemainingColumn)

        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("eta"), TimeRemainingColumn(),
            console=err.console, transient=False, disable=not enabled,
        )
        self.tasks: dict[str, int] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage in _COUNTS:  # a count shown on its stage's bar: audio-hours decoded, pairs matched
            bar, text = _COUNTS[stage]
            if bar in self.tasks:
                self.progress.update(self.tasks[bar], description=f"{_STAGES[bar]} ({text(done)})")
            return
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(_STAGES.get(stage, stage), total=max(total, 1))
        self.progress.update(self.tasks[stage], completed=done, total=max(total, 1))


def _table(al: Alignment, fps, console: Console) -> None:
    from rich.table import Table

    from ..export.timeline import build as build_timeline
    from ..export.timeline import frames_to_tc, media_offset_s, snap_rate

    tl = build_timeline(al, fps=fps)
    table = Table(title_justify="left", title=f"syncfp: {len(al.clips)} clips, {len(al.groups)} group(s), {float(tl.rate):.3f} fps")
    for col, kw in (("clip", {}), ("group", {"justify": "right"}), ("track", {}), ("start", {}),
                    ("offset s", {"justify": "right"}), ("duration", {"justify": "right"}),
                    ("drift ppm", {"justify": "right"}), ("confidence", {"justify": "right"}), ("note", {})):
        table.add_column(col, **kw)
    order = sorted(range(len(al.clips)), key=lambda i: (
        al.clips[i].group is None, al.clips[i].group or 0, al.clips[i].offset_s or 0.0, i))
    for i in order:
        c = al.clips[i]
        name = escape(Path(c.path).name)  # a file called "[b]x.mp4" is a name, not markup
        if c.group is None:
            h = c.clock_hint
            hint = "" if h is None else f"[yellow]; {h.sentence()}[/yellow]"
            table.add_row(name, "-", "-", "-", "-", f"{c.duration_s:.1f}" if c.duration_s else "-", "-", "-",
                          f"[red]unplaced: {escape(c.error or '')}[/red]{hint}")
            continue
        tc = frames_to_tc(round(media_offset_s(c) * tl.rate), tl.rate, drop=tl.drop_frame)  # where the picture lands
        note = " ".join(x for x in (_audio_note(c.info), c.warning) if x)
        if c.info is not None and c.info.vfr:
            note = (f"VFR {float(c.info.fps or 0):.2f} fps avg, as {float(snap_rate(c.info.fps)):.3f} " + note).strip()
        if c.error_ms is not None:
            note = (f"±{c.error_ms:.2f} ms " + note).strip()
        table.add_row(name, str(c.group), escape(c.track or ""), tc, f"{c.offset_s:.4f}", f"{c.duration_s:.1f}",
                      f"{c.drift_ppm:+.1f}" if c.drift_ppm is not None else "-", f"{c.confidence:.2f}", escape(note))
    console.print(table)
    for g, h in sorted(al.group_hints.items()):
        console.print(f"[yellow]group {g}: {h.sentence(of_group=True)}; --place-by-clock lays it there[/yellow]")


def _audio_note(info) -> str:
    """The stream and channels used, when that was a choice: "stream 1/2; channel 4 of 4: LTC…"."""
    if info is None:
        return ""
    parts = [f"stream {info.audio_stream}/{info.audio_streams}"] if info.audio_streams > 1 else []
    return "; ".join(parts + ([info.downmix] if info.downmix else []))


def align(
    inputs: list[str] = typer.Argument(..., help="Media files, folders (searched recursively) or globs."),
    output: list[str] = typer.Option([], "-o", "--output", help="Write the timeline here (.otio .xml .fcpxml .edl .aaf .rpp .txt .csv .json .html); repeatable."),
    fmt: Optional[str] = typer.Option(None, "--format", "-f", help="Output format: otio, fcp7, fcpxml, edl, aaf, rpp, audacity, csv, json, html (default: by suffix; json alone prints to stdout)."),
    fps: Optional[str] = typer.Option(None, "--fps", help="Timeline frame rate, e.g. 25, 29.97, 30000/1001 (default: from the video)."),
    workers: int = typer.Option(0, "--workers", "-j", help="Decoding processes (default: one per core)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not read or write the fingerprint cache."),
    stream: list[str] = typer.Option([], "--stream", help="Audio stream to use, 0 = the first: N for every file that has it, or PATTERN=N for files whose name matches (repeatable). Default: a file with several streams uses the loudest that is not timecode."),
    edl_style: str = typer.Option("cmx", "--edl-style", help="cmx, or premiere (no comment lines)."),
    no_drift_correction: bool = typer.Option(False, "--no-drift-correction", help="Do not turn measured drift into speed changes in the exports."),
    fcpx_multicam: bool = typer.Option(False, "--fcpx-multicam", help="FCPXML: a multicam clip with one angle per device instead of connected clips."),
    report: Optional[str] = typer.Option(None, "--report", help="Also write a self-contained HTML picture of the timeline here."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars or table."),
    library: Optional[str] = typer.Option(None, "--library", help="Mark the songs of this library (`syncfp index`) heard on each timeline."),
    cluster: Optional[str] = typer.Option(None, "--cluster", envvar="SYNCFP_CLUSTER", help="Dask scheduler address: decode and join pairs on its workers (the cache folder must be shared; docs/scaling.md)."),
    min_confidence: float = typer.Option(0.0, "--min-confidence", help="Leave out clips placed less surely than this (0-1), with the reason; 0.8 leaves out the unsure ones (a partial or two-clip match that a repeat could also explain)."),
    max_error: Optional[float] = typer.Option(None, "--max-error", metavar="MS", help="Leave out clips whose stated error is over MS milliseconds, with the reason: 1 for audio replacement, 16 for half a frame at 30 fps (default: every clip the audio places)."),
    place_by_clock: bool = typer.Option(False, "--place-by-clock", help="Also lay clips the audio could not place, and groups it left apart, where their recording clocks put them (about ±1 s; JSON clock_hint), on lanes named 'clock …' with confidence 0, to nudge by ear. Off by default: it is not sound sync."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only say how many files and audio-hours the run would read and about how much memory it would need (from the files' headers; nothing is decoded or written)."),
) -> None:
    """Place every clip on one timeline by its sound and write it for editors and scripts."""
    from ..export import ExportOptions
    from ..export.jsonout import dumps as json_dumps
    from ..fsutil import check_output
    from ..inputs import expand, parse_stream_rules
    from ..types import ClipStatus

    rate = _checked_options(fps, fmt, output, edl_style)
    streams = parse_stream_rules(stream)
    paths = sorted(expand(inputs))  # clips in path order: the same files in any order give the same output
    if not paths:
        raise UsageError("no input files")
    if dry_run:
        _print_estimate(paths)
        return
    lib = None
    if library:  # opened and checked before any decoding: a wrong path must not cost the whole run
        from .library import open_library_arg

        lib = open_library_arg(library)
    targets = [(o, fmt) for o in output] + ([(report, "html")] if report else [])
    for o, _ in targets:  # never write over an input, the library or any existing media file
        check_output(o, protected=[*paths, *([lib.path] if lib is not None else [])])
    if not 0.0 <= min_confidence <= 1.0:
        raise UsageError(f"--min-confidence must be between 0 and 1, not {min_confidence:g}")
    if max_error is not None and not max_error > 0:
        raise UsageError(f"--max-error must be a positive number of milliseconds, not {max_error:g}")
    al = _aligned(paths, workers=workers, cache=not no_cache, streams=streams, cluster=cluster, quiet=quiet,
                  min_confidence=min_confidence, max_error_ms=max_error)
    json_to_stdout = fmt == "json" and not output
    markers = None
    if lib is not None:  # songs heard, as markers on each group's timeline (issue 3)
        from .library import align_markers

        markers = align_markers(al, lib, console=None if quiet else _out_console(stderr=json_to_stdout))
    if place_by_clock:  # after the song markers: those come from clips the audio placed, to the ms
        from ..sync.byclock import markers_moved, placed_by_clock

        markers = markers_moved(markers, al.group_hints) if markers else markers
        al = placed_by_clock(al)
    options = ExportOptions(fps=rate, edl_style=edl_style, drift_correction=not no_drift_correction,
                            fcpx_multicam=fcpx_multicam, markers=markers)
    if not quiet:
        _table(al, rate, _out_console(stderr=json_to_stdout))
    unusable = [c for c in al.clips if c.status is ClipStatus.UNUSABLE]
    if quiet:  # the table names them otherwise; one line each, whatever else is silenced or fails later
        for c in unusable:
            err.print(f"[red]skipped[/red] {escape(c.path)}: {escape(c.error or '')}", highlight=False, soft_wrap=True)
    failed = _write_outputs(al, targets, options, quiet=quiet)
    if json_to_stdout:
        sys.stdout.write(json_dumps(al, options=options))
    if failed:
        raise typer.Exit(OutputError.exit_code)  # the worst outcome: an output the user asked for is missing
    if unusable:
        raise typer.Exit(3)


def _checked_options(fps: Optional[str], fmt: Optional[str], output: list[str], edl_style: str):
    """The timeline rate asked for (or None), after every option that names a format or style is checked:
    a typo fails here, before any decoding."""
    from ..export import format_for
    from ..export.timeline import parse_fps

    rate = None
    if fps:
        try:
            rate = parse_fps(fps)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    if fmt is not None:
        format_for("x", fmt)  # raises the usage error listing the known formats
    for o in output:
        format_for(o, fmt)
    if edl_style not in ("cmx", "premiere"):
        raise UsageError(f"--edl-style must be cmx or premiere, not {edl_style!r}")
    return rate


def _print_estimate(paths: list[str]) -> None:
    """`--dry-run`: files, audio-hours and peak memory, from the headers."""
    from ..sync.estimate import estimate

    est = estimate(paths)
    bad = f" ({est.unreadable} unreadable)" if est.unreadable else ""
    print(f"{est.files} files{bad}, {est.audio_hours:.2f} audio-hours: about {est.peak_mb / 1024:.1f} GB of "
          f"memory at the peak")


def _aligned(paths: list[str], *, workers: int, cache: bool, streams, cluster: Optional[str], quiet: bool,
             min_confidence: float = 0.0, max_error_ms: Optional[float] = None) -> Alignment:
    """`api.align` with progress bars (unless *quiet*), on a Dask *cluster* if given; cache warnings are
    printed once each, as one line."""
    from ..sync import api

    bars = _Bars(enabled=not quiet)
    client = fingerprinter = matcher = None
    if cluster:  # decoding and the pair join on the workers; they write the analysis audio where this process reads it
        from ..runners.cluster import ClusterFingerprinter, ClusterMatcher, connect

        client = connect(cluster)
        fingerprinter = ClusterFingerprinter(client, keep_audio=True)
        matcher = ClusterMatcher(client)
    try:
        with bars.progress, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", CacheWarning)
            al = api.align(paths, workers=workers or None, cache=cache, stream_index=streams, progress=bars,
                           fingerprinter=fingerprinter, matcher=matcher, min_confidence=min_confidence,
                           max_error_ms=max_error_ms)
    finally:
        if client is not None:
            client.close()
    for w in caught:  # the cache is an optimisation: say once that it was skipped, then carry on
        if issubclass(w.category, CacheWarning):
            err.print(f"[yellow]warning:[/yellow] {escape(str(w.message))}", highlight=False, soft_wrap=True)
    return al


def _write_outputs(al: Alignment, targets: list[tuple[str, Optional[str]]], options: ExportOptions, *,
                   quiet: bool) -> int:
    """Write every requested output, each attempted even when an earlier one fails; the failures, each
    named on stderr in one line, are counted."""
    from ..export import write as export_write

    failed = 0
    for o, ofmt in targets:
        try:
            written = export_write(al, o, fmt=ofmt, options=options)
        except OutputError as exc:
            failed += 1
            err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
            continue
        if not quiet:
            for w in written:
                err.print(f"wrote {escape(w)}")
    return failed


def register(app: typer.Typer) -> None:
    """Add the `align` command to the main app."""
    app.command("align", cls=Command)(align)
