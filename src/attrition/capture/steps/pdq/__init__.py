"""Step 7, pdq: the PDQ perceptual hash of an image, after one canonical preprocessing.

PDQ values depend on preprocessing (a full and a reduced JPEG decode differ by ~8 bits at the
median), so stored items and queries, images and video frames all go through the same functions
here: `open_canonical` for a file, `canonical_image` for pixels that never were a file (a video
frame), then `hash_image`. Canonical means: EXIF orientation applied, alpha flattened onto
white, reduced so the longest side is at most CANONICAL_SIDE (256) px, and near-uniform
borders (letterboxing, screenshot margins) trimmed. A JPEG file is decoded reduced in the DCT
domain, never below CANONICAL_SIDE px on its longest side, so `open_canonical(path)` and
`canonical_image` of the same file fully decoded differ by a few bits only; `open_canonical`
is the canonical path for files.

Bit order: `hex` is the ThreatExchange reference format. Its first hex digit holds bits 255-252
of the reference implementation's Hash256 (most significant first), so hashes compare with
those of other PDQ tools; `to_bytes` packs the same bits in the same order, 32 bytes.
"""

from __future__ import annotations

import math
import re
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pdqhash
import pillow_heif
from numpy.typing import NDArray
from PIL import Image, ImageOps

from attrition.capture.errors import BadMedia

# Below 50 an image is too flat for its hash to mean much (blank frames, solid colours, fades):
# ThreatExchange's vPDQ, for one, does not compare frames under quality 50.
QUALITY_FLOOR = 50
CANONICAL_SIDE = 256  # PDQ downsamples to 64x64 itself; more pixels only cost time (2.2x)
BORDER_TOLERANCE = 10  # per channel, out of 255: JPEG noise on a flat bar stays well under it
BORDER_STRAYS = 0.02  # share of pixels in a border line allowed off its colour (specks, noise)
# A border must end in a straight, sharp edge: within EDGE_ROWS lines after it, a line where
# at least half the pixels differ from the border's colour by more than EDGE_CONTRAST. A sky
# fading slowly, or a roofline against a flat sky, is content and stays.
EDGE_ROWS = 4
EDGE_CONTRAST = 32
MIN_CONTENT = 16  # px of the reduced image; a trim that leaves less is no trim
FLATTEN_ONTO = (255, 255, 255)
# Decoders for photos as the web serves them; anything else (EPS, PSD, ...) is not attempted.
FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF", "HEIF", "AVIF")
# The order of `hash_dihedral`'s hashes (pdqhash's): the first is the image as it is.
DIHEDRAL = ("original", "rot90", "rot180", "rot270", "flip_x", "flip_y", "flip_diag", "flip_anti")
# What Pillow and its plugins raise for bytes they cannot decode (AVIF: RuntimeError, some
# plugins: IndexError or struct.error); anything else is a bug and propagates.
DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    struct.error,
    RuntimeError,
    Image.DecompressionBombError,
)
HEX = re.compile(r"[0-9a-f]{64}")

pillow_heif.register_heif_opener()


@dataclass(frozen=True)
class Pdq:
    """A 256-bit PDQ hash as 64 lowercase hex characters, with PDQ's quality (0-100)."""

    hex: str
    quality: int

    def __post_init__(self) -> None:
        if not HEX.fullmatch(self.hex):
            raise ValueError(f"not a PDQ hash (64 lowercase hex characters): {self.hex!r}")

    @property
    def trusted(self) -> bool:
        """Return whether the image had enough detail for its hash to be matched."""
        return self.quality >= QUALITY_FLOOR


