"""Command line for song identification: `index`, `identify`, `library info|list|remove` → rich tables or JSON.

Registered on the main typer app by `register(app)`; errors are raised as `SyncfpError`s, which the
main entry point turns into one line and an exit code.
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Optional

import typer

from ..errors import UsageError
from .console import LazyConsole, escape, make_console
from .usage import Command, Group

if TYPE_CHECKING:
    from rich.console import Console

# The library code (numpy, SciPy, PyAV), rich (consoles, tables, progress bars: `console.py`) and the
# package's dataclass modules are imported inside the commands, so `syncfp --help` stays fast (the defaults written here are held to the
# config's by tests/test_cli_defaults.py).
err = LazyConsole(stderr=True)
library_app = typer.Typer(no_args_is_help=True, help="Inspect or edit a song library.", cls=Group,
                          rich_markup_mode=None)  # plain-text help, as the main app's

_LIB_HELP = ("Library file, or a folder of shards (ending in /; default: $SYNCFP_LIBRARY, else the platform "
             "data dir).")
_CLUSTER_HELP = "Dask scheduler address (tcp://host:port): run the work on its workers (docs/scaling.md)."


def _lib_path(library: Optional[str]) -> str:
    from ..library.store import default_path

    return os.path.expanduser(library) if library else default_path()


def _check_format(fmt: str) -> None:
    if fmt not in ("table", "json"):
        raise UsageError(f"unknown format {fmt!r} (use table or json)")


def _out() -> Console:
    return make_console()


def _num(x: float, digits: int) -> float:
    """*x* rounded for JSON, with -0.0 (a tiny negative offset rounded) written as 0.0."""
    return round(x, digits) + 0.0


def _clock(seconds: float) -> str:
    sign = "-" if seconds < 0 else ""
    m, s = divmod(abs(seconds), 60.0)
    return f"{sign}{int(m)}:{s:06.3f}"


def _check_new_library(path: str, *, quiet: bool) -> None:
    """A folder that is neither a sharded library nor empty is a typo (`--library ~/Music`), not a place
    to start one: refused. A new sharded library is announced, so a mistyped path does not pass unseen."""
    from ..library.shards import MANIFEST, is_sharded

    if not is_sharded(path):
        return
    names = os.listdir(path) if os.path.isdir(path) else []
    if any(n.startswith((MANIFEST, "shard-")) for n in names):
        return  # a sharded library, or the start of one a killed run left (resumed)
    if names:
        raise UsageError(f"{path}: a folder that holds no syncfp library and is not empty; give a library "
                         "file, or a new or empty folder (ending in /) to start a sharded library")
    if not quiet:
        err.print(f"starting a new sharded library in {escape(path)}", highlight=False, soft_wrap=True)


def index(
    inputs: list[str] = typer.Argument(..., help="Audio files, folders (searched recursively) or globs."),
    library: Optional[str] = typer.Option(None, "--library", "-l", help=_LIB_HELP),
    workers: int = typer.Option(1, "--workers", "-j", help="Fingerprinting processes."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary."),
    cluster: Optional[str] = typer.Option(None, "--cluster", envvar="SYNCFP_CLUSTER", help=_CLUSTER_HELP),
) -> None:
    """Add tracks to a song library (skips tracks already in it; a killed run resumes); a folder gets a new shard."""
    from contextlib import nullcontext

    from ..audio.extract import fingerprint_files
    from ..inputs import expand
    from ..library.build import index_files
    from ..library.shards import index_shards, is_sharded

    paths = expand(inputs)
    if not paths:
        raise UsageError("no input files")
    if workers < 1:
        raise UsageError("--workers must be at least 1")
    path = _lib_path(library)
    _check_new_library(path, quiet=quiet)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("Indexing"), BarColumn(), MofNCompleteColumn(), TextColumn("tracks"),
                   TextColumn("{task.fields[hours]:.2f} audio-h"), TimeElapsedColumn(),
                   console=err.console, disable=quiet)
    task = bar.add_task("index", total=1, hours=0.0)

    def progress(done: int, total: int, hours: float) -> None:
        bar.update(task, completed=done, total=max(total, 1), hours=hours)

    client = None
    if cluster:
        from ..runners.cluster import ClusterFingerprinter, connect

        client = connect(cluster)
    fingerprinter = ClusterFingerprinter(client) if client else fingerprint_files
    run = index_shards if is_sharded(path) else index_files
    with bar, (client or nullcontext()):
        rep = run(path, paths, workers=workers, progress=progress, fingerprinter=fingerprinter)
    for f, reason in rep.failed:
        err.print(f"[red]skipped[/red] {escape(str(f))}: {escape(str(reason))}", highlight=False, soft_wrap=True)  # one line per file
    if not quiet:
        lib = rep.library
        err.print(f"{escape(str(path))}: added {len(rep.added)}, already indexed {len(rep.skipped)}, failed {len(rep.failed)}; "
                  f"{len(lib.tracks)} tracks, {lib.audio_hours:.2f} audio-hours", highlight=False, soft_wrap=True)
    if rep.failed:
        raise typer.Exit(3)


def identify(
    queries: list[str] = typer.Argument(..., help="Recordings to identify (files, folders or globs)."),
    library: Optional[str] = typer.Option(None, "--library", "-l", help=_LIB_HELP),
    fmt: str = typer.Option("table", "--format", "-f", help="table, or json (one JSON object per query line)."),
    segments: bool = typer.Option(False, "--segments", help="List every track heard, with start and end (setlist)."),
    top: int = typer.Option(5, "--top", help="At most this many matches per query."),
    speed_search: bool = typer.Option(False, "--speed-search", help="Try speeds up to ±5 % fast or slow on every "
                                      "query (by default only when nothing is found at normal speed)."),
    cluster: Optional[str] = typer.Option(None, "--cluster", envvar="SYNCFP_CLUSTER", help=_CLUSTER_HELP),
) -> None:
    """Name the songs in each recording: track, offset into it, score and confidence."""
    from ..inputs import expand
    from ..library.shards import open_any

    _check_format(fmt)
    paths = expand(queries)
    if not paths:
        raise UsageError("no query files")
    lib = open_any(_lib_path(library))
    client = None
    if cluster:  # the shards held by the workers; each lookup fans out to all of them
        from ..runners.cluster import ClusterLookup, connect
        from ..library.shards import as_shards

        client = connect(cluster)
        shards = as_shards(lib)
        lib = as_shards(shards, parts_fn=ClusterLookup(client, [s.path for s in shards.shards]))
    try:
        _identify_all(lib, paths, fmt=fmt, segments=segments, top=top, speed_search=speed_search)
    finally:
        if client is not None:
            client.close()


def _identify_all(lib, paths: list[str], *, fmt: str, segments: bool, top: int, speed_search: bool) -> None:
    from ..config import SPEED_SEARCH, IdentifyConfig
    from ..library.api import identify_paths

    speeds = SPEED_SEARCH if speed_search else IdentifyConfig.speeds
    cfg = IdentifyConfig(top=max(1, top), speeds=speeds)
    failed = False
    out = _out() if fmt != "json" else None  # JSON Lines need no rich
    label = _labels(lib.tracks)
    for res in identify_paths(lib, paths, cfg=cfg, segments=segments):
        failed |= res.error is not None
        if res.error:
            err.print(f"[red]error:[/red] {escape(str(res.query))}: {escape(str(res.error))}", highlight=False)
        if fmt == "json":
            obj = {"query": res.query, "matches": [
                {"track": m.track, "path": m.path, "id": m.id, "offset": _num(m.offset_s, 3), "score": m.score,
                 "confidence": _num(m.confidence, 4), "speed": _num(m.speed, 3),
                 "also_at": [_num(a, 3) for a in m.also_at], "peaks": m.peaks, "level": _num(m.level, 2)}
                for m in res.matches]}
            if segments:
                obj["segments"] = [
                    {"track": s.track, "path": s.path, "id": s.id, "start": _num(s.start_s, 3),
                     "end": _num(s.end_s, 3), "offset": _num(s.offset_s, 3), "score": s.score,
                     "confidence": _num(s.confidence, 4)}
                    for s in res.segments or []]
            if res.error:
                obj["error"] = res.error
            sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
            sys.stdout.flush()
        elif not res.error:
            _print_result(res, segments, out, label)
    if failed:
        raise typer.Exit(3)


def _labels(tracks) -> dict[str, str]:
    """sha256 → what the table shows for a track: its display name, with its file name (or its path, when
    the file names are the same too) where another track shows the same name."""
    from collections import Counter

    names = Counter(t.name for t in tracks)
    files = Counter((t.name, os.path.basename(t.path)) for t in tracks)
    out = {}
    for t in tracks:
        if names[t.name] < 2:
            out[t.sha256] = t.name
        else:
            f = os.path.basename(t.path)
            out[t.sha256] = f"{t.name} ({f if files[(t.name, f)] < 2 else t.path})"
    return out


def _print_result(res, segments: bool, out: Console, label: dict[str, str]) -> None:
    from rich.table import Table

    name = os.path.basename(res.query)
    if segments:
        if not res.segments:
            out.print(f"{name}: no match", highlight=False)
            return
        table = Table(title=f"{name}: {len(res.segments)} segment(s)", title_justify="left")
        for col in ("start", "end", "track", "from", "score", "confidence"):
            table.add_column(col, justify="left" if col == "track" else "right")
        for s in res.segments:
            table.add_row(_clock(s.start_s), _clock(s.end_s), escape(label.get(s.id, s.track)), _clock(s.offset_s),
                          str(s.score),
                          f"{s.confidence:.2f}")
        out.print(table)
        return
    if not res.matches:
        out.print(f"{name}: no match", highlight=False)
        return
    table = Table(title=name, title_justify="left")
    for col in ("track", "offset", "score", "confidence"):
        table.add_column(col, justify="left" if col == "track" else "right")
    for m in res.matches:
        at = _clock(m.offset_s) + "".join(f" or {_clock(a)}" for a in m.also_at[:3])  # the passage repeats
        if len(m.also_at) > 3:  # a loop: every place is in the JSON
            at += f" (+{len(m.also_at) - 3} more)"
        score = str(m.score)
        if m.peaks and m.level:  # named by peaks and level together
            score += f" ({m.peaks} peaks, level {m.level:.1f} sd)"
        elif m.peaks:  # named by the peak check
            score += f" ({m.peaks} peaks)"
        elif m.level:  # named by the level check
            score += f" (level {m.level:.1f} sd)"
        table.add_row(escape(label.get(m.id, m.track)), at, score, f"{m.confidence:.2f}")
    out.print(table)


@library_app.command("info", cls=Command)
def info(
    library: Optional[str] = typer.Option(None, "--library", "-l", help=_LIB_HELP),
    fmt: str = typer.Option("table", "--format", "-f", help="table or json."),
    verify: bool = typer.Option(False, "--verify", help="Check every checksum, however large the file."),
) -> None:
    """Counts, audio-hours, size and fingerprint parameters of a library."""
    from dataclasses import asdict

    from ..library.shards import ShardSet, open_any

    _check_format(fmt)
    lib = open_any(_lib_path(library), verify=True if verify else None)
    hours = lib.audio_hours
    sharded = isinstance(lib, ShardSet)
    data = {
        "path": lib.path, "tracks": len(lib.tracks), "audio_hours": round(hours, 4), "bytes": lib.file_bytes,
        "bytes_per_audio_hour": round(lib.file_bytes / hours) if hours else None,
        "hashes": lib.n_postings, "distinct_hashes": lib.n_keys if sharded else int(lib.keys.shape[0]),
        "peaks": lib.n_peaks,  # None: written before peaks were stored (re-index for identify's peak check)
        **({"shards": len(lib.shards)} if sharded else {}),
        "digest": lib.cfg.digest(), "fingerprint": asdict(lib.cfg),
    }
    if fmt == "json":
        sys.stdout.write(json.dumps(data) + "\n")
        return
    from rich.table import Table

    table = Table(title=lib.path, title_justify="left", show_header=False)
    for k, v in data.items():
        if k != "fingerprint":
            table.add_row(k.replace("_", " "), str(v))
    table.add_row("parameters", ", ".join(f"{k}={v}" for k, v in data["fingerprint"].items()))
    _out().print(table)


@library_app.command("list", cls=Command)
def list_tracks(
    library: Optional[str] = typer.Option(None, "--library", "-l", help=_LIB_HELP),
    fmt: str = typer.Option("table", "--format", "-f", help="table or json (one object per track line)."),
) -> None:
    """Every track in the library."""
    from ..library.shards import open_any

    _check_format(fmt)
    lib = open_any(_lib_path(library))
    if fmt == "json":
        for t in lib.tracks:
            sys.stdout.write(json.dumps({"track": t.name, "path": t.path, "id": t.sha256,
                                         "duration": round(t.duration_s, 3), "hashes": t.n_hashes,
                                         "sha256": t.sha256}, ensure_ascii=False) + "\n")
        return
    from rich.table import Table

    table = Table(title=f"{lib.path}: {len(lib.tracks)} tracks", title_justify="left")
    for col in ("track", "duration", "hashes", "sha256", "path"):
        table.add_column(col, justify="right" if col in ("duration", "hashes") else "left")
    for t in lib.tracks:
        table.add_row(escape(t.name), _clock(t.duration_s), str(t.n_hashes), t.sha256[:12], escape(t.path))
    _out().print(table)


@library_app.command("remove", cls=Command)
def remove(
    tracks: list[str] = typer.Argument(..., help="Track names, file names or paths, or sha256 prefixes."),
    library: Optional[str] = typer.Option(None, "--library", "-l", help=_LIB_HELP),
) -> None:
    """Remove tracks from the library."""
    from ..library.build import remove_tracks
    from ..library.shards import is_sharded, remove_from_shards

    path = _lib_path(library)
    gone = (remove_from_shards if is_sharded(path) else remove_tracks)(path, tracks)
    if not gone:
        raise UsageError(f"no track in the library matches {', '.join(tracks)}")
    for t in gone:
        err.print(f"removed {escape(t.name)}", highlight=False)


@library_app.command("compact", cls=Command)
def compact_cmd(
    library: Optional[str] = typer.Option(None, "--library", "-l", help=_LIB_HELP),
    target_mb: int = typer.Option(256, "--target-mb", help="Merge consecutive shards while together under this size."),
) -> None:
    """Merge a sharded library's small shards (answers stay exactly the same)."""
    from ..library.shards import compact, is_sharded

    path = _lib_path(library)
    if not is_sharded(path):
        raise UsageError(f"{path}: a single-file library has nothing to compact")
    before, after = compact(path, target_bytes=max(1, target_mb) << 20)
    err.print(f"{path}: {before} shard(s) → {after}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the song-library commands to the main app."""
    app.command("index", cls=Command)(index)
    app.command("identify", cls=Command)(identify)
    app.add_typer(library_app, name="library")


def open_library_arg(library: str):
    """The library named by `--library`, opened and checked (a `LibraryError`, exit 5, when it is missing
    or damaged): `align` calls this before decoding anything."""
    from ..library.shards import open_any

    return open_any(_lib_path(library))


def align_markers(al, lib, *, console: Console | None) -> dict:
    """`align --library`: songs heard in each group (group → markers), listed on *console* unless None."""
    from ..library.api import song_markers

    markers = song_markers(al, lib)
    if console is not None and markers:
        from rich.table import Table

        table = Table(title="songs heard", title_justify="left")
        for col in ("group", "start", "end", "song"):
            table.add_column(col, justify="left" if col == "song" else "right")
        for group in sorted(markers):
            for m in markers[group]:
                table.add_row(str(group), _clock(m.start_s), _clock(m.end_s), escape(m.title))
        console.print(table)
    return markers
