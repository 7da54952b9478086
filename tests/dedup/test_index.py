"""The media index finds the same photo or video frame by PDQ, at once, from any process."""

from __future__ import annotations

import contextlib
import hashlib
import io
import itertools
import logging
from pathlib import Path

import pytest
from django.db import transaction
from PIL import Image

from attrition.capture.steps import pdq
from attrition.capture.steps.pdq import Pdq
from attrition.capture.steps.video import Video, run
from attrition.dedup import index as index_module
from attrition.dedup.index import (
    AUTO_LINK,
    MediaIndex,
    match_image,
    media_index,
    parse_hashes,
    parse_rows,
)
from attrition.dedup.video_match import match_video
from attrition.evidence.models import Capture, FrameHash
from tests.capture.clips import clip, photo, view

_serial = itertools.count()


class Abort(Exception):
    """Raised to roll a transaction back."""


def hashed(img: Image.Image) -> Pdq:
    return pdq.hash_image(pdq.canonical_image(img))


def reencoded(img: Image.Image, quality: int = 60) -> Image.Image:
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", quality=quality)
    buffer.seek(0)
    with Image.open(buffer) as out:
        return out.convert("RGB")


def flipped(hex: str, bits: int) -> str:
    """Return the hash with its lowest `bits` bits inverted: exactly `bits` away."""
    return f"{int(hex, 16) ^ ((1 << bits) - 1):064x}"


def still_make(digest: Pdq, *, quality: int | None = None, pk: int | None = None) -> Capture:
    n = next(_serial)
    return Capture.objects.create(
        pk=pk,
        sha256=hashlib.sha256(f"still {n}".encode()).hexdigest(),
        kind=Capture.Kind.IMAGE,
        storage_key=f"originals/{n}",
        mime="image/jpeg",
        size_bytes=1,
        pdq=digest.hex,
        pdq_quality=digest.quality if quality is None else quality,
    )


def video_make(video: Video) -> Capture:
    n = next(_serial)
    capture = Capture.objects.create(
        sha256=hashlib.sha256(f"video {n}".encode()).hexdigest(),
        kind=Capture.Kind.VIDEO,
        storage_key=f"originals/{n}",
        mime="video/mp4",
        size_bytes=1,
        duration_s=video.duration_s,
    )
    FrameHash.objects.bulk_create(
        FrameHash(
            capture=capture,
            t_ms=f.t_ms,
            is_keyframe=f.is_keyframe,
            pdq=f.pdq.hex,
            pdq_quality=f.pdq.quality,
        )
        for f in video.frames
    )
    return capture


@pytest.fixture(scope="module")
def scene() -> Image.Image:
    return photo(1)


@pytest.fixture(scope="module")
def original(scene: Image.Image) -> Pdq:
    return hashed(scene)


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Video]:
    """A 20 s video, a 4 s clip cut from it at 5 s, and an unrelated 4 s clip (10 fps)."""
    media: Path = tmp_path_factory.mktemp("videos")
    specs = {"compilation": (20, 0), "cut": (4, 50), "unrelated": (4, 300)}
    return {
        name: run(
            path=clip(media / f"{name}.mp4", seconds=seconds, first=first),
            workdir=media / name,
        )
        for name, (seconds, first) in specs.items()
    }


def test_it_matches_a_reencoded_photo_and_not_an_unrelated_one(
    db: None, scene: Image.Image, original: Pdq
) -> None:
    same = still_make(original)
    still_make(hashed(photo(2)))
    copy = hashed(reencoded(scene))
    hits = MediaIndex().search([copy.hex], qualities=[copy.quality])
    assert [(h.capture_id, h.t_ms, h.trusted) for h in hits] == [(same.pk, None, True)]
    assert hits[0].distance <= AUTO_LINK