def canonical_image(img: Image.Image) -> Image.Image:
    """Return the canonical RGB image PDQ is computed on: upright, flattened, reduced, trimmed."""
    img = flatten(ImageOps.exif_transpose(img))
    small = fit(img, CANONICAL_SIDE)
    left, top, right, bottom = content_box(np.asarray(small))
    if (left, top, right, bottom) == (0, 0, small.width, small.height):
        return small
    if small is not img:  # crop the larger image, so that a trimmed image keeps its detail
        sx, sy = img.width / small.width, img.height / small.height
        outer = (int(left * sx), int(top * sy), math.ceil(right * sx), math.ceil(bottom * sy))
        left, top, right, bottom = refine(img, outer, margin=math.ceil(max(sx, sy)) + 1)
    return fit(img.crop((left, top, right, bottom)), CANONICAL_SIDE)


def open_canonical(path: Path) -> Image.Image:
    """Return the canonical image of an image file, or raise BadMedia if it cannot be decoded."""
    with path.open("rb") as fh:  # a missing file is not bad media: let that error through
        try:
            with Image.open(fh, formats=FORMATS) as img:
                reduce_decode(img)
                return canonical_image(img)
        except DECODE_ERRORS as e:
            raise BadMedia(
                f"{path.name} is not a decodable image ({e})",
                details={"path": path.name, "error": str(e)},
            ) from e


def hash_image(img: Image.Image) -> Pdq:
    """Return the PDQ hash of an already canonical image."""
    bits, quality = pdqhash.compute(np.asarray(img))
    return Pdq(hex=pack(bits).hex(), quality=int(quality))


def hash_dihedral(img: Image.Image) -> tuple[Pdq, ...]:
    """Return the hashes of an already canonical image's 8 rotations and flips, as DIHEDRAL.

    Each variant's pixels are rotated or flipped and hashed anew: pdqhash's own dihedral hashes
    come from the original's DCT, and PDQ's downsampling is not symmetric, so they lay 22-84 bits
    from the hash of a mirrored copy on the benchmark corpus, where hashing the mirrored pixels
    gives 0-2 bits.
    """
    pixels = np.asarray(img)
    own = hash_image(img)
    variants = (
        np.rot90(pixels, 1),
        np.rot90(pixels, 2),
        np.rot90(pixels, -1),
        pixels[::-1],  # flip_x: upside down, about the horizontal axis
        pixels[:, ::-1],  # flip_y: mirrored, about the vertical axis
        pixels.transpose(1, 0, 2),  # flip_diag
        np.rot90(pixels, 2).transpose(1, 0, 2),  # flip_anti
    )
    hashes = [own]
    for variant in variants:
        bits, _ = pdqhash.compute(np.ascontiguousarray(variant))
        hashes.append(Pdq(hex=pack(bits).hex(), quality=own.quality))
    return tuple(hashes)


def run(*, path: Path) -> Pdq:
    """Return the PDQ hash of an image file, or raise BadMedia if it cannot be decoded."""
    return hash_image(open_canonical(path))


def run_dihedral(*, path: Path) -> tuple[Pdq, ...]:
    """Return the 8 rotation and flip hashes of an image file, its own hash first (for queries)."""
    return hash_dihedral(open_canonical(path))


def distance(a: str, b: str) -> int:
    """Return the Hamming distance between two PDQ hashes given as hex."""
    return (int.from_bytes(to_bytes(a)) ^ int.from_bytes(to_bytes(b))).bit_count()


def to_bytes(hex: str) -> bytes:
    """Return a hex PDQ hash as the 32 bytes a faiss binary index takes (same bit order)."""
    if not HEX.fullmatch(hex.lower()):
        raise ValueError(f"not a PDQ hash (64 hex characters): {hex!r}")
    return bytes.fromhex(hex)


def pack(bits: NDArray[np.integer]) -> bytes:
    """Return pdqhash's 256 bits (reference bit 255 first) packed into 32 bytes."""
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes()


