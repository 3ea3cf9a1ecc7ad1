"""media path → MediaInfo and a stream of mono float32 chunks at the analysis rate. The only module using `av`.

Only the chosen audio stream is demuxed and decoded; video packets are skipped, never decoded. Downmix and
resampling use FFmpeg's resampler, so memory is one chunk, whatever the file's length.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import replace
from fractions import Fraction

import numpy as np

import av

from ..config import DecodeConfig
from ..errors import MediaError
from ..types import MediaInfo, StreamChoice
from .downmix import Downmix

# container/stream tags that name the recording device
_DEVICE_TAGS = (
    "com.apple.quicktime.model",
    "com.apple.quicktime.make",
    "model",
    "make",
    "com.android.manufacturer",
    "com.android.model",
)


def _reason(exc: BaseException) -> str:
    """One short line for an exception raised while opening or decoding."""
    if isinstance(exc, (PermissionError, av.error.PermissionError)):
        return "permission denied"
    if isinstance(exc, (IsADirectoryError, av.error.IsADirectoryError)):
        return "is a directory"
    if isinstance(exc, (FileNotFoundError, av.error.FileNotFoundError)):
        return "no such file"
    if isinstance(exc, av.error.InvalidDataError):
        return "not a readable media file (invalid data)"
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"cannot decode ({text[:120]})"


def _open(path: str) -> "av.container.InputContainer":
    try:
        st = os.stat(path)
    except OSError as exc:
        why = "no such file" if isinstance(exc, FileNotFoundError) else (exc.strerror or str(exc)).lower()
        raise MediaError(path, why) from None
    if stat.S_ISDIR(st.st_mode):
        raise MediaError(path, "is a directory")
    if not stat.S_ISREG(st.st_mode):  # a FIFO or a device would block or never end
        raise MediaError(path, "not a regular file (a pipe, socket or device)")
    if st.st_size == 0:
        raise MediaError(path, "empty file")
    try:
        return av.open(path, mode="r", metadata_errors="replace")
    except Exception as exc:  # noqa: BLE001 - every FFmpeg/OS failure becomes one line
        if isinstance(exc, av.error.InvalidDataError) and _isobmff_without_moov(path):
            raise MediaError(path, "truncated or unfinished MP4/MOV (no moov index; was the recording cut off?)") from None
        raise MediaError(path, _reason(exc)) from None


def _isobmff_without_moov(path: str, max_boxes: int = 4096) -> bool:
    """True for an MP4/MOV whose top-level boxes start like one (ftyp/mdat/wide/free) but hold no moov.

    That is what a camera leaves when its battery dies or the card is pulled: the index is written last.
    Reads only the 8-16 byte box headers.
    """
    kinds = []
    try:
        with open(path, "rb") as fh:
            size, pos = os.fstat(fh.fileno()).st_size, 0
            while pos + 8 <= size and len(kinds) < max_boxes:
                fh.seek(pos)
                head = fh.read(16)
                n, kind = int.from_bytes(head[:4], "big"), head[4:8]
                if n == 1 and len(head) == 16:
                    n = int.from_bytes(head[8:16], "big")
                elif n == 0:
                    n = size - pos
                if n < 8:
                    break
                kinds.append(kind)
                pos += n
    except OSError:
        return False
    return bool(kinds) and kinds[0] in (b"ftyp", b"mdat", b"wide", b"free", b"skip") and b"moov" not in kinds


def _pick_audio(container, path: str, stream_index: int | StreamChoice | None, cfg: DecodeConfig,
                rate_hz: int | None = None) -> tuple:
    """(the audio stream to decode, why it was chosen or None). An explicit index must exist unless the
    choice is lenient; the automatic choice decodes a few seconds of each stream when there are several
    (with no *rate_hz*, as in `probe`, it takes the first)."""
    audio = list(container.streams.audio)
    if not audio:
        raise MediaError(path, "no audio stream")
    choice = stream_index if isinstance(stream_index, StreamChoice) else StreamChoice(stream_index)
    index, why = choice.index, None
    if index is not None and not 0 <= index < len(audio):
        if choice.strict:
            raise MediaError(path, f"audio stream {index} not found ({len(audio)} present)")
        why, index = f"--stream {index} absent ({len(audio)} present)", None
    if index is None and len(audio) > 1 and rate_hz:
        index, auto = _loudest_stream(path, len(audio), rate_hz, cfg)
        why = f"{why}; {auto}" if why else auto
    elif index is not None and len(audio) > 1:
        why = f"stream {index} as asked"
    stream = audio[index or 0]
    if stream.codec_context is None:  # found by fuzzing: a damaged sample description names no codec
        raise MediaError(path, "audio stream has no usable codec (damaged header or unsupported codec)")
    return stream, why


def _stream_level(path: str, index: int, rate_hz: int, cfg: DecodeConfig) -> float:
    """Level (dBFS) of the analysis mix of audio stream *index* over its first seconds; -inf when it is
    unusable or nothing but timecode."""
    container = _open(path)
    stream = container.streams.audio[index]
    if stream.codec_context is None:
        container.close()
        return float("-inf")
    chunks = _Chunks(container, stream, path, rate_hz, cfg)
    n, sumsq = 0, 0.0
    try:
        for chunk in chunks:
            n, sumsq = n + chunk.size, sumsq + float(np.dot(chunk, chunk))
            level = 10 * np.log10(sumsq / n + 1e-20)
            if n >= cfg.probe_max_s * rate_hz or (n >= cfg.probe_s * rate_hz and level > cfg.silence_db):
                break
    except MediaError:
        return float("-inf")
    finally:
        chunks.close()
    if n == 0 or (chunks.mix is not None and chunks.mix.only_timecode):
        return float("-inf")
    return float(10 * np.log10(sumsq / n + 1e-20))


def _loudest_stream(path: str, count: int, rate_hz: int, cfg: DecodeConfig) -> tuple[int, str]:
    """(index, why) of the stream to use among *count*: the first unless it is silent or timecode or
    another is `prefer_first_db` louder — a camera's second track that holds the microphone, say."""
    levels = [_stream_level(path, i, rate_hz, cfg) for i in range(count)]
    best = int(np.argmax(levels))
    if levels[0] > cfg.silence_db and levels[best] - levels[0] < cfg.prefer_first_db:
        best = 0
    shown = ", ".join(f"{i}: {'-' if not np.isfinite(v) else f'{v:.0f}'}" for i, v in enumerate(levels))
    if levels[best] <= cfg.silence_db:
        return 0, f"every stream silent or timecode at the start (dBFS {shown}): stream 0"
    return best, f"stream {best} of {count} by level (dBFS {shown})"


