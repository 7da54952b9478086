"""The enrich step sniffs the bytes, refuses bad media, records EXIF and makes clean derivatives."""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import av
import pytest
from PIL import Image, ImageFile

from attrition.capture.errors import BadMedia
from attrition.capture.steps.enrich import Enriched, run
from tests.capture import media

RED, BLUE, WHITE = (255, 0, 0), (0, 0, 255), (255, 255, 255)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


def original(tmp_path: Path, body: bytes) -> Path:
    path = tmp_path / "original.bin"
    path.write_bytes(body)
    return path


def enrich(tmp_path: Path, workdir: Path, body: bytes, **kwargs: Any) -> Enriched:
    return run(path=original(tmp_path, body), workdir=workdir, **kwargs)


def refuse(tmp_path: Path, workdir: Path, body: bytes, match: str, **kwargs: Any) -> BadMedia:
    """Run the step on bytes it must refuse, and check it left the original and workdir alone."""
    path = original(tmp_path, body)
    with pytest.raises(BadMedia, match=match) as refused:
        run(path=path, workdir=workdir, **kwargs)
    assert path.read_bytes() == body
    assert list(workdir.iterdir()) == []
    assert refused.value.code == "bad_media"
    return refused.value


def near(pixel: object, color: tuple[int, int, int]) -> bool:
    """Return whether a pixel is close to a colour (JPEG is lossy)."""
    assert isinstance(pixel, tuple)
    return all(abs(got - want) <= 40 for got, want in zip(pixel, color, strict=True))


def opened(path: Path) -> Image.Image:
    with Image.open(path) as im:
        im.load()
        return im


@pytest.mark.parametrize(
    ("fmt", "mime"),
    [
        ("JPEG", "image/jpeg"),
        ("PNG", "image/png"),
        ("WEBP", "image/webp"),
        ("GIF", "image/gif"),
        ("AVIF", "image/avif"),
        ("TIFF", "image/tiff"),
        ("BMP", "image/bmp"),
        ("HEIF", "image/heic"),
    ],
)
def test_it_sniffs_and_decodes_each_image_format(
    tmp_path: Path, workdir: Path, fmt: str, mime: str
) -> None:
    enriched = enrich(tmp_path, workdir, media.image_bytes(fmt, (64, 48)))
    assert (enriched.mime, enriched.kind) == (mime, "image")
    assert (enriched.width, enriched.height, enriched.frames) == (64, 48, 1)
    assert [d.name for d in enriched.derivatives] == ["web", "thumb"]
    for derivative in enriched.derivatives:
        assert derivative.mime == "image/jpeg"
        assert opened(derivative.path).format == "JPEG"
        assert opened(derivative.path).size == (derivative.width, derivative.height) == (64, 48)


@pytest.mark.parametrize(
    ("container", "codec", "mime"),
    [
        ("mp4", "mpeg4", "video/mp4"),
        ("mp4", "libx264", "video/mp4"),
        ("webm", "libvpx", "video/webm"),
        ("matroska", "mpeg4", "video/x-matroska"),
        ("mov", "mpeg4", "video/quicktime"),
    ],
)
def test_it_only_sniffs_videos(
    tmp_path: Path, workdir: Path, container: str, codec: str, mime: str
) -> None:
    if codec not in av.codecs_available:
        pytest.skip(f"this PyAV build has no {codec} encoder")
    enriched = enrich(tmp_path, workdir, media.video_bytes(container, codec), declared_mime=mime)
    assert (enriched.mime, enriched.kind) == (mime, "video")
    assert (enriched.width, enriched.height, enriched.exif, enriched.frames) == (None,) * 4
    assert enriched.derivatives == ()
    assert enriched.notes == ()
    assert list(workdir.iterdir()) == []


def test_it_sniffs_a_page(tmp_path: Path, workdir: Path) -> None:
    enriched = enrich(tmp_path, workdir, media.PAGE, declared_mime="text/html; charset=utf-8")
    assert (enriched.mime, enriched.kind, enriched.derivatives, enriched.notes) == (
        "text/html",
        "page",
        (),
        (),
    )


