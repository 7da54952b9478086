"""The reviewers' duplicate pages: the list, a pair side by side, and decisions by POST."""

from __future__ import annotations

import re
from pathlib import Path

from django.test import Client

from attrition.accounts.models import User
from attrition.dedup.decisions import pair_key
from attrition.dedup.models import LossCandidate
from attrition.losses.models import Loss
from tests.ledger import Ledger

SIGNALS = [
    {"name": "markings", "value": "<b>A-123</b> vs A123", "weight": 0.6, "contribution": 0.6},
    {"name": "time", "value": "40 days apart", "weight": 0.2, "contribution": -0.1},
]


def pair(a: Loss, b: Loss, score: float = 0.9) -> LossCandidate:
    x, y = pair_key(a, b)
    return LossCandidate.objects.create(
        loss_a_id=x, loss_b_id=y, score=score, verdict="likely same", signals=SIGNALS
    )


def test_it_shows_reviewers_the_open_pairs_likeliest_first(
    ledger: Ledger, reviewer_client: Client
) -> None:
    low = pair(ledger.loss(), ledger.loss(), score=0.4)
    high = pair(ledger.loss(), ledger.loss(), score=0.95)
    html = reviewer_client.get("/review/duplicates/").content.decode()
    assert html.index(f"/review/duplicates/{high.pk}/") < html.index(
        f"/review/duplicates/{low.pk}/"
    )


def test_it_keeps_the_pages_from_contributors_and_readers(
    ledger: Ledger, contributor_client: Client, anon_client: Client
) -> None:
    candidate = pair(ledger.loss(), ledger.loss())
    assert contributor_client.get("/review/duplicates/").status_code == 403
    assert contributor_client.get(f"/review/duplicates/{candidate.pk}/").status_code == 403
    assert anon_client.get("/review/duplicates/").status_code == 302


def test_it_shows_a_pair_side_by_side_with_its_signals_escaped(
    ledger: Ledger, reviewer_client: Client
) -> None:
    a = ledger.loss(markings="A-123", evidence=[ledger.evidence(1)])
    b = ledger.loss(markings="A123", evidence=[ledger.evidence(2)])
    candidate = pair(a, b)
    html = reviewer_client.get(f"/review/duplicates/{candidate.pk}/").content.decode()
    assert f"#{a.pk}" in html
    assert f"#{b.pk}" in html
    assert "https://t.me/test_channel/1" in html
    assert "https://t.me/test_channel/2" in html
    assert "&lt;b&gt;A-123&lt;/b&gt;" in html
    assert "<b>A-123</b>" not in html
    assert 'data-key="m"' in html


def test_it_records_a_decision_posted_with_csrf_and_moves_to_the_next(
    ledger: Ledger, reviewer: User
) -> None:
    a, b = ledger.loss(), ledger.loss()
    first = pair(a, b, score=0.9)
    second = pair(ledger.loss(), ledger.loss(), score=0.8)
    client = Client(enforce_csrf_checks=True)
    client.force_login(reviewer)
    page = client.get(f"/review/duplicates/{first.pk}/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None

    refused = client.post(f"/review/duplicates/{first.pk}/", {"decision": "merge"})
    assert refused.status_code == 403

    done = client.post(
        f"/review/duplicates/{first.pk}/",
        {"decision": "merge", "keep": str(b.pk), "csrfmiddlewaretoken": token.group(1)},
    )
    assert done.status_code == 302
    assert done["Location"] == f"/review/duplicates/{second.pk}/"
    first.refresh_from_db()
    assert first.status == LossCandidate.Status.MERGED
    a.refresh_from_db()
    assert a.merged_into_id == b.pk


def test_it_serves_derived_images_to_signed_in_users_only(
    ledger: Ledger,
    reviewer_client: Client,
    anon_client: Client,
    capture_storage: Path,
    tmp_path: Path,
) -> None:
    from attrition.capture.archive import derived_key
    from attrition.evidence.models import Capture

    key = derived_key("ab" * 32, "thumb.jpg")
    (capture_storage / key).parent.mkdir(parents=True)
    (capture_storage / key).write_bytes(b"\xff\xd8thumb")
    Capture.objects.create(
        sha256="ab" * 32,
        kind="image",
        storage_key="captures/x",
        mime="image/jpeg",
        size_bytes=1,
        derivatives={"thumb": {"key": key, "mime": "image/jpeg"}},
    )
    url = f"/evidence/derived/{'ab' * 32}/thumb.jpg"
    response = reviewer_client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"\xff\xd8thumb"  # type: ignore[attr-defined]
    assert reviewer_client.get(f"/evidence/derived/{'ab' * 32}/../../secret").status_code == 404
    assert anon_client.get(url).status_code == 302


def test_it_shows_possible_duplicates_on_the_loss_form(
    ledger: Ledger, contributor_client: Client
) -> None:
    a, b = ledger.loss(markings="77"), ledger.loss(markings="77")
    candidate = pair(a, b)
    html = contributor_client.get(f"/admin/losses/loss/{a.pk}/change/").content.decode()
    assert "Possible duplicates" in html
    assert f'href="/review/duplicates/{candidate.pk}/"' in html
    assert f"loss #{b.pk}" in html
