"""When each recording started by its device's clock (file name or container tag), and the search that uses
it: clips nothing else placed are looked for only within seconds of where their clock puts them.

A far phone in a crowd is often confirmed by GCC-PHAT windows at its true offset (the ±60 ms check
`verify` runs) while nothing proposes that offset: its landmark hashes are at chance, and a search over a
whole recording's millions of lags buries its window peaks under chance ones. Phones name their files by
the minute and second they started (``VID_20260612_210148.mp4``, ``PXL_20260612_210148123.mp4``, OBS's
``2026-06-12 21-01-48.mkv``) and MP4/MOV carry a ``creation_time``; each group's placed clips show what
those clocks say against the timeline (a camera's clock may be minutes off, but by one constant), so a lost
clip's position is known to a few seconds and a search that narrow is as specific as the normal check.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timezone

import numpy as np

from ..config import RescueConfig, VerifyConfig
from ..engine.solve import group_sizes
from ..types import Fingerprint, MediaInfo, PairMatch
from .tracks import device_key
from .rescue import envelope_offsets, repeat_rivals
from .verify import search_near

# date and time of day in a file name: 20260612_210148[123], 20260612-210148, 2026-06-12 21-01-48, 2026-06-12_21.01.48
_NAME = re.compile(
    r"(?<!\d)(20\d\d)-?(\d\d)-?(\d\d)[ _T-](\d\d)[-.:]?(\d\d)[-.:]?(\d\d)(\d{3})?(?!\d)"
)


LagSource = Callable[[list[int], list[int]], dict[tuple[int, int], list[tuple[float, float]]]]
QUARTER_HOUR_S = 900.0  # time zones differ by whole quarter hours
ZONES = tuple(QUARTER_HOUR_S * k for k in range(-48, 57))  # UTC-12:00 .. UTC+14:00, in quarter hours
_TAKE = re.compile(r"^(.*\D)(\d{3,5})$")  # a camera's or phone's take counter: IMG_2477, C0012, New Recording 346


def take_number(path: str) -> tuple[tuple[str, str, str], int] | None:
    """((folder, name prefix, lower-case extension), take counter) of a numbered take, or None."""
    folder, name = os.path.split(path)
    stem, ext = os.path.splitext(name)
    m = _TAKE.match(stem)
    return ((folder, m.group(1), ext.lower()), int(m.group(2))) if m else None


def sequential_takes(path_a: str, path_b: str, reach: int = 3) -> bool:
    """Are these two takes of one device, numbered within *reach* of each other (same folder, name prefix and
    extension)? One camera or phone records one take at a time, so two such clips never overlap, however
    alike their music (a loop heard in two songs). Counters only: 1-2 digit suffixes are a recorder's tracks
    of one take (``ZOOM0001_Tr1.WAV``), longer ones are times of day."""
    ta, tb = take_number(path_a), take_number(path_b)
    return ta is not None and tb is not None and ta[0] == tb[0] and 1 <= abs(ta[1] - tb[1]) <= reach


def one_device_takes(fa: Fingerprint, fb: Fingerprint) -> bool:
    """`sequential_takes` by name, unless both files' clocks say they were recording at the same time (a
    folder renamed in one numbered series keeps each file's ``creation_time``): two devices, then."""
    if not sequential_takes(fa.path, fb.path):
        return False
    sa, sb = stamp_of(fa.path, fa.info), stamp_of(fb.path, fb.info)
    if sa is None or sb is None:
        return True
    d = sb.t - sa.t  # b's start after a's, by their clocks (whole seconds)
    return not (-fb.duration_s + 2.0 < d < fa.duration_s - 2.0)


@dataclass(frozen=True)
class Stamp:
    """A recording's start by its own clock: POSIX seconds (a name's local time is read as if UTC; the
    offsets learned per device absorb the zone) and where it came from ("name" or "tag")."""

    t: float
    source: str


def stamp_of(path: str, info: MediaInfo | None) -> Stamp | None:
    """The start time a file's name states (to the second or millisecond), else its ``creation_time`` tag."""
    base = re.split(r"[\\/]", path)[-1]
    m = _NAME.search(base)
    if m:
        y, mo, d, hh, mm, ss, ms = m.groups()
        try:
            t = datetime(int(y), int(mo), int(d), int(hh), int(mm), int(ss), tzinfo=timezone.utc).timestamp()
        except ValueError:
            t = None
        if t is not None:
            return Stamp(t + (int(ms) / 1000 if ms else 0.0), "name")
    dt = _iso(info.creation_time if info is not None else None)
    if dt is None:
        return None
    return Stamp((dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).timestamp(), "tag")


