"""media path → MediaInfo and a stream of mono float32 chunks at the analysis rate. The only module using `av`.

Only the chosen audio stream is demuxed and decoded; video packets are skipped, never decoded. Downmix and
resampling use FFmpeg's resampler, so memory is one chunk, whatever the file's length.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from fractions import Fraction

import numpy as np

import av

from .errors import MediaError
from .types import MediaInfo

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
    if os.path.isdir(path):
        raise MediaError(path, "is a directory")
    if not os.path.exists(path):
        raise MediaError(path, "no such file")
    if os.path.getsize(path) == 0:
        raise MediaError(path, "empty file")
    try:
        return av.open(path, mode="r", metadata_errors="replace")
    except Exception as exc:  # noqa: BLE001 - every FFmpeg/OS failure becomes one line
        raise MediaError(path, _reason(exc)) from None


def _pick_audio(container, path: str, stream_index: int | None):
    audio = list(container.streams.audio)
    if not audio:
        raise MediaError(path, "no audio stream")
    if stream_index is None:
        return audio[0]
    if not 0 <= stream_index < len(audio):
        raise MediaError(path, f"audio stream {stream_index} not found ({len(audio)} present)")
    return audio[stream_index]


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


def probe(path: str, *, stream_index: int | None = None) -> MediaInfo:
    """Read a file's streams and tags without decoding: duration, audio format, video rate, timecode."""
    container = _open(path)
    try:
        stream = _pick_audio(container, path, stream_index)
        return _info(container, stream, path)
    finally:
        container.close()


def _info(container, stream, path: str) -> MediaInfo:
    video = list(container.streams.video)
    fps = None
    width = height = None
    if video:
        v = video[0]
        rate = v.average_rate or v.guessed_rate or v.base_rate
        fps = Fraction(rate) if rate else None
        width, height = v.codec_context.width or None, v.codec_context.height or None
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
        fps=fps,
        timecode=_timecode(container, [*video, stream]),
        width=width,
        height=height,
        device=_device(container, [*video, stream]),
        creation_time=meta.get("creation_time"),
        time_reference=_time_reference(meta),
    )


def _time_reference(meta) -> int | None:
    """BWF ``bext`` time reference (samples since midnight), which FFmpeg exposes as a container tag."""
    try:
        value = int(str(meta.get("time_reference", "")).strip())
    except ValueError:
        return None
    return value if value >= 0 else None


def _downmix(frame) -> np.ndarray:
    """Fallback for layouts the resampler refuses: average the channels of the raw samples."""
    data = frame.to_ndarray().astype(np.float32)
    if frame.format.is_planar:
        data = data.reshape(len(frame.layout.channels) or data.shape[0], -1)
    else:
        nch = max(1, len(frame.layout.channels))
        data = data.reshape(-1, nch).T
    if np.issubdtype(frame.to_ndarray().dtype, np.integer):
        data /= float(np.iinfo(frame.to_ndarray().dtype).max)
    return data.mean(axis=0)


def stream_audio(
    path: str, *, rate_hz: int, stream_index: int | None = None
) -> tuple[MediaInfo, Iterator[np.ndarray]]:
    """Open *path* and return its info and an iterator of mono float32 chunks at *rate_hz*.

    The iterator raises `MediaError` if decoding fails before any audio came out; a decode error after
    some audio (a truncated file) ends the stream early and is reported through ``.truncated``.
    """
    container = _open(path)
    try:
        stream = _pick_audio(container, path, stream_index)
        info = _info(container, stream, path)
    except BaseException:
        container.close()
        raise
    chunks = _Chunks(container, stream, path, rate_hz)
    return info, chunks


class _Chunks:
    """Iterator over resampled chunks; remembers whether the file ended in a decode error."""

    def __init__(self, container, stream, path: str, rate_hz: int) -> None:
        self._container, self._stream, self._path, self._rate = container, stream, path, rate_hz
        self.truncated: str | None = None
        self._gen = self._run()

    def __iter__(self) -> "_Chunks":
        return self

    def __next__(self) -> np.ndarray:
        return next(self._gen)

    def close(self) -> None:
        self._gen.close()
        self._container.close()

    def _run(self) -> Iterator[np.ndarray]:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=self._rate)
        fallback = None
        produced = 0
        try:
            for packet in self._container.demux(self._stream):
                try:
                    frames = packet.decode()
                except av.error.FFmpegError as exc:
                    if produced == 0:
                        raise MediaError(self._path, _reason(exc)) from None
                    self.truncated = f"decoding stopped early ({_reason(exc)})"
                    break
                for frame in frames:
                    frame.pts = None  # resample by sample count: tolerate pts jumps in phone files
                    try:
                        out = resampler.resample(frame) if fallback is None else None
                    except (ValueError, av.error.FFmpegError):
                        fallback = True
                        out = None
                    if fallback:
                        data = _resample_simple(_downmix(frame), frame.sample_rate, self._rate)
                        produced += data.size
                        yield data
                        continue
                    for o in out:
                        data = o.to_ndarray().reshape(-1).astype(np.float32, copy=False)
                        produced += data.size
                        yield data
            if fallback is None:
                for o in resampler.resample(None):
                    data = o.to_ndarray().reshape(-1).astype(np.float32, copy=False)
                    produced += data.size
                    yield data
        except MediaError:
            raise
        except av.error.FFmpegError as exc:
            if produced == 0:
                raise MediaError(self._path, _reason(exc)) from None
            self.truncated = f"decoding stopped early ({_reason(exc)})"
        finally:
            self._container.close()


def _resample_simple(x: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    if rate_in == rate_out:
        return x.astype(np.float32)
    from scipy.signal import resample_poly

    g = np.gcd(int(rate_in), int(rate_out))
    return resample_poly(x, rate_out // g, rate_in // g).astype(np.float32)


def read_tags(path: str) -> dict[str, str]:
    """Container and first-audio-stream tags, keys lower-cased (title, artist, ...); {} when unreadable."""
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
