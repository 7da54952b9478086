"""The status of every unit on a date: recaptures, claims, stale confirmations, silence."""

from __future__ import annotations

import datetime as dt

import pytest

from attrition.errors import InvalidInput
from attrition.history import versions_of
from attrition.losses.choices import ReviewStatus
from attrition.review.workflow import Action, review_transition
from attrition.territory.models import ControlRecord, ControlStatus
from attrition.territory.selectors import (
    UNKNOWN,
    district_change,
    district_counts,
    province_rollup,
    status_on,
    unit_history,
)
from attrition.territory.services import (
    control_record_confirm,
    control_record_create,
    control_record_delete,
    control_record_update,
)
from tests.territory.tiny import Map

G, C, INS, U = (
    ControlStatus.GOVERNMENT,
    ControlStatus.CONTESTED,
    ControlStatus.INSURGENT,
    ControlStatus.CLAIMED,
)
D = dt.date


def test_it_says_unknown_for_a_unit_without_records(tiny_map: Map) -> None:
    statuses = status_on(tiny_map.conflict, D(2021, 7, 1))
    assert {s.status for s in statuses.values()} == {UNKNOWN}
    assert len(statuses) == 4
    assert all(s.age_days is None and not s.stale for s in statuses.values())


def test_it_follows_a_fall_and_its_recapture(tiny_map: Map) -> None:
    m = tiny_map
    m.record(m.alpha, G, D(2021, 5, 1))
    m.record(m.alpha, INS, D(2021, 6, 20), side=m.taliban)
    m.record(m.alpha, G, D(2021, 7, 5), side=m.government)

    def on(day: dt.date) -> str:
        return status_on(m.conflict, day)[m.alpha.pk].status

    assert on(D(2021, 4, 30)) == UNKNOWN
    assert on(D(2021, 6, 19)) == G
    assert on(D(2021, 6, 20)) == INS
    assert on(D(2021, 7, 4)) == INS
    assert on(D(2021, 7, 5)) == G
    kinds = [e.kind for e in unit_history(m.conflict, m.alpha)]
    assert kinds == ["recorded", "fell", "recaptured"]


def test_it_counts_falls_and_recaptures_within_a_period(tiny_map: Map) -> None:
    m = tiny_map
    m.record(m.alpha, G, D(2021, 5, 1))
    m.record(m.bravo, G, D(2021, 5, 1))
    m.record(m.alpha, INS, D(2021, 6, 20))
    m.record(m.alpha, G, D(2021, 7, 5))
    m.record(m.bravo, INS, D(2021, 7, 10))
    change = district_change(m.conflict, D(2021, 6, 1), D(2021, 7, 31))
    assert change.start.by_status[G] == 2
    assert change.end.by_status[G] == 1
    assert change.delta[INS] == 1
    assert change.by_kind["fell"] == 2
    assert change.by_kind["recaptured"] == 1
    assert [(c.unit_id, c.kind) for c in change.changes] == [
        (m.alpha.pk, "fell"),
        (m.alpha.pk, "recaptured"),
        (m.bravo.pk, "fell"),
    ]


def test_it_keeps_an_unconfirmed_claim_apart_from_the_assessed_status(tiny_map: Map) -> None:
    m = tiny_map
    m.record(m.bravo, G, D(2021, 5, 1))
    m.record(m.bravo, U, D(2021, 7, 1), side=m.taliban)
    status = status_on(m.conflict, D(2021, 7, 2))[m.bravo.pk]
    assert status.status == U
    assert status.assessed == G
    counts = district_counts(m.conflict, D(2021, 7, 2))
    assert counts.by_status[U] == 1
    assert counts.by_status[G] == 0
    assert counts.by_status[INS] == 0


