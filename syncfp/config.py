"""Frozen parameter sets for decoding, fingerprinting, matching, verification, the solve, the rescue and song
identification; a digest names a fingerprint set (and a decode set that is not the default)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class DecodeConfig:
    """Decoding (`syncfp.audio`): which audio stream, the mono analysis mix, timestamp gaps, what a file must hold."""

    silence_db: float = -70.0  # below this a recording holds nothing to match (extract refuses it, the stream
    # choice skips it)
    min_duration_s: float = 1.0  # shorter clips cannot be told apart from chance matches
    probe_s: float = 20.0  # seconds of each stream decoded to choose one: past a camera's first silent moments
    probe_max_s: float = 300.0  # ... read on while every stream is still silent, up to this
    prefer_first_db: float = 10.0  # another stream must be this much louder to be chosen over the first
    vfr_tolerance: float = 0.002  # average vs nominal video rate: CFR files agree to ~0.03 %, dropped-frame
    # phones differ by >1 %
    max_gap_s: float = 60.0  # a longer timestamp jump is a discontinuity (joined files, a wrap), not a dropout
    min_gap_s: float = 0.010  # under a frame of jitter: rounding in the muxer, not lost audio
    lock_s: float = 5.0  # seconds of audible blocks after which the channel mix is frozen
    stats_max_s: float = 120.0  # the mix is frozen after this long even without sound: bounds the cost of the
    # statistics
    audible_db: float = -60.0  # a block counts toward the mix decision when its loudest kept channel is above this
    dead_db: float = 40.0  # a channel this far below the loudest is an unused input: left out so it does not dilute
    cancel_db: float = 20.0  # the mix this far below its channels' mean level: they cancel (a polarity-inverted side)
    ltc_bit_s: tuple[float, float] = (0.30e-3, 0.70e-3)  # LTC's bit cell: 80 bits a frame at 23.976-30 fps is
    # 0.42-0.52 ms
    ltc_square: float = 0.7  # share of samples above half the peak: 0.67 for a sine, ~0.95 for a band-limited square
    ltc_regular: float = 0.9  # share of zero-crossing intervals at one bit cell or half of one (biphase mark)

    def digest(self) -> str:
        """Short stable digest of every parameter; part of a cache key when not the default."""
        blob = json.dumps(asdict(self), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


@dataclass(frozen=True)
class FingerprintConfig:
    """Landmark fingerprint parameters. Changing any of them changes `digest()` and invalidates caches."""

    rate_hz: int = 8000  # analysis rate: 0-4 kHz holds most musical energy; cheap to decode to
    n_fft: int = 512  # 64 ms window, 15.6 Hz bins
    hop: int = 256  # 32 ms hop: the coarse time grid; refinement does the rest
    fmin_bin: int = 6  # ~94 Hz: below this phones hear wind, handling and rumble
    fmax_bin: int = 250  # ~3.9 kHz: stay clear of the resampler's anti-alias roll-off
    peak_df: int = 12  # half-height of the 2-D max filter in bins (+-190 Hz)
    peak_dt: int = 3  # half-width of the 2-D max filter in frames (+-96 ms)
    whiten_frames: int = 93  # ~3 s running mean per bin removed before picking: flattens mic EQ
    peaks_per_s: float = 32.0  # density: strongest peaks kept per second
    rank_frames: int = 32  # density is enforced per window of this many frames
    floor_db: float = -75.0  # absolute floor: no peaks in digital silence
    fan_out: int = 6  # targets paired with each anchor
    zone_dt: int = 63  # target zone: 1..zone_dt frames (2 s) after the anchor (6-bit field)
    zone_df: int = 48  # target zone: |f2 - f1| <= zone_df bins
    level_weight: float = 0.0  # peaks ranked by whitened height + this × level (dB): loud peaks survive noise
    peak_on_level: bool = False  # local maxima of the level instead of the whitened level: they do not move
    # with the frame phase (a clip's frames never line up with the library's)

    @property
    def hop_s(self) -> float:
        return self.hop / self.rate_hz

    def digest(self) -> str:
        """Short stable digest of every parameter; stored with caches and libraries."""
        fields = asdict(self)
        for name in ("level_weight", "peak_on_level"):  # added later: digests made before them stay valid
            if not fields[name]:
                del fields[name]
        blob = json.dumps(fields, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


@dataclass(frozen=True)
class MatchConfig:
    """All-pairs matching: offset histograms per time segment, then a line fit over offset and drift."""

    segment_s: float = 10.0  # per-segment histograms: 1000 ppm smears only 10 ms across one
    max_bucket: int = 256  # hashes seen more often than this are uninformative (silence, hum)
    max_drift_ppm: float = 1200.0  # search range of the relative clock rate
    min_support: int = 14  # aligned hits a trusted edge needs
    min_z: float = 8.0  # support above the pair's chance level, in Poisson standard deviations
    min_ratio: float = 1.5  # best line vs best line elsewhere (periodic music gives close seconds)


@dataclass(frozen=True)
class SolveConfig:
    """Graph solve and how sure its placements are (`sync.api`: edge and clip confidences, drift shown)."""

    max_residual_s: float = 0.05  # edges that disagree with their cycle by more than this are rejected
    take_rate_tie: float = 2e-6  # one device's takes share a clock: their rates agree to this (0: not tied)
    take_rate_gate: float = 2.5e-5  # ...when their solved rates already agree to this (a take placed at a repeat
    # may carry any rate; tying its sibling to it moved the sibling too)
    take_rate_sigmas: float = 3.0  # ...or differ by no more than this many standard errors of their relative rate
    # as the edges between them measure it (`solve.relative_rate_stds`; a link over an overlap too short for a
    # rate measures nothing, ~1000 ppm): the edges do not say the rates differ, the takes say they agree; 0: off
    rate_prior: float = 1e-4  # a consumer clock's rate is known to about this much (±100 ppm) before any edge
    # measures it: a clip's stated error carries it from where its edges fix it to its first sample
    partial_cover: float = 0.5  # an overlap holding less than this share of the shorter clip is a partial
    partial_confidence: float = 0.5  # ... one, where a repeat fits as well: its edge says at most this
    full_share: float = 0.8  # an edge confirmed by fewer of its windows than this share ...
    part_share_confidence: float = 0.75  # ... says at most this
    pair_group_confidence: float = 0.5  # at most this for the clips of a two-clip group (no cycle checks them)
    stacked_error_s: float = 0.005  # a clip every edge of which was timed only by summed windows states at least
    # this error: such sums can settle on a far phone's early reflection while their fit says 0.1 ms (hard bench,
    # four read draws: 4 of 82 such clips stated within 1 ms were 9-26 ms off; the rms of all 82 was 3.5 ms)
    core_confidence: float = 0.8  # edges at least this sure hold a group's core together
    max_drift_std: float = 25e-6  # a clip's drift is reported only when its rate is known to about this
    take_clash_s: float = 1.0  # two takes of one device laid over each other by more than this: a clash (`sync.takes`)


@dataclass(frozen=True)
class VerifyConfig:
    """GCC-PHAT verification of fingerprint hypotheses (see `syncfp.sync.verify`)."""

    window_s: float = 2.0
    short_window_s: float = 1.0  # overlaps under four long windows use these, half-overlapping
    max_windows: int = 12
    band_hz: tuple[float, float] | None = None  # the windows' band (None: all above ~100 Hz; `bench/check_at_truth.py`)
    search_s: float = 0.06  # +- around the hypothesis (a couple of hops plus drift residue)
    min_z: float = 4.5  # a window's peak over its curve's robust spread: the max of ~1000 chance lags is ~3.3
    against_z: float = 6.0  # a peak this strong off the line contradicts it (chance rarely reaches it)
    agree_s: float = 0.0005  # confirming windows lie this close to one line
    coherent_s: float = 6e-5  # ...and one moment heard twice scatters about it by at most this (rms, the worst of five
    # or more left out; far phones at 0 dB too: 99 % of true checks on the hard bench)
    incoherent_s: float = 1e-4  # a repeat played again scatters more (the players' timing wanders): 0.1-0.3 ms
    incoherent_pooled_s: float = 3e-4  # ...and a summed line whose groups of summed windows (`pool_windows`)
    # scatter beyond this (on the five read draws: 110 of 114 right summed edges under 200 µs, 2 at 235-294 µs,
    # 2 at 349-384; wrong ones 3 at 355-426 µs, the one that took four clips 16.7 s off 364 µs, but 8 under
    # 60 µs: copies sample for sample); 0: off
    coherent_windows: int = 4  # the scatter is judged from this many confirming windows on
    pool_windows: int = 3  # windows too weak alone (stacked): groups of this many, each summed along the line,
    # give the scatter instead, from 3 groups on (0: stacked edges carry none)
    pool_min_windows: int = 6  # ...from this many windows on, in 3 smaller groups where fewer than 3 × pool_windows
    # (a 30-s far recorder's 8 swept 6-s windows: 41 µs pooled, placed; 0: 3 × pool_windows, as before)
    min_windows: int = 3  # confirming windows an edge needs
    min_share: float = 0.3  # ...and this share of the windows tried, unless their peaks are strong:
    strong_mean_z: float = 8.0  # two chance peaks always fit a line; a third rarely does, three strong never
    partial_run: int = 3  # consecutive windows whose curve is chance at the line's lag...
    partial_share: float = 0.25  # ...and this share of the windows tried: the line explains only part
    partial_z: float = 1.5  # the curve's z at the line's lag below which a window holds other audio
    stack_z: float = 7.0  # windows summed along the best nearby line: peak over √windows (chance max ~5)
    max_drift: float = 1.3e-3  # relative clock rates the stacked search covers (29.97/30 is 1000 ppm)
    short_stack_drift: float = 3e-4  # ...and about the hypothesis's rate where its windows span under
    # `min_rate_span_s` (two devices' clocks; a span that short cannot measure a rate, only fit a repeat's wander)
    stack_prior_rate: float = 1.5e-4  # a hypothesis rate further from 1 than this is re-measured at rate 1
    prior_rate_alone: bool = True  # ... and its windows read there may confirm it standing alone, not only summed
    stack_second: float = 0.8  # a second stacked peak this close to the first leaves the lag unsure
    stacked_rival_support: float = 0.5  # hash support (share of the best's) for a stacked rival to tie
    lean_z: float = 2.0  # a window leans towards a line when its curve there is this far above its spread
    max_against: float = 0.5  # strong windows off the line, per confirming window, before the timing is doubted
    min_rate_span_s: float = 8.0  # windows spanning less cannot measure drift: the rate stays the hypothesis's
    error_floor_s: float = 3.6e-5  # an 8 kHz sample over sqrt(12)
    remeasure_smear_s: float = 3e-5  # a confirmed line whose rate differs from the hypothesis's by more than
    # this over one window is measured again on its own rate: a window read at the wrong rate smears its peak
    # (445 ppm: 0.9 ms over 2 s) and its lag wanders within the smear (a clean pair came out 0.17 ms, 7 ppm off)
    min_unique: int = 2  # windows only the winner explains, to prefer it over an equal-looking repeat
    max_alt_share: float = 0.5  # ...or a rival explains less than this share of what the winner does
    same_offset_s: float = 0.002  # hypotheses closer than this are the same line
    contest_apart_s: float = 0.25  # one pair's trusted edges (from two stages) further apart: decided together
    # by `verify_pair` or all set aside (`sync.contest`); 0: off
    alt_support: float = 0.25  # fingerprint alternatives tested when their support is this share of the best
    recentre_search_s: float = 0.25  # a failed hypothesis is searched once more this wide: a reverberant
    # phone's landmarks can sit 100-200 ms from the direct sound
    near_search_s: float = 0.005  # a line found where a solve put two clips is read again by windows searched
    # this little about it (`verify.check_near`): windows standing alone there time it, not the sum that found it
    recentre_min_support: int = 8  # hash lines weaker than this are re-centred for nothing (chance lines)
    wide_second: float = 0.9  # a clock search's line with another lag stacking to this share of it: a beat away
    stack_prescreen: float = 0.6  # share of `stack_z` every 4th rate must reach before all rates are searched
    wide_pool: int = 8  # samples per bin of the wide stacked search (1 ms at 8 kHz); the normal check refines it
    arrival_reach_s: float = 0.045  # direct sound vs early reflections (`sync.arrivals`): peaks this near a line
    # are compared (rooms' first reflections come 2-45 ms after the direct sound); 0 turns the test off
    arrival_listed: float = 0.4  # peaks at least this share of the line's own height are kept per edge
    arrival_rival: float = 0.6  # ...and from this share (and `arrival_min_z` absolute) one may take the line's place
    arrival_min_z: float = 8.0  # summed windows' z over √windows a rival must reach (chance near a line ~4)
    arrival_tol_s: float = 0.0005  # one reflection seen in two edges of a clip lies this close
    arrival_denied: float = 0.3  # a clip whose other edges show a reflection in fewer than this share has none
    arrival_min_asked: int = 3  # ...when at least this many other edges of it were asked (two can both miss it)
    arrival_mirror: bool = True  # no move where the clip said to be echoed shows that echo after the line too
    arrival_mirror_vote: bool = True  # a clip's other edges show its echo only where the mirror image is lower
    arrival_rounds: int = 2  # moves whose rival the other clips deny first, the rest decided on peaks read after
    # them (1: every move decided on the peaks as first measured)
    lone_pairs_coherent: bool = True  # a group of two clips needs a coherent edge between them (`api._lone_pairs`)
    arrival_moved_unsure: bool = True  # an edge moved to a peak lower than the line it left states an error reaching
    # that line (`arrivals.lowered_moves`): the move is the other clips' call against the windows'
    arrival_unsure: float = 0.75  # a rival left this high (share of the line's) makes the edge's stated error reach it
    arrival_torn_s: float = 0.001  # a clip the solve holds this far from such an edge's line and rivals: error reaches the gap
    arrival_tower: float = 1.5  # a summed edge whose windows peak this many times higher (0: never)...
    arrival_tower_reach_s: float = 0.15  # ...within this of its line moves there (`arrivals.towering`)
    summed_rival: float = 0.6  # a clip timed only by summed windows whose edge peaks this high (share of its line)...
    summed_rival_reach_s: float = 0.08  # ...within this where its own audio would come earlier states an error reaching
    # that peak (`summed.early_rivals`): its line may be its own early reflection; 0: off


@dataclass(frozen=True)
class RescueConfig:
    """Limits of the rescue search (`sync.rescue`): onset-envelope correlation for clips the hashes left unplaced."""

    anchors: int = 3  # longest placed clips each unplaced clip is searched against
    max_query_s: float = 120.0  # the middle of longer clips is enough
    sweep_query_at: str = "middle"  # which part of a longer clip the sweep reads: "middle", "head" or "tail"
    min_z: float = 4.0  # envelope correlation peak over its robust spread
    candidates: int = 4  # lags tried per anchor
    min_overlap_frames: int = 500  # 5 s of envelope, unless the query is shorter
    probe_windows: int = 3  # GCC-PHAT windows a candidate must light up before it is verified
    repeat_min_s: float = 1.0  # an envelope repeat nearer than this is the stretch's own peak, not a repeat
    timed_repeat_veto: bool = True  # clock-search lines that tie with a repeat of the partner are dropped
    timed_search_s: float = 2.5  # a clip's recording clock (name, tag) puts it within this of its place...
    timed_partners: int = 8  # ...beside at most this many placed clips (longest overlap first)...
    timed_min_overlap_s: float = 3.0  # ...that it overlaps by at least this there
    timed_rounds: int = 4  # clips placed by their clock become partners of others in the next round
    timed_agree_s: float = 1.5  # clock readings of one timeline zero this close are one reading
    timed_contradicts_s: float = 4.0  # a clip this far from its group's agreed reading: not clock error (names
    # and iPhone tags keep network time to ~1 s, in whole seconds; 10 let a repeat 8.35 s off through)
    clash_pendants: bool = True  # a clip one edge holds over another take of its device, or against that take's clock:
    # left out (`takes.clashing_pendants`; the separations never drop a sure edge, and a loop played again confirms
    # as surely)
    clock_clashes: bool = True  # two clips one clock puts further apart than the solve by that much: the path's
    # weakest edge goes (`takes.separate_clocks`)
    network_clash: bool = True  # two phones whose network clocks read one group's zero that much apart (by no
    # whole quarter hour) cannot both sit right: their clips state an error reaching the gap (`stamps.network_torn`)
    timed_implied: bool = True  # a weak edge is judged at its ends' clocks (`stamps.contradicted`), not at the
    # solve's positions, which lie between a right edge and a repeat; False: the old reading
    timed_zoned_origins: bool = True  # where one device's placed takes disagree on its clock, the takes whose
    # reading is another clock's in some time zone (`stamps._clock_origins`) read it; False: no reading
    clock_check_rounds: int = 3  # the clock check runs again while it drops or moves edges (`api._clock_checked`)
    timed_research: bool = True  # clips the final clock check leaves out are searched once more near their
    # clock (`api._researched`): the take that misled their device's reading is gone by then
    timed_group_shift: bool = True  # a placed clip is also searched where the clocks its group shares with a
    # larger one put it there (`stamps._group_shift`): a camera with no clock in that group, bridging two parts
    timed_late: bool = True  # clips still unplaced after the sweeps are searched near their clocks once more
    # (`api._clock_joined`): the clips the sweeps placed gave their devices clock readings
    timed_final: bool = True  # clips still unplaced with no reason given are searched near their clocks once
    # more after the final clock check (`api._clock_final`): the late search ran while one concert was still two
    # groups and a group held takes a repeat apart, so their device's reading put the clip beside nothing
    vote_candidates: int = 8  # envelope lags per clip and anchor that vote for the anchor's clock reading...
    lag_vote_candidates: int = 3  # sweep lags per clip and anchor that vote after the sweeps (`api._lag_voted`); 0: off
    lag_vote_anchor_s: float = 120.0  # ...for the clocks of clips at least this long (chance: ~1 vote per 3-s window
    # of a 120-s anchor where 15 clips each give 3 lags; a 9-s phone clip's reading was voted 131 s off, 3 to 1)
    lag_vote_z_floor: float | None = 5.0  # ...weighing each clip by its lag's z over this (None: counting clips)
    lag_vote_sure: bool = True  # ...and the readings they vote choose between a loop's repeats (`timed_search`)
    vote_min_clips: int = 3  # ...and clips that must agree on it (chance in a 400-s take: ~0.6 per window)
    timed_stack_z: float = 8.5  # the windows summed over the clock's ±range: chance reaches ~5.5 (max 7.5 in
    # 111 wrong priors on the hard tune split); a repeat 12 s away reached 9.7, hence `stack_second` as well
    timed_checked_z: float = 5.5  # ...or from this z when the normal check then confirms at least
    timed_checked_windows: int = 8  # this many windows and
    timed_checked_share: float = 0.75  # this share of those it tried (1 more line in 1200 random wrong priors
    # on tune than `timed_stack_z` alone: a repeat of the same event's music)
    hint_reach_s: float = 900.0  # an unplaced clip's or a group's clock hint (`stamps.clock_hints`, `group_hints`)
    # may lie this far past the group's placed clips: a set's parts no camera bridged lie minutes apart (tune's
    # set15: 60 s gave 1 of its 3 groups left apart a hint, 900 s all 3, within 0.27 s; clips: tune 15 → 19 and
    # fresh7 34 → 43 hinted, errors unchanged, max 1.24 s), other concerts hours
    timed_dense_check: bool = True  # a clock search's line that the normal check (`VerifyConfig.max_windows`)
    # cannot confirm is checked again by the search's own `timed_windows`: a loud room's windows confirm only
    # summed, and twice the windows gain √2 (five read draws: +9 within 1 ms, misplaced 5 → 4, wrong
    # statements 8 → 6; 48 windows gained more but stated one clip 4.7 ms off within 0.3 ms; benchmarks.md)
    timed_windows: int = 24  # windows of the clock search (twice `VerifyConfig.max_windows`): their sum gains √n
    coherent_keeps: bool = True  # a clip with a coherent edge (`sweep.coherent`) is not left out as repeat-ambiguous
    sweep_anchors: int = 12  # placed clips (longest first) each still-lost clip is swept against (`sync.sweep`); 0: off
    sweep_clock_apart: bool = True  # no anchor the recording clocks put `hint_reach_s` away from a clip
    # (`stamps.clock_apart`: another concert of a festival, hours later) is swept against it
    sweep_repeat_veto: bool = True  # a swept line tying with a repeat of the longer clip is dropped (strict)
    pendant_repeats: bool = True  # ...and so is a summed edge that alone holds a clip in its group
    pendant_windows: int = 5  # ...and so is such an edge confirmed by this many windows or fewer, summed or not
    pendant_first: bool = True  # ...asked once before the clocks are read too (a clip at a pass misleads its device)
    pendant_rivals: bool = True  # ...and such an edge that already carries a tie nearer than the clocks can tell
    # (`rivals` within `timed_contradicts_s`) is dropped without asking, however many windows chose its line
    keep_rivals: bool = True  # a rescue or clock-search edge keeps the repeat places its windows confirm too
    # (`PairMatch.rivals`) for the clock check to choose between (`stamps.clock_choices`); False: the first choice stands
    rival_alone: bool = True  # strict vetoes: a repeat ties only if its windows stand alone and line up
    # (≤ `incoherent_s`) while the line's own line up as one moment (≤ `coherent_s`); a sample-identical loop ties
    rival_share: bool = True  # ...and one scattering between the two ties only if it explains a larger share
    rival_tighter: float = 3.0  # ...where "between" starts this many times the line's own scatter (under
    # `coherent_s`): a chorus the band plays again lines up to 30 µs, the moment itself to 6 µs; 0: `coherent_s`
    rival_few: bool = True  # ...and one confirmed by too few windows to show how it lines up (under
    # `coherent_windows`) ties only if it explains as large a share: a loop's pass fits as much of the clip as the moment
    sweep_band_hz: tuple[float, float] = (150.0, 1000.0)  # where a far phone's music keeps its phase in babble
    sweep_min_z: float = 7.0  # a sweep lag this far above the curve's robust spread is searched
    sweep_rates_ppm: tuple[float, ...] = (-150.0, -75.0, 0.0, 75.0, 150.0)  # clock rates (query vs anchor) the
    # query is read at: 100 ppm smears a 2-minute query's peak over 12 ms, far under the sweep's threshold
    sweep_rate_screen: float = 0.0  # other rates only against anchors whose rate-1 curve holds a 24-ms block of
    # energy this far above its blocks' spread (a drifting match smears, its energy stays: 12 vs 4 by chance);
    # 0: every anchor at every rate. 6 cut the sweep's cost by two thirds but lost 2 held-out clips (benchmarks.md)
    sweep_window_s: float = 6.0  # the full-band windows that check a swept lag (shorter where a clip is short)
    sweep_rounds: int = 3  # clips a sweep placed are swept against by the still-lost ones in the next round
    sweep_lost_anchors: int = 8  # the longest still-lost clips are swept against as well (two far phones; a
    # far stage's cluster of devices that hear each other but no placed clip: fresh16's festival60 +7 at 8 vs 4)
    sweep_cover_anchors: int = 4  # ...then this many more, each holding `sweep_cover_s` of its group's timeline
    sweep_cover_s: float = 20.0  # that the longer ones miss (a festival's later concerts)
    sweep_envoys: int = 2  # the longest clips of each group but the largest are swept against the other groups
    sweep_join_query_s: float = 40.0  # ...and the earliest-starting and latest-ending ones by their first and
    # last this many seconds: two groups of one concert meet at their edges, where a clip's middle is not; 0: off
    sweep_join_pooled: bool = False  # ...where a line confirmed only by windows summed in groups (`sweep_pooled`)
    # does not count: a far phone's summed windows joined half a festival 19 ms off (a reflection)
    sweep_candidates: int = 4  # sweep lags kept per anchor...
    sweep_searches: int = 4  # ...of which the strongest over all anchors are searched (and as many more into
    # placed anchors as lost anchors took: `sweep._searched`)
    sweep_pooled: bool = True  # a swept line confirmed only by its windows summed counts as coherent when groups
    # of them, each summed, agree (`VerifyConfig.pool_windows`); a far phone in a loud room is seldom heard alone
    sweep_pooled_share: float = 0.6  # ...and this share of its windows lean on it (right lines on the hard bench:
    # 0.64-1.0; a clip with a tape-like wander of ±10 ms pooled to 28 µs at a repeat with 5 of 11)
    sweep_same_s: float = 0.05  # two coherent lines placing a clip further apart than this in one group: a loop
    sweep_search_s: float = 0.15  # ...each searched this far either side by full-band windows
    sweep_search_rates_ppm: tuple[float, ...] = (-25.0, 25.0)  # ...and, where that finds no line that counts,
    # again at the lag's rate moved by these: the sweep's rates are 75 ppm apart, and a far phone's summed windows
    # line up as one moment only near the true rate (fresh5's `New Recording 1190`: 6 of 11 windows 41 ppm off,
    # 9 of 11 at it); (): off. Ten read draws +10 clips within 1 ms, held out +3; ~10 % of the kind bench's time
    sweep_rate_share_gain: float = 0.1  # ...kept only where this much more of the windows lean on it than at the
    # sweep's rate: a rate that only draws the same windows tighter fits a repeat's wobble (a synth concert's
    # section 104 s away pooled from 200 to 32 µs at +25 ppm and joined a board to a phone it never overlaps)
    sweep_min_overlap_s: float = 5.0  # lags overlapping the anchor less (unless the whole query) are not scored
    sweep_min_windows: int = 4  # a swept line needs this many windows confirming it standing alone,
    sweep_min_share: float = 0.3  # ...this share of those tried,
    sweep_min_span_s: float = 10.0  # ...spread over this long (a player's timing holds still for seconds:
    # a repeat is only told by scatter across a longer stretch)
    summed_ask: int = 3  # a clip every edge of which is a sum of weak windows is checked against this many other
    # clips of its group at its place (`sync.summed`): a line standing alone elsewhere replaces the sums; 0: off
    summed_ask_min_overlap_s: float = 6.0  # ...among those overlapping it at least this long, longest first
    elsewhere_anchors: int = 16  # a clip joined through one partner only is swept against this many of its
    # group's longest clips (`sync.elsewhere`); a second place the windows confirm leaves it out; 0: off
    elsewhere_candidates: int = 4  # ...lags kept per anchor,
    elsewhere_min_z: float = 7.0  # ...those this far above the low band's robust spread checked,
    elsewhere_other_groups: bool = True  # ...and in other groups, at the sweep's rates (a place there leaves it out too)
    elsewhere_other_anchors: int = 4  # ...against this many of each other group's longest clips
    elsewhere_max_s: float = 60.0  # leaves longer than this are not searched: a minute of a song repeats rarely


# Speeds ±5 % in 1 % steps: hashes survive about ±0.5 % of speed error. `--speed-search` tries them all;
# by default they are tried only when nothing is found at the unchanged speed (`IdentifyConfig.fallback_speeds`).
SPEED_SEARCH = (1.0, *(round(1 + k / 100, 2) for k in (-1, 1, -2, 2, -3, 3, -4, 4, -5, 5)))


@dataclass(frozen=True)
class IdentifyConfig:
    """Query-side parameters (the library fixes the fingerprint parameters)."""

    query_fan_out: int = 6  # a superset of the library's pairs (fan-out 5): a noise peak between a pair is tolerated
    query_density: float = 1.0  # query peaks per second, as a multiple of the library's
    max_bucket_factor: float = 8.0  # skip hashes with more postings than this × the mean (or 32): the few
    # most frequent hashes (silence, hum) hold many postings and say little
    min_score: int = 7  # aligned hits a match needs (chance alone rarely reaches this; see docs/library.md)
    noise_tracks: int = 8  # a query's chance level: the mean score of this many next-best tracks
    noise_floor: float = 2.0  # … at least noise_floor + noise_per_hash × the look's hashes (all its shifts')
    noise_per_hash: float = 0.0005
    repeat_share: float = 0.7  # another offset of the matched track with this share of its votes is reported
    # with it (`Match.also_at`): the passage repeats, the clip may be either
    rival_margin: float = 1.0  # … and no higher than its lead, in Poisson sd, over the best score another
    # track reached in any look (0.5 at this lead)
    confidence_mid: float = 4.5  # z (score over the chance level, in Poisson sd) at confidence 0.5
    min_confidence: float = 0.5  # matches below this are not reported
    top: int = 5
    speeds: tuple[float, ...] = (1.0,)  # playback speeds to try (1.03 = played 3 % fast); see SPEED_SEARCH
    fallback_speeds: tuple[float, ...] = SPEED_SEARCH[1:]  # tried (those not in `speeds`) only when no
    fallback_below: float = 0.5  # match of `speeds` reaches this confidence: a clip found at its own speed
    # costs no more, a speed-changed one is found without asking; () turns the fallback off
    shifts: int = 3  # (≤ 4) also fingerprint the query from hop/shifts, 2·hop/shifts, ... samples in: a peak near
    # a frame edge then lands in the library's frame in one of them; their votes are counted together
    long_s: float = 8.0  # queries longer than this use `shifts_long` shifts: they have hashes to spare, and a
    shifts_long: int = 2  # shift costs a whole lookup (~20 ms for 10 s at 500 audio-hours)
    short_s: float = 3.0  # queries up to this long are fingerprinted `short_density`× as densely, paired with
    short_density: float = 2.0  # `short_fan_out` targets: a 1-2 s clip has few hashes to lose, and a dense
    short_fan_out: int = 8  # query is cheap at that length (no gain measured at 5 or 10 s)
    dense_density: float = 3.0  # when nothing is found, the query is looked up once more this densely
    # (speech harmonics win a sparse query's peaks); 1.0 turns it off
    dense_shifts: int = 3  # shifts of that second look (each costs a whole lookup)
    peak_check: bool = True  # when the dense look rates nothing either, check its leading offsets peak by peak
    # against the library's stored peaks (`library.peakcheck`; libraries without them skip it)
    peak_max_s: float = 60.0  # only queries up to this long (one clip at one offset; a long recording has a setlist)
    peak_candidates: int = 64  # offsets checked, most voted first
    peak_region: int = 64  # frames either side of the query's span whose peaks give each offset's chance level
    peak_z: float = 5.5  # a match needs this many Poisson sd of peaks over chance (confidence 0.5 there) …
    peak_margin: float = 2.0  # … this many more than every other track's best offset …
    peak_min_hits: int = 25  # … at least this many peaks found (unknown 1-3-s clips were named by tracks of the
    # same game or composer with 12-24; it leaves out most 1-2-s clips, whose 70-150 peaks rarely hold 25) …
    peak_reach: int = 48  # … and to stand out among its neighbouring offsets, this many frames either side, …
    peak_sharp: float = 4.0  # … by this many sd over those from 4 frames out (`peakcheck.sharpness`)
    peak_spread_short: float = 6.0  # a query up to `short_s` long also this many sd over the z of the other
    # tracks' offsets (their mean and sd: the query's own chance spread; 2-3-s clips of unknown band music
    # reached z 5.6-6.5 on tracks of the same game)
    peak_slope: float = 1.5  # each rule caps the confidence at logistic(slope × (value − mark))
    level_check: bool = True  # then the same offsets by the query's level at the stored peaks (`library.levelcheck`)
    level_candidates: int = 64  # the dense look's most voted offsets it reads
    level_null: int = 256  # offsets spread through the library that give the query's chance level
    level_z: float = 6.0  # a match needs this many sd over that (confidence 0.5 there) …
    level_margin: float = 2.0  # … this many more than every other track's best offset …
    level_sharp: float = 4.0  # … and this many sd over its neighbouring offsets (4-`peak_reach` frames away)
    joint_check: bool = True  # then the same offsets by both together: the peaks' z and the level's z summed
    # (over √2: each is ~N(0, 1) at chance, and they are only partly one evidence) …
    joint_z: float = 5.0  # … name a track at this many sd (confidence 0.5 there) …
    joint_margin: float = 2.5  # … this many more than every other track's best offset …
    joint_sharp: float = 4.5  # … and, the two sharpnesses likewise summed, this many sd over neighbouring offsets
    # (4.0 let a synthesized song of the same key and beat through, at 4.1: `tests/test_identify.py`)
    corroborate_below: float = 0.95  # a match its hash votes alone rated under this is checked at its offset
    # against the stored peaks (`identify._corroborate`): unknown songs' clips reached 0.5-0.9 on votes
    # that noise lined up, their peaks no more on the track than chance …
    corroborate_z: float = 2.5  # … its confidence capped (`peak_slope`, 0.5 at the mark) by the peaks' z …
    corroborate_sharp: float = 2.0  # … and by their sharpness over the neighbouring offsets
    repeat_pick: float | None = 1.0  # a match naming repeats of its passage (`also_at`) moves to the repeat whose
    # stored peaks hold the query's peaks this many Poisson sd better (`identify._repeat_pick`); None: off
    self_repeat_share: float | None = 0.2  # another place in the matched track whose stored peaks repeat this
    # share of the matched passage's (within ±1 frame, same bin; chance ~1 %) is named in `also_at` when the
    # query's peaks found there over chance are this share of those at the answer (`identify._named_repeats`:
    # a loop pass off the frame grid held 64 of a clip's peaks against 79 at the other); None: off
    self_repeat_hold: float = 0.7
    self_repeat_candidates: int = 6  # such places read per match, most repeated first (each costs a peak check;
    # 3 took 3 ms off the median 10-s query and named the truth for 97.5 % instead of 98.2 % on seed 135)
    self_repeat_pick: bool = False  # ...and the answer moves to one whose peaks fit `repeat_pick` sd better
    noise_floor_pct: float | None = 20.0  # rank query peaks by their height over this percentile of their
    # bin's level in the query (its noise floor) as well; None: rank them as the library does
    sure_confidence: float = 0.999  # a match this sure after `sure_after` shifts at the unchanged speed
    sure_after: int = 2  # ends the search: more shifts or speeds would cost as much again each
    window_s: float = 8.0  # setlist: the recording is scored per window of this length
    segment_floor: float = 2.0  # setlist: a segment's confidence is its score over segment_floor +
    segment_per_hit: float = 0.002  # segment_per_hit × the hits it was chosen from, in Poisson sd,
    segment_mid: float = 3.0  # around this midpoint (a segment has no competing tracks to rate it by)
    min_segment_s: float = 8.0  # setlist: shorter runs are dropped