def local_stamp(info: MediaInfo | None) -> float | None:
    """An iPhone's `com.apple.quicktime.creationdate` ("2026-06-12T21:03:05+0200"): its local wall time read as
    if UTC, as file names are (the phone's network clock), or None."""
    dt = _iso(info.local_time if info is not None else None)
    return None if dt is None else dt.replace(tzinfo=timezone.utc).timestamp()


def _iso(text: str | None) -> datetime | None:
    """A container's ISO 8601 time tag ("…Z", "…+02:00" or Apple's "…+0200", which Python 3.10's fromisoformat
    refuses), or None when absent, unreadable or from an unset clock (the 1904/1970 epochs)."""
    if not text:
        return None
    try:
        dt = datetime.fromisoformat(re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text.strip().replace("Z", "+00:00")))
    except ValueError:
        return None
    return dt if dt.year > 1980 else None


def zone_step(d, tol: float):
    """Whether *d* (s; a float or an array) is within *tol* of a whole number of quarter hours: two readings
    of network time that far apart differ by a time zone, which a hand-set camera clock matches only by chance."""
    return np.abs(d - QUARTER_HOUR_S * np.round(np.asarray(d) / QUARTER_HOUR_S)) <= tol


@dataclass(frozen=True)
class Clocks:
    """Per clip of one run: its `Stamp` (or None), its device (`tracks.device_key`) and an iPhone's local-time tag
    (`local_stamp`, or None), read once."""

    stamps: list[Stamp | None]
    devices: list[str]
    local: list[float | None]


def clocks_of(fps: list[Fingerprint]) -> Clocks:
    """Every clip's stamp and device: what the clock stages consult on every round."""
    return Clocks([stamp_of(f.path, f.info) for f in fps],
                  [device_key(f.path, f.info.device if f.info else None) for f in fps],
                  [local_stamp(f.info) for f in fps])


def _agreed(values: list[float], agree_s: float = RescueConfig.timed_agree_s) -> float | None:
    """The median of the largest set of *values* within *agree_s* of each other, if it holds at least two
    and at least half of them (one misplaced clip, or a clock reset between takes, must not move it), or
    the one value there is: a wrong single reading only makes the narrow search find nothing (or, at a
    repeat within its range, a second line, which it refuses), and it cannot outvote anything."""
    v = np.sort(np.asarray(values, float))
    if v.size == 1:
        return float(v[0])
    hi = np.searchsorted(v, v + agree_s, side="right")
    i = int(np.argmax(hi - np.arange(v.size)))
    n = int(hi[i] - i)
    return float(np.median(v[i : hi[i]])) if n >= 2 and 2 * n >= v.size else None


def _clock_origins(sol, stamps: list[Stamp | None], devices: list[str], agree_s: float,
                   zoned: bool = False) -> dict[tuple[int, str], float]:
    """Per (group, device), and per group for the network clocks that name files: the timeline's zero as
    those clocks read it (stamp − position over the placed clips), where at least two clips agree on it.
    Tags are read per device only: a camera's hand-set clock may be minutes off every other one.
    With *zoned*, where one device's takes disagree (one of two held at a repeat), the takes whose reading
    is another clock's of the group to the second, give or take whole quarter hours, read it: a phone's
    network-set clock in UTC or local time, which a hand-set camera clock matches only by chance."""
    readings: dict[tuple[int, str], list[float]] = {}
    for j, st in enumerate(stamps):
        if st is None or sol.group[j] < 0:
            continue
        g, o = int(sol.group[j]), st.t - float(sol.position_s[j])
        readings.setdefault((g, "device:" + devices[j]), []).append(o)
        if st.source == "name":  # names come from network clocks; a tag may be a hand-set camera clock
            readings.setdefault((g, "source:name"), []).append(o)
    out, torn = {}, {}
    for k, v in readings.items():
        if (o := _agreed(v, agree_s)) is not None:
            out[k] = o
        else:
            torn[k] = v
    if zoned:  # a device's tags only (the names' reading is the network's own), against agreed readings only
        agreed = dict(out)
        for (g, key), v in torn.items():
            if not key.startswith("device:"):
                continue
            others = np.array([o for (h, k2), o in agreed.items() if h == g and k2 != key])
            if others.size == 0:
                continue
            d = np.asarray(v)[:, None] - others[None, :]
            fits = zone_step(d, agree_s).any(axis=1)
            if fits.any() and not fits.all():
                o = _agreed([x for x, f in zip(v, fits) if f], agree_s)
                if o is not None:
                    out[(g, key)] = o
    return out


