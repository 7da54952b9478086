"""Tier 2 in the flow: features stored at capture, and a crop PDQ misses linked through the
losses that show the two pictures."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image
from skimage import data

from attrition.capture import pipeline
from attrition.capture.models import CaptureJob
from attrition.capture.services import capture_submit
from attrition.capture.steps import pdq
from attrition.dedup.models import LossCandidate, MediaMatch
from attrition.dedup.services import loss_candidates_refresh
from attrition.evidence.models import Capture
from attrition.losses.services import depiction_create
from tests.ledger import Ledger
from tests.loopback import Loopback, send


def jpeg(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, "JPEG", quality=88)
    return out.getvalue()


@pytest.fixture
def photo_and_crop(media_server: Loopback, monkeypatch: pytest.MonkeyPatch) -> Loopback:
    monkeypatch.setenv("ATTRITION_FETCH_MAX_BYTES", "5000000")
    photo = Image.fromarray(data.astronaut())
    w, h = photo.size
    crop = photo.crop((round(w * 0.12), round(h * 0.10), w, h))  # PDQ does not survive this
    media_server.routes["/photo.jpg"] = lambda r: send(r, jpeg(photo), content_type="image/jpeg")
    media_server.routes["/crop.jpg"] = lambda r: send(r, jpeg(crop), content_type="image/jpeg")
    return media_server


def archived(url: str) -> CaptureJob:
    job = capture_submit(url=url, nudge=False)
    pipeline.job_run(job.pk)
    job.refresh_from_db()
    assert job.state == CaptureJob.State.DONE, job.error_message
    return job


@pytest.mark.django_db
@pytest.mark.usefixtures("capture_storage")
def test_it_links_a_crop_through_the_losses_that_show_it(
    photo_and_crop: Loopback, ledger: Ledger
) -> None:
    first = archived(photo_and_crop.url("/photo.jpg"))
    second = archived(photo_and_crop.url("/crop.jpg"))
    photo, crop = (Capture.objects.get(custody__job=j) for j in (first, second))
    assert "features" in photo.derivatives
    assert pdq.distance(photo.pdq, crop.pdq) > 31  # the hash alone would miss it
    assert not MediaMatch.objects.filter(kind="pdq", band="auto").exists()

    a = ledger.loss()
    depiction_create(loss=a, evidence=first.evidence)
    b = ledger.loss()
    depiction_create(loss=b, evidence=second.evidence)
    loss_candidates_refresh(b)

    match = MediaMatch.objects.get(kind="features")
    assert match.band == "auto"
    assert match.details["inliers"] >= 20
    region = (
        match.details["region_b"] if match.capture_b_id == crop.pk else match.details["region_a"]
    )
    assert region[2] > 0.8  # most of the crop is the matched region
    pair = LossCandidate.objects.get()
    matched = next(s for s in pair.signals if s["name"] == "matched media")
    assert matched["contribution"] > 0


@pytest.mark.django_db
def test_it_sends_a_pdq_link_the_features_do_not_confirm_to_review(capture_storage: Any) -> None:
    """Two different photos whose hashes agree (as in one screenshot frame) are not linked."""
    from django.core.files.storage import default_storage

    from attrition.capture.steps.pdq import Pdq
    from attrition.dedup.matching import image_matches
    from attrition.dedup.tier2 import features_store

    same_hash = "f0" * 32
    made = []
    for n, picture in enumerate((data.astronaut(), data.coffee())):
        path = capture_storage.parent / f"photo{n}.jpg"
        path.write_bytes(jpeg(Image.fromarray(picture)))
        key = f"derivatives/test/{n}/features.npz"
        entry = features_store(path=path, key=key, storage=default_storage)
        made.append(
            Capture.objects.create(
                sha256=f"{n:064x}",
                kind="image",
                storage_key=f"captures/{n}",
                mime="image/jpeg",
                size_bytes=1,
                pdq=same_hash,
                pdq_quality=100,
                derivatives={"features": entry},
            )
        )

    [match] = image_matches(made[1], [Pdq(hex=same_hash, quality=100)])

    assert match.kind == "pdq"
    assert match.distance == 0
    assert match.band == "suggest"
    assert match.details["tier2"].startswith("not confirmed")


@pytest.mark.django_db
@pytest.mark.usefixtures("capture_storage")
def test_it_links_a_mirrored_copy_with_its_features_compared_mirrored(
    media_server: Loopback, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATTRITION_FETCH_MAX_BYTES", "5000000")
    photo = Image.fromarray(data.astronaut())
    mirror = photo.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    media_server.routes["/photo.jpg"] = lambda r: send(r, jpeg(photo), content_type="image/jpeg")
    media_server.routes["/mirror.jpg"] = lambda r: send(r, jpeg(mirror), content_type="image/jpeg")

    archived(media_server.url("/photo.jpg"))
    archived(media_server.url("/mirror.jpg"))

    match = MediaMatch.objects.get(kind="pdq")
    assert match.details["variant"] == "flip_y"
    assert match.distance <= 8  # the variant is hashed from the mirrored pixels
    assert "tier2" not in match.details  # the mirrored features confirmed it
    assert match.band == "auto"
