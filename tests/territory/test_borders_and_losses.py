"""Border shares by length, and the losses that lie inside a unit."""

from __future__ import annotations

import datetime as dt

import pytest

from attrition.catalog.models import Conflict
from attrition.reference.load import reference_load
from attrition.territory.geo import losses_in_unit
from attrition.territory.models import AdminUnit, BorderSegment, ControlRecord, ControlStatus
from attrition.territory.selectors import STATUS_ORDER, UNKNOWN, border_shares
from attrition.territory.services import control_record_create
from tests.ledger import Ledger
from tests.territory.tiny import Map

INS, G = ControlStatus.INSURGENT, ControlStatus.GOVERNMENT
D = dt.date


def test_it_splits_a_border_by_the_status_of_its_districts(tiny_map: Map) -> None:
    m = tiny_map
    m.record(m.alpha, INS, D(2021, 6, 1))
    m.record(m.bravo, G, D(2021, 6, 1))
    shares = {s.country: s for s in border_shares(m.conflict, D(2021, 7, 1))}
    tjk = shares["TJK"]
    assert tjk.total_km == pytest.approx(150.3)
    assert tjk.by_status_km[INS] == pytest.approx(100.1)
    assert tjk.by_status_km[G] == pytest.approx(50.2)
    assert tjk.sentence() == "Tajikistan: 100.1 of 150.3 km (67%) insurgent-controlled"
    assert shares["PAK"].by_status_km[UNKNOWN] == pytest.approx(30.3)


def test_it_adds_every_shipped_border_up_to_its_length(db: None) -> None:
    reference_load()
    conflict = Conflict.objects.get(slug="afghanistan-2021")
    # Some Tajik-border districts insurgent, one government, the rest unknown.
    tajik = list(
        AdminUnit.objects.filter(border_segments__country="TJK").order_by("code").distinct()
    )
    for i, unit in enumerate(tajik[:12]):
        control_record_create(
            conflict=conflict, unit=unit, status=INS if i else G, since=D(2021, 7, 1)
        )
    ControlRecord.objects.update(review_status="verified")
    shares = {s.country: s for s in border_shares(conflict, D(2021, 7, 15))}
    assert set(shares) == {"PAK", "TJK", "IRN", "TKM", "UZB", "CHN"}
    for share in shares.values():
        expected = sum(
            round(b.length_km * 10)
            for b in BorderSegment.objects.filter(
                country=share.country, unit__boundary_set=conflict.boundary_set
            )
        )
        assert share.total_dm == expected
        assert sum(share.by_status_dm[s] for s in STATUS_ORDER) == share.total_dm
    assert shares["TJK"].total_km == pytest.approx(1353.1)
    assert shares["TJK"].districts == 20
    assert shares["PAK"].total_km == pytest.approx(2632.1)
    assert 0 < shares["TJK"].share(INS) < 1
    assert shares["IRN"].share(UNKNOWN) == 1.0


def test_it_finds_losses_by_point_and_by_admin_unit(tiny_map: Map, ledger: Ledger) -> None:
    m = tiny_map
    by_point = ledger.loss(lon=1.5, lat=1.5)  # inside bravo
    by_unit = ledger.loss(admin_unit=m.bravo)
    elsewhere = ledger.loss(lon=0.5, lat=0.5)  # charlie
    draft = ledger.loss(lon=1.2, lat=1.2, status="draft")
    in_bravo = set(losses_in_unit(m.bravo).values_list("pk", flat=True))
    assert in_bravo == {by_point.pk, by_unit.pk}
    assert draft.pk not in in_bravo
    in_north = set(losses_in_unit(m.north).values_list("pk", flat=True))
    assert in_north == {by_point.pk, by_unit.pk}
    assert elsewhere.pk in set(losses_in_unit(m.south).values_list("pk", flat=True))