def _timecode(container, streams) -> str | None:
    # a MOV/MP4 tmcd track is a data stream: look at every stream, the chosen ones first
    for obj in (container, *streams, *container.streams):
        tc = (obj.metadata or {}).get("timecode")
        if tc:
            return str(tc)
    return None


def _device(container, streams) -> str | None:
    tags: dict[str, str] = {}
    for obj in (container, *streams):
        for key, value in (obj.metadata or {}).items():
            tags.setdefault(key.lower(), str(value))
    parts = [tags[k] for k in _DEVICE_TAGS if k in tags]
    # make + model, deduplicated and in a stable order
    seen: list[str] = []
    for p in parts:
        if p and p not in seen:
            seen.append(p)
    return " ".join(seen) if seen else None


def _stream_fields(info: MediaInfo, container, stream, why: str | None) -> MediaInfo:
    audio = list(container.streams.audio)
    return replace(info, audio_stream=audio.index(stream), audio_streams=len(audio), stream_choice=why)


def probe(path: str, *, stream_index: int | StreamChoice | None = None,
          cfg: DecodeConfig = DecodeConfig()) -> MediaInfo:
    """Read a file's streams and tags without decoding: duration, audio format, video rate, timecode (VFR
    by *cfg*'s `vfr_tolerance`)."""
    container = _open(path)
    try:
        stream, why = _pick_audio(container, path, stream_index, cfg)
        return _stream_fields(_info(container, stream, path, cfg), container, stream, why)
    finally:
        container.close()