def test_it_calls_anything_else_other(tmp_path: Path, workdir: Path) -> None:
    enriched = enrich(tmp_path, workdir, b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    assert (enriched.mime, enriched.kind, enriched.derivatives) == ("application/pdf", "other", ())


def test_it_notes_a_content_type_that_differs_from_the_bytes(tmp_path: Path, workdir: Path) -> None:
    enriched = enrich(tmp_path, workdir, media.image_bytes("PNG"), declared_mime="image/jpeg")
    assert enriched.mime == "image/png"
    assert enriched.notes == ("served as image/jpeg but the bytes are image/png",)
    alias = enrich(tmp_path, workdir, media.image_bytes("JPEG"), declared_mime="image/jpg")
    assert alias.notes == ()


@pytest.mark.parametrize(
    ("declared", "body", "sniffed"),
    [
        ("image/jpeg", media.PAGE, "text/html"),
        ("video/mp4", media.PAGE, "text/html"),
        ("image/png", b"just some words, not a picture\n", "text/plain"),
    ],
)
def test_it_refuses_a_non_media_file_served_as_media(
    tmp_path: Path, workdir: Path, declared: str, body: bytes, sniffed: str
) -> None:
    error = refuse(
        tmp_path,
        workdir,
        body,
        f"served as {declared} but the bytes are {sniffed}",
        declared_mime=declared,
    )
    assert error.details == {"declared_mime": declared, "sniffed_mime": sniffed}


def test_it_refuses_an_empty_file(tmp_path: Path, workdir: Path) -> None:
    refuse(tmp_path, workdir, b"", "empty", declared_mime="image/jpeg")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_it_refuses_a_truncated_image(tmp_path: Path, workdir: Path, fmt: str) -> None:
    whole = media.image_bytes(fmt, (200, 150), "navy")
    error = refuse(tmp_path, workdir, whole[: len(whole) // 2], "cannot be decoded")
    assert error.details["error"] == "OSError"
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_it_refuses_corrupt_data(tmp_path: Path, workdir: Path) -> None:
    whole = media.image_bytes("JPEG", (200, 150))
    corrupt = whole[:400] + bytes(255 - b for b in whole[400:600]) + whole[600:]
    error = refuse(tmp_path, workdir, corrupt, "image/jpeg but cannot be decoded")
    assert error.details["message"]


@pytest.mark.parametrize(
    ("width", "height", "match"),
    [
        (12_000, 12_000, "over the limit of 100000000: refused without decoding"),
        (100_000, 100_000, "refused as a possible decompression bomb"),  # Pillow's own limit
    ],
)
def test_it_refuses_a_decompression_bomb_without_decoding(
    tmp_path: Path,
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    width: int,
    height: int,
    match: str,
) -> None:
    def no_decoding(self: Image.Image) -> None:
        raise AssertionError("a bomb was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    refuse(tmp_path, workdir, media.png_claiming(width, height), match)


def test_it_takes_a_pixel_limit(tmp_path: Path, workdir: Path) -> None:
    body = media.image_bytes("PNG", (40, 40))
    refuse(tmp_path, workdir, body, "1600 pixels", max_pixels=1000)
    assert enrich(tmp_path, workdir, body, max_pixels=1600).width == 40


def test_it_keeps_pillows_bomb_warning_to_itself(
    tmp_path: Path, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # warns over 1000, refuses over 2000
    enriched = enrich(tmp_path, workdir, media.image_bytes("PNG", (40, 40)))
    assert (enriched.width, enriched.notes) == (40, ())


def test_it_records_exif_with_gps_and_orientation(tmp_path: Path, workdir: Path) -> None:
    body = media.image_bytes("JPEG", (80, 40), exif=media.camera_exif(orientation=6))
    exif = enrich(tmp_path, workdir, body).exif
    assert exif is not None
    assert exif["Make"] == "Canon"
    assert exif["Orientation"] == 6
    assert exif["DateTimeOriginal"] == "2024:05:06 07:08:09"
    assert "MakerNote" not in exif
    assert exif["GPSInfo"] == {
        "GPSVersionID": "02020000",
        "GPSLatitudeRef": "N",
        "GPSLatitude": [50.0, 27.0, 12.5],
        "GPSLongitudeRef": "E",
        "GPSLongitude": [30.0, 31.0, 0.25],
    }
    json.dumps(exif, allow_nan=False)
    assert enrich(tmp_path, workdir, media.image_bytes("PNG")).exif is None


def test_it_strips_all_metadata_from_derivatives(tmp_path: Path, workdir: Path) -> None:
    body = media.image_bytes(
        "JPEG", exif=media.camera_exif(), icc_profile=media.srgb_icc(), comment=b"secret"
    )
    for derivative in enrich(tmp_path, workdir, body).derivatives:
        im = opened(derivative.path)
        assert dict(im.getexif()) == {}
        assert not {"exif", "icc_profile", "comment", "xmp"} & set(im.info)
        assert b"secret" not in derivative.path.read_bytes()


def test_it_turns_derivatives_upright(tmp_path: Path, workdir: Path) -> None:
    out = io.BytesIO()
    media.halves((400, 200)).save(out, "JPEG", exif=media.camera_exif(orientation=6))
    enriched = enrich(tmp_path, workdir, out.getvalue())
    assert (enriched.width, enriched.height) == (200, 400)
    for derivative in enriched.derivatives:
        im = opened(derivative.path)
        assert im.width < im.height
        # Orientation 6 is turned 90 degrees clockwise: the left half ends up on top.
        assert near(im.getpixel((im.width // 2, im.height // 4)), RED)
        assert near(im.getpixel((im.width // 2, 3 * im.height // 4)), BLUE)


def test_it_keeps_a_heic_upright_once(tmp_path: Path, workdir: Path) -> None:
    body = media.image_bytes("HEIF", (80, 40), exif=media.camera_exif(orientation=6).tobytes())
    enriched = enrich(tmp_path, workdir, body)
    assert enriched.exif is not None
    assert enriched.exif["Orientation"] == 6
    assert (enriched.width, enriched.height) == (40, 80)
    assert opened(enriched.derivatives[0].path).size == (40, 80)


def test_it_sizes_derivatives_within_limits(tmp_path: Path, workdir: Path) -> None:
    enriched = enrich(tmp_path, workdir, media.image_bytes("JPEG", (2400, 1200)))
    assert (enriched.width, enriched.height) == (2400, 1200)
    sizes = {d.name: (d.width, d.height) for d in enriched.derivatives}
    assert sizes == {"web": (1600, 800), "thumb": (320, 160)}
    assert {d.name: opened(d.path).size for d in enriched.derivatives} == sizes


def test_it_never_upscales(tmp_path: Path, workdir: Path) -> None:
    enriched = enrich(tmp_path, workdir, media.image_bytes("PNG", (100, 50)))
    assert [(d.width, d.height) for d in enriched.derivatives] == [(100, 50), (100, 50)]


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_it_uses_the_first_frame_of_an_animation(tmp_path: Path, workdir: Path, fmt: str) -> None:
    enriched = enrich(tmp_path, workdir, media.animation(fmt))
    assert enriched.frames == 3
    assert "3 frames; the derivatives show the first" in enriched.notes
    assert near(opened(enriched.derivatives[0].path).getpixel((20, 15)), RED)


def test_it_flattens_transparency_onto_white(tmp_path: Path, workdir: Path) -> None:
    out = io.BytesIO()
    Image.new("RGBA", (30, 30), (255, 0, 0, 0)).save(out, "PNG")
    derivative = enrich(tmp_path, workdir, out.getvalue()).derivatives[0]
    assert opened(derivative.path).getpixel((15, 15)) == WHITE


def test_it_writes_nothing_outside_workdir(
    tmp_path: Path, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    body = media.image_bytes("JPEG", (2000, 1000), exif=media.camera_exif())
    path = original(tmp_path, body)
    before = os.stat(path)
    enriched = run(path=path, workdir=workdir, declared_mime="image/jpeg")
    assert sorted(workdir.iterdir()) == sorted(d.path for d in enriched.derivatives)
    assert sorted(tmp_path.iterdir()) == sorted([path, workdir, scratch])
    assert list(scratch.iterdir()) == []
    assert path.read_bytes() == body
    assert os.stat(path).st_mtime_ns == before.st_mtime_ns
