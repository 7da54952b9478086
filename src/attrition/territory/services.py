"""Writes to control records: create, edit, confirm, delete. Each is versioned; review decides.

A record is created as a draft or submitted; only a review action (attrition.review.workflow)
verifies it, and only verified records are public. Editing what a verified record says sends it
back to review (submitted), so that a published status never changes without a second pair of eyes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from attrition import history
from attrition.catalog.models import Conflict, Side
from attrition.errors import InvalidInput
from attrition.evidence.models import Evidence
from attrition.history import ChangeKind
from attrition.losses.choices import ReviewStatus
from attrition.territory.models import AdminUnit, ControlRecord, ControlStatus

# Fields a caller may change through control_record_update(); review status has its workflow.
EDITABLE_FIELDS = frozenset(
    {"unit", "status", "controlling_side", "since", "last_confirmed", "confidence", "note"}
)
NEW_STATUSES = (ReviewStatus.DRAFT, ReviewStatus.SUBMITTED)


def _check(record: ControlRecord) -> None:
    """Raise InvalidInput unless the record's unit, side and dates fit its conflict."""
    conflict = record.conflict
    if record.status not in ControlStatus.values:
        raise InvalidInput(
            f"{record.status!r} is not a control status: use one of "
            f"{', '.join(ControlStatus.values)}"
        )
    if conflict.boundary_set_id is None or record.unit.boundary_set_id != conflict.boundary_set_id:
        raise InvalidInput(f"{record.unit.name} is not an admin unit of {conflict.name}'s map")
    side = record.controlling_side
    if side is not None and side.conflict_id != conflict.pk:
        raise InvalidInput(f"side {side.name!r} is not a side of {conflict.name}")
    if record.last_confirmed is not None and record.last_confirmed < record.since:
        raise InvalidInput(
            f"last confirmed ({record.last_confirmed}) is before the status began ({record.since})"
        )
    try:
        record.full_clean(exclude=["evidence"], validate_constraints=False)
    except ValidationError as exc:
        details = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        summary = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in details.items())
        raise InvalidInput(f"control record is not valid: {summary}", details=details) from None


def _save(record: ControlRecord, **kwargs: Any) -> None:
    try:
        with transaction.atomic():
            record.save(**kwargs)
    except IntegrityError as exc:
        raise InvalidInput(f"control record is not valid: {exc}") from None


def control_record_create(
    *,
    conflict: Conflict,
    unit: AdminUnit,
    status: str,
    since: dt.date,
    by: Any = None,
    controlling_side: Side | None = None,
    last_confirmed: dt.date | None = None,
    confidence: str = "medium",
    evidence: Iterable[Evidence] = (),
    note: str = "",
    review_status: str = ReviewStatus.DRAFT,
    is_sample: bool = False,
    kind: str = ChangeKind.CREATE,
    reason: str = "",
    via: str = "",
) -> ControlRecord:
    """Create a control record (a draft or submitted for review) and its first version."""
    if review_status not in NEW_STATUSES:
        raise InvalidInput(
            f"a new control record is a draft or submitted, not {review_status!r}: "
            "verifying is a review action"
        )
    record = ControlRecord(
        conflict=conflict,
        unit=unit,
        status=status,
        since=since,
        controlling_side=controlling_side,
        last_confirmed=last_confirmed,
        confidence=confidence,
        note=note,
        review_status=review_status,
        is_sample=is_sample,
        created_by=by if getattr(by, "is_authenticated", False) else None,
    )
    _check(record)
    with transaction.atomic():
        _save(record)
        items = list(evidence)
        if items:
            record.evidence.set(items)
        history.record_version(record, by=by, kind=kind, reason=reason, via=via)
    return record


def control_record_update(
    *,
    record: ControlRecord,
    by: Any = None,
    evidence: Iterable[Evidence] | None = None,
    reason: str = "",
    via: str = "",
    **changes: Any,
) -> ControlRecord:
    """Change a control record's fields (and evidence), version it, and send it back to review
    if it was verified and what it says changed."""
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise InvalidInput(f"these fields cannot be set here: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        current = ControlRecord.objects.select_for_update().get(pk=record.pk)
        if current.deleted_at is not None:
            raise InvalidInput(f"control record #{current.pk} is deleted")
        changed = [name for name, value in changes.items() if getattr(current, name) != value]
        for name in changed:
            setattr(current, name, changes[name])
        added = [] if evidence is None else [e for e in evidence]
        new_evidence = evidence is not None and {e.pk for e in added} != set(
            current.evidence.values_list("pk", flat=True)
        )
        if not changed and not new_evidence:
            return current
        if current.review_status == ReviewStatus.VERIFIED:
            current.review_status = ReviewStatus.SUBMITTED
        _check(current)
        _save(current)
        if new_evidence:
            current.evidence.set(added)
        history.record_version(current, by=by, kind=ChangeKind.UPDATE, reason=reason, via=via)
    return current


def control_record_confirm(
    *,
    record: ControlRecord,
    on: dt.date,
    by: Any = None,
    evidence: Iterable[Evidence] = (),
    reason: str = "",
    via: str = "",
) -> ControlRecord:
    """Record that a record's status was seen to hold on a date, with the evidence that shows it."""
    if on < record.since:
        raise InvalidInput(f"{on} is before the status began ({record.since})")
    latest = max(on, record.last_confirmed or on)
    items = [*record.evidence.all(), *evidence]
    return control_record_update(
        record=record,
        by=by,
        evidence=list({e.pk: e for e in items}.values()),
        reason=reason or f"confirmed on {on}",
        via=via,
        last_confirmed=latest,
    )


def control_record_delete(
    *, record: ControlRecord, by: Any = None, reason: str, via: str = ""
) -> ControlRecord:
    """Delete a control record (kept, hidden everywhere) and record why."""
    if not reason.strip():
        raise InvalidInput("deleting a control record needs a reason")
    with transaction.atomic():
        current = ControlRecord.objects.select_for_update().get(pk=record.pk)
        current.deleted_at = timezone.now()
        current.save(update_fields=["deleted_at", "updated_at"])
        history.record_version(current, by=by, kind=ChangeKind.DELETE, reason=reason, via=via)
    return current
