"""Sensitive media: flags recorded and guarded, redactions as new files, originals untouched."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone
from PIL import Image

from attrition.accounts.models import User
from attrition.capture.archive import derived_key, derived_put
from attrition.capture.steps import enrich, store
from attrition.errors import Forbidden, InvalidInput
from attrition.evidence.models import Capture, CustodyEvent, CustodyRecord, Evidence
from attrition.evidence.sensitive import (
    Box,
    boxes_parse,
    capture_flag,
    capture_redact,
    evidence_flag,
)
from attrition.evidence.services import evidence_create
from tests.capture.media import halves

pytestmark = pytest.mark.django_db

# A photo-like original: left half red, right half blue, as a phone would send it.
SIZE = (400, 200)
# The top-left quarter: redacted, it turns black; the right half stays blue.
BOX = Box(0.0, 0.0, 0.25, 0.5)


def jpeg(im: Image.Image) -> bytes:
    out = io.BytesIO()
    im.save(out, "JPEG", quality=95)
    return out.getvalue()


def image_capture(
    evidence: Evidence, tmp_path: Path, by: User | None, body: bytes | None = None
) -> Capture:
    """Archive an image for the evidence as the pipeline does: original, derivatives, custody."""
    body = body or jpeg(halves(SIZE))
    sha = hashlib.sha256(body).hexdigest()
    path = tmp_path / f"{sha}.jpg"
    path.write_bytes(body)
    stored = store.run(path=path, sha256=sha, size=len(body))
    workdir = tmp_path / f"derive-{sha[:8]}"
    workdir.mkdir()
    facts = enrich.run(path=path, workdir=workdir, declared_mime="image/jpeg")
    derivatives = {
        d.name: {
            "key": derived_put(default_storage, derived_key(sha, f"{d.name}.jpg"), d.path),
            "mime": d.mime,
            "width": d.width,
            "height": d.height,
        }
        for d in facts.derivatives
    }
    capture = Capture.objects.create(
        sha256=sha,
        kind="image",
        storage_key=stored.key,
        mime=facts.mime,
        size_bytes=len(body),
        width=facts.width,
        height=facts.height,
        derivatives=derivatives,
    )
    CustodyRecord.objects.create(
        evidence=evidence,
        capture=capture,
        method="http",
        collected_by=by,
        collected_at=timezone.now(),
        source_url=evidence.url,
        http_status=200,
    )
    return capture


def pixels(key: str) -> Image.Image:
    with default_storage.open(key, "rb") as fh, Image.open(fh) as im:
        return im.convert("RGB")


def stored_sha(key: str) -> str:
    with default_storage.open(key, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


@pytest.fixture
def evidence(capture_storage: Path, contributor: User) -> Evidence:
    return evidence_create(url="https://t.me/frontline/55", by=contributor)


@pytest.fixture
def capture(evidence: Evidence, tmp_path: Path, contributor: User) -> Capture:
    return image_capture(evidence, tmp_path, contributor)


def test_it_logs_each_flag_change_of_a_capture(
    capture: Capture, contributor: User, reviewer: User
) -> None:
    capture_flag(capture=capture, by=contributor, personal_data=True, reason="a face")
    capture_flag(capture=capture, by=contributor, personal_data=True)  # no change: no entry
    capture_flag(capture=capture, by=reviewer, personal_data=False, graphic=True, reason="blurred")

    capture.refresh_from_db()
    assert (capture.graphic, capture.personal_data) == (True, False)
    flagged = list(CustodyEvent.objects.filter(capture=capture, action="flagged").order_by("pk"))
    assert [(e.actor, e.detail["changes"]) for e in flagged] == [
        (contributor, {"personal_data": [False, True]}),
        (reviewer, {"personal_data": [True, False], "graphic": [False, True]}),
    ]
    assert flagged[0].detail["reason"] == "a face"


def test_it_records_flag_changes_of_evidence_as_versions(
    evidence: Evidence, contributor: User
) -> None:
    before = evidence.versions.count()  # type: ignore[attr-defined]
    evidence_flag(evidence=evidence, by=contributor, graphic=True, reason="bodies", via="admin")

    evidence.refresh_from_db()
    assert evidence.graphic
    latest = evidence.versions.order_by("-version").first()  # type: ignore[attr-defined]
    assert evidence.versions.count() == before + 1  # type: ignore[attr-defined]
    assert latest.graphic is True
    assert latest.personal_data is False
    assert latest.changed_by == contributor
    assert latest.change_reason == "bodies"


def test_it_lets_contributors_set_flags_but_not_clear_them(
    capture: Capture, evidence: Evidence, contributor: User, reviewer: User, admin_user: User
) -> None:
    capture_flag(capture=capture, by=contributor, graphic=True)
    evidence_flag(evidence=evidence, by=contributor, personal_data=True)

    with pytest.raises(Forbidden):
        capture_flag(capture=capture, by=contributor, graphic=False)
    with pytest.raises(Forbidden):
        evidence_flag(evidence=evidence, by=contributor, personal_data=False)
    capture.refresh_from_db()
    evidence.refresh_from_db()
    assert capture.graphic
    assert evidence.personal_data

    capture_flag(capture=capture, by=reviewer, graphic=False)
    evidence_flag(evidence=evidence, by=admin_user, personal_data=False)
    capture.refresh_from_db()
    evidence.refresh_from_db()
    assert not capture.graphic
    assert not evidence.personal_data


def test_it_refuses_flags_from_anonymous_callers(capture: Capture) -> None:
    with pytest.raises(Forbidden):
        capture_flag(capture=capture, by=None, graphic=True)


def test_it_redacts_a_new_copy_and_leaves_the_original_and_derivatives_alone(
    capture: Capture, reviewer: User
) -> None:
    original_sha = stored_sha(capture.storage_key)
    assert original_sha == capture.sha256
    web_key, thumb_key = capture.derivatives["web"]["key"], capture.derivatives["thumb"]["key"]
    web_sha, thumb_sha = stored_sha(web_key), stored_sha(thumb_key)

    capture_redact(capture=capture, boxes=[BOX], by=reviewer, reason="a face")

    capture.refresh_from_db()
    redacted_key = capture.derivatives["redacted_web"]["key"]
    assert redacted_key not in (web_key, thumb_key)
    assert capture.derivatives["redacted_thumb"]["key"] not in (web_key, thumb_key)
    assert capture.derivatives["redacted_web"]["redaction"] == 1
    # The original and the derived copies are as they were.
    assert stored_sha(capture.storage_key) == original_sha
    assert (stored_sha(web_key), stored_sha(thumb_key)) == (web_sha, thumb_sha)
    assert capture.derivatives["web"]["key"] == web_key
    before, after = pixels(web_key), pixels(redacted_key)
    assert before.size == after.size == SIZE
    # Inside the box: was red, now black.
    r, g, b = before.getpixel((40, 40))  # type: ignore[misc]
    assert r > 200
    assert g < 40
    assert b < 40
    assert max(after.getpixel((40, 40))) < 30  # type: ignore[arg-type]
    assert max(after.getpixel((95, 95))) < 30  # type: ignore[arg-type]
    # Outside the box: unchanged (within JPEG's re-encoding noise).
    for point in [(40, 150), (160, 40), (300, 50), (350, 180)]:
        old, new = before.getpixel(point), after.getpixel(point)
        assert all(abs(a - b) <= 6 for a, b in zip(old, new, strict=True)), (point, old, new)
    thumb = pixels(capture.derivatives["redacted_thumb"]["key"])
    assert max(thumb.getpixel((10, 10))) < 30  # type: ignore[arg-type]
    assert thumb.getpixel((thumb.width - 10, 10))[2] > 200  # type: ignore[index]
    logged = CustodyEvent.objects.get(capture=capture, action="redacted")
    assert logged.actor == reviewer
    assert logged.detail["boxes"] == [{"x": 0.0, "y": 0.0, "w": 0.25, "h": 0.5}]
    assert logged.detail["reason"] == "a face"


def test_it_redoes_a_redaction_as_new_files_and_keeps_the_old_ones(
    capture: Capture, reviewer: User
) -> None:
    capture_redact(capture=capture, boxes=[BOX], by=reviewer, reason="first try")
    capture.refresh_from_db()
    first = capture.derivatives["redacted_web"]["key"]

    capture_redact(capture=capture, boxes=[Box(0.5, 0.5, 0.5, 0.5)], by=reviewer, reason="redo")
    capture.refresh_from_db()
    second = capture.derivatives["redacted_web"]["key"]

    assert second != first
    assert default_storage.exists(first)
    assert capture.derivatives["redacted_web"]["redaction"] == 2
    assert max(pixels(second).getpixel((350, 150))) < 30  # type: ignore[arg-type]
    assert pixels(second).getpixel((40, 40))[0] > 200  # type: ignore[index]
    assert CustodyEvent.objects.filter(capture=capture, action="redacted").count() == 2


def test_it_lets_only_reviewers_and_admins_redact(capture: Capture, contributor: User) -> None:
    with pytest.raises(Forbidden):
        capture_redact(capture=capture, boxes=[BOX], by=contributor, reason="mine")
    capture.refresh_from_db()
    assert "redacted_web" not in capture.derivatives


def test_it_redacts_a_videos_poster(evidence: Evidence, reviewer: User) -> None:
    sha = "cd" * 32
    key = derived_key(sha, "poster.jpg")
    default_storage.save(key, io.BytesIO(jpeg(Image.new("RGB", (64, 32), "white"))))
    capture = Capture.objects.create(
        sha256=sha,
        kind="video",
        storage_key="captures/x",
        mime="video/mp4",
        size_bytes=1,
        derivatives={"thumb": {"key": key, "mime": "image/jpeg"}},
    )
    capture_redact(capture=capture, boxes=[Box(0, 0, 0.5, 1)], by=reviewer, reason="plate")
    capture.refresh_from_db()
    assert set(capture.derivatives) == {"thumb", "redacted_thumb"}
    poster = pixels(capture.derivatives["redacted_thumb"]["key"])
    assert max(poster.getpixel((5, 5))) < 30  # type: ignore[arg-type]
    assert min(poster.getpixel((60, 5))) > 220  # type: ignore[arg-type]


def test_it_refuses_redacting_what_has_no_image(evidence: Evidence, reviewer: User) -> None:
    page = Capture.objects.create(
        sha256="ef" * 32, kind="page", storage_key="captures/y", mime="text/html", size_bytes=1
    )
    with pytest.raises(InvalidInput, match="no derived image"):
        capture_redact(capture=page, boxes=[BOX], by=reviewer, reason="x")


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "at least one box"),
        ("0.1,0.2,0.3", "four numbers"),
        ("a,b,c,d", "four numbers"),
        ("0.5,0.5,0,0.1", "not inside the image"),
        ("1.2,0,0.1,0.1", "not inside the image"),
        ("nan,0,0.1,0.1", "must be numbers"),
    ],
)
def test_it_refuses_bad_boxes(text: str, error: str) -> None:
    with pytest.raises(InvalidInput, match=error):
        boxes_parse(text)


def test_it_reads_boxes_as_fractions() -> None:
    assert boxes_parse("0.1, 0.2, 0.3, 0.4; 0,0,1,1\n") == [
        Box(0.1, 0.2, 0.3, 0.4),
        Box(0, 0, 1, 1),
    ]
    assert Box(0.1, 0.1, 0.2, 0.2).pixels(95, 95) == (9, 9, 29, 29)


def test_the_admin_makes_a_redaction_for_reviewers_only(
    capture: Capture, reviewer_client: Client, contributor_client: Client
) -> None:
    url = f"/admin/evidence/capture/{capture.pk}/redact/"
    assert contributor_client.get(url).status_code == 403
    assert contributor_client.post(url, {"boxes": "0,0,.5,.5", "reason": "x"}).status_code == 403

    page = reviewer_client.get(url)
    assert page.status_code == 200
    assert "400&times;200 pixels" in page.content.decode()
    refused = reviewer_client.post(url, {"boxes": "0,0,2,2", "reason": "face"})
    assert refused.status_code == 200
    assert "not inside the image" in refused.content.decode()

    done = reviewer_client.post(url, {"boxes": "0,0,0.25,0.5", "reason": "face"})
    assert done.status_code == 302
    capture.refresh_from_db()
    assert "redacted_thumb" in capture.derivatives
    shown = reviewer_client.get(f"/admin/evidence/capture/{capture.pk}/change/").content.decode()
    name = capture.derivatives["redacted_thumb"]["key"].rsplit("/", 1)[-1]
    assert f"/evidence/derived/{capture.sha256}/{name}" in shown
    assert "redaction 1 by bob" in shown


def test_the_admin_offers_clearing_flags_to_reviewers_only(
    capture: Capture,
    evidence: Evidence,
    contributor: User,
    contributor_client: Client,
    reviewer_client: Client,
) -> None:
    capture_flag(capture=capture, by=contributor, graphic=True)
    url = "/admin/evidence/capture/"
    assert "unflag_graphic" not in contributor_client.get(url).content.decode()
    assert "unflag_graphic" in reviewer_client.get(url).content.decode()
    contributor_client.post(url, {"action": "unflag_graphic", "_selected_action": [capture.pk]})
    capture.refresh_from_db()
    assert capture.graphic

    asked = reviewer_client.post(
        url, {"action": "unflag_graphic", "_selected_action": [capture.pk]}
    )
    assert "give the reason" in asked.content.decode()
    reviewer_client.post(
        url,
        {
            "action": "unflag_graphic",
            "_selected_action": [capture.pk],
            "confirm": "yes",
            "reason": "not graphic",
        },
    )
    capture.refresh_from_db()
    assert not capture.graphic

    flagged = contributor_client.post(
        "/admin/evidence/evidence/",
        {"action": "flag_personal_data", "_selected_action": [evidence.pk]},
    )
    assert flagged.status_code == 302
    evidence.refresh_from_db()
    assert evidence.personal_data


def test_the_admin_shows_the_flags_on_evidence_and_captures(
    capture: Capture, evidence: Evidence, contributor: User, admin_client: Client
) -> None:
    evidence_flag(evidence=evidence, by=contributor, graphic=True)
    page = admin_client.get(f"/admin/evidence/evidence/{evidence.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Graphic" in html
    assert "Personal data" in html
    for url in (
        "/admin/evidence/evidence/?graphic__exact=1",
        "/admin/evidence/capture/?personal_data__exact=0",
        f"/admin/evidence/capture/{capture.pk}/change/",
    ):
        assert admin_client.get(url).status_code == 200, url
