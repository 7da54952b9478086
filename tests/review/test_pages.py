"""The contributors' and reviewers' pages: my work, the queue, and a loss in review."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from attrition.accounts.models import User
from attrition.dedup.models import LossCandidate
from attrition.losses.choices import ReviewStatus
from attrition.losses.models import Loss, LossVersion
from attrition.losses.services import loss_create, loss_update
from tests.admin_site.conftest import World

S = ReviewStatus


def page(pk: int, what: str = "loss") -> str:
    return reverse(f"review:{what}", args=[pk])


def test_readers_are_sent_to_sign_in_and_contributors_kept_out_of_the_queue(
    world: World, anon_client: Client, contributor_client: Client
) -> None:
    for url in (reverse("review:queue"), reverse("review:mine"), page(world.loss.pk)):
        response = anon_client.get(url)
        assert response.status_code == 302
        assert "login" in response["Location"]
    assert contributor_client.get(reverse("review:queue")).status_code == 403


def test_the_queue_lists_submitted_losses_with_filters(
    world: World, reviewer_client: Client
) -> None:
    other = world.ledger.loss(status=S.SUBMITTED, markings="777")
    world.ledger.loss(status=S.DRAFT, markings="888")
    LossCandidate.objects.create(loss_a=world.loss, loss_b=other, score=0.8, verdict="possible")

    everything = reviewer_client.get(reverse("review:queue"))
    by_charlie = reviewer_client.get(reverse("review:queue"), {"author": "charlie"})
    by_text = reviewer_client.get(reverse("review:queue"), {"q": "777"})
    no_dups = reviewer_client.get(reverse("review:queue"), {"duplicates": "no"})

    assert [x.pk for x in everything.context["page"]] == [world.loss.pk, other.pk]
    assert [x.pk for x in by_charlie.context["page"]] == [world.loss.pk]
    assert [x.pk for x in by_text.context["page"]] == [other.pk]
    assert list(no_dups.context["page"]) == []
    assert "possible duplicate" in everything.content.decode()


def test_a_reviewer_verifies_from_the_review_page_and_moves_to_the_next(
    world: World, reviewer: User, reviewer_client: Client
) -> None:
    following = world.ledger.loss(status=S.SUBMITTED)
    shown = reviewer_client.get(page(world.loss.pk))
    body = shown.content.decode()
    assert world.evidence.url in body
    assert 'data-key="v"' in body

    response = reviewer_client.post(
        page(world.loss.pk, "act"),
        {"action": "verify", "revision": world.loss.revision, "next": "queue"},
    )

    assert response.status_code == 302
    assert response["Location"] == page(following.pk)
    world.loss.refresh_from_db()
    assert world.loss.status == S.VERIFIED
    latest = LossVersion.objects.filter(record=world.loss).latest("version")
    assert (latest.changed_by, latest.changed_via) == (reviewer, "web")


def test_a_refused_action_is_explained_and_changes_nothing(
    world: World, contributor_client: Client
) -> None:
    response = contributor_client.post(
        page(world.loss.pk, "act"), {"action": "verify"}, follow=True
    )

    assert "only reviewers" in response.content.decode()
    world.loss.refresh_from_db()
    assert world.loss.status == S.SUBMITTED


def test_needs_changes_reaches_the_author_with_the_comment(
    world: World, contributor_client: Client, reviewer_client: Client
) -> None:
    reviewer_client.post(
        page(world.loss.pk, "act"), {"action": "needs_changes", "reason": "add the second photo"}
    )

    mine = contributor_client.get(reverse("review:mine"), {"status": "needs_changes"})
    assert [x.pk for x in mine.context["page"]] == [world.loss.pk]
    assert "add the second photo" in mine.content.decode()
    shown = contributor_client.get(page(world.loss.pk))
    assert 'data-key="s"' in shown.content.decode()  # the author may resubmit


def test_a_contributor_cannot_open_someone_elses_draft(
    world: World, reviewer: User, contributor_client: Client
) -> None:
    draft = loss_create(
        conflict=world.ledger.conflict,
        side=world.ledger.afghan,
        model=world.ledger.t62,
        fates=["destroyed"],
        status=S.DRAFT,
        by=reviewer,
    )

    assert contributor_client.get(page(draft.pk)).status_code == 404
    assert contributor_client.get(page(world.loss.pk)).status_code == 200


def test_a_reviewer_merges_a_duplicate_from_the_review_page(
    world: World, reviewer_client: Client
) -> None:
    original = world.ledger.loss(status=S.VERIFIED)

    response = reviewer_client.post(
        page(world.loss.pk, "merge"), {"into": f"#{original.pk}", "reason": "same hull"}
    )

    assert response["Location"] == page(original.pk)
    world.loss.refresh_from_db()
    assert (world.loss.status, world.loss.merged_into_id) == (S.MERGED, original.pk)


def test_the_history_shows_each_change_and_reverts_from_the_page(
    world: World, reviewer: User, reviewer_client: Client
) -> None:
    loss_update(loss=world.loss, markings="999", by=reviewer)
    shown = reviewer_client.get(page(world.loss.pk))
    body = shown.content.decode()
    assert "211" in body
    assert "999" in body
    before = Loss.objects.get(pk=world.loss.pk)

    reviewer_client.post(page(world.loss.pk, "revert"), {"version": 1, "revision": before.revision})

    world.loss.refresh_from_db()
    assert world.loss.markings == "211"
    assert LossVersion.objects.filter(record=world.loss).latest("version").change_kind == "revert"
