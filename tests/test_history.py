"""The temporal version tables: ordering, as-of reads, and names that would clash."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import models
from django.test.utils import isolate_apps

from attrition import history
from attrition.losses.models import LossVersion
from attrition.losses.services import loss_update
from tests.ledger import Ledger


@isolate_apps("attrition.losses")
def test_a_field_named_like_a_version_column_is_refused() -> None:
    class Thing(models.Model):
        valid_from = models.DateField()

        class Meta:
            app_label = "losses"

    with pytest.raises(ValueError, match="rename the field"):
        history.version_model(Thing)


def test_versions_stay_ordered_when_two_writes_share_a_clock_tick(ledger: Ledger) -> None:
    loss = ledger.loss()
    tick = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    history.record_version(loss, at=tick)
    history.record_version(loss, at=tick)

    versions = list(LossVersion._default_manager.filter(record=loss).order_by("version"))

    assert [v.version for v in versions] == [1, 2, 3]
    assert versions[1].valid_to == versions[2].valid_from > versions[1].valid_from


def test_valid_at_returns_the_version_current_at_a_moment(ledger: Ledger) -> None:
    loss = ledger.loss(markings="")
    loss_update(loss=loss, markings="A-1")
    first, second = LossVersion._default_manager.filter(record=loss).order_by("version")

    at_first = history.valid_at(LossVersion._default_manager.all(), first.valid_from)
    at_second = history.valid_at(LossVersion._default_manager.all(), second.valid_from)

    assert [v.markings for v in at_first] == [""]
    assert [v.markings for v in at_second] == ["A-1"]
