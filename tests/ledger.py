"""A small, real ledger for tests: one conflict, two sides, a few categories and models."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from attrition.catalog.models import Category, Conflict, EquipmentModel, Side
from attrition.evidence.models import Evidence
from attrition.evidence.services import evidence_create
from attrition.losses.choices import ReviewStatus
from attrition.losses.models import Loss
from attrition.losses.services import depiction_create, loss_create


@dataclass
class Ledger:
    conflict: Conflict
    afghan: Side
    taliban: Side
    tanks: Category
    trucks: Category
    t62: EquipmentModel
    t55: EquipmentModel
    ranger: EquipmentModel

    def loss(
        self,
        model: EquipmentModel | None = None,
        *,
        fates: list[Any] | None = None,
        status: str = ReviewStatus.VERIFIED,
        side: Side | None = None,
        evidence: list[Evidence] | None = None,
        **fields: Any,
    ) -> Loss:
        loss = loss_create(
            conflict=self.conflict,
            side=side or self.afghan,
            model=model or self.t62,
            fates=fates or ["destroyed"],
            status=status,
            **fields,
        )
        for ev in evidence or []:
            depiction_create(loss=loss, evidence=ev)
        return loss

    def evidence(self, n: int) -> Evidence:
        return evidence_create(url=f"https://t.me/test_channel/{n}")


def ledger_small() -> Ledger:
    conflict = Conflict.objects.create(
        slug="test-war", name="Test war", period_start=dt.date(2021, 5, 1)
    )
    afghan = Side.objects.create(
        conflict=conflict, slug="andsf", name="Afghan National Army", short_name="Afghan forces"
    )
    taliban = Side.objects.create(
        conflict=conflict, slug="taliban", name="Taliban", short_name="Taliban", order=1
    )
    tanks = Category.objects.create(slug="test-tanks", name="Test tanks", order=1)
    trucks = Category.objects.create(slug="test-trucks", name="Test trucks", order=2)
    t62 = EquipmentModel.objects.create(slug="t-62-test", name="T-62 (test)", category=tanks)
    t55 = EquipmentModel.objects.create(slug="t-55-test", name="T-55 (test)", category=tanks)
    ranger = EquipmentModel.objects.create(
        slug="ranger-test", name="Ford Ranger (test)", category=trucks
    )
    return Ledger(conflict, afghan, taliban, tanks, trucks, t62, t55, ranger)
