"""Link rot: check again whether each piece of evidence is still online, and what is left when not.

A check fetches the source URL through the same guarded fetch as a capture. 404 and 410 mean
the source deleted it (gone); a direct file whose bytes differ from the captured ones changed; a
page that answers is alive (pages change with every ad, so their bytes are not compared); any
other failure is recorded as "could not check" and leaves the evidence's status as it was.
Requests to one host are spaced out, and each run checks a bounded batch, oldest check first.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from attrition import config
from attrition.capture.errors import CaptureError, FetchTooLarge, SourceGone
from attrition.capture.steps import http_fetch
from attrition.evidence.models import (
    Capture,
    CustodyEvent,
    CustodyRecord,
    Evidence,
    LivenessCheck,
    SourceStatus,
)

PAGE_MAX_BYTES = 5_000_000
RESULT_STATUS: dict[str, str] = {
    LivenessCheck.Result.ALIVE: SourceStatus.ALIVE,
    LivenessCheck.Result.GONE: SourceStatus.GONE,
    LivenessCheck.Result.CHANGED: SourceStatus.CHANGED,
}


@dataclass(frozen=True)
class Outcome:
    """What one check found."""

    result: str
    http_status: int | None = None
    final_url: str = ""
    sha256: str = ""
    detail: str = ""


def captured_file(evidence: Evidence) -> Capture | None:
    """Return the latest capture fetched straight from the evidence's URL, if it is a file."""
    record = (
        CustodyRecord.objects.filter(
            evidence=evidence,
            method=CustodyRecord.Method.HTTP,
            source_url__in=source_urls(evidence),
        )
        .exclude(capture__kind=Capture.Kind.PAGE)
        .select_related("capture")
        .order_by("-collected_at")
        .first()
    )
    return record.capture if record else None


def source_urls(evidence: Evidence) -> list[str]:
    """Return the URLs the evidence was collected from: canonical and as submitted."""
    return [u for u in {evidence.canonical_url or "", evidence.original_url} if u]


def probe(evidence: Evidence, *, allow: Any = None) -> Outcome:
    """Fetch the evidence's source once and say whether it is alive, gone or changed."""
    url = evidence.original_url or evidence.canonical_url or ""
    captured = captured_file(evidence)
    max_bytes = captured.size_bytes + 1 if captured else PAGE_MAX_BYTES
    limits = http_fetch.Limits(max_bytes=max_bytes, total_s=min(config.FETCH_TIMEOUT_S.read(), 120))
    with tempfile.TemporaryDirectory(prefix="attrition-linkrot-") as tmp:
        try:
            fetched = http_fetch.run(url, limits=limits, allow=allow, tmp_dir=Path(tmp))
        except SourceGone as exc:
            status = exc.details.get("status")
            return Outcome(LivenessCheck.Result.GONE, http_status=status, detail=exc.message)
        except FetchTooLarge as exc:
            if captured is None:  # a page larger than we read: it answered, so it is there
                return Outcome(LivenessCheck.Result.ALIVE, detail=exc.message)
            return Outcome(
                LivenessCheck.Result.CHANGED,
                detail=f"now larger than the {captured.size_bytes:,} bytes captured",
            )
        except CaptureError as exc:
            return Outcome(LivenessCheck.Result.ERROR, detail=f"{exc.code}: {exc.message}")
        fetched.discard()
    if captured is not None and fetched.sha256 != captured.sha256:
        result = LivenessCheck.Result.CHANGED
        detail = f"SHA-256 {fetched.sha256} differs from the captured {captured.sha256}"
    else:
        result, detail = LivenessCheck.Result.ALIVE, ""
    return Outcome(
        result,
        http_status=fetched.status,
        final_url=fetched.final_url,
        sha256=fetched.sha256,
        detail=detail,
    )