_TAIL_S = 5.0  # how far before the end a tail scan seeks to find the last video frame


def _start_s(stream, container) -> float:
    """A stream's first timestamp in seconds (edit lists applied by FFmpeg), else the container's start."""
    if stream.start_time is not None and stream.time_base is not None:
        return float(stream.start_time * stream.time_base)
    return container.start_time / av.time_base if container.start_time is not None else 0.0


def _video_end_s(path: str, index: int, near_s: float) -> float | None:  # index: the stream's container index
    """End of the last video frame (pts + duration) by demuxing only the file's last seconds: MKV, TS and
    WebM carry no per-stream length, and the container's length is the longest stream's."""
    try:
        with av.open(path, mode="r", metadata_errors="replace") as c:
            v = c.streams[index]
            tb = v.time_base
            step = 1 / (v.average_rate or v.guessed_rate or 25)
            if near_s > _TAIL_S:
                c.seek(int((near_s - _TAIL_S) / tb), stream=v, backward=True, any_frame=False)
            end = None
            for packet in c.demux(v):
                if packet.pts is None:
                    continue
                t = float(packet.pts * tb) + (float(packet.duration * tb) if packet.duration else float(step))
                end = t if end is None else max(end, t)
            return end
    except Exception:  # noqa: BLE001 - the length is then the audio's, as before
        return None


def _pictures(container) -> list:
    """Video streams that are moving pictures: cover art (an MP3/M4A's attached picture) is not video."""
    return [v for v in container.streams.video if not v.disposition & av.stream.Disposition.attached_pic]


def _video_fields(container, path: str, cfg: DecodeConfig) -> dict:
    """Rate, size, start, length and VFR flag of the first video stream ({} without video)."""
    video = _pictures(container)
    if not video:
        return {}
    v = video[0]
    avg, nominal = v.average_rate, v.base_rate or v.guessed_rate
    rate = avg or v.guessed_rate or v.base_rate
    start = _start_s(v, container)
    if v.duration is not None and v.time_base is not None:
        length = float(v.duration * v.time_base)
    else:
        whole = container.duration / av.time_base if container.duration is not None else 0.0
        end = _video_end_s(path, v.index, whole)
        length = None if end is None else max(0.0, end - start)
    return {
        "fps": Fraction(rate) if rate else None,
        "width": v.codec_context.width or None, "height": v.codec_context.height or None,
        "video_start_s": start, "video_duration_s": length,
        "vfr": bool(avg and nominal and abs(float(avg) / float(nominal) - 1) > cfg.vfr_tolerance),
    }


def _info(container, stream, path: str, cfg: DecodeConfig) -> MediaInfo:
    video = _pictures(container)
    vf = _video_fields(container, path, cfg)
    if stream.duration is not None and stream.time_base is not None:
        duration = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        duration = container.duration / av.time_base
    else:
        duration = 0.0
    meta = container.metadata or {}
    return MediaInfo(
        path=path,
        duration_s=duration,
        sample_rate_hz=int(stream.codec_context.sample_rate or stream.rate or 0),
        channels=int(stream.codec_context.channels or 0),
        codec=stream.codec_context.name,
        has_video=bool(video),
        timecode=_timecode(container, [*video, stream]),
        device=_device(container, [*video, stream]),
        creation_time=meta.get("creation_time"),
        local_time=meta.get("com.apple.quicktime.creationdate"),
        time_reference=_time_reference(meta),
        audio_start_s=_start_s(stream, container),
        **vf,
    )