def network_torn(sol, clocks: Clocks, agree_s: float, apart_s: float) -> dict[int, float]:
    """Placed clips whose phone's network clock reads their group's zero *apart_s* or more from another phone's
    reading of it, by no whole quarter hour (a zone): clip → the gap (s). File names and iPhones' local-time
    tags (`Clocks.local`) keep network time to a second, so two phones cannot both sit right; one side
    sits where the music repeats (fresh31's loop5: three phone clips a loop pass, 97 s, off through a camera
    whose hand-set clock is minutes off, stated 0.3 ms). Nothing here says which side, so every clip of both
    states an error reaching the gap. A phone's reading is its placed clips' agreed one (`_agreed`, within
    *agree_s*); the clips off it are the per-device clock checks' (`separate_clocks`)."""
    readings: dict[tuple[int, str], list[tuple[int, float]]] = {}
    for j, (st, dev) in enumerate(zip(clocks.stamps, clocks.devices)):
        t = st.t if st is not None and st.source == "name" else clocks.local[j]
        if t is None or sol.group[j] < 0:
            continue
        readings.setdefault((int(sol.group[j]), dev), []).append((j, t - float(sol.position_s[j])))
    agreed: list[tuple[int, float, list[int]]] = []
    for (g, _), v in readings.items():
        o = _agreed([x for _, x in v], agree_s)
        if o is not None:
            agreed.append((g, o, [j for j, x in v if abs(x - o) <= agree_s]))
    out: dict[int, float] = {}
    for a, (ga, oa, ja) in enumerate(agreed):
        for gb, ob, jb in agreed[a + 1 :]:
            d = oa - ob
            if ga != gb or abs(d) < apart_s or zone_step(d, agree_s):
                continue
            for j in ja + jb:
                out[j] = max(out.get(j, 0.0), abs(d))
    return out


def _kind(st: Stamp, device: str) -> str:
    """The clock a stamp was read from, as `_clock_origins` keys it: network-timed names are one clock."""
    return "source:name" if st.source == "name" else "device:" + device


def voted_origins(clips: Sequence[int], anchors: Sequence[int], fps: list[Fingerprint], cfg: RescueConfig,
                  workers: int = 1, clocks: Clocks | None = None,
                  lags: LagSource | None = None, z_floor: float | None = None) -> dict[tuple[int, str], float]:
    """{(anchor, clock): that clock's reading at the anchor's first sample}, voted by unplaced clips.

    A camera left running all night has a clock minutes off and nothing placed beside it, and the phones'
    short clips around it match nothing alone. Each clip's best few envelope lags against the anchor, each
    turned into the reading its clock implies (stamp − lag), are mostly chance and scatter; the true ones
    all point at one reading. At least `vote_min_clips` clips must agree within `timed_agree_s`, twice as
    many as behind any other reading (a loop makes its repeats agree too) — or, for a device's tags, as many
    agreeing with the reading the network-named clips voted to a whole number of quarter hours (a phone's
    UTC tag; a loop's repeat agrees with that reading only where the names' own reading is one). Only a
    search within `timed_search_s` of where the reading puts each clip (`timed_search`) can place anything.
    *lags*: where the candidate lags come from, (clips, anchors) → {(anchor, clip): [(lag, z)]}; by default
    the `vote_candidates` best onset-envelope lags (`rescue.envelope_offsets`). With *z_floor*, "twice as
    many" weighs each clip by how far its lag's z stands over the floor (its best in the window): a right
    reading's lags stand higher than a loop pass's, so a narrow count (4 clips to 2) becomes a clear weight
    (17.8 to 7.2 on tune's loop5)."""
    clocks = clocks or clocks_of(fps)
    stamps, devices = clocks.stamps, clocks.devices
    stamped = [q for q in clips if stamps[q] is not None]
    used = list(anchors[: cfg.anchors])
    if len(stamped) < cfg.vote_min_clips or not used:
        return {}
    if lags is None:
        found = envelope_offsets(stamped, used, fps, cfg=cfg, k=cfg.vote_candidates, workers=workers)
    else:
        found = lags(stamped, used)
    votes: dict[tuple[int, str], list[tuple[float, int, float]]] = {}
    for (a, q), cands in found.items():
        key = (a, _kind(stamps[q], devices[q]))
        if stamps[a] is None or _kind(stamps[a], devices[a]) != key[1]:  # an anchor's own clock is read already
            votes.setdefault(key, []).extend(
                (stamps[q].t - off, q, 1.0 if z_floor is None else max(0.0, z - z_floor)) for off, z in cands)
    out = {}
    for key, v in votes.items():
        clusters = _clusters(v, cfg.timed_agree_s)
        if clusters and len(clusters[0][1]) >= cfg.vote_min_clips and (
                len(clusters) == 1 or clusters[0][2] >= 2 * clusters[1][2]):
            out[key] = clusters[0][0]
    for (a, kind), v in votes.items():  # a device's tags that read the network-named clips' reading in a zone
        named = out.get((a, "source:name"))
        if (a, kind) in out or named is None or kind == "source:name":
            continue
        for value, voters, _ in _clusters(v, cfg.timed_agree_s, top=3):
            d = value - named
            if len(voters) >= cfg.vote_min_clips and zone_step(d, cfg.timed_agree_s):
                out[(a, kind)] = value
                break
    return out