def liveness_record(*, evidence: Evidence, outcome: Outcome) -> LivenessCheck:
    """Record a check, update the evidence's source status, and log it on its captures."""
    now = timezone.now()
    with transaction.atomic():
        check = LivenessCheck.objects.create(
            evidence=evidence,
            checked_at=now,
            result=outcome.result,
            http_status=outcome.http_status,
            final_url=outcome.final_url[:2000],
            sha256=outcome.sha256,
            detail=outcome.detail,
        )
        fields: dict[str, Any] = {"source_checked_at": now}
        if outcome.result in RESULT_STATUS:
            fields["source_status"] = RESULT_STATUS[outcome.result]
        Evidence.objects.filter(pk=evidence.pk).update(**fields)
        for name, value in fields.items():
            setattr(evidence, name, value)
        captures = Capture.objects.filter(custody__evidence=evidence).distinct()
        CustodyEvent.objects.bulk_create(
            CustodyEvent(
                capture=capture,
                evidence=evidence,
                action=CustodyEvent.Action.RECHECKED,
                at=now,
                detail={"result": outcome.result, "http_status": outcome.http_status},
            )
            for capture in captures
        )
    return check


def due(*, now: dt.datetime | None = None, limit: int | None = None) -> list[Evidence]:
    """Return live evidence with a URL whose last check is older than the interval, oldest first."""
    now = now or timezone.now()
    every = dt.timedelta(days=config.LINKROT_EVERY_DAYS.read())
    found = (
        Evidence.objects.filter(deleted_at__isnull=True, is_sample=False)
        .exclude(canonical_url__isnull=True)
        .filter(Q(source_checked_at__isnull=True) | Q(source_checked_at__lte=now - every))
        .order_by(F("source_checked_at").asc(nulls_first=True), "pk")
    )
    return list(found[: limit or config.LINKROT_BATCH.read()])


def host_of(evidence: Evidence) -> str:
    """Return the host a check of this evidence connects to."""
    return (urlsplit(evidence.original_url or evidence.canonical_url or "").hostname or "").lower()


def interleaved(items: Iterable[Evidence]) -> list[Evidence]:
    """Return the evidence reordered round-robin by host, so no host is asked twice in a row."""
    by_host: dict[str, deque[Evidence]] = defaultdict(deque)
    for item in items:
        by_host[host_of(item)].append(item)
    ordered: list[Evidence] = []
    while by_host:
        for host in list(by_host):
            ordered.append(by_host[host].popleft())
            if not by_host[host]:
                del by_host[host]
    return ordered


def linkrot_check(
    *,
    evidence: Iterable[Evidence] | None = None,
    allow: Any = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, int]:
    """Check a batch of evidence, spacing requests to each host; return counts by result."""
    gap = float(config.LINKROT_HOST_INTERVAL_S.read())
    last_hit: dict[str, float] = {}
    counts: dict[str, int] = defaultdict(int)
    for item in interleaved(due() if evidence is None else evidence):
        host = host_of(item)
        wait = last_hit.get(host, -gap) + gap - time.monotonic()
        if wait > 0:
            sleep(wait)
        last_hit[host] = time.monotonic()
        outcome = probe(item, allow=allow)
        liveness_record(evidence=item, outcome=outcome)
        counts[str(outcome.result)] += 1
    return dict(counts)


def orphaned_losses(*, conflict: Any = None) -> list[dict[str, Any]]:
    """Return live losses whose every source is gone but whose captures survive, with them."""
    from attrition.losses.models import Depiction, Loss

    shown = Depiction.objects.filter(loss=OuterRef("pk"), deleted_at__isnull=True)
    online = shown.exclude(evidence__source_status=SourceStatus.GONE)
    losses = (
        Loss.objects.filter(deleted_at__isnull=True)
        .exclude(status="merged")
        .filter(Exists(shown))
        .exclude(Exists(online))
        .select_related("model")
        .order_by("pk")
    )
    if conflict is not None:
        losses = losses.filter(conflict=conflict)
    rows = []
    for loss in losses:
        captures = list(
            Capture.objects.filter(
                custody__evidence__depictions__loss=loss,
                custody__evidence__depictions__deleted_at__isnull=True,
            )
            .distinct()
            .values_list("sha256", flat=True)
        )
        if captures:
            rows.append({"loss": loss, "captures": captures})
    return rows