def _time_reference(meta) -> int | None:
    """BWF ``bext`` time reference (samples since midnight), which FFmpeg exposes as a container tag."""
    try:
        value = int(str(meta.get("time_reference", "")).strip())
    except ValueError:
        return None
    return value if value >= 0 else None


_SAMPLE_TYPES = {"flt": (np.float32, 1.0), "dbl": (np.float64, 1.0), "s16": (np.int16, 1 / 32768.0),
                 "s32": (np.int32, 1 / 2147483648.0), "s64": (np.int64, 1 / 9223372036854775808.0)}


def _frame_layout(frame) -> tuple:
    """(format name, planar, channels, (dtype, scale) or None): read once per stream, not per frame."""
    name = frame.format.name
    kind = _SAMPLE_TYPES.get(name.rstrip("p")) if name not in ("u8", "u8p") else None
    return name, frame.format.is_planar, max(1, frame.layout.nb_channels), kind


def _to_channels(frame, layout: tuple) -> np.ndarray:
    """A block of decoded audio (a frame read from the FIFO) → float32 (channels, samples) in [-1, 1],
    straight from the planes' buffers; exotic formats (u8, ...) through `to_ndarray`."""
    name, planar, nch, kind = layout
    n = frame.samples
    if kind is None:  # u8 and anything exotic: the generic, slower route
        arr = frame.to_ndarray()
        arr = arr.reshape(nch, -1) if planar else arr.reshape(-1, nch).T
        scale = 1 / 128.0 if arr.dtype == np.uint8 else 1.0
        offset = 128.0 if arr.dtype == np.uint8 else 0.0
        return ((arr.astype(np.float32) - offset) * scale).astype(np.float32)
    dtype, scale = kind
    if planar:
        x = np.empty((nch, n), np.float32)
        for c, plane in enumerate(frame.planes[:nch]):
            x[c] = np.frombuffer(plane, dtype, n)
    else:
        x = np.frombuffer(frame.planes[0], dtype, n * nch).reshape(n, nch).T.astype(np.float32)
    if scale != 1.0:
        x *= np.float32(scale)
    return x


class _MonoResampler:
    """Streams mono float32 blocks at one rate to another with FFmpeg's resampler (stateful)."""

    def __init__(self, rate_in: int, rate_out: int) -> None:
        self.rate_in, self.rate_out = rate_in, rate_out
        self._swr = None if rate_in == rate_out else av.AudioResampler(format="flt", layout="mono", rate=rate_out)
        self._pts = 0

    def push(self, x: np.ndarray | None) -> list[np.ndarray]:
        if self._swr is None:
            return [] if x is None else [x]
        if x is None:
            frames = self._swr.resample(None)
        else:
            frame = av.AudioFrame.from_ndarray(x.reshape(1, -1), format="flt", layout="mono")
            frame.sample_rate = self.rate_in
            frame.pts = self._pts
            frame.time_base = Fraction(1, self.rate_in)
            self._pts += x.size
            frames = self._swr.resample(frame)
        return [f.to_ndarray().reshape(-1).astype(np.float32, copy=False) for f in frames]


def stream_audio(
    path: str, *, rate_hz: int, stream_index: int | StreamChoice | None = None, cfg: DecodeConfig = DecodeConfig()
) -> tuple[MediaInfo, Iterator[np.ndarray]]:
    """Open *path* and return its info and an iterator of mono float32 chunks at *rate_hz*.

    *stream_index*: an audio stream (0 = the first), or None to choose one (see `_loudest_stream`). The
    iterator's ``.mix.note`` says which channels the mono mix left out, once audio has been read. *cfg*: the
    stream choice's, the mix's and the timestamp gaps' thresholds.

    The iterator raises `MediaError` if decoding fails before any audio came out; a decode error after
    some audio (a truncated file) ends the stream early and is reported through ``.truncated``.
    """
    container = _open(path)
    try:
        stream, why = _pick_audio(container, path, stream_index, cfg, rate_hz)
        info = _stream_fields(_info(container, stream, path, cfg), container, stream, why)
    except BaseException:
        container.close()
        raise
    chunks = _Chunks(container, stream, path, rate_hz, cfg)
    return info, chunks


