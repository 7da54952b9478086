"""Step 6, video: probe a video, sample its frames in one straight decode, and PDQ-hash each.

Sampling keeps the first frame at or after every `every_s` mark (0, 1 s, 2 s, ... from the
stream's start) and every keyframe between marks, at most `max_frames` in all; `plan` says how
a long video is thinned to fit. A first pass reads the packets without decoding them (well under
1% of the time) to learn the length and the keyframes; then the video is decoded straight
through once, because seeking to each mark was measured ~3.7x slower. Each kept frame is reduced
to <= 640 px, written as a metadata-free JPEG, and hashed through the same `canonical_image` and
`hash_image` as photos, so a frame and a still of it compare directly. Timecodes are
`pts * time_base` from the stream's start, in ms; the display matrix's rotation and the pixel
aspect ratio are applied, as a player would.

Only common video containers are opened (`CONTAINERS`, enforced by FFmpeg's format whitelist,
over the file protocol only): an image, a playlist or anything else is bad media, and FFmpeg's
playlist demuxers never get to open further files or URLs. A file that cannot be opened, has no
video stream (audio, or audio with cover art only) or yields no frame is bad media. A damaged
file that still yields frames is kept, not failed: packets that do not decode are skipped (the
decoder resumes at the next keyframe), a truncated file keeps the frames before the cut, and
`Video.damage` says what was wrong, for the job to record. For dedup a partial video is worth
more than none, and the original stays archived as received either way.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from av.container import InputContainer
from av.video.frame import VideoFrame
from av.video.stream import VideoStream
from PIL import Image

from attrition.capture.errors import BadMedia
from attrition.capture.steps.pdq import Pdq, canonical_image, fit, hash_image
from attrition.capture.steps.video.sampling import Plan, plan

__all__ = ["Frame", "Plan", "Probe", "Video", "plan", "probe", "run"]

# FFmpeg demuxer names: MP4/MOV/3GP, Matroska/WebM, MPEG-TS, AVI, FLV, WMV, MPEG-PS, Ogg.
CONTAINERS = (
    "mov,mp4,m4a,3gp,3g2,mj2",
    "matroska,webm",
    "mpegts",
    "avi",
    "flv",
    "asf",
    "mpeg",
    "ogg",
)
OPEN_OPTIONS = {"format_whitelist": ",".join(CONTAINERS), "protocol_whitelist": "file"}
MAX_PIXELS = 8192 * 8192  # per frame; larger is no camera's video, only a memory bomb
FRAME_SIDE = 640
POSTER_SIDE = 320
JPEG_QUALITY = 85
# A rotation of the display matrix, counterclockwise degrees, as Pillow's transposition.
ROTATIONS = {
    90: Image.Transpose.ROTATE_90,
    180: Image.Transpose.ROTATE_180,
    -180: Image.Transpose.ROTATE_180,
    -90: Image.Transpose.ROTATE_270,
    270: Image.Transpose.ROTATE_270,
}


@dataclass(frozen=True)
class Probe:
    """What a video is: size as displayed (rotation and pixel shape applied), length, codec."""

    width: int
    height: int
    duration_s: float
    codec: str
    fps: float | None


@dataclass(frozen=True)
class Frame:
    """One sampled frame: when it shows, whether it is a keyframe, its hash and its JPEG."""

    t_ms: int
    is_keyframe: bool
    pdq: Pdq
    path: Path


@dataclass(frozen=True)
class Video:
    """A probed video with its sampled, hashed frames and a poster JPEG."""

    width: int
    height: int
    duration_s: float
    codec: str
    fps: float | None
    frames: tuple[Frame, ...]
    poster: Path | None
    damage: str | None = None  # what was wrong with a file that still gave frames


@dataclass(frozen=True)
class Scan:
    """What one pass over a stream's packets found: its start, its end and its keyframes."""

    start: int
    end_s: float
    keyframes: tuple[int, ...]


def probe(*, path: Path) -> Probe:
    """Return what the video at `path` is, or raise BadMedia if it is not a decodable video."""
    with opened(path) as container:
        stream = video_stream(container, path)
        damage: list[str] = []
        first = next(decoded(container, stream, damage), None)
        if first is None:
            raise bad(path, "; ".join(damage) or "its video stream has no frames")
        return describe(container, stream, first)