def test_it_shows_how_old_the_last_confirmation_is(tiny_map: Map) -> None:
    m = tiny_map
    m.record(m.charlie, C, D(2021, 5, 1), last_confirmed=D(2021, 5, 10))
    fresh = status_on(m.conflict, D(2021, 5, 20))[m.charlie.pk]
    stale = status_on(m.conflict, D(2021, 8, 1))[m.charlie.pk]
    assert (fresh.age_days, fresh.stale) == (10, False)
    assert stale.status == C  # still the last verified status: never guessed from silence
    assert (stale.age_days, stale.stale) == (83, True)
    assert district_counts(m.conflict, D(2021, 8, 1)).stale == 1


def test_it_counts_a_date_between_two_confirmations_as_fresh(tiny_map: Map) -> None:
    m = tiny_map
    m.record(m.charlie, INS, D(2021, 5, 1), last_confirmed=D(2021, 8, 1))
    assert status_on(m.conflict, D(2021, 6, 15))[m.charlie.pk].age_days == 0


def test_it_ignores_drafts_rejected_and_deleted_records(tiny_map: Map) -> None:
    m = tiny_map
    m.record(m.delta, G, D(2021, 5, 1))
    m.record(m.delta, INS, D(2021, 6, 1), verified=False)
    rejected = m.record(m.delta, C, D(2021, 6, 2), verified=False)
    review_transition(record=rejected, action=Action.REJECT, by=m.reviewer, reason="no source")
    gone = m.record(m.delta, INS, D(2021, 6, 3))
    control_record_delete(record=gone, by=m.reviewer, reason="duplicate")
    assert status_on(m.conflict, D(2021, 7, 1))[m.delta.pk].status == G


def test_it_rolls_districts_up_into_provinces(tiny_map: Map) -> None:
    m = tiny_map
    m.record(m.alpha, INS, D(2021, 6, 1))
    m.record(m.bravo, INS, D(2021, 6, 2))
    m.record(m.charlie, G, D(2021, 6, 3))
    rows = {r.name: r for r in province_rollup(m.conflict, D(2021, 7, 1))}
    assert rows["North"].districts == 2
    assert rows["North"].sentence == "North: 2 districts, of which 2 insurgent-controlled"
    assert rows["South"].sentence == "South: 2 districts, of which 1 government, 1 unknown"


def test_it_versions_every_write_and_sends_an_edited_record_back_to_review(
    tiny_map: Map,
) -> None:
    m = tiny_map
    record = m.record(m.alpha, INS, D(2021, 6, 1))
    assert record.review_status == ReviewStatus.VERIFIED
    edited = control_record_update(record=record, by=m.author, note="district centre only")
    assert edited.review_status == ReviewStatus.SUBMITTED
    confirmed = control_record_confirm(record=edited, on=D(2021, 7, 1), by=m.author)
    assert confirmed.last_confirmed == D(2021, 7, 1)
    versions = versions_of(ControlRecord)._default_manager.filter(record_id=record.pk)
    assert [v.change_kind for v in versions.order_by("version")] == [  # type: ignore[attr-defined]
        "create",
        "status",
        "update",
        "update",
    ]
    # The author cannot verify their own edit (four eyes); the reviewer can.
    review_transition(record=confirmed, action=Action.VERIFY, by=m.reviewer)
    assert status_on(m.conflict, D(2021, 7, 2))[m.alpha.pk].status == INS


def test_it_refuses_a_unit_of_another_map_and_a_verified_new_record(tiny_map: Map) -> None:
    m = tiny_map
    with pytest.raises(InvalidInput, match="draft or submitted"):
        control_record_create(
            conflict=m.conflict,
            unit=m.alpha,
            status=INS,
            since=D(2021, 6, 1),
            review_status=ReviewStatus.VERIFIED,
        )
    with pytest.raises(InvalidInput, match="before the status began"):
        control_record_create(
            conflict=m.conflict,
            unit=m.alpha,
            status=INS,
            since=D(2021, 6, 1),
            last_confirmed=D(2021, 5, 1),
        )
    with pytest.raises(InvalidInput, match="not a control status"):
        control_record_create(conflict=m.conflict, unit=m.alpha, status="held", since=D(2021, 6, 1))