def test_it_finds_a_hash_inserted_after_it_loaded(db: None, original: Pdq) -> None:
    index = MediaIndex()
    index.sync()
    before = len(index)
    # Another process inserts: the index is not told.
    capture = still_make(original)
    hits = index.search([original.hex])
    assert [(h.capture_id, h.distance) for h in hits] == [(capture.pk, 0)]
    assert len(index) == before + 1


def test_it_finds_a_mirrored_photo_through_its_dihedral_hashes(
    db: None, scene: Image.Image, original: Pdq
) -> None:
    capture = still_make(original)
    index = MediaIndex()
    mirrored = pdq.hash_dihedral(
        pdq.canonical_image(scene.transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    )
    assert index.search([mirrored[0].hex]) == []  # as it is, the mirror image is far
    matches = match_image([h.hex for h in mirrored], quality=mirrored[0].quality, index=index)
    assert [m.capture_id for m in matches] == [capture.pk]
    assert matches[0].variant in ("flip_x", "flip_y")
    assert matches[0].auto_link


def test_it_finds_a_clip_inside_a_compilation_with_its_time_ranges(
    db: None, videos: dict[str, Video]
) -> None:
    compilation, cut = video_make(videos["compilation"]), video_make(videos["cut"])
    video_make(videos["unrelated"])
    index = MediaIndex()
    found = match_video(cut.pk, index=index).videos
    assert [m.capture_id for m in found] == [compilation.pk]
    match = found[0]
    assert match.frames >= 3
    assert (match.query_start_ms, match.query_end_ms) == (0, 3000)
    assert (match.other_start_ms, match.other_end_ms) == (5000, 8000)
    assert match.offset_ms == 5000
    back = match_video(compilation.pk, index=index).videos
    assert [(m.capture_id, m.query_start_ms, m.other_start_ms) for m in back] == [(cut.pk, 5000, 0)]


def test_it_matches_a_still_of_a_video_frame(db: None, videos: dict[str, Video]) -> None:
    compilation = video_make(videos["compilation"])
    still = hashed(view(60))  # what the compilation shows at 6 s
    capture = still_make(still)
    index = MediaIndex()
    stills = match_video(compilation.pk, index=index).stills
    assert [(m.capture_id, m.t_ms, m.trusted) for m in stills] == [(capture.pk, 6000, True)]
    matches = match_image(
        [still.hex], quality=still.quality, index=index, exclude_capture=capture.pk
    )
    assert [(m.capture_id, m.t_ms, m.auto_link) for m in matches] == [(compilation.pk, 6000, True)]


def test_it_marks_hits_from_or_to_a_low_quality_hash_untrusted(db: None, original: Pdq) -> None:
    flat = hashed(Image.new("RGB", (320, 240), (120, 130, 140)))
    assert not flat.trusted
    weak = still_make(original, quality=10)
    still_make(flat)
    index = MediaIndex()
    assert [h.trusted for h in index.search([original.hex], qualities=[90])] == [False]
    assert [h.trusted for h in index.search([flat.hex], qualities=[flat.quality])] == [False]
    strong = still_make(hashed(photo(3)))
    assert [h.trusted for h in index.search([strong.pdq], qualities=[5])] == [False]
    matches = match_image([original.hex], quality=original.quality, index=index)
    assert [(m.capture_id, m.auto_link) for m in matches] == [(weak.pk, False)]


def test_it_skips_malformed_hashes_when_loading(
    original: Pdq, caplog: pytest.LogCaptureFixture
) -> None:
    good = original.hex
    values: list[object] = ["zz" * 32, "ab", "", None, 42, good, good.upper(), "a " * 32]
    codes, kept = parse_hashes(values)
    assert kept == [5, 6]
    assert codes.shape == (2, 32)
    assert codes[0].tobytes() == pdq.to_bytes(good)
    rows = [(1, 1, -1, "zz" * 32, 90), (2, 2, -1, good, 90), (3, 3, 0, good[:-2], 90)]
    with caplog.at_level(logging.WARNING, logger="attrition.dedup.index"):
        codes, loaded = parse_rows(rows)
    assert [row[0] for row in loaded] == [2]
    assert "skipped 2 rows with a malformed PDQ hash, pk [1, 3]" in caplog.text


def test_it_skips_malformed_query_hashes(db: None, original: Pdq) -> None:
    capture = still_make(original)
    hits = MediaIndex().search(["zz" * 32, original.hex, ""])
    assert [(h.capture_id, h.query_index) for h in hits] == [(capture.pk, 1)]


def test_it_offers_the_review_band_through_nearest(db: None, original: Pdq) -> None:
    near = still_make(Pdq(hex=flipped(original.hex, 40), quality=original.quality))
    far = still_make(Pdq(hex=flipped(original.hex, 70), quality=original.quality))
    index = MediaIndex()
    assert index.search([original.hex]) == []
    assert [(h.capture_id, h.distance) for h in index.nearest(original.hex)] == [(near.pk, 40)]
    assert [h.capture_id for h in index.nearest(original.hex, radius=100)] == [near.pk, far.pk]
    matches = match_image([original.hex], quality=original.quality, index=index)
    assert [(m.capture_id, m.distance, m.auto_link) for m in matches] == [(near.pk, 40, False)]


def test_it_drops_a_deleted_row_on_reload(db: None, original: Pdq) -> None:
    kept, gone = still_make(original), still_make(hashed(photo(4)))
    index = MediaIndex()
    index.sync()
    size = len(index)
    gone_hash = gone.pdq
    gone.delete()
    assert index.search([gone_hash]) == []  # never returned, even before a reload
    assert index.reload() == size - 1
    assert [h.capture_id for h in index.search([original.hex])] == [kept.pk]


def test_it_forgets_rows_a_rolled_back_transaction_showed_it(db: None, original: Pdq) -> None:
    index = MediaIndex()
    other = hashed(photo(5))
    with contextlib.suppress(Abort), transaction.atomic():
        doomed = still_make(original)
        assert [h.capture_id for h in index.search([original.hex])] == [doomed.pk]
        raise Abort
    # SQLite hands the rolled-back key out again; PostgreSQL does not.
    later = still_make(other)
    assert [h.capture_id for h in index.search([other.hex])] == [later.pk]
    assert index.search([original.hex]) == []


def test_it_finds_a_row_committed_below_its_high_water_mark(db: None, original: Pdq) -> None:
    index = MediaIndex()
    top = (Capture.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 100
    still_make(hashed(photo(6)), pk=top)
    index.sync()
    # A transaction that took its key earlier commits now.
    late = still_make(original, pk=top - 5)
    assert [h.capture_id for h in index.search([original.hex])] == [late.pk]


def test_it_rebuilds_when_a_committed_row_is_gone(transactional_db: None, original: Pdq) -> None:
    kept, gone = still_make(original), still_make(hashed(photo(7)))
    index = MediaIndex()
    assert len(index.search([gone.pdq])) == 1
    gone_hash = gone.pdq
    FrameHash.objects.all().delete()
    gone.delete()
    assert index.search([gone_hash]) == []
    assert len(index) == Capture.objects.exclude(pdq="").count()
    assert [h.capture_id for h in index.search([original.hex])] == [kept.pk]


def test_it_searches_across_shards(
    db: None, original: Pdq, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index_module, "SHARD", 2)
    hashes = [flipped(original.hex, bits) for bits in (0, 64, 128, 192, 256)]
    captures = [still_make(Pdq(hex=h, quality=original.quality)) for h in hashes]
    index = MediaIndex()
    hits = index.search(hashes, radius=10)
    assert [(h.query_index, h.capture_id, h.distance) for h in hits] == [
        (i, c.pk, 0) for i, c in enumerate(captures)
    ]


def test_it_is_one_index_per_process() -> None:
    assert media_index() is media_index()