def _clusters(votes: list[tuple[float, int, float]], width: float, top: int = 2) -> list[tuple[float, set[int], float]]:
    """Readings (value, voter, weight) → the *top* best disjoint windows of ±*width*: (median value, voters,
    score), the highest score first; a window's score sums each distinct voter's largest weight in it (with
    weights of 1, the number of distinct voters)."""
    order = sorted(votes)
    vals = np.array([v[0] for v in order])
    lo = np.searchsorted(vals, vals - width, side="left")
    hi = np.searchsorted(vals, vals + width, side="right")
    out: list[tuple[float, set[int], float]] = []
    taken = np.zeros(vals.size, bool)

    def score(i: int) -> float:
        best: dict[int, float] = {}
        for k in range(lo[i], hi[i]):
            if not taken[k]:
                _, voter, w = order[k]
                best[voter] = max(best.get(voter, w), w)
        return sum(best.values())

    while len(out) < top and not taken.all():
        scores = [score(i) if not taken[i] else -1.0 for i in range(vals.size)]
        i = int(np.argmax(scores))
        members = [k for k in range(lo[i], hi[i]) if not taken[k]]
        out.append((float(np.median(vals[members])), {order[k][1] for k in members}, scores[i]))
        taken[lo[i]: hi[i]] = True
    return out


def _tag_zone(origins: dict[tuple[int, str], float], agree_s: float) -> float | None:
    """How far tags read from the network time that names keep (a time zone: whole quarter hours), where
    some device's tag reading and its group's name reading show it: phones write UTC tags and local-time
    names. None when no device shows it, or they disagree. Cameras' hand-set clocks fit no quarter hour."""
    zones = []
    for (g, key), o in origins.items():
        name = origins.get((g, "source:name"))
        if key.startswith("device:") and name is not None and abs(o - name) > agree_s:
            if zone_step(o - name, agree_s):
                zones.append(QUARTER_HOUR_S * round((o - name) / QUARTER_HOUR_S))
    values = set(zones)
    return zones[0] if len(values) == 1 else None


def _spans(sol, durations: list[float]) -> dict[int, tuple[float, float]]:
    """Group → (first start, last end) of its placed clips on its timeline."""
    pos = np.asarray(sol.position_s, float)
    ends = pos + np.asarray(sol.k, float) * np.asarray(durations, float)
    return {g: (float(pos[sol.group == g].min()), float(ends[sol.group == g].max())) for g in group_sizes(sol)}


def clock_places(sol, fps: list[Fingerprint], cfg: RescueConfig = RescueConfig(),
                 clocks: Clocks | None = None, own_only: bool = False) -> dict[int, dict[int, float]]:
    """clip → {group: the clip's first sample on that group's timeline}, for every group whose timeline the
    clip's recording clock reads: its own device's, or the network clock that names phone files
    (`_clock_origins`; not a tag read in another device's zone: a camera's hand-set clock may be minutes
    off), or an iPhone's local-time tag (`local_stamp`) read as that network clock. Unless *own_only*, a
    placed clip is where it was placed, and reads the other groups through the clocks its group shares with
    them (`_group_shift`)."""
    clocks = clocks or clocks_of(fps)
    stamps, devices = clocks.stamps, clocks.devices
    origins = _clock_origins(sol, stamps, devices, cfg.timed_agree_s)
    groups = sorted({g for g, _ in origins})
    shifts = {} if own_only else _group_shifts(origins, cfg.timed_agree_s)
    out: dict[int, dict[int, float]] = {}
    for q, st in enumerate(stamps):
        places = out.setdefault(q, {})
        gq = int(sol.group[q])
        if gq >= 0 and not own_only:
            places[gq] = float(sol.position_s[q])
            places.update({g: float(sol.position_s[q]) + d for (h, g), d in shifts.items() if h == gq})
        if st is None:
            continue
        local = clocks.local[q] if st.source == "tag" else None  # an iPhone's network wall time
        for g in groups:
            origin, t = origins.get((g, "device:" + devices[q])), st.t
            if origin is None and st.source == "name":
                origin = origins.get((g, "source:name"))
            if origin is None and local is not None:
                origin, t = origins.get((g, "source:name")), local
            if origin is not None:
                places.setdefault(g, float(t - origin))
    return {q: p for q, p in out.items() if p}


