"""Creating evidence: one record per canonical URL, even when two writers race."""

from __future__ import annotations

import pytest

from attrition.evidence.models import Evidence
from attrition.evidence.services import evidence_create


@pytest.mark.django_db(transaction=True)
def test_two_writers_of_the_same_url_get_one_record(monkeypatch: pytest.MonkeyPatch) -> None:
    """The look-up misses (as it would for a writer that lost the race): the insert is refused
    by the unique index and the winner's record is returned, nothing half-written."""
    first = evidence_create(url="https://t.me/channel/1")
    real_filter = Evidence.objects.filter
    calls = {"n": 0}

    def filter_missing_once(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            return real_filter(pk=-1)
        return real_filter(*args, **kwargs)

    monkeypatch.setattr(Evidence.objects, "filter", filter_missing_once)

    second = evidence_create(url="https://t.me/s/channel/1?utm_source=x")

    assert second.pk == first.pk
    assert Evidence.objects.count() == 1
