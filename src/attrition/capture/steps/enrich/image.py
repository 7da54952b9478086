"""Decode an image safely, read its EXIF, and write its metadata-free derivatives.

Derivatives are JPEG: every browser, report tool and image viewer opens it, Pillow always has
its encoder, and photographs (nearly all evidence) compress well in it; transparency is
flattened onto white. They are converted to sRGB and saved with no EXIF, XMP, ICC or comment.
"""

from __future__ import annotations

import io
import os
import struct
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pillow_heif
from PIL import Image, ImageCms, ImageFile, ImageOps

from attrition.capture.errors import BadMedia
from attrition.capture.steps.enrich.exif import exif_read, orientation_swaps

pillow_heif.register_heif_opener()

DERIVATIVE_MIME = "image/jpeg"
JPEG_QUALITY = 85
SIZES = (("web", 1600), ("thumb", 320))  # largest first: each is resized from the one before
# The sniffed types this step decodes, and the only Pillow formats tried for each.
FORMATS: dict[str, tuple[str, ...]] = {
    "image/jpeg": ("JPEG",),  # also opens multi-picture (MPO) JPEGs
    "image/png": ("PNG",),
    "image/webp": ("WEBP",),
    "image/gif": ("GIF",),
    "image/heic": ("HEIF",),
    "image/heif": ("HEIF",),
    "image/heic-sequence": ("HEIF",),
    "image/heif-sequence": ("HEIF",),
    "image/avif": ("AVIF",),
    "image/tiff": ("TIFF",),
    "image/bmp": ("BMP",),
    "image/x-ms-bmp": ("BMP",),
}
# What Pillow and its plugins raise for a file they cannot decode (the AVIF plugin raises
# RuntimeError for corrupt data, pillow-heif ValueError); anything else is a bug and propagates.
DECODE_ERRORS = (
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    IndexError,
    struct.error,
    RuntimeError,
    Image.DecompressionBombError,
)
SRGB = ImageCms.createProfile("sRGB")


@dataclass(frozen=True)
class Derivative:
    """A public rendition of an image: upright, metadata-free JPEG, written inside the workdir."""

    name: str
    path: Path
    mime: str
    width: int
    height: int


