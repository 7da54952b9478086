"""The media of a public loss: who gets which derived image, redacted copies, blurred graphics."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone

from attrition.accounts.models import User
from attrition.evidence.models import Capture, Evidence
from attrition.evidence.sensitive import Box, capture_flag, capture_redact, evidence_flag
from attrition.losses.choices import ReviewStatus
from attrition.losses.models import Loss
from attrition.losses.services import depiction_create
from tests.conftest import client_for, user_make
from tests.evidence.test_sensitive import image_capture, jpeg, pixels
from tests.ledger import Ledger

pytestmark = pytest.mark.django_db


def body(response: object) -> bytes:
    return b"".join(response.streaming_content)  # type: ignore[attr-defined]


def url_of(capture: Capture, which: str) -> str:
    name = capture.derivatives[which]["key"].rsplit("/", 1)[-1]
    return f"/evidence/derived/{capture.sha256}/{name}"


@pytest.fixture
def evidence(ledger: Ledger, capture_storage: Path) -> Evidence:
    return ledger.evidence(31)


@pytest.fixture
def capture(evidence: Evidence, tmp_path: Path, contributor: User) -> Capture:
    return image_capture(evidence, tmp_path, contributor)


@pytest.fixture
def loss(ledger: Ledger, evidence: Evidence, capture: Capture) -> Loss:
    return ledger.loss(evidence=[evidence])


def test_it_serves_media_of_a_verified_loss_to_anyone(
    loss: Loss, capture: Capture, anon_client: Client
) -> None:
    response = anon_client.get(url_of(capture, "thumb"))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "public, max-age=300"
    assert "Cookie" in response["Vary"]
    assert body(response)[:2] == b"\xff\xd8"


def test_it_keeps_media_of_unverified_losses_from_readers_and_others_drafts(
    ledger: Ledger, evidence: Evidence, capture: Capture, anon_client: Client
) -> None:
    loss = ledger.loss(status=ReviewStatus.DRAFT)
    depiction_create(loss=loss, evidence=evidence, capture=capture)
    url = url_of(capture, "web")

    anonymous = anon_client.get(url)
    assert anonymous.status_code == 302  # to the login page, as before media could be public
    assert "/login/" in anonymous["Location"]
    erin = client_for(user_make("erin", role="contributor"))
    stranger = erin.get(url)
    assert stranger.status_code == 403
    assert b"not public" in stranger.content
    assert stranger["Cache-Control"] == "private, no-store"
    assert anon_client.get(f"/evidence/derived/{'0' * 64}/web.jpg").status_code == 302
    # Once offered for review, the loss and its media are open to every editor.
    Loss.objects.filter(pk=loss.pk).update(status=ReviewStatus.SUBMITTED)
    opened = erin.get(url)
    assert opened.status_code == 200
    opened.close()  # last: closing a response ends the test client's request


def test_it_keeps_media_of_deleted_or_rejected_losses_from_readers(
    ledger: Ledger, loss: Loss, capture: Capture, anon_client: Client
) -> None:
    Loss.objects.filter(pk=loss.pk).update(deleted_at=timezone.now())
    assert anon_client.get(url_of(capture, "thumb")).status_code == 302
    Loss.objects.filter(pk=loss.pk).update(deleted_at=None, status=ReviewStatus.REJECTED)
    assert anon_client.get(url_of(capture, "thumb")).status_code == 302
    Loss.objects.filter(pk=loss.pk).update(status=ReviewStatus.VERIFIED)
    public = anon_client.get(url_of(capture, "thumb"))
    assert public.status_code == 200
    public.close()


def test_it_gives_reviewers_and_the_collector_any_media_privately(
    ledger: Ledger,
    capture: Capture,
    reviewer: User,
    reviewer_client: Client,
    contributor_client: Client,
) -> None:
    ledger.loss(status=ReviewStatus.DRAFT, evidence=[capture.evidence.get()])
    for client in (reviewer_client, contributor_client):
        response = client.get(url_of(capture, "web"))
        assert response.status_code == 200
        assert response["Cache-Control"] == "private, max-age=86400"
        assert body(response)[:2] == b"\xff\xd8"
    original = reviewer_client.get(f"/evidence/originals/{capture.sha256}")
    assert original.status_code == 200
    assert hashlib.sha256(body(original)).hexdigest() == capture.sha256


def test_it_gives_readers_only_the_redacted_copy_of_personal_data(
    loss: Loss,
    capture: Capture,
    contributor: User,
    reviewer: User,
    anon_client: Client,
    reviewer_client: Client,
) -> None:
    capture_flag(capture=capture, by=contributor, personal_data=True)
    web = url_of(capture, "web")

    withheld = anon_client.get(web)
    assert withheld.status_code == 403
    assert b"personal data and has no redacted copy yet" in withheld.content

    capture_redact(capture=capture, boxes=[Box(0, 0, 0.25, 0.5)], by=reviewer, reason="face")
    capture.refresh_from_db()
    redacted = capture.derivatives["redacted_web"]["key"]
    with default_storage.open(redacted, "rb") as fh:
        expected = fh.read()
    assert body(anon_client.get(web)) == expected
    assert body(anon_client.get(url_of(capture, "redacted_web"))) == expected
    thumb = anon_client.get(url_of(capture, "thumb"))
    assert thumb.status_code == 200
    with default_storage.open(capture.derivatives["redacted_thumb"]["key"], "rb") as fh:
        assert body(thumb) == fh.read()
    # Reviewers still see the unredacted copy.
    unredacted = body(reviewer_client.get(web))
    assert unredacted != expected
    with default_storage.open(capture.derivatives["web"]["key"], "rb") as fh:
        assert unredacted == fh.read()


def test_it_treats_media_of_flagged_evidence_as_flagged(
    loss: Loss, evidence: Evidence, capture: Capture, contributor: User, anon_client: Client
) -> None:
    evidence_flag(evidence=evidence, by=contributor, personal_data=True)
    assert anon_client.get(url_of(capture, "thumb")).status_code == 403
    html = anon_client.get(f"/losses/{loss.pk}/").content.decode()
    assert "Image withheld: it shows personal data" in html
    assert url_of(capture, "thumb") not in html


def test_the_loss_page_shows_the_gallery_with_source_status(
    loss: Loss, evidence: Evidence, capture: Capture, anon_client: Client
) -> None:
    Evidence.objects.filter(pk=evidence.pk).update(source_status="alive")
    html = anon_client.get(f"/losses/{loss.pk}/").content.decode()
    assert f'<img src="{url_of(capture, "thumb")}"' in html
    assert f'href="{url_of(capture, "web")}"' in html
    assert "https://t.me/test_channel/31" in html
    assert "still online" in html
    assert "Graphic: click to show" not in html


def test_the_loss_page_blurs_graphic_media_until_a_click(
    loss: Loss, capture: Capture, contributor: User, anon_client: Client
) -> None:
    capture_flag(capture=capture, by=contributor, graphic=True)
    html = anon_client.get(f"/losses/{loss.pk}/").content.decode()
    assert '<figure class="media graphic">' in html
    assert 'type="checkbox" class="reveal"' in html
    assert "Graphic: click to show" in html
    assert "<script" not in html
    css = Path(__file__).resolve().parents[2] / "src/attrition/site/static/site/site.css"
    assert ".gallery .media.graphic img { filter: blur(" in css.read_text()


def test_the_loss_page_shows_the_redacted_thumbnail_of_personal_data(
    ledger: Ledger,
    evidence: Evidence,
    capture: Capture,
    tmp_path: Path,
    contributor: User,
    reviewer: User,
    anon_client: Client,
) -> None:
    from tests.capture.media import halves

    other = image_capture(evidence, tmp_path, contributor, body=jpeg(halves((300, 300), "lime")))
    loss = ledger.loss()
    depiction_create(loss=loss, evidence=evidence, capture=capture)
    capture_flag(capture=capture, by=contributor, personal_data=True)
    capture_redact(capture=capture, boxes=[Box(0, 0, 0.1, 0.1)], by=reviewer, reason="name")
    capture.refresh_from_db()

    html = anon_client.get(f"/losses/{loss.pk}/").content.decode()
    assert url_of(capture, "redacted_thumb") in html
    assert url_of(capture, "thumb") not in html
    assert url_of(other, "thumb") not in html  # the depiction names one capture only
    corner = pixels(capture.derivatives["redacted_thumb"]["key"]).getpixel((1, 1))
    assert max(corner) < 30  # type: ignore[arg-type]