def clock_apart(sol, fps: list[Fingerprint], durations: list[float], cfg: RescueConfig = RescueConfig(),
                clocks: Clocks | None = None) -> Callable[[int, int], bool]:
    """Whether the recording clocks say two clips cannot overlap: one's clock (`clock_places`) puts it more
    than `hint_reach_s` from the other, placed one, while putting it within that reach of some group. The
    sweep then spares itself the anchors of another concert hours away; a clock read in a wrong zone, far
    from every group, rules nothing out."""
    places = clock_places(sol, fps, cfg, clocks)
    spans = _spans(sol, durations)
    reach = cfg.hint_reach_s
    near = {q for q, pl in places.items()
            if any(pos + durations[q] > spans[g][0] - reach and pos < spans[g][1] + reach for g, pos in pl.items())}

    def far(q: int, p: int) -> bool:
        g = int(sol.group[p])
        if q not in near or g < 0 or g not in places[q]:
            return False
        pos, lo = places[q][g], float(sol.position_s[p])
        return pos + durations[q] < lo - reach or pos > lo + float(sol.k[p]) * durations[p] + reach

    return lambda a, b: far(a, b) or far(b, a)


def clock_hints(sol, fps: list[Fingerprint], durations: list[float], cfg: RescueConfig = RescueConfig(),
                clocks: Clocks | None = None) -> dict[int, tuple[int, float]]:
    """Clips' places by their recording clock alone: clip → (group, position on that group's timeline), for
    every stamped clip (`api._results` gives them to the clips it leaves unplaced, the unsure ones too).
    Only where the clip's own clock reads a group's timeline (`clock_places`, not through its group's
    clocks) and the clip would then overlap that group's span widened by `hint_reach_s` (the largest
    such group: one concert's groups left apart fit alike, clocks cannot tell them apart). Not a placement
    (no audio confirmed it, so it is neither exported nor scored): a hint for an editor placing the clip by
    hand, good to the clocks' agreement (`timed_agree_s`) plus a name's latency; a clip of another event
    recorded at that hour gets one too."""
    clocks = clocks or clocks_of(fps)
    own = clock_places(sol, fps, cfg, clocks, own_only=True)
    size = group_sizes(sol)
    spans = _spans(sol, durations)
    out = {}
    for q, places in own.items():  # placed clips too: `--min-confidence` may yet leave some out
        fits = [(g, pos) for g, pos in places.items()
                if pos + durations[q] > spans[g][0] - cfg.hint_reach_s and pos < spans[g][1] + cfg.hint_reach_s]
        if fits:  # several: one concert's groups left apart (clocks tell concerts apart, not those)
            out[q] = max(fits, key=lambda f: (size[f[0]], -f[0]))
    return out


def _group_shift(origins: dict[tuple[int, str], float], g: int, main: int, agree_s: float) -> float | None:
    """Where group *g*'s timeline zero lies on group *main*'s by the clocks both read (`_clock_origins`), when
    every shared clock agrees on it within *agree_s*; None if they share none or disagree."""
    shifts = np.array([o - origins[(main, key)] for (h, key), o in origins.items()
                       if h == g and (main, key) in origins])
    if shifts.size == 0 or np.ptp(shifts) > agree_s:
        return None
    return float(np.median(shifts))


def _group_shifts(origins: dict[tuple[int, str], float], agree_s: float) -> dict[tuple[int, int], float]:
    """{(group, other group): `_group_shift`} for every pair of groups whose shared clocks agree."""
    groups = sorted({g for g, _ in origins})
    return {(h, g): d for h in groups for g in groups
            if h != g and (d := _group_shift(origins, h, g, agree_s)) is not None}


def group_hints(sol, fps: list[Fingerprint], durations: list[float], cfg: RescueConfig = RescueConfig(),
                clocks: Clocks | None = None) -> dict[int, tuple[int, float]]:
    """Groups the audio left apart → (the group it names, where this group's timeline zero lies on it) by
    the clocks both groups read (`_clock_origins`: a device, or the phones' network-timed names, with placed
    clips in both): the readings' difference, when every shared clock agrees on it within `timed_agree_s`
    and the group then overlaps the other's span widened by `hint_reach_s` (one concert split where no clip
    bridged it; another concert hours away is no such group). Groups are taken largest first, each naming
    the largest group before it that names none itself: a festival's second concert, out of reach of the
    first, keeps its own timeline and its own split parts name it. A hint, as `clock_hints`: no audio joins
    the two."""
    clocks = clocks or clocks_of(fps)
    origins = _clock_origins(sol, clocks.stamps, clocks.devices, cfg.timed_agree_s)
    size = group_sizes(sol)
    spans = _spans(sol, durations)
    roots: list[int] = []  # groups that name none, largest first
    out = {}
    for g in sorted(size, key=lambda g: (-size[g], g)):
        lo, hi = spans[g]
        for main in roots:
            if (shift := _group_shift(origins, g, main, cfg.timed_agree_s)) is None:
                continue
            lo_m, hi_m = spans[main]
            if lo + shift < hi_m + cfg.hint_reach_s and hi + shift > lo_m - cfg.hint_reach_s:
                out[g] = (main, shift)
                break
        else:
            roots.append(g)
    return out


