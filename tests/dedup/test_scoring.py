"""Loss matching: explainable scores that two losses are one item, and who to score against."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from attrition.catalog.models import Conflict, Side
from attrition.dedup import scoring
from attrition.dedup.scoring import (
    MediaEvidence,
    candidate_query,
    candidates_for,
    loss_score,
    shared_media,
)
from attrition.dedup.signals import markings_normalised
from attrition.evidence.models import Capture, CustodyRecord, Evidence
from attrition.losses.models import Loss
from attrition.losses.services import depiction_create, loss_create, loss_delete, loss_merge
from attrition.territory.models import AdminUnit, BoundarySet
from tests.ledger import Ledger

DAY = dt.date(2021, 8, 1)
# Jalalabad; 0.018 degrees of latitude is 2 km.
LAT, LON = 34.43, 70.45
CYRILLIC_A = "\u0410"
NAMES = [
    "same media",
    "matched media",
    "model",
    "markings",
    "place",
    "time",
    "side",
    "fates",
    "captor",
]


def seen(ledger: Ledger, **fields: Any) -> Loss:
    """Return a loss seen on DAY at an exact point in Jalalabad, unless `fields` say otherwise."""
    where: dict[str, Any] = {"first_seen": DAY, "lat": LAT, "lon": LON, "place_precision": "exact"}
    return ledger.loss(**{**where, **fields})


def capture_of(evidence: Evidence, n: int) -> Capture:
    """Return an archived image collected for `evidence`."""
    capture = Capture.objects.create(
        sha256=f"{n:064x}", kind="image", storage_key=f"c/{n}", mime="image/jpeg", size_bytes=99
    )
    CustodyRecord.objects.create(
        evidence=evidence, capture=capture, method="http", collected_at=timezone.now()
    )
    return capture


def contribution(score: scoring.Score, name: str) -> float:
    """Return the contribution of the named signal."""
    return next(s.contribution for s in score.signals if s.name == name)


def test_it_folds_markings_across_case_dashes_and_cyrillic_lookalikes() -> None:
    assert markings_normalised(f"{CYRILLIC_A}-123") == {"A123"}
    assert markings_normalised("\u0432\u043c 4-21, 17/ \u0425") == {"BM421", "17", "X"}
    assert markings_normalised("  - ") == set()


def test_it_scores_same_markings_likely_same_even_with_different_evidence(ledger: Ledger) -> None:
    a = ledger.loss(markings=f"{CYRILLIC_A}-123", evidence=[ledger.evidence(1)])
    b = ledger.loss(markings="a123", evidence=[ledger.evidence(2)])

    score = loss_score(a, b, media=shared_media(a, [b]).get(b.pk, MediaEvidence()))

    assert score.verdict == "likely same"
    assert contribution(score, "markings") == 4.0


def test_it_scores_different_markings_unlikely_even_with_same_model_and_place(
    ledger: Ledger,
) -> None:
    score = loss_score(seen(ledger, markings="211"), seen(ledger, markings="214"))

    assert score.verdict == "unlikely"
    assert contribution(score, "markings") == -4.0
    assert contribution(score, "place") > 0


def test_it_does_not_take_two_tanks_in_one_photo_for_one_tank(ledger: Ledger) -> None:
    post = ledger.evidence(1)
    photo = capture_of(post, 1)
    left, right, third = seen(ledger), seen(ledger), seen(ledger)
    depiction_create(loss=left, evidence=post, capture=photo, item_number=1)
    depiction_create(loss=right, evidence=post, capture=photo, item_number=2)
    depiction_create(loss=third, evidence=post, capture=photo)

    media = shared_media(left, [right, third])
    apart = loss_score(left, right, media=media[right.pk])
    unmarked = loss_score(left, third, media=media[third.pk])

    assert media[right.pk].told_apart == 1
    assert apart.verdict == "unlikely"
    assert contribution(apart, "same media") < 0
    assert media[third.pk].shared_captures == 1
    assert contribution(unmarked, "same media") == 3.0
    assert unmarked.verdict == "likely same"


def test_it_tells_apart_disjoint_regions_of_one_photo(ledger: Ledger) -> None:
    post = ledger.evidence(1)
    photo = capture_of(post, 1)
    left, right = seen(ledger), seen(ledger)
    depiction_create(
        loss=left, evidence=post, capture=photo, region={"x": 0, "y": 0, "w": 0.4, "h": 1}
    )
    depiction_create(
        loss=right, evidence=post, capture=photo, region={"x": 0.5, "y": 0, "w": 0.5, "h": 1}
    )

    assert shared_media(left, [right])[right.pk].told_apart == 1


def test_it_scores_matched_media_same_model_2_km_and_1_day_likely_same(ledger: Ledger) -> None:
    a = seen(ledger)
    b = seen(ledger, lat=LAT + 0.018, first_seen=DAY + dt.timedelta(days=1))
    media = MediaEvidence(matched=[(10, 11, 12)])

    score = loss_score(a, b, media=media)

    assert score.verdict == "likely same"
    assert contribution(score, "matched media") == 2.5
    assert "2.0 km apart" in next(s.value for s in score.signals if s.name == "place")
    # The same vehicle type in the same place and day is common: alone it is only possible.
    assert loss_score(a, b, media=MediaEvidence()).verdict == "possible"


def test_it_weighs_suggested_and_verified_media_matches(ledger: Ledger) -> None:
    a, b = seen(ledger), seen(ledger)
    suggested = loss_score(a, b, media=MediaEvidence(matched=[(1, 2, 40)]))
    verified = loss_score(a, b, media=MediaEvidence(matched=[(1, 2, 70), (3, 4, -1)]))

    assert contribution(suggested, "matched media") == 1.0
    assert contribution(verified, "matched media") == 2.5


def test_it_scores_different_categories_unlikely(ledger: Ledger) -> None:
    score = loss_score(seen(ledger), seen(ledger, model=ledger.ranger))

    assert score.verdict == "unlikely"
    assert contribution(score, "model") == -3.0
    variant = loss_score(seen(ledger), seen(ledger, model=ledger.t55))
    assert contribution(variant, "model") == -0.5


def test_it_gives_province_level_places_no_boost(ledger: Ledger) -> None:
    exact = loss_score(seen(ledger), seen(ledger))
    coarse = loss_score(seen(ledger), seen(ledger, place_precision="province"))
    ledger.conflict.boundary_set = BoundarySet.objects.create(
        slug="b", name="b", source="tests", attribution="tests", licence="CC0"
    )
    ledger.conflict.save()
    country = AdminUnit.objects.create(
        boundary_set=ledger.conflict.boundary_set, level=0, code="AF", name="Afghanistan"
    )
    province = AdminUnit.objects.create(
        boundary_set=ledger.conflict.boundary_set,
        level=1,
        code="AF06",
        name="Nangarhar",
        parent=country,
    )
    by_unit = loss_score(ledger.loss(admin_unit=province), ledger.loss(admin_unit=province))

    assert contribution(exact, "place") == 1.0
    assert contribution(coarse, "place") == 0.0
    assert contribution(by_unit, "place") == 0.0


def test_it_does_not_penalise_month_precision_dates_20_days_apart(ledger: Ledger) -> None:
    later = DAY + dt.timedelta(days=20)
    months = loss_score(
        seen(ledger, first_seen_precision="month"),
        seen(ledger, first_seen=later, first_seen_precision="month"),
    )
    days = loss_score(seen(ledger), seen(ledger, first_seen=later))

    assert contribution(months, "time") >= 0
    assert contribution(days, "time") < 0


def test_it_weighs_side_captor_and_fate_sequences(ledger: Ledger) -> None:
    captured = seen(ledger, fates=["captured"], captured_by=ledger.taliban)
    extended = seen(ledger, fates=["captured", "destroyed"], captured_by=ledger.taliban)
    destroyed = seen(ledger, first_seen=DAY - dt.timedelta(days=3))
    theirs = seen(ledger, side=ledger.taliban)

    assert contribution(loss_score(captured, extended), "fates") > 0
    assert contribution(loss_score(captured, extended), "captor") > 0
    assert contribution(loss_score(destroyed, captured), "fates") < 0
    assert contribution(loss_score(destroyed, theirs), "side") == -4.0


def test_it_gives_every_score_one_signal_per_attribute_and_signed_lines(ledger: Ledger) -> None:
    scores = [
        loss_score(ledger.loss(), ledger.loss(model=ledger.ranger)),
        loss_score(
            seen(ledger), seen(ledger, markings="7"), media=MediaEvidence(shared_captures=1)
        ),
    ]

    for score in scores:
        assert [s.name for s in score.signals] == NAMES
        assert 0 <= score.total <= 1
        lines = score.explain()
        assert len(lines) == len(NAMES)
        for line, signal in zip(lines, score.signals, strict=True):
            assert re.match(rf"^[+-]\d+\.\d\d {signal.name}: \S", line)
            assert abs(signal.contribution) <= signal.weight
    assert scores[1].explain()[0] == "+3.00 same media: both in 1 archived file"


def test_it_queries_live_candidates_of_the_same_conflict_and_side_only(ledger: Ledger) -> None:
    other_war = Conflict.objects.create(slug="other-war", name="Other war")
    stranger = Side.objects.create(conflict=other_war, slug="x", name="X", short_name="X")
    post = ledger.evidence(1)
    loss = seen(ledger, evidence=[post])
    alike = seen(ledger)
    sharing = seen(ledger, model=ledger.ranger, first_seen=DAY.replace(year=2020), evidence=[post])
    undated = ledger.loss(model=ledger.t55)
    excluded = [
        seen(ledger, side=ledger.taliban),
        seen(ledger, model=ledger.ranger),
        seen(ledger, first_seen=DAY.replace(year=2020)),
        loss_delete(loss=seen(ledger), reason="test"),
        loss_create(conflict=other_war, side=stranger, model=ledger.t62, fates=["destroyed"]),
    ]
    merged = seen(ledger)
    loss_merge(loss=merged, into=alike)

    found = set(candidate_query(loss))

    assert found == {alike, sharing, undated}
    assert not found & {loss, merged, *excluded}


def test_it_bounds_the_candidate_query_to_the_newest(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scoring, "CANDIDATE_MAX", 3)
    losses = [seen(ledger) for _ in range(6)]

    assert list(candidate_query(losses[0])) == losses[:0:-1][:3]


def test_it_ranks_the_true_duplicate_first(
    ledger: Ledger, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    new = seen(ledger, markings=f"{CYRILLIC_A} 211", evidence=[ledger.evidence(1)])
    twin = seen(ledger, markings="a-211", lat=LAT + 0.05, first_seen=DAY + dt.timedelta(days=4))
    near = [seen(ledger) for _ in range(3)]
    numbered = seen(ledger, markings="214")
    far = seen(ledger, lat=LAT - 3, first_seen=DAY + dt.timedelta(days=50))

    with django_assert_max_num_queries(3):  # candidates, then depictions: theirs and ours
        ranked = candidates_for(new)

    assert ranked[0][0] == twin
    assert ranked[0][1].verdict == "likely same"
    assert {loss for loss, _ in ranked[1:]} == set(near)
    assert numbered not in {loss for loss, _ in ranked}
    assert far not in {loss for loss, _ in ranked}
    assert candidates_for(new, limit=2) == ranked[:2]


def test_it_uses_the_media_matcher_when_given_one(ledger: Ledger) -> None:
    new, other = seen(ledger), seen(ledger, lat=LAT + 1)
    calls: list[tuple[int, int]] = []

    def media_for(a: Loss, b: Loss) -> MediaEvidence:
        calls.append((a.pk, b.pk))
        return MediaEvidence(matched=[(1, 2, 0)])

    ranked = candidates_for(new, media_for=media_for)

    assert calls == [(new.pk, other.pk)]
    assert contribution(ranked[0][1], "matched media") == 2.5
