"""Tier-2 matching finds crops, rotations and flips of a photo, and links no different photo."""

from __future__ import annotations

import dataclasses
import io
import zipfile
from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont, ImageOps
from skimage import data

from attrition.dedup.features import (
    MATCH_POINTS,
    Features,
    extract,
    extract_mirrored,
    from_bytes,
    to_bytes,
    verify,
    verify_many,
)


def photo(name: str) -> Image.Image:
    """Return one of scikit-image's bundled photographs."""
    return Image.fromarray(getattr(data, name)())


def crop(img: Image.Image, share: float) -> Image.Image:
    """Return the image without `share` of its size on each side."""
    w, h = img.size
    return img.crop(
        (round(w * share), round(h * share), round(w * (1 - share)), round(h * (1 - share)))
    )


def jpeg(img: Image.Image, quality: int = 80) -> Image.Image:
    """Return the image after a JPEG round trip, as a repost would serve it."""
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality)
    return Image.open(io.BytesIO(out.getvalue()))


def screenshot(photo: Image.Image) -> Image.Image:
    """Return a phone screenshot of a channel post showing the photo, with its text and icons."""
    screen = Image.new("RGB", (1080, 2340), (242, 242, 247))
    draw = ImageDraw.Draw(screen)
    font = ImageFont.load_default(size=40)
    draw.text((60, 30), "12:41", font=font, fill=(0, 0, 0))
    draw.rounded_rectangle((920, 38, 1000, 72), radius=8, outline=(0, 0, 0), width=3)
    draw.ellipse((120, 120, 220, 220), fill=(70, 110, 160))
    draw.text((250, 130), "Frontline Monitor", font=font, fill=(0, 0, 0))
    fitted = ImageOps.contain(photo, (1020, 1250))
    screen.paste(fitted, (30 + (1020 - fitted.width) // 2, 280))
    for i, line in enumerate(["Destroyed armour near the crossing,", "geolocated. #osint #losses"]):
        draw.text((60, 1600 + 56 * i), line, font=font, fill=(20, 20, 20))
    draw.rounded_rectangle((40, 2200, 920, 2280), radius=40, outline=(200, 200, 200), width=3)
    return jpeg(screen, 85)


@pytest.fixture(scope="module")
def astronaut() -> Image.Image:
    return photo("astronaut")


@pytest.fixture(scope="module")
def stored(astronaut: Image.Image) -> Features:
    """The astronaut photo's features, as the index stores them."""
    return extract(astronaut)


def test_it_links_a_7_percent_crop_and_says_where_it_lies(
    astronaut: Image.Image, stored: Features
) -> None:
    verdict = verify(extract(jpeg(crop(astronaut, 0.07))), stored)
    assert verdict.same, verdict.reason
    assert verdict.inlier_ratio >= 0.9
    assert verdict.region_other == pytest.approx((0.07, 0.07, 0.86, 0.86), abs=0.01)
    assert verdict.region_query == pytest.approx((0.0, 0.0, 1.0, 1.0), abs=0.01)
    assert verdict.reason.startswith("Same photo")


def test_it_links_a_2_degree_rotation(astronaut: Image.Image, stored: Features) -> None:
    rotated = astronaut.rotate(2, Image.Resampling.BICUBIC, fillcolor=(0, 0, 0))
    verdict = verify(extract(jpeg(rotated)), stored)
    assert verdict.same, verdict.reason
    assert verdict.transform is not None
    scale, angle, *_ = verdict.transform
    assert scale == pytest.approx(1.0, abs=0.01)
    assert abs(angle) == pytest.approx(2.0, abs=0.2)
    assert verdict.region_other == pytest.approx((0.0, 0.0, 1.0, 1.0), abs=0.05)


def test_it_links_a_flip_through_the_mirrored_features(
    astronaut: Image.Image, stored: Features
) -> None:
    flipped = jpeg(ImageOps.mirror(astronaut))
    assert not verify(extract(flipped), stored).same
    verdict = verify(extract_mirrored(flipped), stored)
    assert verdict.same, verdict.reason


def test_it_does_not_link_an_unrelated_photo(stored: Features) -> None:
    verdict = verify(extract(photo("coffee")), stored)
    assert not verdict.same
    assert not verdict.suggest
    assert verdict.inliers < 10
    assert verdict.reason


def test_it_does_not_auto_link_the_stereo_pair() -> None:
    pair: Callable[[], tuple[np.ndarray, ...]] = data.stereo_motorcycle
    left, right = (Image.fromarray(a) for a in pair()[:2])
    verdict = verify(extract(left), extract(right))
    assert verdict.inliers >= 100  # one scene: many points agree, at one depth
    assert not verdict.same, verdict.reason
    assert verdict.suggest  # but it is worth a reviewer's look
    assert verdict.inlier_ratio < 0.7


def test_it_does_not_auto_link_different_photos_in_one_screenshot_frame(
    astronaut: Image.Image, stored: Features
) -> None:
    ours = extract(screenshot(astronaut))
    theirs = extract(screenshot(photo("chelsea")))
    shared_frame = verify(ours, theirs)
    assert shared_frame.inlier_ratio >= 0.7  # the frame's text and icons all match
    assert not shared_frame.same, shared_frame.reason
    assert shared_frame.photometric is not None
    assert shared_frame.photometric < 0.8
    found = verify(ours, stored)  # while the screenshot of the photo is found
    assert found.same, found.reason
    assert found.region_query is not None
    assert 0.05 < found.region_query[1] < 0.2  # below the status bar and the channel's header


def test_it_verifies_many_as_it_verifies_one(astronaut: Image.Image, stored: Features) -> None:
    query = extract(jpeg(crop(astronaut, 0.05)))
    others = [
        extract(photo("coffee")),
        stored,
        extract(photo("camera")),
    ]
    verdicts = verify_many(query, others)
    assert [v.same for v in verdicts] == [False, True, False]
    assert verdicts[1] == verify(query, stored)


def test_it_matches_no_keypoint_past_match_points(astronaut: Image.Image, stored: Features) -> None:
    query = extract(jpeg(crop(astronaut, 0.05)))
    assert min(len(query.keypoints), len(stored.keypoints)) > MATCH_POINTS

    def head(f: Features) -> Features:
        cut = slice(MATCH_POINTS)
        return dataclasses.replace(f, keypoints=f.keypoints[cut], descriptors=f.descriptors[cut])

    verdict = verify(query, stored)
    assert verdict.same, verdict.reason
    assert verdict.matches <= MATCH_POINTS
    assert verdict == verify(head(query), head(stored))  # the rest cost nothing and change nothing


def test_it_round_trips_features_through_bytes(stored: Features) -> None:
    b = to_bytes(stored)
    again = from_bytes(b)
    assert (again.width, again.height) == (stored.width, stored.height) == (512, 512)
    for name in ("keypoints", "descriptors"):
        assert np.array_equal(getattr(again, name), getattr(stored, name))
        assert getattr(again, name).dtype == getattr(stored, name).dtype
    assert again.thumb.shape == stored.thumb.shape == (256, 256)
    assert np.abs(again.thumb.astype(int) - stored.thumb).mean() < 2  # a good JPEG of it
    assert stored.descriptors.shape == (len(stored.keypoints), 61)
    assert len(b) < 200_000


def npz(**arrays: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.savez(out, **arrays)  # type: ignore[arg-type]
    return out.getvalue()


@pytest.mark.parametrize(
    "corrupt",
    [
        b"",
        b"not features at all",
        b"PK\x03\x04" + bytes(100),
        "truncated",
        "wrong shapes",
        "unknown format",
        "pickled",
        "not a jpeg thumbnail",
        "a complex header",
        "scalars",
    ],
)
def test_it_refuses_corrupt_bytes_with_a_value_error(
    stored: Features, corrupt: bytes | str
) -> None:
    good = to_bytes(stored)
    head = np.array([1, 512, 512], np.int32)
    cases = {
        "truncated": good[: len(good) // 2],
        "wrong shapes": npz(
            format=head,
            keypoints=np.zeros((3, 3), np.float32),
            descriptors=np.zeros((3, 61), np.uint8),
            thumb=np.zeros((4, 4), np.uint8),
        ),
        "unknown format": npz(
            format=np.array([99, 1, 1], np.int32),
            keypoints=stored.keypoints,
            descriptors=stored.descriptors,
            thumb=stored.thumb,
        ),
        "pickled": npz(
            format=head,
            keypoints=np.array([object()]),
            descriptors=stored.descriptors,
            thumb=stored.thumb,
        ),
        "a complex header": npz(
            format=np.array([1, 512, 512], np.complex64),
            keypoints=stored.keypoints,
            descriptors=stored.descriptors,
            thumb=stored.thumb,
        ),
        "scalars": npz(
            format=head,
            keypoints=np.array(1, np.float32),
            descriptors=np.array(1, np.uint8),
            thumb=np.array(1, np.uint8),
        ),
        "not a jpeg thumbnail": npz(
            format=head,
            keypoints=stored.keypoints,
            descriptors=stored.descriptors,
            thumb=np.frombuffer(b"\xff\xd8\xff" + bytes(200), np.uint8),
        ),
    }
    b = cases[corrupt] if isinstance(corrupt, str) else corrupt
    with pytest.raises(ValueError, match="features"):
        from_bytes(b)


def test_it_refuses_bytes_with_a_zip_member_missing(stored: Features) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z, zipfile.ZipFile(io.BytesIO(to_bytes(stored))) as src:
        for name in src.namelist():
            if name != "descriptors.npy":
                z.writestr(name, src.read(name))
    with pytest.raises(ValueError, match="not stored features"):
        from_bytes(out.getvalue())


def test_it_gives_a_clear_no_for_an_image_without_features(stored: Features) -> None:
    flat = extract(Image.new("RGB", (800, 600), (90, 120, 60)))
    assert len(flat.keypoints) == 0
    assert flat.thumb.shape == (222, 296)
    for verdict in (verify(flat, stored), verify(stored, flat), *verify_many(flat, [stored])):
        assert not verdict.same
        assert not verdict.suggest
        assert "too few features" in verdict.reason
    assert from_bytes(to_bytes(flat)).keypoints.shape == (0, 2)


def test_it_extracts_from_a_tiny_or_large_image() -> None:
    assert len(extract(Image.new("L", (10, 10))).keypoints) == 0
    big = extract(photo("astronaut").resize((2048, 2048)))
    assert big.width * big.height <= 1_000_000
    assert len(big.keypoints) == 2000