class _Chunks:
    """Iterator over resampled chunks; remembers whether the file ended in a decode error."""

    def __init__(self, container, stream, path: str, rate_hz: int, cfg: DecodeConfig) -> None:
        self._container, self._stream, self._path, self._rate, self._cfg = container, stream, path, rate_hz, cfg
        self.truncated: str | None = None
        self.mix: Downmix | None = None  # the channel mix, made at the first frame
        self._gen = self._run()

    def __iter__(self) -> "_Chunks":
        return self

    def __next__(self) -> np.ndarray:
        return next(self._gen)

    def close(self) -> None:
        self._gen.close()
        self._container.close()

    def _run(self) -> Iterator[np.ndarray]:
        # Decoded frames (1024 samples of AAC, less for Vorbis) go into FFmpeg's audio FIFO, which is one C
        # call per frame; numpy sees blocks of about a second, so no Python array work runs per frame.
        fifo: av.AudioFifo | None = None
        resampler: _MonoResampler | None = None
        layout: tuple = ()
        block = self._rate
        produced = 0

        def emit(outs: list[np.ndarray]) -> Iterator[np.ndarray]:
            nonlocal produced
            for out in outs:
                if out.size:
                    produced += out.size
                    yield out

        def drain(rest: bool = False, final: bool = False) -> Iterator[np.ndarray]:
            """The FIFO's whole blocks (*rest*: all its samples) → downmix → resample → chunks; *final* also
            empties the resampler (end of stream or a new sample rate)."""
            if fifo is None or resampler is None:
                return
            while fifo.samples and (rest or fifo.samples >= block):
                frame = fifo.read() if rest else fifo.read(block)
                yield from emit(resampler.push(self.mix(_to_channels(frame, layout))))
            if final:
                yield from emit(resampler.push(None))

        tb_s = float(self._stream.time_base or 0)
        try:
            # the container's own demux+decode loop runs in Cython: no Python per packet
            for frame, gap_s in _settled(self._container.decode(self._stream), tb_s, self._cfg):
                if gap_s and resampler is not None and resampler.rate_in == frame.sample_rate:
                    # a dropout in the recording: its time is kept as silence, or everything after it
                    # would sit early by the gap (a false drift, a false "repeat")
                    yield from drain(rest=True)
                    for k in range(0, int(gap_s * frame.sample_rate), block):
                        n = min(block, int(gap_s * frame.sample_rate) - k)
                        yield from emit(resampler.push(np.zeros(n, np.float32)))
                frame.pts = None  # the FIFO insists on gapless timestamps; gaps were filled above
                if fifo is not None:
                    try:
                        fifo.write(frame)
                    except ValueError:  # the sample format, layout or rate changed mid-stream
                        yield from drain(rest=True, final=frame.sample_rate != resampler.rate_in)
                        fifo = None
                if fifo is None:
                    if resampler is None or frame.sample_rate != resampler.rate_in:
                        resampler = _MonoResampler(int(frame.sample_rate), self._rate)
                        block = int(frame.sample_rate)
                    layout = _frame_layout(frame)
                    if self.mix is None or self.mix.channels != layout[2] or self.mix.rate_hz != frame.sample_rate:
                        self.mix = Downmix(layout[2], int(frame.sample_rate), self._cfg)
                    fifo = av.AudioFifo()
                    fifo.write(frame)
                if fifo.samples >= block:
                    yield from drain()
        except MediaError:
            raise
        except av.error.FFmpegError as exc:
            if produced == 0 and (fifo is None or fifo.samples == 0):
                raise MediaError(self._path, _reason(exc)) from None
            self.truncated = f"decoding stopped early ({_reason(exc)})"
        try:
            yield from drain(rest=True, final=True)
            if self.truncated is None:
                self.truncated = _short_of_index(self._container, self._stream, produced / self._rate)
        finally:
            self._container.close()


