"""Real media made on the fly for tests: images in every format, tiny videos, a page, a bomb."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

import av
import numpy as np
import pillow_heif
from av.video.stream import VideoStream
from PIL import Image, ImageCms

pillow_heif.register_heif_opener()

PAGE = (
    b"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>Report</title></head>"
    b"<body><p>A destroyed vehicle near the bridge.</p></body></html>\n"
)


def image_bytes(
    fmt: str, size: tuple[int, int] = (64, 48), color: str = "red", **params: Any
) -> bytes:
    """Return an image of one colour encoded in `fmt` (a Pillow format name)."""
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt, **params)
    return out.getvalue()


def halves(size: tuple[int, int], left: str = "red", right: str = "blue") -> Image.Image:
    """Return an image whose left half is one colour and right half another."""
    im = Image.new("RGB", size, right)
    im.paste(left, (0, 0, size[0] // 2, size[1]))
    return im


def camera_exif(orientation: int = 6) -> Image.Exif:
    """Return EXIF as a phone writes it: make, date, orientation, GPS, and a large MakerNote."""
    exif = Image.Exif()
    exif[0x010F] = "Canon"  # Make
    exif[0x0112] = orientation
    details = exif.get_ifd(0x8769)
    details[0x9003] = "2024:05:06 07:08:09"  # DateTimeOriginal
    details[0x927C] = b"\x01" * 2000  # MakerNote: dropped from the record
    gps = exif.get_ifd(0x8825)
    gps[0x0000] = b"\x02\x02\x00\x00"  # GPSVersionID
    gps[0x0001] = "N"
    gps[0x0002] = (50.0, 27.0, 12.5)
    gps[0x0003] = "E"
    gps[0x0004] = (30.0, 31.0, 0.25)
    return exif


def srgb_icc() -> bytes:
    """Return the bytes of an sRGB ICC profile."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def animation(fmt: str, colors: tuple[str, ...] = ("red", "lime", "blue")) -> bytes:
    """Return an animated GIF or WebP with one frame per colour."""
    frames = [Image.new("RGB", (40, 30), color) for color in colors]
    out = io.BytesIO()
    frames[0].save(out, fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out.getvalue()


def video_bytes(container: str, codec: str) -> bytes:
    """Return a three-frame 32x32 video with no audio."""
    out = io.BytesIO()
    with av.open(out, "w", format=container) as media:
        stream = media.add_stream(codec, rate=10)
        assert isinstance(stream, VideoStream)
        stream.width = stream.height = 32
        stream.pix_fmt = "yuv420p"
        for i in range(3):
            pixels = np.full((32, 32, 3), i * 60, np.uint8)
            media.mux(stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")))
        media.mux(stream.encode(None))
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """Return a real 1x1 PNG whose header claims to be `width` x `height` pixels."""
    png = image_bytes("PNG", (1, 1))
    ihdr = struct.pack(">II", width, height) + png[24:29]
    chunk = b"IHDR" + ihdr
    return png[:8] + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk)) + png[33:]