@dataclass(frozen=True)
class Picture:
    """What decoding an image taught: its upright size, frames, EXIF, derivatives and notes."""

    width: int
    height: int
    frames: int
    exif: dict[str, Any] | None
    derivatives: tuple[Derivative, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class Decoded:
    """An image fully decoded: its upright size and first frame in RGB, and what was read."""

    width: int
    height: int
    frames: int
    exif: dict[str, Any] | None
    rgb: Image.Image
    notes: list[str]


def unlocated(exc: BaseException, path: Path) -> str:
    """Return an error's text without the server's file path in it (it reaches users)."""
    return str(exc).replace(repr(str(path)), "the file").replace(str(path), "the file")


def picture_read(*, path: Path, mime: str, workdir: Path, max_pixels: int) -> Picture:
    """Return what an image file holds, with its derivatives written in `workdir`."""
    # Pillow's warnings (its own bomb warning, corrupt EXIF) are caught here, never printed or
    # raised: the pixel limit is ours, and the rest become notes. (catch_warnings is global.)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with Image.open(path, formats=FORMATS[mime]) as im:
                decoded = decode(im, max_pixels=max_pixels)
        except Image.DecompressionBombError as exc:
            raise BadMedia(
                f"the {mime} is refused as a possible decompression bomb: {unlocated(exc, path)}",
                details={
                    "mime": mime,
                    "error": type(exc).__name__,
                    "message": unlocated(exc, path),
                },
            ) from exc
        except DECODE_ERRORS as exc:
            raise BadMedia(
                f"the bytes are {mime} but cannot be decoded: {unlocated(exc, path)}",
                details={
                    "mime": mime,
                    "error": type(exc).__name__,
                    "message": unlocated(exc, path),
                },
            ) from exc
    warned = [
        f"Pillow warned: {w.message}"
        for w in caught
        if not issubclass(w.category, Image.DecompressionBombWarning)
    ]
    notes = decoded.notes + list(dict.fromkeys(warned))
    if decoded.frames > 1:
        notes.append(f"{decoded.frames} frames; the derivatives show the first")
    return Picture(
        width=decoded.width,
        height=decoded.height,
        frames=decoded.frames,
        exif=decoded.exif,
        derivatives=derivatives_write(decoded.rgb, workdir=workdir),
        notes=tuple(notes),
    )


def decode(im: ImageFile.ImageFile, *, max_pixels: int) -> Decoded:
    """Return the image fully decoded, refusing it from its header if it has too many pixels."""
    width, height = im.size
    if width * height > max_pixels:
        raise BadMedia(
            f"the image is {width}x{height} ({width * height} pixels), over the limit of "
            f"{max_pixels}: refused without decoding, as a possible decompression bomb",
            details={"width": width, "height": height, "max_pixels": max_pixels},
        )
    exif, readable, notes = exif_read(im)
    if orientation_swaps(im, readable):
        width, height = height, width
    frames = getattr(im, "n_frames", 1)
    # JPEG can decode at 1/2, 1/4 or 1/8 scale, no smaller than the largest derivative.
    im.draft("RGB", fit(im.size, SIZES[0][1]))
    im.load()  # the whole first frame: a truncated or corrupt file fails here
    upright = ImageOps.exif_transpose(im) if readable else im
    return Decoded(
        width=width,
        height=height,
        frames=frames,
        exif=exif,
        rgb=rgb_of(upright, notes),
        notes=notes,
    )


def fit(size: tuple[int, int], longest: int) -> tuple[int, int]:
    """Return `size` scaled down so that its longest side is at most `longest`, never up."""
    width, height = size
    if max(width, height) <= longest:
        return width, height
    scale = longest / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def rgb_of(im: Image.Image, notes: list[str]) -> Image.Image:
    """Return the image as 8-bit sRGB, transparency flattened onto white, with no metadata."""
    if im.mode.startswith("I;16"):
        im = Image.fromarray((np.asarray(im) >> 8).astype(np.uint8))
    elif im.mode in ("I", "F"):
        values = np.nan_to_num(np.asarray(im, dtype=np.float64))
        low, span = values.min(), float(np.ptp(values)) or 1.0
        im = Image.fromarray(((values - low) * (255 / span)).astype(np.uint8))
    im = srgb_of(im, notes)
    if im.has_transparency_data:
        rgba = im.convert("RGBA")
        out = Image.new("RGB", rgba.size, "white")
        out.paste(rgba, mask=rgba.getchannel("A"))
    else:
        out = im.convert("RGB")
    out.info.clear()  # JPEG's encoder would otherwise copy a comment from here
    return out


def srgb_of(im: Image.Image, notes: list[str]) -> Image.Image:
    """Return the image converted from its embedded ICC profile to sRGB, when it has one."""
    icc = im.info.get("icc_profile")
    if not icc or im.mode not in ("RGB", "CMYK", "L"):
        return im
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(im, profile, SRGB, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError) as exc:
        notes.append(f"the ICC profile could not be applied, colours may be off: {exc}")
        return im
    return converted if converted is not None else im


def derivatives_write(rgb: Image.Image, *, workdir: Path) -> tuple[Derivative, ...]:
    """Return the derivatives of an RGB image, written as new files inside `workdir`."""
    written: list[Derivative] = []
    current = rgb
    try:
        for name, longest in SIZES:
            size = fit(current.size, longest)
            if size != current.size:
                current = current.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
                current.info.clear()
            written.append(jpeg_write(current, name=name, workdir=workdir))
    except BaseException:
        for derivative in written:
            derivative.path.unlink(missing_ok=True)
        raise
    return tuple(written)


def jpeg_write(rgb: Image.Image, *, name: str, workdir: Path) -> Derivative:
    """Return a derivative saved as a new JPEG file in `workdir`, with no metadata at all."""
    fd, raw = tempfile.mkstemp(prefix=f"{name}-", suffix=".jpg", dir=workdir)
    path = Path(raw)
    try:
        with os.fdopen(fd, "wb") as fh:
            rgb.save(fh, "JPEG", quality=JPEG_QUALITY, optimize=True)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    width, height = rgb.size
    return Derivative(name=name, path=path, mime=DERIVATIVE_MIME, width=width, height=height)
