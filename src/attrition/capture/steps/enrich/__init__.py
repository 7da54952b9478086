"""Step 5, enrich: learn what a stored original is, and make an image's public derivatives.

The type is sniffed from the bytes with python-magic, never taken from the Content-Type or the
file name, and a source that serves HTML, text or anything else as an image or a video is
refused. An image's size is checked from its header before any decoding (a decompression bomb
is never decoded); it is then fully decoded (a truncated file is refused), its EXIF recorded as
found, and its upright first frame resized into derivatives stripped of all metadata. Videos
are only sniffed: the video step probes them. The original is only read, files are written only
inside `workdir`, and nothing here touches the database or storage: the job that calls this step
stores the derivatives and writes the records.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import magic

from attrition.capture.errors import BadMedia
from attrition.capture.steps.enrich.image import FORMATS, Derivative, picture_read

__all__ = ["MAX_PIXELS", "Derivative", "Enriched", "kind_of", "run"]

# Pillow also refuses on its own any image over twice PIL.Image.MAX_IMAGE_PIXELS (~179 million
# pixels by default), whatever the max_pixels of run() says.
MAX_PIXELS = 100_000_000
SNIFF_BYTES = 64 * 1024
IMAGE, VIDEO, PAGE, OTHER = "image", "video", "page", "other"  # Capture.Kind values
PAGE_MIMES = frozenset({"text/html", "application/xhtml+xml"})
# Video containers that libmagic or servers sometimes name application/*.
VIDEO_MIMES = frozenset({"application/mp4", "application/x-matroska"})
# Media types a Content-Type may claim, and the bytes may be, without the source lying.
MEDIA_MAJORS = frozenset({"image", "video", "audio"})
# Old or informal names for the same type, so that they are not noted as a mismatch.
ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/x-png": "image/png",
    "image/x-ms-bmp": "image/bmp",
    "image/x-icon": "image/vnd.microsoft.icon",
}


@dataclass(frozen=True)
class Enriched:
    """What the bytes of an original are; width and height are as displayed (EXIF-upright)."""

    mime: str
    kind: str
    width: int | None
    height: int | None
    exif: dict[str, Any] | None
    derivatives: tuple[Derivative, ...]
    notes: tuple[str, ...]
    frames: int | None = None


def run(
    *, path: Path, workdir: Path, declared_mime: str = "", max_pixels: int = MAX_PIXELS
) -> Enriched:
    """Return what the file at `path` is, with derivatives in `workdir`, or raise BadMedia."""
    with path.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
    declared = mime_clean(declared_mime)
    if not head:
        raise BadMedia("the file is empty (0 bytes)", details={"declared_mime": declared})
    mime = str(magic.from_buffer(head, mime=True))
    notes = declared_check(declared, mime)
    kind = kind_of(mime)
    if kind == OTHER and mime.startswith("image/"):
        notes.append(f"{mime} is not an image format this step decodes; kept as {OTHER}")
    if kind != IMAGE:
        return Enriched(
            mime=mime,
            kind=kind,
            width=None,
            height=None,
            exif=None,
            derivatives=(),
            notes=tuple(notes),
        )
    picture = picture_read(path=path, mime=mime, workdir=workdir, max_pixels=max_pixels)
    return Enriched(
        mime=mime,
        kind=IMAGE,
        width=picture.width,
        height=picture.height,
        exif=picture.exif,
        derivatives=picture.derivatives,
        notes=(*notes, *picture.notes),
        frames=picture.frames,
    )


def kind_of(mime: str) -> str:
    """Return the capture kind of a sniffed media type."""
    if mime in FORMATS:
        return IMAGE
    if mime.startswith("video/") or mime in VIDEO_MIMES:
        return VIDEO
    if mime in PAGE_MIMES:
        return PAGE
    return OTHER


def mime_clean(declared: str) -> str:
    """Return a Content-Type without its parameters, lower-cased, under its usual name."""
    bare = declared.split(";", 1)[0].strip().lower()
    return ALIASES.get(bare, bare)


def declared_check(declared: str, mime: str) -> list[str]:
    """Return notes on how the declared type differs from the bytes; raise if they are not media."""
    if not declared or ALIASES.get(mime, mime) == declared:
        return []
    claimed = f"served as {declared} but the bytes are {mime}"
    if declared.split("/", 1)[0] in MEDIA_MAJORS and not is_media(mime):
        raise BadMedia(claimed, details={"declared_mime": declared, "sniffed_mime": mime})
    return [claimed]


def is_media(mime: str) -> bool:
    """Return whether a sniffed type is an image, a video or audio."""
    return mime.split("/", 1)[0] in MEDIA_MAJORS or mime in VIDEO_MIMES