def run(*, path: Path, workdir: Path, every_s: float = 1.0, max_frames: int = 600) -> Video:
    """Return the video's probe and its sampled frames, each hashed and written to `workdir`."""
    if every_s <= 0 or max_frames < 1:
        raise ValueError(f"need every_s > 0 and max_frames >= 1, not {every_s} and {max_frames}")
    with opened(path) as container:
        found = scan(container, video_stream(container, path))
    chosen = plan(
        duration_s=found.end_s, keyframes=found.keyframes, every_s=every_s, max_frames=max_frames
    )
    workdir.mkdir(parents=True, exist_ok=True)
    with opened(path) as container:
        stream = video_stream(container, path)
        stream.codec_context.thread_type = "AUTO"
        sampler = Sampler(chosen, found.start, stream.time_base or Fraction(1), workdir)
        try:
            return sample(container, stream, path, found, sampler)
        except BaseException:
            for file in sampler.written:  # no half set of frames is left behind for the job
                file.unlink(missing_ok=True)
            raise


def sample(
    container: InputContainer, stream: VideoStream, path: Path, found: Scan, sampler: Sampler
) -> Video:
    """Return the Video: decode the stream once, offering each frame to the sampler."""
    damage: list[str] = []
    first: VideoFrame | None = None
    for frame in decoded(container, stream, damage):
        if first is None:
            first = frame
        if sampler.offer(frame, stream.sample_aspect_ratio):
            break  # a safety net: the plan already keeps within the limit
    if first is None or sampler.best is None:
        raise bad(path, "; ".join(damage) or "none of its frames decodes with a timestamp")
    info = describe(container, stream, first)
    # A truncated download: the header's duration is the stream's own, not the longest stream's.
    if stream.duration is not None and found.end_s < info.duration_s * 0.98 - 1.0:
        damage.append(f"its frames end at {found.end_s:.1f} s of {info.duration_s:.1f} s")
    return Video(
        width=info.width,
        height=info.height,
        duration_s=info.duration_s,
        codec=info.codec,
        fps=info.fps,
        frames=tuple(sampler.frames),
        poster=sampler.write_poster(),
        damage="; ".join(damage) or None,
    )


class Sampler:
    """Keeps the frames a plan asks for: hashes each, writes its JPEG, and picks a poster."""

    def __init__(self, chosen: Plan, start: int, time_base: Fraction, workdir: Path) -> None:
        self.plan, self.start, self.time_base, self.workdir = chosen, start, time_base, workdir
        self.mark = 0  # the next mark to fill
        self.frames: list[Frame] = []
        self.written: list[Path] = []
        self.best: tuple[int, Image.Image] | None = None  # quality and picture, for the poster

    def offer(self, frame: VideoFrame, aspect: Fraction | None) -> bool:
        """Keep the frame if the plan wants it; return whether the frame limit is reached."""
        if frame.pts is None:
            return False  # no time to file it under
        t_ms = round((frame.pts - self.start) * self.time_base * 1000)
        marks = self.plan.marks_ms
        at_mark = self.mark < len(marks) and t_ms >= marks[self.mark]
        while self.mark < len(marks) and marks[self.mark] <= t_ms:
            self.mark += 1
        key = frame.key_frame and self.plan.keeps_keyframe(frame.pts)
        if not (at_mark or key) or t_ms < 0 or (self.frames and t_ms <= self.frames[-1].t_ms):
            return False  # not planned, before the start, or not after the last kept frame
        picture = frame_picture(frame, aspect)
        digest = hash_image(canonical_image(picture))
        path = self.workdir / f"frame-{t_ms:09d}.jpg"
        self.written.append(path)
        picture.save(path, "JPEG", quality=JPEG_QUALITY)
        self.frames.append(Frame(t_ms=t_ms, is_keyframe=frame.key_frame, pdq=digest, path=path))
        if self.best is None or digest.quality > self.best[0]:
            self.best = (digest.quality, picture)
        return len(self.frames) >= self.plan.max_frames

    def write_poster(self) -> Path | None:
        """Write the poster, the kept frame with the most detail (PDQ quality), reduced."""
        if self.best is None:
            return None
        path = self.workdir / "poster.jpg"
        self.written.append(path)
        fit(self.best[1], POSTER_SIDE).save(path, "JPEG", quality=JPEG_QUALITY)
        return path


