"""Claims and control records in review: the same queue, pages and workflow as losses."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from attrition.accounts.models import User
from attrition.claims.models import Claim
from attrition.losses.choices import ReviewStatus
from attrition.territory.models import ControlRecord, ControlRecordVersion
from tests.admin_site.conftest import World

S = ReviewStatus


def test_the_queue_lists_submitted_claims_and_control_records(
    world: World, reviewer_client: Client
) -> None:
    Claim.objects.filter(pk=world.claim.pk).update(status=S.SUBMITTED)

    claims = reviewer_client.get(reverse("review:queue"), {"kind": "claims"})
    control = reviewer_client.get(reverse("review:queue"), {"kind": "control"})

    assert [c.pk for c in claims.context["page"]] == [world.claim.pk]
    assert list(control.context["page"]) == []  # a draft waits for its author
    assert "Claims (1)" in claims.content.decode()
    assert "Losses (1)" in claims.content.decode()


def test_a_reviewer_verifies_a_claim_from_its_page(
    world: World, reviewer: User, reviewer_client: Client
) -> None:
    Claim.objects.filter(pk=world.claim.pk).update(status=S.SUBMITTED)
    url = reverse("review:record", args=["claims", world.claim.pk])

    shown = reviewer_client.get(url)
    assert "analysts" in shown.content.decode()
    assert 'data-key="v"' in shown.content.decode()
    done = reviewer_client.post(
        reverse("review:record_act", args=["claims", world.claim.pk]),
        {"action": "verify", "next": "queue"},
    )

    assert done["Location"] == reverse("review:queue") + "?kind=claims"
    world.claim.refresh_from_db()
    assert world.claim.status == S.VERIFIED


def test_a_control_record_sent_back_reaches_its_author_with_the_comment(
    world: World, reviewer: User, reviewer_client: Client, contributor_client: Client
) -> None:
    ControlRecord.objects.filter(pk=world.control.pk).update(review_status=S.SUBMITTED)

    reviewer_client.post(
        reverse("review:record_act", args=["control", world.control.pk]),
        {"action": "needs_changes", "reason": "which post says Achin fell?"},
    )

    mine = contributor_client.get(
        reverse("review:mine"), {"kind": "control", "status": "needs_changes"}
    )
    assert [r.pk for r in mine.context["page"]] == [world.control.pk]
    assert "which post says Achin fell?" in mine.content.decode()
    page = contributor_client.get(reverse("review:record", args=["control", world.control.pk]))
    assert "which post says Achin fell?" in page.content.decode()
    latest = ControlRecordVersion.objects.filter(record=world.control).latest("version")
    assert (latest.changed_by, latest.review_status) == (reviewer, S.NEEDS_CHANGES)


def test_others_drafts_and_unknown_kinds_are_not_found(
    world: World, reviewer: User, contributor_client: Client, anon_client: Client
) -> None:
    Claim.objects.filter(pk=world.claim.pk).update(created_by=reviewer)

    assert (
        contributor_client.get(
            reverse("review:record", args=["claims", world.claim.pk])
        ).status_code
        == 404
    )
    assert contributor_client.get("/review/tallies/1/").status_code == 404
    response = anon_client.get(reverse("review:record", args=["claims", world.claim.pk]))
    assert response.status_code == 302


def test_a_contributor_cannot_verify_a_claim_through_the_page(
    world: World, reviewer: User, contributor_client: Client
) -> None:
    Claim.objects.filter(pk=world.claim.pk).update(status=S.SUBMITTED, created_by=reviewer)

    response = contributor_client.post(
        reverse("review:record_act", args=["claims", world.claim.pk]),
        {"action": "verify"},
        follow=True,
    )

    assert "only reviewers" in response.content.decode()
    world.claim.refresh_from_db()
    assert world.claim.status == S.SUBMITTED
