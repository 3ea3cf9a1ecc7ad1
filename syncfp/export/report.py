"""`Timeline` → a self-contained HTML page (inline CSS and SVG, no scripts, no network): per group the
tracks with clips coloured by confidence, drift, songs, then unplaced clips with reasons and the table."""

from __future__ import annotations

import html
import os

from ..fsutil import atomic_write_text
from .jsonout import to_dict
from .options import DEFAULT_OPTIONS, ExportOptions
from .timeline import GroupTimeline, Timeline

WIDTH, LABEL_W, ROW_H, TOP = 1100, 150, 34, 46

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;background:#fafafa}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;margin-top:8px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
th{background:#eee}td.n{text-align:right;font-variant-numeric:tabular-nums}
svg{background:#fff;border:1px solid #ddd}.unplaced td{color:#a00}
.legend span{display:inline-block;width:14px;height:14px;vertical-align:middle;margin:0 4px 0 12px}
"""


def colour(confidence: float) -> str:
    """Red (0) through amber to green (1)."""
    hue = 120 * max(0.0, min(1.0, confidence))
    return f"hsl({hue:.0f},65%,48%)"


def _step(total_s: float) -> float:
    for step in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600):
        if total_s / step <= 9:
            return step
    return 7200


def group_svg(tl: Timeline, g: GroupTimeline) -> str:
    """One group as an SVG drawing: a row per track, a rect (class ``clip``) per clip."""
    rate = float(tl.rate)
    total_s = max(1.0, g.duration_frames / rate)
    scale = (WIDTH - LABEL_W - 20) / total_s
    height = TOP + ROW_H * len(g.tracks) + 10
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
           f'data-group="{g.group}" role="img">']
    step = _step(total_s)
    k = 0
    while k * step <= total_s:
        x = LABEL_W + k * step * scale
        out.append(f'<line x1="{x:.1f}" y1="{TOP - 6}" x2="{x:.1f}" y2="{height - 6}" stroke="#eee"/>')
        # ticks sit on whole seconds: label them as clock time (a drop-frame label there reads 00:00:19;29), and
        # anchor the last one at its end so it is not cut off at the right edge
        secs = int(k * step)
        label = f"{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}"
        anchor = ' text-anchor="end"' if x > WIDTH - 60 else ""
        out.append(f'<text x="{x:.1f}" y="{TOP - 10}" font-size="10" fill="#888"{anchor}>{label}</text>')
        k += 1
    for m in g.markers:
        x = LABEL_W + m.start_frame / rate * scale
        w = max(2.0, m.duration_frames / rate * scale)
        out.append(f'<rect class="song" x="{x:.1f}" y="4" width="{w:.1f}" height="{height - 10}" '
                   f'fill="#6a5acd" fill-opacity="0.10"><title>{html.escape(m.marker.title)}</title></rect>')
        out.append(f'<text x="{x + 3:.1f}" y="16" font-size="11" fill="#483d8b">♪ {html.escape(m.marker.title)}</text>')
    for row, t in enumerate(g.tracks):
        y = TOP + row * ROW_H
        kind = "camera" if t.has_video else "audio"
        out.append(f'<text x="6" y="{y + 20}" font-size="12">{html.escape(t.name)} ({kind})</text>')
        for tc in t.clips:
            c = tc.clip
            x = LABEL_W + tc.record_frame / rate * scale
            w = max(1.5, tc.duration_frames / rate * scale)
            drift = "" if c.drift_ppm is None else f", drift {c.drift_ppm:+.1f} ppm"
            tip = (f"{tc.name}: starts {c.offset_s:.4f} s ({tl.tc(tc.record_frame)}), confidence "
                   f"{c.confidence:.2f}{drift}")
            out.append(f'<rect class="clip" x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="{ROW_H - 8}" rx="3" '
                       f'fill="{colour(c.confidence)}"><title>{html.escape(tip)}</title></rect>')
            label = tc.name + (f"  {c.drift_ppm:+.0f} ppm" if tc.speed != 1.0 else "")
            fits = int((w - 8) / 6.5)  # ~6.5 px per character at 11 px
            if fits >= 3:
                label = label if len(label) <= fits else label[: fits - 1] + "…"
                out.append(f'<text x="{x + 4:.1f}" y="{y + 21}" font-size="11" fill="#fff">{html.escape(label)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def _note(row: dict) -> str:
    """A placed clip's note: variable frame rate first (editors may show it as a different rate), then warnings."""
    parts = ["VFR (variable frame rate)"] if row.get("vfr") else []
    return "; ".join(parts + ([row["warning"]] if row["warning"] else []))


def _table(tl: Timeline) -> str:
    head = ("clip", "group", "track", "start", "offset s", "duration s", "drift ppm", "confidence", "note")
    rows = ["<table><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>"]
    for c in to_dict(tl)["clips"]:
        placed = c["group"] is not None
        cells = [os.path.basename(c["path"]), c["group"] or "-", c["track"] or "-", c["record_timecode"] or "-",
                 "-" if c["offset"] is None else f"{c['offset']:.4f}", f"{c['duration']:.2f}",
                 "-" if c["drift_ppm"] is None else f"{c['drift_ppm']:+.1f}", f"{c['confidence']:.2f}",
                 _note(c) if placed else f"unplaced: {c['error']}"]
        cls = "" if placed else ' class="unplaced"'
        rows.append(f"<tr{cls}>" + "".join(
            f'<td class="n">{html.escape(str(v))}</td>' if i in (3, 4, 5, 6, 7) else f"<td>{html.escape(str(v))}</td>"
            for i, v in enumerate(cells)) + "</tr>")
    rows.append("</table>")
    return "\n".join(rows)


def to_html(tl: Timeline, *, title: str = "syncfp") -> str:
    parts = [f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)} report</title>"
             f"<style>{_CSS}</style></head><body>",
             f"<h1>{html.escape(title)}: {sum(len(t.clips) for g in tl.groups for t in g.tracks)} placed clips in "
             f"{len(tl.groups)} group(s), {len(tl.unplaced)} unplaced, {float(tl.rate):.3f} fps"
             f"{' DF' if tl.drop_frame else ''}</h1>",
             '<p class="legend">confidence:<span style="background:' + colour(0) + '"></span>0'
             '<span style="background:' + colour(0.5) + '"></span>0.5<span style="background:' + colour(1)
             + '"></span>1</p>']
    for g in tl.groups:
        parts.append(f"<h2>Group {g.group}</h2>")
        gh = tl.alignment.group_hints.get(g.group) if tl.alignment is not None else None
        if gh is not None:
            text = gh.sentence(of_group=True)
            parts.append(f'<p class="hint">{html.escape(text[0].upper() + text[1:])}.</p>')
        parts.append(group_svg(tl, g))
    if tl.unplaced:
        parts.append("<h2>Unplaced clips</h2><ul id=\"unplaced\">")
        parts += [f"<li>{html.escape(c.path)}: {html.escape(c.error or 'not placed')}{html.escape('; ' + c.clock_hint.sentence() if c.clock_hint else '')}</li>"
                  for c in tl.unplaced]
        parts.append("</ul>")
    parts.append("<h2>All clips</h2>")
    parts.append(_table(tl))
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_to_string(tl: Timeline, *, options: ExportOptions = DEFAULT_OPTIONS) -> str:
    return to_html(tl, title=options.title)


def write_to_file(tl: Timeline, path: str, *, options: ExportOptions = DEFAULT_OPTIONS) -> list[str]:
    atomic_write_text(path, write_to_string(tl, options=options))
    return [path]
