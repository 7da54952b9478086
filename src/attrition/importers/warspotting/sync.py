"""Sync from WarSpotting's API: fetch the days due, import them as one input, remember the day.

An incremental sync fetches from the last day synced (again, since that day may have grown) to
today; a full sync fetches every day from the start of the conflict, so that every record
WarSpotting no longer lists is marked removed (and records it lists again for an earlier day
are found). Everything is fetched before anything is written: a sync that fails while fetching
writes nothing and leaves its state as it was.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from attrition.errors import InvalidInput
from attrition.importers.models import SyncState
from attrition.importers.registry import ImportOptions, NoProgress, Progress, import_run
from attrition.importers.report import ImportReport
from attrition.importers.warspotting.client import Client
from attrition.importers.warspotting.load import SOURCE, conflict_for

FEED = "russia"  # WarSpotting's public API lists Russian losses
FIRST_DAY = dt.date(2022, 2, 24)
MAX_DAYS = 20 * 366


@dataclass(frozen=True)
class SyncResult:
    """What a sync fetched and what its import did."""

    report: ImportReport
    first: dt.date
    last: dt.date
    days: int
    requests: int
    records: int


def sync_key(base_url: str, feed: str = FEED) -> str:
    """Return the key of a sync's state: the API's base URL and the feed."""
    return f"{base_url.rstrip('/')}#{feed}"[:200]


def sync_state(*, base_url: str, feed: str = FEED) -> SyncState | None:
    """Return where the sync from `base_url` stands, or None if it never ran."""
    return SyncState.objects.filter(source=SOURCE, key=sync_key(base_url, feed)).first()


def _days(
    *, base_url: str, feed: str, full: bool, since: dt.date | None, until: dt.date, first: dt.date
) -> list[dt.date]:
    start = since
    if start is None and not full:
        state = sync_state(base_url=base_url, feed=feed)
        start = state.last_date if state is not None else None
    start = start or first
    if start > until:
        raise InvalidInput(f"nothing to sync: {start} is after {until}")
    count = (until - start).days + 1
    if count > MAX_DAYS:
        raise InvalidInput(f"{start} to {until} is {count} days, more than {MAX_DAYS}")
    return [start + dt.timedelta(days=n) for n in range(count)]


def warspotting_sync(
    *,
    base_url: str,
    options: ImportOptions,
    full: bool = False,
    since: dt.date | None = None,
    until: dt.date | None = None,
    feed: str = FEED,
    client: Client | None = None,
    progress: Progress | None = None,
    fetch_progress: Progress | None = None,
    save: Path | None = None,
) -> SyncResult:
    """Fetch the days due from WarSpotting's API and import them; return what happened."""
    if not base_url.lower().startswith(("http://", "https://")):
        raise InvalidInput(f"{base_url!r} is not an http(s) URL such as https://host/api")
    conflict = conflict_for(options)
    until = until or timezone.now().date()
    days = _days(
        base_url=base_url,
        feed=feed,
        full=full,
        since=since,
        until=until,
        first=conflict.period_start or FIRST_DAY,
    )
    client = client or Client(base_url=base_url)
    fetching = fetch_progress or NoProgress()
    fetching.start(len(days))
    losses: list[object] = []
    for day in days:
        losses += client.day(day, feed=feed)
        fetching.advance()
    dump = {"losses": losses, "dates": [d.isoformat() for d in days], "base_url": base_url}
    data = json.dumps(dump, ensure_ascii=False).encode()
    if save is not None:
        save.write_bytes(data)
    with transaction.atomic():
        report = import_run(
            kind=SOURCE, data=data, source_name=base_url, options=options, progress=progress
        )
        report.notes.append(
            f"fetched {len(days)} day(s), {days[0]} to {days[-1]}, in {client.requests} "
            f"request(s): {len(losses)} record(s)"
        )
        if not options.dry_run:
            _state_save(base_url, feed, days, full=full and since is None, report=report)
    return SyncResult(report, days[0], days[-1], len(days), client.requests, len(losses))


def _state_save(
    base_url: str, feed: str, days: list[dt.date], *, full: bool, report: ImportReport
) -> None:
    state, _ = SyncState.objects.select_for_update().get_or_create(
        source=SOURCE, key=sync_key(base_url, feed)
    )
    now = timezone.now()
    state.last_date = max(state.last_date or days[-1], days[-1])
    state.last_sync_at = now
    if full:
        state.last_full_at = now
    state.state = {
        "base_url": base_url,
        "feed": feed,
        "last_run": {"first": str(days[0]), "last": str(days[-1]), "full": full},
        "counts": report.counts(),
    }
    state.save()