def timed_hypotheses(
    clips: Sequence[int], fps: list[Fingerprint], sol, durations: list[float], cfg: RescueConfig,
    voted: dict[tuple[int, str], float] | None = None, clocks: Clocks | None = None, voted_sure: bool = False,
) -> list[tuple[int, int, float, bool]]:
    """(partner, clip, offset of the clip in the partner's clock, sure) worth a narrow search, at most
    `timed_partners` per clip, placed partners first, then by overlap (≥ `timed_min_overlap_s`). An
    unplaced clip may go anywhere; a placed one only into a bigger group (that is how split groups join).

    Two readings of where a clip lies: another clip's stamp from the same kind of clock (phones keep
    network time: their names agree to a second), and a group's timeline zero as the clip's device (or,
    failing that, its kind of clock) reads it, learned from the group's placed clips (a camera's clock may
    be off by minutes, but by one constant). *sure* is False for readings that are guesses — an anchor's
    clock voted by envelope lags (`voted_origins`), a phone's UTC tag in a zone no device showed yet —
    which can be off by a loop's period or a whole zone. With *voted_sure*, the voted readings are not
    guesses (sweep lags' votes, `api._lag_voted`: the truth stands out of a loop's repeats there)."""
    clocks = clocks or clocks_of(fps)
    stamps, devices = clocks.stamps, clocks.devices
    origins = _clock_origins(sol, stamps, devices, cfg.timed_agree_s)
    zone = _tag_zone(origins, cfg.timed_agree_s)
    size = group_sizes(sol)
    shifts = _group_shifts(origins, cfg.timed_agree_s) if cfg.timed_group_shift else {}
    out = []
    for q in clips:
        st = stamps[q]
        gq = int(sol.group[q])
        if st is None and gq < 0:
            continue
        into = [g for g in size if gq < 0 or size[g] > size[gq]]
        cands: dict[tuple[int, int], tuple[bool, float, int, float, bool]] = {}

        def add(p: int, off: float, k_p: float = 1.0, sure: bool = True) -> None:
            ov = min(off + durations[q], k_p * durations[p]) - max(off, 0.0)
            key = (p, int(round(off)))
            if ov >= cfg.timed_min_overlap_s and key not in cands:
                cands[key] = (bool(sol.group[p] >= 0), ov, p, off / k_p, sure)

        if st is not None:  # the clip's own clock
            for p, sp in enumerate(stamps):
                same_clock = sp is not None and (sp.source == st.source == "name" or devices[p] == devices[q])
                if (p != q and same_clock  # (one device's clips never overlap: the overlap test drops those)
                        and (int(sol.group[p]) in into or (gq < 0 and sol.group[p] < 0))):
                    add(p, st.t - sp.t)
            for (a, kind), reading in (voted or {}).items():  # an anchor's clock reading, voted (`voted_origins`)
                if kind == _kind(st, devices[q]) and a != q and (gq < 0 or int(sol.group[a]) in into):
                    add(a, st.t - reading, float(sol.k[a]) if sol.group[a] >= 0 else 1.0, sure=voted_sure)
            for g in into:
                origin = origins.get((g, "device:" + devices[q]), origins.get((g, "source:" + st.source)))
                members = np.flatnonzero(sol.group == g)
                readings = () if origin is None else (origin,)
                guessed = origin is None and zone is None
                if origin is None and st.source == "tag" and (g, "source:name") in origins:
                    # a phone's UTC tag read as network time: in the zone some device showed, or, before any
                    # did, in every zone (whole quarter hours) that puts the clip within this group's span
                    z = np.array((zone,) if zone is not None else ZONES)
                    pos = st.t - origins[(g, "source:name")] - z  # the clip's place on the group's timeline
                    lo = float(sol.position_s[members].min()) - durations[q] - 1.0
                    hi = float((sol.position_s[members] + sol.k[members] * np.asarray(durations)[members]).max()) + 1.0
                    readings = tuple(float(r) for r in origins[(g, "source:name")] + z[(pos > lo) & (pos < hi)])
                for reading in readings:
                    for p in members:
                        add(int(p), st.t - reading - float(sol.position_s[p]), float(sol.k[p]), sure=not guessed)
        if gq >= 0:  # the clip's group, moved as the clocks it shares with a larger one put it (ties by size:
            # the lower-numbered group is the larger), beside partners its own clock did not already propose
            # (a camera with no clock of its own in that group)
            own = {p for _, _, p, _, _ in cands.values()}
            for (h, g), shift in shifts.items():
                if h == gq and (size[g], -g) > (size[gq], -gq):
                    for p in np.flatnonzero(sol.group == g):
                        if int(p) not in own:
                            add(int(p), float(sol.position_s[q]) + shift - float(sol.position_s[p]), float(sol.k[p]))
        for placed, ov, p, off, sure in sorted(cands.values(), reverse=True)[: cfg.timed_partners]:
            out.append((p, q, off, sure))
    return out


