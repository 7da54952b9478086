"""Synthetic media for the pdq and video tests: photo-like images and short encoded clips."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import av
import numpy as np
from av.video.stream import VideoStream
from numpy.typing import NDArray
from PIL import Image, ImageDraw

PAN_PX = 8  # the clips' camera pans this many pixels per frame across one wide scene
PAN_FRAMES = 600  # how far it can pan


def scene(seed: int, width: int, height: int) -> NDArray[np.uint8]:
    """Return a photo-like RGB array: smooth noise at three scales, a gradient and some shapes."""
    rng = np.random.default_rng(seed)
    acc = np.zeros((height, width, 3), np.float32)
    for scale in (6, 24, 96):
        small = rng.integers(0, 256, (max(2, height // scale), max(2, width // scale), 3))
        layer = Image.fromarray(small.astype(np.uint8)).resize(
            (width, height), Image.Resampling.BICUBIC
        )
        acc += np.asarray(layer, np.float32) / 3
    acc += np.linspace(-40, 40, width, dtype=np.float32)[None, :, None]
    img = Image.fromarray(acc.clip(0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for _ in range(max(4, width * height // 40_000)):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        r = int(rng.integers(8, max(9, min(width, height) // 6)))
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        box = (x - r, y - r, x + r, y + r)
        if rng.random() < 0.5:
            draw.ellipse(box, fill=fill)
        else:
            draw.rectangle(box, fill=fill)
    return np.asarray(img)


def photo(seed: int = 1, size: tuple[int, int] = (1024, 768)) -> Image.Image:
    """Return a photo-like RGB image."""
    return Image.fromarray(scene(seed, *size))


@cache
def panorama() -> NDArray[np.uint8]:
    """Return the wide scene every clip pans across, 240 px high."""
    return scene(7, 320 + PAN_PX * PAN_FRAMES, 240)


def view(index: int, size: tuple[int, int] = (320, 240)) -> Image.Image:
    """Return what frame `index` of any clip shows, at `size`."""
    assert index < PAN_FRAMES
    x = PAN_PX * index
    window = Image.fromarray(np.ascontiguousarray(panorama()[:, x : x + 320]))
    return window.resize(size, Image.Resampling.BILINEAR)


def clip(
    path: Path,
    *,
    seconds: float,
    fps: int = 10,
    gop: int = 25,
    size: tuple[int, int] = (320, 240),
    codec: str = "libx264",
    first: int = 0,
    faststart: bool = False,
    rotation: int = 0,
) -> Path:
    """Write an MP4 of `view(first)`, `view(first + 1)`, ... with a keyframe every `gop` frames."""
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), "w", options=options) as container:
        stream = container.add_stream(codec, rate=fps)
        assert isinstance(stream, VideoStream)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.codec_context.gop_size = gop
        if codec == "libx264":  # fixed GOPs: no extra keyframes at "scene cuts"
            stream.codec_context.options = {"preset": "ultrafast", "sc_threshold": "0"}
        if rotation:
            stream.set_display_rotation(rotation)
        for i in range(round(seconds * fps)):
            pixels = np.asarray(view(first + i, size))
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def audio_only(path: Path, *, seconds: float = 1.0) -> Path:
    """Write an MP4 holding one second of silence as AAC, and no video."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=48_000)
        samples = np.zeros((1, 1024), np.float32)
        for i in range(round(seconds * 48_000 / 1024)):
            frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 48_000, i * 1024
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path