def decoded(
    container: InputContainer, stream: VideoStream, damage: list[str]
) -> Iterator[VideoFrame]:
    """Yield the stream's frames in order, skipping packets that do not decode, noting damage."""
    broken = undecodable = 0
    try:
        for packet in container.demux(stream):
            broken += packet.is_corrupt
            try:
                yield from stream.decode(packet)
            except av.error.InvalidDataError:
                undecodable += 1  # the decoder picks up again at the next keyframe
    except av.FFmpegError as e:
        damage.append(f"reading stopped: {e}")
    if broken:
        damage.append(f"{broken} packet(s) marked corrupt by the demuxer")
    if undecodable:
        damage.append(f"{undecodable} packet(s) did not decode")


@contextmanager
def opened(path: Path) -> Iterator[InputContainer]:
    """Yield the file opened as an accepted video container, or raise BadMedia."""
    if not path.is_file():  # a missing file is not bad media: say so plainly
        raise FileNotFoundError(f"no such file: {path}")
    try:
        container = av.open(
            str(path.absolute()), "r", options=OPEN_OPTIONS, metadata_errors="replace"
        )
    except av.FFmpegError as e:
        raise bad(path, f"it is not a video in an accepted container ({e})") from e
    with container:
        yield container


def video_stream(container: InputContainer, path: Path) -> VideoStream:
    """Return the container's first real video stream (not cover art), or raise BadMedia."""
    cover = av.stream.Disposition.attached_pic
    streams = [s for s in container.streams.video if not s.disposition & cover]
    if not streams:
        raise bad(path, "it has no video stream")
    stream = streams[0]
    if stream.width * stream.height > MAX_PIXELS or not stream.width or not stream.height:
        raise bad(path, f"its frames are {stream.width}x{stream.height} px")
    return stream


def scan(container: InputContainer, stream: VideoStream) -> Scan:
    """Return the stream's start, end and keyframes from its packets, without decoding."""
    time_base = stream.time_base or Fraction(1, 1)
    first, last, keyframes = None, None, []
    try:
        for packet in container.demux(stream):
            if packet.pts is None:
                continue  # the demuxer's flush packet
            first = packet.pts if first is None else min(first, packet.pts)
            end = packet.pts + (packet.duration or 0)
            last = end if last is None else max(last, end)
            if packet.is_keyframe:
                keyframes.append(packet.pts)
    except av.FFmpegError:
        pass  # damage: the plan covers what was read, and decoding notes the same error
    start = stream.start_time if stream.start_time is not None else (first or 0)
    end_s = float((last - start) * time_base) if last is not None else 0.0
    return Scan(start=start, end_s=max(end_s, 0.0), keyframes=tuple(sorted(keyframes)))


def describe(container: InputContainer, stream: VideoStream, first: VideoFrame) -> Probe:
    """Return the probe of a stream, its displayed size read from its first frame."""
    width, height = display_size(first, stream.sample_aspect_ratio)
    if stream.duration is not None and stream.time_base is not None:
        duration_s = float(stream.duration * stream.time_base)
    else:
        duration_s = (container.duration or 0) / av.time_base
    rate = stream.average_rate or stream.guessed_rate
    return Probe(
        width=width,
        height=height,
        duration_s=duration_s,
        codec=stream.codec_context.name,
        fps=float(rate) if rate else None,
    )


def display_size(frame: VideoFrame, aspect: Fraction | None) -> tuple[int, int]:
    """Return the frame's size as a player shows it: pixel aspect and rotation applied."""
    width = max(1, round(frame.width * aspect)) if aspect else frame.width
    if frame.rotation in (90, -90, 270):
        return frame.height, width
    return width, frame.height


def frame_picture(frame: VideoFrame, aspect: Fraction | None) -> Image.Image:
    """Return the frame as an upright RGB image, its longest side at most 640 px."""
    width = max(1, round(frame.width * aspect)) if aspect else frame.width
    scale = min(1.0, FRAME_SIDE / max(width, frame.height))
    rgb = frame.reformat(
        width=max(1, round(width * scale)),
        height=max(1, round(frame.height * scale)),
        format="rgb24",
        interpolation="AREA",
    ).to_ndarray()
    picture = Image.fromarray(rgb)
    turn = ROTATIONS.get(frame.rotation)
    return picture.transpose(turn) if turn is not None else picture


def bad(path: Path, why: str) -> BadMedia:
    """Return the BadMedia error for a video that cannot be used, saying why."""
    # FFmpeg's messages name the file it opened: keep the server's paths out of what users see.
    why = why.replace(str(path), "the file")
    return BadMedia(f"the file is not a usable video: {why}")
