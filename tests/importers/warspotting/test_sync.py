"""Syncing from a WarSpotting stand-in into the ledger: what is written, increments, removals."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from attrition.catalog.models import EquipmentModel
from attrition.evidence.models import Evidence
from attrition.importers.models import SourceRecord, SyncState
from attrition.importers.registry import ImportOptions, import_run
from attrition.importers.warspotting.client import SyncFailed
from attrition.importers.warspotting.jobs import scheduled_sync
from attrition.importers.warspotting.load import REMOVED_TAG
from attrition.importers.warspotting.sync import SyncResult, sync_state, warspotting_sync
from attrition.losses.models import Depiction, Loss, LossVersion
from tests.importers.warspotting.conftest import FIXTURES, FakeWarSpotting, Reply

pytestmark = pytest.mark.usefixtures("reference")

MARCH_1, MARCH_2, MARCH_3 = dt.date(2024, 3, 1), dt.date(2024, 3, 2), dt.date(2024, 3, 3)
KINDS = [Loss, LossVersion, Depiction, Evidence, SourceRecord, SyncState, EquipmentModel]


def sync(api: FakeWarSpotting, **kwargs: Any) -> SyncResult:
    options = ImportOptions(dry_run=kwargs.pop("dry_run", False))
    kwargs.setdefault("until", MARCH_3)
    return warspotting_sync(base_url=api.api, options=options, client=api.client(), **kwargs)


def loss_of(external_id: str) -> Loss:
    return Loss.objects.get(
        source_records__source="warspotting", source_records__external_id=external_id
    )


def row_counts() -> dict[str, int]:
    return {kind.__name__: kind._default_manager.count() for kind in KINDS}


def test_it_imports_every_record_of_the_days_fetched(api: FakeWarSpotting) -> None:
    result = sync(api, since=MARCH_1)
    assert api.days_asked() == ["2024-03-01", "2024-03-02", "2024-03-03"]
    assert result.report.counts()["created"] == 7
    assert result.report.rejected == []
    tank = loss_of("41201")
    assert (tank.side.slug, tank.fate, tank.status) == ("russia", "destroyed", "submitted")
    assert tank.model.name == "T-72B3 obr. 2016"
    assert tank.model.category.slug == "tanks"
    assert (tank.first_seen, tank.first_seen_precision) == (MARCH_1, "day")
    assert (tank.lat, tank.lon, tank.place_precision) == (48.1899, 37.6102, "approximate")
    assert tank.place_text == "Berdychi, Donetsk oblast"
    assert tank.unit == "unknown tank regiment"
    assert sorted(tank.tags.values_list("name", flat=True)) == ["ATGM", "FPV"]
    urls = set(
        Depiction.objects.filter(loss=tank).values_list("evidence__canonical_url", flat=True)
    )
    assert len(urls) == 3
    assert any("postimg" in u for u in urls)
    captured = loss_of("41204")
    assert (captured.fate, captured.captured_by.slug) == ("captured", "ukraine")
    assert loss_of("41205").lat is None
    assert not loss_of("41205").depictions.exists()
    assert set(LossVersion._default_manager.values_list("changed_via", flat=True)) == {"import"}
    state = sync_state(base_url=api.api)
    assert state is not None
    assert state.last_date == MARCH_3
    assert state.last_full_at is None


def test_it_changes_nothing_when_synced_again(api: FakeWarSpotting) -> None:
    sync(api, since=MARCH_1)
    before = row_counts()
    again = sync(api, since=MARCH_1)
    assert again.report.changes_nothing
    assert again.report.counts()["unchanged"] == 7
    assert row_counts() == before


def test_it_syncs_incrementally_from_the_last_day_synced(api: FakeWarSpotting) -> None:
    sync(api, since=MARCH_1, until=MARCH_2)
    api.hits.clear()
    api.days["2024-03-03"] = [FIXTURES["2024-03-02"][0] | {"id": 41220, "date": "2024-03-03"}]
    result = sync(api)
    assert api.days_asked() == ["2024-03-02", "2024-03-03"]
    assert result.report.created == ["41220"]
    assert result.report.counts()["unchanged"] == 2
    assert sync_state(base_url=api.api).last_date == MARCH_3  # type: ignore[union-attr]


def test_it_updates_a_changed_record_with_a_version(api: FakeWarSpotting) -> None:
    sync(api, since=MARCH_1)
    tank = loss_of("41201")
    versions = LossVersion._default_manager.filter(record_id=tank.pk).count()
    api.days["2024-03-01"][0] |= {"status": "Captured", "geo": "48.2,37.6", "tags": "FPV"}
    result = sync(api, since=MARCH_1)
    [change] = result.report.updated
    assert change.external_id == "41201"
    assert "status 'destroyed' -> 'captured'" in change.what
    assert "tags" in change.what
    tank.refresh_from_db()
    assert (tank.fate, tank.captured_by.slug, tank.lat) == ("captured", "ukraine", 48.2)
    assert list(tank.tags.values_list("name", flat=True)) == ["FPV"]
    latest = LossVersion._default_manager.filter(record_id=tank.pk).order_by("-version").first()
    assert latest is not None
    assert latest.changed_via == "import"
    assert LossVersion._default_manager.filter(record_id=tank.pk).count() == versions + 1


def test_it_marks_removed_records_and_unmarks_them_when_they_return(api: FakeWarSpotting) -> None:
    sync(api, since=MARCH_1)
    gone = api.days["2024-03-02"].pop(1)
    result = sync(api, full=True, since=MARCH_1)
    assert result.report.gone == ["41211"]
    record = SourceRecord.objects.get(source="warspotting", external_id="41211")
    assert record.removed_at is not None
    loss = loss_of("41211")
    assert loss.deleted_at is None
    assert REMOVED_TAG in loss.tags.values_list("name", flat=True)
    assert Loss.objects.count() == 7
    api.days["2024-03-02"].append(gone)
    back = sync(api, full=True, since=MARCH_1)
    assert [c.what for c in back.report.updated] == ["back in WarSpotting"]
    record.refresh_from_db()
    assert record.removed_at is None
    assert REMOVED_TAG not in loss_of("41211").tags.values_list("name", flat=True)


def test_it_marks_nothing_outside_the_days_it_fetched(api: FakeWarSpotting) -> None:
    sync(api, since=MARCH_1)
    api.days["2024-03-01"].clear()
    result = sync(api, since=MARCH_2)
    assert result.report.gone == []
    assert not SourceRecord.objects.filter(removed_at__isnull=False).exists()


def test_it_writes_nothing_on_a_dry_run(api: FakeWarSpotting) -> None:
    before = row_counts()
    result = sync(api, since=MARCH_1, dry_run=True)
    assert result.report.counts()["created"] == 7
    assert not result.report.applied
    assert row_counts() == before


def test_it_writes_nothing_when_a_page_is_malformed(api: FakeWarSpotting) -> None:
    api.script["/api/losses/russia/2024-03-02/1/"] = [Reply(200, b'{"losses": [{"id": 4')]
    before = row_counts()
    with pytest.raises(SyncFailed, match="malformed JSON"):
        sync(api, since=MARCH_1)
    assert row_counts() == before


def test_it_reports_hostile_records_and_imports_the_rest(api: FakeWarSpotting) -> None:
    api.days["2024-03-02"][0] |= {"geo": "999,999"}
    api.days["2024-03-02"][1] |= {"status": "Teleported", "model": "x" * 10_000}
    api.days["2024-03-03"] = [
        FIXTURES["2024-03-02"][0] | {"id": 41230, "type": "Other", "model": "Mystery"}
    ]
    result = sync(api, since=MARCH_1)
    reasons = {r.what: r.reason for r in result.report.rejected}
    assert "off the globe" in reasons["record 41210"]
    assert "Teleported" in reasons["record 41211"]
    assert "no category mapping for the WarSpotting type 'Other'" in reasons["record 41230"]
    assert result.report.counts()["created"] == 5
    assert Loss.objects.count() == 5


def test_it_imports_a_saved_dump_offline_as_the_sync_did(
    api: FakeWarSpotting, tmp_path: Any
) -> None:
    dump = tmp_path / "warspotting.json"
    sync(api, since=MARCH_1, save=dump, dry_run=True)
    saved = json.loads(dump.read_text())
    assert len(saved["losses"]) == 7
    assert saved["dates"][0] == "2024-03-01"
    report = import_run(
        kind="warspotting",
        data=dump.read_bytes(),
        source_name="warspotting.json",
        options=ImportOptions(),
    )
    assert report.counts()["created"] == 7
    assert sync(api, since=MARCH_1).report.changes_nothing


def test_it_skips_the_scheduled_sync_unless_a_url_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ATTRITION_WARSPOTTING_URL", raising=False)
    assert scheduled_sync(full=False) == {"skipped": 1}


def test_it_runs_the_scheduled_sync_from_the_setting(
    api: FakeWarSpotting, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATTRITION_WARSPOTTING_URL", api.api)
    monkeypatch.setenv("ATTRITION_FETCH_ALLOW", "127.0.0.0/8")
    monkeypatch.setenv("ATTRITION_WARSPOTTING_RATE", "100/1s")
    today = dt.datetime.now(dt.UTC).date()
    SyncState.objects.create(source="warspotting", key=f"{api.api}#russia", last_date=today)
    counts = scheduled_sync(full=False)
    assert counts["days"] == 1
    assert counts["requests"] == 1
    assert api.days_asked() == [today.isoformat()]


def test_it_does_not_mark_a_record_removed_because_it_became_unreadable(
    api: FakeWarSpotting,
) -> None:
    sync(api, since=MARCH_1)
    api.days["2024-03-02"][1] |= {"status": "Teleported"}
    result = sync(api, full=True, since=MARCH_1)
    assert result.report.gone == []
    assert [r.what for r in result.report.rejected] == ["record 41211"]
    assert not SourceRecord.objects.filter(removed_at__isnull=False).exists()
