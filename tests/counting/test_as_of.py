"""Counts and estimates "as of" a moment, categories included, after edits made after the fact."""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django.utils import timezone

from attrition.accounts.models import User
from attrition.catalog.models import EquipmentModelVersion
from attrition.catalog.services import model_update
from attrition.counting import selectors
from attrition.counting.estimates import undocumented_estimate
from attrition.counting.services import tally_create
from attrition.evidence.services import evidence_create
from attrition.losses.services import depiction_create, loss_merge
from attrition.losses.tally import TallyRule, data_version, model_categories, tally_count
from tests.ledger import Ledger


def test_it_files_a_model_under_the_category_it_had_then(ledger: Ledger, reviewer: User) -> None:
    ledger.loss(model=ledger.t55, fates=["captured"])
    ledger.loss(model=ledger.t62, fates=["destroyed"])
    tally = tally_create(
        conflict=ledger.conflict, name="Tanks", rule={"categories_in": ["test-tanks"]}, by=reviewer
    )
    cited = selectors.tally_report(tally=tally)
    assert cited.result.total == 2

    # After the fact: the T-55 is refiled as a truck (say, a recovery vehicle on its hull).
    model_update(model=ledger.t55, category=ledger.trucks, reason="it is a recovery vehicle")

    today = selectors.tally_report(tally=tally)
    assert today.result.total == 1
    assert today.as_of > cited.as_of  # the move is a change: the data version moves on
    again = selectors.tally_report(tally=tally, as_of=cited.as_of)
    assert again.result.total == 2
    assert [(x.key, x.count) for x in again.by_category] == [("test-tanks", 2)]
    everything = tally_count(conflict=ledger.conflict, as_of=cited.as_of)
    assert everything.by_category == {ledger.tanks.pk: 2}
    now = tally_count(conflict=ledger.conflict)
    assert now.by_category == {ledger.tanks.pk: 1, ledger.trucks.pk: 1}
    # Today's count is the count as of today's data version, categories included.
    assert tally_count(conflict=ledger.conflict, as_of=data_version()) == now.__class__(
        **{**vars(now), "as_of": data_version()}
    )


def test_it_keeps_the_category_a_never_versioned_model_had_before_its_first_edit(
    ledger: Ledger,
) -> None:
    before = timezone.now()
    assert not EquipmentModelVersion._default_manager.filter(record_id=ledger.ranger.pk).exists()

    model_update(model=ledger.ranger, category=ledger.tanks, reason="test")

    versions = EquipmentModelVersion._default_manager.filter(record_id=ledger.ranger.pk)
    assert [v.category_id for v in versions.order_by("version")] == [  # type: ignore[attr-defined]
        ledger.trucks.pk,
        ledger.tanks.pk,
    ]
    assert model_categories(as_of=before)[ledger.ranger.pk] == ledger.trucks.pk
    assert model_categories()[ledger.ranger.pk] == ledger.tanks.pk


def _shown(ledger: Ledger, n: int, platforms: list[str], model: object = None) -> object:
    loss = ledger.loss(model=model or ledger.t62)  # type: ignore[arg-type]
    for name in platforms:
        ev = evidence_create(url=f"https://example.org/{name}/{n}", platform=name)
        depiction_create(loss=loss, evidence=ev)
    return loss


def test_an_estimate_as_of_a_moment_gives_what_the_ledger_gave_then(ledger: Ledger) -> None:
    kept = None
    for n in range(40):
        on = [p for p, k in (("telegram", 2), ("x", 3), ("youtube", 5)) if n % k == 0] or ["x"]
        loss = _shown(ledger, n, on, model=ledger.t55 if n % 4 == 0 else ledger.t62)
        kept = kept or loss
    rule = TallyRule(categories_in=["test-tanks"])
    cited = undocumented_estimate(conflict=ledger.conflict, rule=rule, stratify=True)
    assert cited.as_of is not None
    assert not cited.pinned

    # After the fact: new losses and sources, a merge that moves evidence, a model refiled.
    for n in range(40, 55):
        _shown(ledger, n, ["telegram", "youtube"])
    duplicate = _shown(ledger, 99, ["instagram", "telegram"])
    loss_merge(loss=duplicate, into=kept, reason="same hull number")  # type: ignore[arg-type]
    model_update(model=ledger.t55, category=ledger.trucks, reason="refiled")

    today = undocumented_estimate(conflict=ledger.conflict, rule=rule, stratify=True)
    assert today.documented != cited.documented
    then = undocumented_estimate(
        conflict=ledger.conflict, rule=rule, stratify=True, as_of=cited.as_of
    )
    assert then.pinned
    assert then.documented == cited.documented == 40
    assert then.lists == cited.lists
    assert then.estimate.list_sizes == cited.estimate.list_sizes
    assert (then.estimate.total, then.estimate.low, then.estimate.high) == (
        cited.estimate.total,
        cited.estimate.low,
        cited.estimate.high,
    )
    assert [(s.key, s.documented) for s in then.strata] == [
        (s.key, s.documented) for s in cited.strata
    ]


def test_the_estimate_page_and_api_take_as_of(
    ledger: Ledger, reviewer: User, anon_client: Client
) -> None:
    for n in range(12):
        _shown(ledger, n, ["telegram", "x"] if n % 2 else ["telegram"])
    tally_create(conflict=ledger.conflict, name="All", rule={}, by=reviewer)
    now = anon_client.get("/api/v1/estimates/test-war/all").json()
    for n in range(12, 20):
        _shown(ledger, n, ["x"])

    then = anon_client.get("/api/v1/estimates/test-war/all", {"as_of": now["as_of"]}).json()
    assert then["pinned"] is True
    assert then["documented"] == now["documented"] == 12
    assert then["estimate"]["list_sizes"] == now["estimate"]["list_sizes"]
    page = anon_client.get("/estimates/test-war/all/", {"as_of": "2000-01-01"})
    assert page.status_code == 200
    assert "Documented: <strong>0</strong>" in page.content.decode()
    bad = anon_client.get("/estimates/test-war/all/", {"as_of": "yesterday"})
    assert bad.status_code == 400


def test_the_pinned_moment_includes_the_tally_edit(ledger: Ledger, reviewer: User) -> None:
    ledger.loss(model=ledger.ranger)
    tally = tally_create(conflict=ledger.conflict, name="All", rule={}, by=reviewer)
    from attrition.counting.services import tally_update

    tally_update(tally=tally, by=reviewer, rule={"categories_out": ["test-trucks"]})
    cited = selectors.tally_report(tally=tally)
    assert cited.result.total == 0

    again = selectors.tally_report(tally=tally, as_of=cited.as_of)
    assert again.rule == cited.rule
    assert again.result.total == 0
    assert again.as_of - cited.as_of == dt.timedelta(0)


def test_an_estimate_made_now_reproduces_after_its_tally_is_edited(
    ledger: Ledger, reviewer: User
) -> None:
    from attrition.counting.estimates import tally_estimate
    from attrition.counting.services import tally_update

    for n in range(12):
        _shown(ledger, n, ["telegram", "x"] if n % 2 else ["telegram"], model=ledger.ranger)
    tally = tally_create(conflict=ledger.conflict, name="All", rule={}, by=reviewer)
    tally_update(tally=tally, by=reviewer, rule={"categories_out": ["test-trucks"]})

    now = tally_estimate(tally=tally)
    assert now.documented == 0
    assert now.as_of is not None
    assert tally_estimate(tally=tally, as_of=now.as_of).documented == 0
