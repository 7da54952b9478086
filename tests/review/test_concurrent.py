"""Two people edit the same record at once: the second save is refused, nothing is lost."""

from __future__ import annotations

from typing import Any

from django.test import Client

from attrition.claims.models import Claim, ClaimVersion
from attrition.losses.models import Loss, LossVersion
from tests.admin_site.conftest import World, admin_url, loss_form


def opened(client: Client, model: type[Any], pk: int) -> dict[str, Any]:
    """Return the form data a user's browser holds after opening a record's admin page."""
    response = client.get(admin_url(model, "change", pk))
    assert response.status_code == 200
    form = response.context["adminform"].form
    return {name: form[name].value() for name in form.fields}


def test_the_second_of_two_loss_edits_is_refused_and_both_are_recoverable(
    world: World, contributor_client: Client, reviewer_client: Client
) -> None:
    mine = opened(contributor_client, Loss, world.loss.pk)
    theirs = opened(reviewer_client, Loss, world.loss.pk)
    assert mine["seen_version"] == theirs["seen_version"] is not None

    first = reviewer_client.post(
        admin_url(Loss, "change", world.loss.pk),
        loss_form(
            world.ledger,
            world.loss,
            markings="212 (reviewer)",
            revision=theirs["revision"],
            seen_version=theirs["seen_version"],
        ),
    )
    second = contributor_client.post(
        admin_url(Loss, "change", world.loss.pk),
        loss_form(
            world.ledger,
            world.loss,
            markings="213 (author)",
            revision=mine["revision"],
            seen_version=mine["seen_version"],
        ),
    )

    assert first.status_code == 302
    assert second.status_code == 200
    errors = " ".join(second.context["adminform"].form.non_field_errors())
    assert "was changed by bob since you opened it" in errors
    assert "markings: '211' -> '212 (reviewer)'" in errors  # what changed meanwhile
    # Nothing lost: the first save is the record and in its history; the refused one is
    # still in the author's form, ready to apply again.
    world.loss.refresh_from_db()
    assert world.loss.markings == "212 (reviewer)"
    assert LossVersion.objects.filter(record=world.loss, markings="212 (reviewer)").exists()
    assert not LossVersion.objects.filter(record=world.loss, markings="213 (author)").exists()
    assert 'value="213 (author)"' in second.content.decode()


def claim_form(claim: Claim, **changes: Any) -> dict[str, Any]:
    data = {
        "conflict": claim.conflict_id,
        "claimant": claim.claimant,
        "claimed_on": claim.claimed_on,
        "claimed_on_precision": claim.claimed_on_precision,
        "scope": claim.scope,
        "kind": claim.kind,
        "number": claim.number,
        "number_high": claim.number_high or "",
        "source_url": claim.source_url,
        "evidence": "",
        "quote": claim.quote,
        "status": claim.status,
        "scope_rule": "null",
        "change_reason": "",
    }
    data.update(changes)
    return data


def test_every_audited_record_refuses_a_stale_save(
    world: World, contributor_client: Client, reviewer_client: Client
) -> None:
    mine = opened(contributor_client, Claim, world.claim.pk)
    theirs = opened(reviewer_client, Claim, world.claim.pk)
    url = admin_url(Claim, "change", world.claim.pk)

    first = reviewer_client.post(
        url, claim_form(world.claim, number=650, seen_version=theirs["seen_version"])
    )
    second = contributor_client.post(
        url, claim_form(world.claim, number=800, seen_version=mine["seen_version"])
    )

    assert first.status_code == 302, first.context["adminform"].form.errors
    assert second.status_code == 200
    errors = " ".join(second.context["adminform"].form.non_field_errors())
    assert "was changed by bob" in errors
    assert "number: 700 -> 650" in errors
    world.claim.refresh_from_db()
    assert world.claim.number == 650
    numbers = ClaimVersion.objects.filter(record=world.claim).values_list("number", flat=True)
    assert sorted(numbers) == [650, 700]
