"""`attrition sync warspotting` and `attrition import warspotting` against the loopback stand-in."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

from attrition.cli import cli
from attrition.importers.models import SourceRecord, SyncState
from attrition.losses.models import Loss
from tests.importers.warspotting.conftest import FakeWarSpotting

pytestmark = pytest.mark.usefixtures("reference")


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def allowed(monkeypatch: pytest.MonkeyPatch, api: FakeWarSpotting) -> FakeWarSpotting:
    """The stand-in, reachable and fast: loopback allowed, a high rate, the API's page size."""
    monkeypatch.setenv("ATTRITION_FETCH_ALLOW", "127.0.0.0/8")
    monkeypatch.setenv("ATTRITION_WARSPOTTING_RATE", "1000/1s")
    api.page_size = 100
    return api


def test_it_syncs_from_the_command_line(allowed: FakeWarSpotting, tmp_path: Path) -> None:
    dump = tmp_path / "ws.json"
    args = ["--since", "2024-03-01", "--until", "2024-03-03", "--save", str(dump)]
    status, out, err = invoke("sync", "warspotting", "--base-url", allowed.api, *args)
    assert status == 0, err
    assert "items: 7 new" in out
    assert "sync: 3 day(s) 2024-03-01 to 2024-03-03, 3 request(s), 7 record(s)" in err
    assert Loss.objects.count() == 7
    status, out, _ = invoke("import", "warspotting", str(dump))
    assert status == 0
    assert "0 new, 0 changed, 7 unchanged" in out


def test_it_writes_nothing_on_a_dry_run(allowed: FakeWarSpotting) -> None:
    args = ["--base-url", allowed.api, "--since", "2024-03-01", "--until", "2024-03-01"]
    status, out, _ = invoke("sync", "warspotting", *args, "--dry-run", "--full")
    assert status == 0
    assert "(dry run: nothing written)" in out
    assert not Loss.objects.exists()
    assert not SyncState.objects.exists()


def test_it_imports_from_the_api_base_url(allowed: FakeWarSpotting) -> None:
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    SyncState.objects.create(source="warspotting", key=f"{allowed.api}#russia", last_date=yesterday)
    allowed.days[yesterday.isoformat()] = [allowed.days["2024-03-02"][0]]
    status, out, err = invoke("import", "warspotting", allowed.api)
    assert status == 0, err
    assert "items: 1 new" in out
    assert allowed.days_asked()[0] == yesterday.isoformat()
    assert SourceRecord.objects.get().external_id == "41210"


def test_it_needs_a_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ATTRITION_WARSPOTTING_URL", raising=False)
    status, _, err = invoke("sync", "warspotting")
    assert status == 2
    assert "give --base-url URL, or set ATTRITION_WARSPOTTING_URL" in err


def test_it_refuses_an_internal_address_clearly(
    api: FakeWarSpotting, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ATTRITION_FETCH_ALLOW", raising=False)
    status, _, err = invoke("sync", "warspotting", "--base-url", api.api, "--since", "2024-03-01")
    assert status == 2
    assert "is a loopback address" in err
    assert api.hits == []
