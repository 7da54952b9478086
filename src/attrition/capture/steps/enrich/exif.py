"""Turn an image's EXIF into JSON-safe data, recorded as found (GPS included)."""

from __future__ import annotations

import math
import numbers
import struct
from collections.abc import Mapping
from typing import Any

from PIL import ExifTags, Image

# What Pillow raises for EXIF it cannot parse; the pixels may still be fine, so this is a note.
EXIF_ERRORS = (SyntaxError, ValueError, OSError, IndexError, KeyError, struct.error)
# Longer byte strings (MakerNote, embedded XMP or ICC, thumbnails) are dropped, not hex-encoded:
# the original keeps them, and the record stays small.
MAX_HEX_BYTES = 256
# IFD0 tags that only point at the sub-IFDs, which are decoded instead.
POINTERS = frozenset({ExifTags.IFD.Exif, ExifTags.IFD.GPSInfo, ExifTags.IFD.Interop})
ORIENTATION = 0x0112
DROP = object()


def exif_read(im: Image.Image) -> tuple[dict[str, Any] | None, bool, list[str]]:
    """Return the image's EXIF as JSON-safe data, whether it was readable, and notes."""
    try:
        exif = im.getexif()
        found = exif_json(exif)
    except EXIF_ERRORS as exc:
        return None, False, [f"the EXIF data is unreadable and was not recorded: {exc}"]
    # pillow-heif applies the HEIF rotation itself and resets the tag; record what the file said.
    original = im.info.get("original_orientation")
    if isinstance(original, int) and found is not None:
        found["Orientation"] = original
    return found, True, []


def exif_json(exif: Image.Exif) -> dict[str, Any] | None:
    """Return IFD0 and the Exif IFD merged, with GPSInfo and Interop as nested dicts, or None."""
    found = ifd_json(exif, ExifTags.TAGS)
    exif_ifd = exif.get_ifd(ExifTags.IFD.Exif)
    found.update(ifd_json(exif_ifd, ExifTags.TAGS))
    if gps := ifd_json(exif.get_ifd(ExifTags.IFD.GPSInfo), ExifTags.GPSTAGS):
        found["GPSInfo"] = gps
    # Pillow reads the Interop IFD only from inside the Exif IFD, and fails when there is none.
    interop = ifd_json(exif.get_ifd(ExifTags.IFD.Interop), ExifTags.TAGS) if exif_ifd else {}
    if interop:
        found["Interop"] = interop
    return found or None


def ifd_json(ifd: Mapping[int, Any], names: Mapping[int, str]) -> dict[str, Any]:
    """Return one IFD keyed by tag name (or hex tag number), without pointers or dropped values."""
    found: dict[str, Any] = {}
    for tag, raw in ifd.items():
        if tag in POINTERS:
            continue
        value = value_json(raw)
        if value is not DROP:
            found[names.get(tag, f"0x{tag:04X}")] = value
    return found


def value_json(value: object) -> object:
    """Return a JSON-safe form of one EXIF value, or DROP for what is not worth recording."""
    if isinstance(value, int):
        return int(value)
    if isinstance(value, numbers.Real):  # IFDRational and float; 0/0 rationals become None
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, str):
        return value.replace("\x00", "")  # PostgreSQL's jsonb refuses NUL characters
    if isinstance(value, bytes):
        return value.hex() if len(value) <= MAX_HEX_BYTES else DROP
    if isinstance(value, tuple | list):
        items = [value_json(item) for item in value]
        return [None if item is DROP else item for item in items]
    if isinstance(value, dict):
        nested = {str(key): value_json(item) for key, item in value.items()}
        return {key: item for key, item in nested.items() if item is not DROP}
    return DROP


def orientation_swaps(im: Image.Image, readable: bool) -> bool:
    """Return whether applying the EXIF orientation swaps the image's width and height."""
    return readable and im.getexif().get(ORIENTATION) in (5, 6, 7, 8)
