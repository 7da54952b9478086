"""The public pages: computed headline, tracker-style lines, loss pages, only verified records."""

from __future__ import annotations

import pytest
from django.test import Client

from attrition.losses.choices import ReviewStatus
from attrition.losses.services import loss_merge
from tests.ledger import Ledger


@pytest.fixture
def reader() -> Client:
    return Client()


def test_the_conflict_page_shows_totals_computed_from_the_ledger(
    ledger: Ledger, reader: Client
) -> None:
    video = ledger.evidence(1)
    ledger.loss(fates=["captured"], evidence=[video])
    ledger.loss(fates=["captured"], evidence=[video])
    ledger.loss(fates=["captured", "destroyed"], evidence=[ledger.evidence(2)])
    ledger.loss(status=ReviewStatus.SUBMITTED)  # not public, not counted

    page = reader.get(f"/c/{ledger.conflict.slug}/")

    assert page.status_code == 200
    html = page.content.decode()
    headline = "destroyed: 1, damaged: 0, abandoned: 0, captured: 2"
    assert f"<strong>Afghan forces: 3</strong>, of which {headline}" in html
    assert "(1 and 2, captured)" in html
    assert "(3, destroyed)" in html
    assert 'href="https://t.me/test_channel/1"' in html
    assert "sample data" not in html.lower()


def test_the_home_page_lists_conflicts_with_their_totals(ledger: Ledger, reader: Client) -> None:
    ledger.loss()
    html = reader.get("/").content.decode()
    assert "Test war" in html
    assert "at least 1 item documented" in html


def test_a_verified_loss_has_a_page_with_its_evidence(ledger: Ledger, reader: Client) -> None:
    loss = ledger.loss(
        fates=["captured", {"fate": "destroyed", "detail": "airstrike"}],
        captured_by=ledger.taliban,
        markings="211",
        evidence=[ledger.evidence(7)],
    )

    page = reader.get(f"/losses/{loss.pk}/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "captured and later destroyed (airstrike)" in html
    assert "Taliban" in html
    assert "211" in html
    assert "https://t.me/test_channel/7" in html


def test_a_loss_page_says_which_sources_were_deleted(ledger: Ledger, reader: Client) -> None:
    from attrition.evidence.models import Evidence

    gone, alive = ledger.evidence(8), ledger.evidence(9)
    Evidence.objects.filter(pk=gone.pk).update(source_status="gone")
    Evidence.objects.filter(pk=alive.pk).update(source_status="alive")
    loss = ledger.loss(evidence=[gone, alive])

    html = reader.get(f"/losses/{loss.pk}/").content.decode()
    assert html.count("deleted by source") == 1
    assert html.index("test_channel/8") < html.index("deleted by source")
    assert html.index("deleted by source") < html.index("test_channel/9")


@pytest.mark.parametrize("status", [ReviewStatus.DRAFT, ReviewStatus.SUBMITTED])
def test_an_unverified_loss_is_not_public(ledger: Ledger, reader: Client, status: str) -> None:
    loss = ledger.loss(status=status)
    assert reader.get(f"/losses/{loss.pk}/").status_code == 404


def test_a_merged_loss_redirects_to_the_one_it_was_merged_into(
    ledger: Ledger, reader: Client
) -> None:
    kept, duplicate = ledger.loss(), ledger.loss()
    loss_merge(loss=duplicate, into=kept)

    page = reader.get(f"/losses/{duplicate.pk}/")

    assert page.status_code == 301
    assert page["Location"] == f"/losses/{kept.pk}/"


def test_sample_records_are_marked_wherever_they_appear(ledger: Ledger, reader: Client) -> None:
    loss = ledger.loss(is_sample=True, evidence=[ledger.evidence(1)])

    conflict_html = reader.get(f"/c/{ledger.conflict.slug}/").content.decode()
    loss_html = reader.get(f"/losses/{loss.pk}/").content.decode()

    assert "Sample data." in conflict_html
    assert "Sample data." in loss_html


def test_user_text_is_escaped(ledger: Ledger, reader: Client) -> None:
    loss = ledger.loss(markings="<script>alert(1)</script>", description="<b>bold</b>")
    html = reader.get(f"/losses/{loss.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>bold</b>" not in html


def test_pages_refuse_writes(ledger: Ledger, reader: Client) -> None:
    assert reader.post(f"/c/{ledger.conflict.slug}/").status_code == 405


def test_claims_are_shown_beside_the_count_and_not_added_in(ledger: Ledger, reader: Client) -> None:
    from attrition.claims.models import Claim

    ledger.loss()
    Claim.objects.create(
        conflict=ledger.conflict,
        claimant="Analysts",
        claimed_on="2021-07-10",
        scope="military vehicles",
        kind=Claim.Kind.ABOUT,
        number=700,
        status=ReviewStatus.VERIFIED,
    )
    Claim.objects.create(
        conflict=ledger.conflict,
        claimant="Unchecked",
        claimed_on="2021-07-11",
        scope="tanks",
        number=9999,
    )

    html = reader.get(f"/c/{ledger.conflict.slug}/").content.decode()

    assert "<strong>about 700</strong>" in html
    assert "9999" not in html  # a draft claim is not public
    assert "<strong>Afghan forces: 1</strong>" in html


def test_the_conflict_page_costs_the_same_queries_for_1_or_30_losses(
    ledger: Ledger, reader: Client, django_assert_max_num_queries
) -> None:
    ledger.loss(evidence=[ledger.evidence(0)])
    with django_assert_max_num_queries(12) as few:
        reader.get(f"/c/{ledger.conflict.slug}/")
    for n in range(1, 30):
        ledger.loss(model=[ledger.t55, ledger.ranger][n % 2], evidence=[ledger.evidence(n)])
    with django_assert_max_num_queries(len(few.captured_queries)):
        reader.get(f"/c/{ledger.conflict.slug}/")


def test_pages_credit_the_boundaries_their_places_come_from(ledger: Ledger, reader: Client) -> None:
    from attrition.territory.models import BoundarySet

    ledger.conflict.boundary_set = BoundarySet.objects.create(
        slug="b", name="B", source="s", attribution="Boundaries by Someone", licence="CC BY 4.0"
    )
    ledger.conflict.save()
    loss = ledger.loss()

    for url in (f"/c/{ledger.conflict.slug}/", f"/losses/{loss.pk}/"):
        assert "Places: Boundaries by Someone (CC BY 4.0)." in reader.get(url).content.decode()
