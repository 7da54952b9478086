"""The public loss page's place map, history and related items, and the export of a search."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from attrition.accounts.models import User
from attrition.dedup.models import LossCandidate
from attrition.losses.choices import ReviewStatus
from attrition.losses.models import Loss
from attrition.losses.services import depiction_create, loss_merge, loss_update
from attrition.review.workflow import review_transition
from tests.site.published import Published, published

pytestmark = pytest.mark.django_db


@pytest.fixture
def pub(ledger: object) -> Published:
    return published(ledger)  # type: ignore[arg-type]


def html(client: Client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.content[:500]
    return response.content.decode()


def map_config(page: str) -> dict[str, object]:
    start = page.index('<script id="loss-place-config" type="application/json">')
    body = page[page.index(">", start) + 1 : page.index("</script>", start)]
    return json.loads(body)  # type: ignore[no-any-return]


def test_it_draws_the_place_on_a_small_map(pub: Published, anon_client: Client) -> None:
    page = html(anon_client, f"/losses/{pub.public[0].pk}/")
    config = map_config(page)
    assert config["point"] == [37.1, 68.9]
    assert config["unit"] == "AF1705"
    assert config["outlines"] == reverse("territory:geometry", args=["test-war"])
    assert "site/lossplace.js" in page
    assert "<script>" not in page  # no inline script: the map's code is a static file


def test_it_outlines_the_province_when_no_point_is_known(
    pub: Published, anon_client: Client
) -> None:
    config = map_config(html(anon_client, f"/losses/{pub.public[1].pk}/"))
    assert config["point"] is None
    assert config["province"] == "Kunduz"


def test_an_unplaced_loss_has_no_map(pub: Published, anon_client: Client) -> None:
    page = html(anon_client, f"/losses/{pub.public[3].pk}/")
    assert "loss-place-map" not in page
    assert "leaflet.js" not in page


def test_it_links_to_the_history_of_published_changes_only(
    pub: Published, anon_client: Client, reviewer: User
) -> None:
    loss = pub.public[0]
    page = html(anon_client, f"/losses/{loss.pk}/")
    assert f'href="/losses/{loss.pk}/history/"' in page
    loss_update(loss=loss, by=reviewer, markings="212", reason="reviewer-only note")
    loss_update(
        loss=Loss.objects.get(pk=loss.pk),
        by=reviewer,
        fates=["captured", "destroyed"],
        captured_by=pub.ledger.taliban,
    )
    history = html(anon_client, f"/losses/{loss.pk}/history/")
    assert "Published" in history
    assert "<b>markings</b>: 211 → 212" in history
    assert "<b>fate</b>: destroyed → captured and later destroyed" in history
    assert "<b>captured by</b>: — → Taliban" in history
    assert "reviewer-only note" not in history
    assert reviewer.username not in history


def test_changes_made_out_of_public_view_show_as_one_change(
    pub: Published, anon_client: Client, admin_user: User, reviewer: User
) -> None:
    loss = pub.public[2]
    review_transition(record=loss, action="reopen", by=admin_user, reason="check the hull")
    loss_update(loss=Loss.objects.get(pk=loss.pk), by=admin_user, markings="draft-1")
    loss_update(loss=Loss.objects.get(pk=loss.pk), by=admin_user, markings="final")
    review_transition(record=Loss.objects.get(pk=loss.pk), action="verify", by=reviewer)
    history = html(anon_client, f"/losses/{loss.pk}/history/")
    assert "<b>markings</b>: — → final" in history
    assert "draft-1" not in history
    assert "check the hull" not in history


def test_the_history_of_an_unpublished_loss_is_not_public(
    pub: Published, anon_client: Client
) -> None:
    for loss in pub.hidden:
        html(anon_client, f"/losses/{loss.pk}/history/", status=404)


def test_it_lists_other_public_losses_in_the_same_evidence(
    pub: Published, anon_client: Client
) -> None:
    video = pub.public[0].depictions.get().evidence
    neighbour = pub.ledger.loss(model=pub.ledger.t55, evidence=[video])
    draft = pub.ledger.loss(status=ReviewStatus.DRAFT, evidence=[video])
    page = html(anon_client, f"/losses/{pub.public[0].pk}/")
    assert f'<a href="/losses/{neighbour.pk}/">#{neighbour.pk} T-55 (test)</a>' in page
    assert f'href="/losses/{draft.pk}/"' not in page
    assert 'id="related-same-evidence"' in html(anon_client, f"/losses/{neighbour.pk}/")


def test_it_lists_the_records_merged_into_it(
    pub: Published, anon_client: Client, reviewer: User
) -> None:
    kept = pub.public[1]
    twin = pub.ledger.loss(model=pub.ledger.t55, fates=["captured"])
    loss_merge(loss=twin, into=kept, by=reviewer, reason="same hull number")
    page = html(anon_client, f"/losses/{kept.pk}/")
    assert 'id="related-merged"' in page
    assert f"#{twin.pk}" in page
    history = html(anon_client, f"/losses/{kept.pk}/history/")
    assert f"#{twin.pk}, a second record of the same item, was merged into this one" in history
    assert "same hull number" not in history


def test_a_merged_loss_keeps_its_history_ending_on_the_merge(
    pub: Published, anon_client: Client, reviewer: User
) -> None:
    kept = pub.public[1]
    twin = pub.ledger.loss(model=pub.ledger.t55, fates=["captured"])
    loss_merge(loss=twin, into=kept, by=reviewer, reason="same hull number")
    history = html(anon_client, f"/losses/{twin.pk}/history/")
    assert "Published (verified by a reviewer)." in history
    assert f'Merged into <a href="/losses/{kept.pk}/">#{kept.pk}</a>' in history
    assert history.index("Published (verified") < history.index("Merged into")
    assert "same hull number" not in history
    # Never public before the merge: its history is the other record's.
    draft = pub.ledger.loss(model=pub.ledger.t55, status=ReviewStatus.SUBMITTED)
    loss_merge(loss=draft, into=kept, by=reviewer, reason="")
    response = anon_client.get(f"/losses/{draft.pk}/history/")
    assert response.status_code == 302
    assert response["Location"] == f"/losses/{kept.pk}/history/"


def test_it_lists_items_a_reviewer_found_different(
    pub: Published, anon_client: Client, reviewer: User
) -> None:
    a, b = sorted([pub.public[0], pub.public[4]], key=lambda x: x.pk)
    LossCandidate.objects.create(
        loss_a=a, loss_b=b, score=0.8, verdict="likely", status="different",
        decided_by=reviewer, decided_at=timezone.now(),
    )  # fmt: skip
    LossCandidate.objects.create(loss_a=a, loss_b=pub.public[5], score=0.7, verdict="likely")
    page = html(anon_client, f"/losses/{a.pk}/")
    section = page[page.index('id="related-different"') :]
    assert f'href="/losses/{b.pk}/"' in section
    assert f'href="/losses/{pub.public[5].pk}/"' not in page  # an open candidate is not shown


def test_a_loss_without_relations_shows_no_related_section(
    pub: Published, anon_client: Client
) -> None:
    assert 'id="related"' not in html(anon_client, f"/losses/{pub.public[3].pk}/")


def test_it_downloads_exactly_what_the_search_page_shows(
    pub: Published, anon_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("attrition.site.pages.PAGE_SIZE", 2)
    depiction_create(loss=pub.public[3], evidence=pub.ledger.evidence(7))
    url: str | None = "/losses/?conflict=test-war&side=andsf&sort=first_seen"
    shown: list[int] = []
    download = ""
    while url:
        page = html(anon_client, url)
        shown += [int(x.split('"')[0]) for x in page.split('data-loss="')[1:]]
        start = page.index('href="/api/v1/exports/losses.csv?')
        download = page[start + 6 : page.index('"', start + 6)].replace("&amp;", "&")
        marker = 'class="next" href="'
        url = None
        if marker in page:
            start = page.index(marker) + len(marker)
            url = page[start : page.index('"', start)].replace("&amp;", "&")
    assert len(shown) == 5
    response = anon_client.get(download)
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [int(r["id"]) for r in rows] == shown


def test_the_weekly_chart_counts_weeks_from_monday(pub: Published, anon_client: Client) -> None:
    page = html(anon_client, "/c/test-war/charts/?period=week&split=fate")
    # 29 July and 1 August 2021 (a Thursday and a Sunday) fall in the week of Monday 26 July.
    assert '"periods": ["2021-07-26", "2021-08-02", "2021-08-09", "2021-09-06"]' in page