def _short_of_index(container, stream, decoded_s: float) -> str | None:
    """A note when an MP4/MOV's audio ends well before the duration its index declares. A camera file cut
    off after its moov box decodes without any error where the cut falls between packets; the shortfall is
    the only sign of it. Other containers' durations can be estimates (MP3 by bitrate): not judged."""
    if "mov" not in (container.format.name or "") or not stream.duration or not stream.time_base:
        return None
    declared = float(stream.duration * stream.time_base)
    if declared - decoded_s <= max(1.0, 0.05 * declared):
        return None
    return f"decoding stopped early ({decoded_s:.1f} s of the {declared:.1f} s its index declares)"


def _jump(frame, tb_s: float, next_s: float | None) -> tuple[float, float | None]:
    """(how far *frame* starts after where the previous frame ended, in seconds: > 0 a forward jump, < 0 a
    backward one; where the frame after it should start), with *tb_s* the stream's time base in seconds.
    Frames without timestamps jump by 0. Floats, not Fractions: this runs once per frame."""
    pts = frame.pts
    if pts is None or not tb_s:
        return 0.0, None
    start = pts * tb_s
    return (0.0 if next_s is None else start - next_s), start + frame.samples / frame.sample_rate


def _settle(gap_s: float, next_jump_s: float, min_gap_s: float) -> float:
    """Seconds of dropout before a frame that jumped forward by *gap_s*, once the frame after it jumped by
    *next_jump_s*: a backward jump takes the forward one back, wholly (jitter: nothing is missing) or in
    part (the rest is missing); otherwise the whole jump is a dropout."""
    if next_jump_s <= -min_gap_s:
        gap_s += next_jump_s
    return gap_s if gap_s >= min_gap_s else 0.0


def _settled(frames: Iterator, tb_s: float, cfg: DecodeConfig) -> Iterator[tuple]:
    """Decoded frames → (frame, seconds of dropout before it). A forward jump of the timestamps between
    `min_gap_s` and `max_gap_s` is a dropout unless the next frame jumps back: an Ogg/Vorbis demuxer stamps the
    frame at a long-to-short block switch 448 samples late and the next one on time (docs/reliability.md).
    So a frame after a forward jump is held until the next one arrives; at most one frame is held."""
    held, held_gap_s, next_s = None, 0.0, None
    try:
        for frame in frames:
            jump_s, next_s = _jump(frame, tb_s, next_s)
            if held is not None:
                yield held, _settle(held_gap_s, jump_s, cfg.min_gap_s)
                held = None
            if cfg.min_gap_s <= jump_s <= cfg.max_gap_s:
                held, held_gap_s = frame, jump_s
            else:
                yield frame, 0.0
    except av.error.FFmpegError:  # a truncated file: the held frame was decoded, keep it
        if held is not None:
            yield held, held_gap_s
        raise
    if held is not None:  # nothing came after it to take the jump back
        yield held, held_gap_s


def read_tags(path: str) -> dict[str, str]:
    """Container and first-audio-stream tags, keys lower-cased (title, artist, ...); {} when unreadable.

    Used by the song library (`indexer.py`) to name tracks.
    """
    try:
        container = av.open(path, mode="r", metadata_errors="replace")
    except Exception:  # noqa: BLE001 - tags are optional; decoding reports real problems
        return {}
    try:
        tags: dict[str, str] = {}
        for obj in (container, *container.streams.audio[:1]):
            for key, value in (obj.metadata or {}).items():
                tags.setdefault(key.lower(), str(value))
        return tags
    finally:
        container.close()