def reduce_decode(img: Image.Image) -> None:
    """Ask a JPEG decoder for the smallest DCT scale keeping the longest side >= CANONICAL_SIDE."""
    longest = max(img.size)
    scale = next((s for s in (8, 4, 2) if longest >= CANONICAL_SIDE * s), 1)
    if scale > 1:
        # draft() takes the largest of 8/4/2/1 both requested sides allow: ask for `scale` exactly.
        img.draft("RGB", (max(1, img.width // scale), max(1, img.height // scale)))


def flatten(img: Image.Image) -> Image.Image:
    """Return the image in RGB, transparent parts laid onto white, 16-bit greys scaled to 8."""
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        img.mode == "P" and "transparency" in img.info
    ):
        rgba = img.convert("RGBA")
        flat = Image.new("RGB", img.size, FLATTEN_ONTO)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    if img.mode.startswith("I") or img.mode == "F":
        grey = np.asarray(img, dtype=np.float64)
        peak = 255.0 if grey.max(initial=0) <= 255 else 65535.0
        return Image.fromarray((grey.clip(0, peak) * (255 / peak)).astype(np.uint8)).convert("RGB")
    return img.convert("RGB") if img.mode != "RGB" else img


def fit(img: Image.Image, side: int) -> Image.Image:
    """Return the image reduced so its longest side is at most `side` px (never enlarged)."""
    longest = max(img.size)
    if longest <= side:
        return img
    size = (max(1, round(img.width * side / longest)), max(1, round(img.height * side / longest)))
    return img.resize(size, Image.Resampling.BILINEAR)


def content_box(a: NDArray[np.uint8]) -> tuple[int, int, int, int]:
    """Return (left, top, right, bottom) of an RGB array without its near-uniform edges."""
    height, width = a.shape[:2]
    left, top, right, bottom = 0, 0, width, height
    for _ in range(3):  # a bar along one side can hide another until the first is trimmed
        view = a[top:bottom, left:right]
        cols = view.transpose(1, 0, 2)
        t, b = border_run(view), border_run(view[::-1])
        lft, rgt = border_run(cols), border_run(cols[::-1])
        if not (t or b or lft or rgt):
            break
        top, bottom, left, right = top + t, bottom - b, left + lft, right - rgt
        if bottom - top < MIN_CONTENT or right - left < MIN_CONTENT:
            return 0, 0, width, height  # (nearly) all border: a flat image, keep it whole
    return left, top, right, bottom


def refine(
    img: Image.Image, box: tuple[int, int, int, int], margin: int
) -> tuple[int, int, int, int]:
    """Return the box without the border lines its edges still hold, looking `margin` lines in."""
    a = np.asarray(img.crop(box))
    cols = a.transpose(1, 0, 2)
    top, bottom = uniform_run(a[:margin]), uniform_run(a[::-1][:margin])
    left, right = uniform_run(cols[:margin]), uniform_run(cols[::-1][:margin])
    return box[0] + left, box[1] + top, box[2] - right, box[3] - bottom


def border_run(a: NDArray[np.uint8]) -> int:
    """Return how many leading rows of `a` are a border: uniform lines ending in a sharp edge."""
    run = uniform_run(a)
    if run in (0, len(a)):
        return run
    after = a[run : run + EDGE_ROWS].astype(np.int16) - np.median(a[0], axis=0).astype(np.int16)
    far = (np.abs(after).max(axis=2) > EDGE_CONTRAST).mean(axis=1)
    return run if far.max() >= 0.5 else 0


def uniform_run(a: NDArray[np.uint8]) -> int:
    """Return how many leading rows of `a` are near-uniform in the colour of its first row."""
    ref = np.median(a[0], axis=0).astype(np.int16)
    if not is_border(a[:1], ref)[0]:
        return 0  # the common case, a photo: decided on one row
    border = is_border(a, ref)
    return int(border.argmin()) if not border.all() else len(border)


def is_border(rows: NDArray[np.uint8], ref: NDArray[np.int16]) -> NDArray[np.bool_]:
    """Return, per row, whether nearly all its pixels are within tolerance of `ref`."""
    off = np.abs(rows.astype(np.int16) - ref).max(axis=2) > BORDER_TOLERANCE
    result: NDArray[np.bool_] = off.mean(axis=1) <= BORDER_STRAYS
    return result