def stamp_gap(solved, d, dur_a, dur_b):
    """How far *solved* (b's start after a's on the timeline; floats or arrays) lies from what one clock reads:
    the stamps' difference *d* read at starts, or at ends for a device that stamps the end (d − (dur_b − dur_a))."""
    return np.minimum(np.abs(solved - d), np.abs(solved - (d - (dur_b - dur_a))))


def contradicted(sol, edges: list[PairMatch], weak: list[bool], fps: list[Fingerprint],
                 cfg: RescueConfig = RescueConfig(), clocks: Clocks | None = None) -> list[int]:
    """Indices of the edges `clock_choices` drops or moves to a rival."""
    drop, swap = clock_choices(sol, edges, weak, fps, cfg, clocks)
    return sorted(drop + list(swap))


def clock_choices(sol, edges: list[PairMatch], weak: list[bool], fps: list[Fingerprint],
                  cfg: RescueConfig = RescueConfig(), clocks: Clocks | None = None
                  ) -> tuple[list[int], dict[int, float]]:
    """(indices to drop, {index: rival offset to move to}). Judged: *weak* edges, and edges that tie with a
    repeat (`PairMatch.rivals`: however many windows chose the line, a sample-identical loop fits as well
    at its other places). An edge is dropped when its clocks deny it; one with exactly one rival the clocks
    accept moves there instead.

    The clocks deny an edge that holds a clip where its clock says it cannot be: more than
    `timed_contradicts_s` from where its group's agreed clock reading puts it, while the other end does not
    (it agrees, or has no clock); or more than that from where the other end's reading of the same clock
    puts it (two takes of one camera, two phones' network-timed names), which needs no group to agree.

    A stamp cannot place a clip to a millisecond, but it rules out a repeat a verse away; a weak edge (one
    partial overlap) is exactly how such a repeat gets in."""
    clocks = clocks or clocks_of(fps)
    stamps, devices = clocks.stamps, clocks.devices
    origins = _clock_origins(sol, stamps, devices, cfg.timed_agree_s, cfg.timed_zoned_origins)

    takes = Counter((int(sol.group[j]), devices[j]) for j, st in enumerate(stamps)
                    if st is not None and sol.group[j] >= 0)

    def clock_at(j: int) -> float | None:
        """Where clip *j*'s own clock puts it on its group's timeline (its group's agreed reading), or None."""
        st, g = stamps[j], int(sol.group[j])
        if st is None or g < 0:
            return None
        dev = origins.get((g, "device:" + devices[j]))
        if dev is not None and st.source == "name" and takes[(g, devices[j])] == 1:
            dev = None  # a device's one take reads itself: the network's reading of its group judges it
        origin = dev if dev is not None else origins.get((g, "source:" + st.source))
        return None if origin is None else st.t - origin

    tol = cfg.timed_contradicts_s
    at = [clock_at(j) for j in range(len(fps))]

    def off(j: int) -> bool | None:
        """Whether the solve put clip *j* where its clock says it cannot be (None: no clock to say)."""
        return None if at[j] is None else abs(at[j] - float(sol.position_s[j])) > tol

    said: dict[int, list[float]] = {}  # an unclocked clip's positions as its edges from clocked clips imply them
    for e in edges:
        if sol.group[e.a] >= 0 and sol.group[e.a] == sol.group[e.b]:
            if at[e.a] is not None and at[e.b] is None:
                said.setdefault(e.b, []).append(at[e.a] + e.offset_s)
            elif at[e.b] is not None and at[e.a] is None:
                said.setdefault(e.a, []).append(at[e.b] - e.offset_s)

    def implied(e: PairMatch) -> bool:
        """The edge read from its ends' clocks: both clocked, it must span what they do; one clocked, it must
        put the other where more of that clip's edges from clocked clips put it than anywhere else. The
        solve's position of a clip held by a right edge and by a repeat lies between the two: judged there,
        the right edge would be dropped as readily as the repeat."""
        if sol.group[e.a] < 0 or sol.group[e.a] != sol.group[e.b]:
            return False
        if at[e.a] is not None and at[e.b] is not None:
            return abs(at[e.b] - at[e.a] - e.offset_s) > tol
        if at[e.a] is None and at[e.b] is None:
            return False
        j, p = (e.b, at[e.a] + e.offset_s) if at[e.a] is not None else (e.a, at[e.b] - e.offset_s)
        votes = said.get(j, [])
        mine = sum(abs(v - p) <= tol for v in votes)
        return any(sum(abs(w - v) <= tol for w in votes) > mine for v in votes)

    def apart(e: PairMatch) -> bool:
        """Both ends read one clock (one device, or network-timed names) and it disagrees with the edge."""
        sa, sb = stamps[e.a], stamps[e.b]
        if sa is None or sb is None or not (sa.source == sb.source == "name" or devices[e.a] == devices[e.b]):
            return False
        return stamp_gap(e.offset_s, sb.t - sa.t, fps[e.a].duration_s, fps[e.b].duration_s) > cfg.timed_contradicts_s

    def held_off(e: PairMatch) -> bool:
        if cfg.timed_implied:
            return implied(e)
        ends = (off(e.a), off(e.b))  # the old reading: at the solve's positions
        return True in ends and ends != (True, True)

    drop: list[int] = []
    swap: dict[int, float] = {}
    for i, (e, w) in enumerate(zip(edges, weak)):
        if not (w or e.rivals) or not (held_off(e) or apart(e)):
            continue
        fits = [r for r in e.rivals if not (held_off(o := replace(e, offset_s=r)) or apart(o))]
        if len(fits) == 1:
            swap[i] = fits[0]
        else:
            drop.append(i)
    return drop, swap


