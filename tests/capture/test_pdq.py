"""The pdq step hashes images after one canonical preprocessing, robust to what reposts do."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pdqhash
import pytest
from PIL import Image, ImageOps

from attrition.capture.errors import BadMedia
from attrition.capture.steps.pdq import (
    CANONICAL_SIDE,
    DIHEDRAL,
    QUALITY_FLOOR,
    Pdq,
    canonical_image,
    distance,
    fit,
    hash_dihedral,
    hash_image,
    open_canonical,
    run,
    to_bytes,
)
from tests.capture.clips import photo

NEAR = 31  # the dedup auto-link threshold
FAR = 63  # unrelated photos were never closer than 84 bits while designing


def saved(tmp_path: Path, img: Image.Image, name: str = "photo.jpg", **options: Any) -> Path:
    path = tmp_path / name
    img.save(path, **options)
    return path


@pytest.fixture(scope="module")
def original() -> Image.Image:
    return photo(1)


@pytest.fixture
def stored(tmp_path: Path, original: Image.Image) -> Pdq:
    """The hash of the original as it was archived: a good JPEG."""
    return run(path=saved(tmp_path, original, "original.jpg", quality=95))


def test_it_hashes_a_jpeg_reencode_within_31_bits(
    tmp_path: Path, original: Image.Image, stored: Pdq
) -> None:
    again = run(path=saved(tmp_path, original, quality=70))
    assert stored.quality == 100
    assert stored.trusted
    assert distance(stored.hex, again.hex) <= NEAR


def test_it_hashes_a_half_size_copy_within_31_bits(
    tmp_path: Path, original: Image.Image, stored: Pdq
) -> None:
    half = run(path=saved(tmp_path, original.resize((512, 384)), quality=90))
    assert distance(stored.hex, half.hex) <= NEAR


def test_it_trims_letterboxing_which_would_break_the_match(
    tmp_path: Path, original: Image.Image, stored: Pdq
) -> None:
    boxed = Image.new("RGB", (1024, 1024))
    boxed.paste(original, (0, 128))
    copy = run(path=saved(tmp_path, boxed, quality=85))
    assert distance(stored.hex, copy.hex) <= NEAR
    untrimmed = hash_image(fit(boxed, CANONICAL_SIDE))
    assert distance(hash_image(fit(original, CANONICAL_SIDE)).hex, untrimmed.hex) > NEAR
    assert (
        canonical_image(boxed).size
        == canonical_image(original).size
        == (CANONICAL_SIDE, CANONICAL_SIDE * 3 // 4)
    )


def test_it_trims_pillarboxes_and_a_margin_of_another_colour(original: Image.Image) -> None:
    framed = Image.new("RGB", (1400, 900), (250, 250, 250))
    framed.paste(Image.new("RGB", (1200, 900), (0, 0, 0)), (100, 0))
    framed.paste(original, (188, 66))  # black pillarboxes inside a white margin
    direct = hash_image(canonical_image(original))
    assert distance(direct.hex, hash_image(canonical_image(framed)).hex) <= 8


def test_it_leaves_a_sky_alone(original: Image.Image) -> None:
    pixels = np.asarray(original).copy()
    fade = np.linspace(0, 1, 300)[:, None, None]
    pixels[:300] = np.array([150, 180, 230]) * (1 - fade) + np.array([175, 205, 245]) * fade
    # A slow fade is content.
    assert canonical_image(Image.fromarray(pixels)).size == (
        CANONICAL_SIDE,
        CANONICAL_SIDE * 3 // 4,
    )
    pixels[:300] = (200, 205, 210)
    pixels[250:300, 100:300] = (60, 60, 60)  # a roof against a flat, overcast sky
    assert canonical_image(Image.fromarray(pixels)).size == (
        CANONICAL_SIDE,
        CANONICAL_SIDE * 3 // 4,
    )


def test_it_finds_a_mirrored_copy_among_the_dihedral_hashes(
    tmp_path: Path, original: Image.Image, stored: Pdq
) -> None:
    mirrored = open_canonical(saved(tmp_path, ImageOps.mirror(original), quality=90))
    hashes = hash_dihedral(mirrored)
    assert len(hashes) == 8
    assert hashes[0] == hash_image(mirrored)
    assert distance(stored.hex, hashes[0].hex) > NEAR  # PDQ itself is not flip-invariant
    assert min(distance(stored.hex, h.hex) for h in hashes) <= NEAR
    # The variant is hashed from the mirrored pixels, so it lands on the stored hash itself.
    assert distance(stored.hex, hashes[DIHEDRAL.index("flip_y")].hex) <= 8


def test_it_finds_a_quarter_turned_copy_among_the_dihedral_hashes(
    tmp_path: Path, original: Image.Image, stored: Pdq
) -> None:
    turned = open_canonical(
        saved(tmp_path, original.transpose(Image.Transpose.ROTATE_270), quality=90)
    )
    hashes = hash_dihedral(turned)
    assert distance(stored.hex, hashes[0].hex) > NEAR
    assert distance(stored.hex, hashes[DIHEDRAL.index("rot90")].hex) <= 8


def test_it_keeps_unrelated_images_far_apart(stored: Pdq) -> None:
    for seed in (2, 3, 4):
        other = hash_image(canonical_image(photo(seed)))
        assert distance(stored.hex, other.hex) > FAR


def test_it_distrusts_a_flat_image() -> None:
    flat = Image.new("RGB", (640, 480), (90, 110, 70))
    canonical = canonical_image(flat)
    assert canonical.size == (
        CANONICAL_SIDE,
        CANONICAL_SIDE * 3 // 4,
    )  # all border: kept whole, never trimmed away
    digest = hash_image(canonical)
    assert digest.quality < QUALITY_FLOOR
    assert not digest.trusted


def test_it_applies_the_exif_orientation(tmp_path: Path, original: Image.Image) -> None:
    upright = original.transpose(Image.Transpose.ROTATE_270)  # what orientation 6 displays
    exif = Image.Exif()
    exif[0x0112] = 6
    tagged = run(path=saved(tmp_path, original, "tagged.jpg", quality=90, exif=exif))
    plain = run(path=saved(tmp_path, upright, "upright.jpg", quality=90))
    assert open_canonical(tmp_path / "tagged.jpg").size == (CANONICAL_SIDE * 3 // 4, CANONICAL_SIDE)
    assert distance(tagged.hex, plain.hex) <= 8
    assert distance(tagged.hex, run(path=saved(tmp_path, original, quality=90)).hex) > NEAR


def test_it_reduces_a_large_jpeg_on_decode_within_a_few_bits_of_a_full_decode(
    tmp_path: Path,
) -> None:
    big = photo(5, (2048, 1536))
    path = saved(tmp_path, big, quality=90)
    reduced = open_canonical(path)
    with Image.open(path) as full:
        fully = canonical_image(full)
    assert reduced.size == fully.size == (CANONICAL_SIDE, CANONICAL_SIDE * 3 // 4)
    assert distance(hash_image(reduced).hex, hash_image(fully).hex) <= 8


def test_it_flattens_transparency_onto_white(original: Image.Image) -> None:
    rgba = original.convert("RGBA")
    rgba.putalpha(Image.new("L", rgba.size, 255))
    rgba.paste((0, 0, 0, 0), (0, 0, 300, 300))  # transparent black
    white = original.copy()
    white.paste((255, 255, 255), (0, 0, 300, 300))
    assert hash_image(canonical_image(rgba)) == hash_image(canonical_image(white))


def test_it_reads_png_and_heic_like_jpeg(tmp_path: Path, original: Image.Image) -> None:
    small = fit(original, CANONICAL_SIDE)
    direct = hash_image(canonical_image(small))
    for name, options in (("photo.png", {}), ("photo.heic", {"quality": 90})):
        assert distance(direct.hex, run(path=saved(tmp_path, small, name, **options)).hex) <= 8


def test_it_measures_distance_in_bits() -> None:
    zeros, ones = "0" * 64, "f" * 64
    assert distance(zeros, ones) == 256
    assert distance(ones, ones) == 0
    assert distance(zeros, "8" + "0" * 62 + "1") == 2
    assert distance(zeros.upper(), ones.upper()) == 256
    with pytest.raises(ValueError, match="not a PDQ hash"):
        distance(zeros, "f" * 63)


def test_it_packs_hex_into_32_bytes_in_the_same_bit_order() -> None:
    packed = to_bytes("80" + "00" * 30 + "01")
    assert len(packed) == 32
    assert packed[0] == 0x80
    assert packed[-1] == 0x01
    assert not any(packed[1:-1])
    with pytest.raises(ValueError, match="not a PDQ hash"):
        to_bytes("0x" + "0" * 62)


def test_it_writes_the_reference_bit_order(original: Image.Image) -> None:
    canonical = canonical_image(original)
    bits, _ = pdqhash.compute(np.asarray(canonical))  # bits[0] is the reference's bit 255
    digest = hash_image(canonical)
    assert int(digest.hex[0], 16) == int("".join(str(b) for b in bits[:4]), 2)
    assert np.unpackbits(np.frombuffer(to_bytes(digest.hex), np.uint8)).tolist() == list(bits)


def test_it_refuses_a_value_that_is_not_a_hash() -> None:
    with pytest.raises(ValueError, match="not a PDQ hash"):
        Pdq(hex="F" * 64, quality=100)


def encoded(img: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt)
    return out.getvalue()


@pytest.mark.parametrize(
    "name", ["empty.jpg", "noise.jpg", "page.jpg", "truncated.jpg", "picture.ppm"]
)
def test_it_raises_bad_media_for_what_it_cannot_decode(
    tmp_path: Path, original: Image.Image, name: str
) -> None:
    body = {
        "empty.jpg": b"",
        "noise.jpg": bytes(range(256)) * 64,
        "page.jpg": b"<!doctype html><html><body>Not found</body></html>",
        "truncated.jpg": encoded(original, "JPEG")[:20_000],
        "picture.ppm": encoded(original, "PPM"),  # a format Pillow reads, but not one we accept
    }[name]
    path = tmp_path / name
    path.write_bytes(body)
    with pytest.raises(BadMedia, match=f"{name} is not a decodable image"):
        run(path=path)
    assert path.read_bytes() == body


def test_it_lets_a_missing_file_be_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        run(path=tmp_path / "gone.jpg")