def timed_search(
    lost: Sequence[int], fps: list[Fingerprint], sol, durations: list[float], *, cfg: RescueConfig = RescueConfig(),
    verify_cfg: VerifyConfig = VerifyConfig(), workers: int = 1, voted: dict[tuple[int, str], float] | None = None,
    clocks: Clocks | None = None, may_pair: Callable[[int, int], bool] | None = None,
    failed: set[tuple[int, int, float]] | None = None, voted_sure: bool = False,
) -> list[PairMatch]:
    """Verified edges for *lost* (unplaced clips, and clips of groups that a bigger one may absorb) from a
    search within `timed_search_s` of where their stamps put them (`verify.search_near`): at most one edge
    per clip, from the first partner that confirms it; partners *may_pair(p, q)* rules out are not tried.

    *failed* holds (partner, clip, prior to the ms) of searches that found nothing; they are added to it
    and not searched again (a clip not placed in one round meets mostly the same priors in the next).

    Near a guessed reading (not *sure*), a line found where the partner repeats the matched stretch and the
    windows confirm the clip at the repeat too (`rescue.repeat_rivals`, strict) counts as nothing found: a
    voted or zone-guessed clock can be off by a loop's period, and in loop music some repeat lies within
    any search window. A reading from the clip's own clock against a learned one is trusted to choose, but
    the repeat places its windows confirm too stay on the edge as rivals (`PairMatch.rivals`): the reading
    was learned from clips that may themselves sit at a repeat, and the final clock check may choose again."""
    failed = set() if failed is None else failed
    by_clip: dict[int, list[tuple[int, float, bool]]] = {}
    for p, q, off, sure in timed_hypotheses(lost, fps, sol, durations, cfg, voted, clocks, voted_sure):
        if (may_pair is None or may_pair(p, q)) and (p, q, round(off, 3)) not in failed:
            by_clip.setdefault(q, []).append((p, off, sure))

    def one(q: int) -> PairMatch | None:
        for p, off, sure in by_clip[q]:
            a, b = (p, q) if p < q else (q, p)
            h = PairMatch(a=a, b=b, offset_s=off if a == p else -off, rate=1.0, support=0, z=0.0, ratio=1.0,
                          trusted=False)
            ev = search_near(h, fps[a], fps[b], verify_cfg, cfg)
            if ev is not None:
                ties = repeat_rivals([ev.edge], fps, cfg=cfg, verify_cfg=verify_cfg, strict=True)[0] if (
                    cfg.timed_repeat_veto and (not sure or cfg.keep_rivals)) else ()
                if not sure and ties:
                    failed.add((p, q, round(off, 3)))
                    continue
                others = tuple(o for o in ties if abs(o - ev.edge.offset_s) > 0.5 * cfg.repeat_min_s)
                return replace(ev.edge, support=4 * ev.edge.windows, ratio=2.0, rivals=others)
            failed.add((p, q, round(off, 3)))
        return None

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return [e for e in pool.map(one, sorted(by_clip)) if e is not None]
