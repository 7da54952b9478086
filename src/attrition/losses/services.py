"""Writes to the ledger of losses: create, edit, change status, merge, depict. Each is versioned."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.text import slugify

from attrition import history
from attrition.catalog.models import Conflict, EquipmentModel, Side
from attrition.errors import InvalidInput, StaleEdit
from attrition.evidence.models import Capture, Evidence
from attrition.history import ChangeKind
from attrition.losses.choices import PlacePrecision, ReviewStatus
from attrition.losses.fates import FateEntry, fates_parse, headline_fate
from attrition.losses.models import Depiction, Loss, Tag

FateInput = FateEntry | Mapping[str, Any] | str

# Fields a caller may change through loss_update(); status and merging have their own services.
EDITABLE_FIELDS = frozenset(
    {
        "side",
        "model",
        "captured_by",
        "first_seen",
        "first_seen_precision",
        "admin_unit",
        "lon",
        "lat",
        "place_precision",
        "place_text",
        "unit",
        "markings",
        "description",
    }
)


def _validate(instance: models.Model, *, exclude: Iterable[str] = ()) -> None:
    """Check field values in Python; the table's constraints are checked by _save()."""
    try:
        # Django checks each constraint with a query of its own (7 on a loss); the database
        # checks them all on save for free, and _save() turns a refusal into InvalidInput.
        instance.full_clean(exclude=list(exclude), validate_constraints=False)
    except ValidationError as exc:
        details = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        summary = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in details.items())
        raise InvalidInput(
            f"{type(instance)._meta.verbose_name} is not valid: {summary}", details=details
        ) from None


def _save(instance: models.Model, **kwargs: Any) -> None:
    """Save in a savepoint; a constraint the database refuses becomes InvalidInput naming it."""
    try:
        with transaction.atomic():
            instance.save(**kwargs)
    except IntegrityError as exc:
        text = str(exc)
        meta = type(instance)._meta
        for constraint in meta.constraints:
            if constraint.name in text:
                message = constraint.get_violation_error_message()
                raise InvalidInput(
                    f"{meta.verbose_name} is not valid: {message}",
                    details={"constraint": constraint.name},
                ) from None
        raise InvalidInput(f"{meta.verbose_name} is not valid: {text}") from None


def _check_loss_refs(loss: Loss) -> None:
    """Raise InvalidInput unless the sides and place of `loss` belong to its conflict."""
    conflict_id = loss.conflict_id
    if loss.side.conflict_id != conflict_id:
        raise InvalidInput(f"side {loss.side.name!r} is not a side of this conflict")
    if loss.captured_by is not None and loss.captured_by.conflict_id != conflict_id:
        raise InvalidInput(f"captor {loss.captured_by.name!r} is not a side of this conflict")
    if loss.admin_unit is not None:
        boundary_set_id = loss.conflict.boundary_set_id
        if loss.admin_unit.boundary_set_id != boundary_set_id:
            raise InvalidInput(f"{loss.admin_unit} is not an admin unit of this conflict's map")
    if loss.lon is not None and loss.place_precision == PlacePrecision.UNKNOWN:
        loss.place_precision = PlacePrecision.APPROXIMATE


def _tag_names(loss: Loss) -> list[str]:
    return sorted(loss.tags.values_list("name", flat=True)) if loss.pk else []


def _version(loss: Loss, *, by: Any, kind: str, reason: str, via: str) -> None:
    history.record_version(
        loss, by=by, kind=kind, reason=reason, via=via, extra={"tag_names": _tag_names(loss)}
    )


def tags_ensure(names: Iterable[str]) -> list[Tag]:
    """Return the tags with these names, creating any that do not exist yet."""
    tags = []
    for name in {n.strip() for n in names if n.strip()}:
        slug = slugify(name)[:64]
        if not slug:
            raise InvalidInput(f"tag {name!r} has no letters or digits")
        tag, _ = Tag.objects.get_or_create(slug=slug, defaults={"name": name[:64]})
        tags.append(tag)
    return tags


def loss_build(
    *,
    conflict: Conflict,
    side: Side,
    model: EquipmentModel,
    fates: Sequence[FateInput],
    by: Any = None,
    status: str = ReviewStatus.DRAFT,
    is_sample: bool = False,
    **fields: Any,
) -> Loss:
    """Return a new, unsaved loss with its fate history, its sides and place checked."""
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise InvalidInput(f"unknown loss fields: {', '.join(sorted(unknown))}")
    if status == ReviewStatus.MERGED:
        raise InvalidInput("a new loss cannot be created merged; merge it with loss_merge")
    entries = fates_parse(fates)
    user = by if getattr(by, "is_authenticated", False) else None
    loss = Loss(
        conflict=conflict,
        side=side,
        model=model,
        fate=headline_fate(entries),
        fate_history=[e.as_json() for e in entries],
        status=status,
        is_sample=is_sample,
        created_by=user,
        updated_by=user,
        **fields,
    )
    _check_loss_refs(loss)
    return loss


def loss_create(
    *,
    conflict: Conflict,
    side: Side,
    model: EquipmentModel,
    fates: Sequence[FateInput],
    by: Any = None,
    status: str = ReviewStatus.DRAFT,
    tags: Iterable[str] = (),
    is_sample: bool = False,
    via: str = "",
    reason: str = "",
    **fields: Any,
) -> Loss:
    """Create one loss (one physical item) with its fate history and first version."""
    loss = loss_build(
        conflict=conflict,
        side=side,
        model=model,
        fates=fates,
        by=by,
        status=status,
        is_sample=is_sample,
        **fields,
    )
    _validate(loss)
    with transaction.atomic():
        _save(loss)
        tag_objs = tags_ensure(tags)
        if tag_objs:
            loss.tags.set(tag_objs)
        _version(loss, by=by, kind=ChangeKind.CREATE, reason=reason, via=via)
    return loss


def _plain(value: Any) -> Any:
    """Return a value as JSON can carry it (dates and ids as text)."""
    return value if isinstance(value, str | int | float | bool | list | dict | None) else str(value)


def _locked(loss: Loss, *, revision: int | None) -> Loss:
    """Return the row locked for update, refusing the edit if it changed since `revision`."""
    current = Loss.objects.select_for_update().get(pk=loss.pk)
    if revision is not None and current.revision != revision:
        versions = history.versions_of(Loss)._default_manager.filter(record_id=loss.pk)
        latest = versions.order_by("-version").select_related("changed_by").first()
        seen = versions.filter(revision=revision).order_by("-version").first()
        who = getattr(latest, "changed_by", None) or "someone"
        changes = history.changes_since(current, seen)
        meanwhile = f": meanwhile {history.changes_text(changes)}" if changes else ""
        raise StaleEdit(
            f"loss #{loss.pk} was changed by {who} since you opened it "
            f"(your revision {revision}, now {current.revision}){meanwhile}. Your edit was not "
            "saved and is still in the form: reload the record, then apply it again",
            details={
                "your_revision": revision,
                "current_revision": current.revision,
                "changed": [{"field": c.field, "old": c.old, "new": c.new} for c in changes],
            },
        )
    return current


def loss_update(
    *,
    loss: Loss,
    by: Any = None,
    revision: int | None = None,
    fates: Sequence[FateInput] | None = None,
    tags: Iterable[str] | None = None,
    reason: str = "",
    via: str = "",
    **changes: Any,
) -> Loss:
    """Apply field changes to a loss and record a new version; refuse stale revisions."""
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise InvalidInput(f"these loss fields cannot be set here: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        current = _locked(loss, revision=revision)
        for name, value in changes.items():
            setattr(current, name, value)
        if fates is not None:
            entries = fates_parse(fates)
            current.fate = headline_fate(entries)
            current.fate_history = [e.as_json() for e in entries]
        if getattr(by, "is_authenticated", False):
            current.updated_by = by
        current.revision += 1
        _check_loss_refs(current)
        _validate(current)
        _save(current)
        if tags is not None:
            current.tags.set(tags_ensure(tags))
        _version(current, by=by, kind=ChangeKind.UPDATE, reason=reason, via=via)
    return current


def loss_set_status(
    *,
    loss: Loss,
    status: str,
    by: Any = None,
    reason: str = "",
    revision: int | None = None,
    via: str = "",
) -> Loss:
    """Move a loss to another review status (not merged: see loss_merge) and record why."""
    if status not in ReviewStatus.values:
        raise InvalidInput(
            f"{status!r} is not a status: use one of {', '.join(ReviewStatus.values)}"
        )
    if status == ReviewStatus.MERGED:
        raise InvalidInput("to mark a loss as merged, merge it into another with loss_merge")
    if status == ReviewStatus.REJECTED and not reason.strip():
        raise InvalidInput("a rejection needs a reason")
    with transaction.atomic():
        current = _locked(loss, revision=revision)
        if current.status == ReviewStatus.MERGED:
            raise InvalidInput(f"loss #{current.pk} is merged into #{current.merged_into_id}")
        current.status = status
        current.status_reason = reason
        current.revision += 1
        current.save(update_fields=["status", "status_reason", "revision", "updated_at"])
        _version(current, by=by, kind=ChangeKind.STATUS, reason=reason, via=via)
    return current


def loss_merge(*, loss: Loss, into: Loss, by: Any = None, reason: str = "", via: str = "") -> Loss:
    """Merge a duplicate into the loss it repeats: its evidence moves over, both histories stay."""
    if loss.pk == into.pk:
        raise InvalidInput("a loss cannot be merged into itself")
    with transaction.atomic():
        locked = {
            x.pk: x for x in Loss.objects.select_for_update().filter(pk__in=[loss.pk, into.pk])
        }
        source, target = locked[loss.pk], locked[into.pk]
        if target.status == ReviewStatus.MERGED:
            raise InvalidInput(
                f"loss #{target.pk} is itself merged into #{target.merged_into_id}: merge into that"
            )
        if source.status == ReviewStatus.MERGED:
            raise InvalidInput(f"loss #{source.pk} is already merged into #{source.merged_into_id}")
        if source.conflict_id != target.conflict_id:
            raise InvalidInput("losses of different conflicts cannot be merged")
        # Earlier merges into the source now point at the target, so merges stay one level deep.
        for earlier in Loss.objects.select_for_update().filter(merged_into=source):
            earlier.merged_into = target
            earlier.save(update_fields=["merged_into", "updated_at"])
            _version(earlier, by=by, kind=ChangeKind.MERGE, reason=reason, via=via)
        for depiction in Depiction.objects.select_for_update().filter(
            loss=source, deleted_at__isnull=True
        ):
            same: dict[str, Any] = {
                "evidence_id": depiction.evidence_id,
                "capture_id": depiction.capture_id,
                "t_start_ms": depiction.t_start_ms,
            }
            duplicate = Depiction.objects.filter(
                loss=target, deleted_at__isnull=True, **same
            ).exists()
            if duplicate:
                continue
            depiction.loss = target
            depiction.save(update_fields=["loss", "updated_at"])
            history.record_version(
                depiction, by=by, kind=ChangeKind.MERGE, reason=f"merged from #{source.pk}", via=via
            )
        source.status = ReviewStatus.MERGED
        source.merged_into = target
        source.status_reason = reason
        source.revision += 1
        source.save(
            update_fields=["status", "merged_into", "status_reason", "revision", "updated_at"]
        )
        _version(source, by=by, kind=ChangeKind.MERGE, reason=reason, via=via)
        target.revision += 1
        target.save(update_fields=["revision", "updated_at"])
        _version(target, by=by, kind=ChangeKind.MERGE, reason=f"#{source.pk} merged in", via=via)
    return target


def loss_unmerge(*, loss: Loss, by: Any = None, reason: str = "", via: str = "") -> Loss:
    """Undo a merge: the loss gets back its status and the depictions the merge moved away.

    The merge's own versions say what it moved (depictions versioned "merged from #N"), so the
    undo takes back exactly those, and it is recorded in both histories as a revert.
    """
    versions = history.versions_of(Loss)._default_manager
    depiction_versions = history.versions_of(Depiction)._default_manager
    with transaction.atomic():
        source = _locked(loss, revision=None)
        if source.status != ReviewStatus.MERGED or source.merged_into_id is None:
            raise InvalidInput(f"loss #{source.pk} is not merged")
        target = Loss.objects.select_for_update().get(pk=source.merged_into_id)
        before = (
            versions.filter(record=source)
            .exclude(status=ReviewStatus.MERGED)
            .order_by("-version")
            .first()
        )
        moved = depiction_versions.filter(
            valid_to__isnull=True,
            change_kind=ChangeKind.MERGE,
            change_reason=f"merged from #{source.pk}",
            loss=target,
        ).values_list("record_id", flat=True)
        for depiction in Depiction.objects.select_for_update().filter(pk__in=list(moved)):
            depiction.loss = source
            depiction.save(update_fields=["loss", "updated_at"])
            history.record_version(
                depiction,
                by=by,
                kind=ChangeKind.REVERT,
                reason=f"unmerged to #{source.pk}",
                via=via,
            )
        source.status = getattr(before, "status", ReviewStatus.SUBMITTED)
        source.merged_into = None
        source.status_reason = reason
        source.revision += 1
        source.save(
            update_fields=["status", "merged_into", "status_reason", "revision", "updated_at"]
        )
        _version(source, by=by, kind=ChangeKind.REVERT, reason=reason or "unmerged", via=via)
        target.revision += 1
        target.save(update_fields=["revision", "updated_at"])
        _version(target, by=by, kind=ChangeKind.REVERT, reason=f"#{source.pk} unmerged", via=via)
    return source


def loss_delete(*, loss: Loss, by: Any = None, reason: str, via: str = "") -> Loss:
    """Soft-delete a loss: it leaves every count and page, and stays on record for admins."""
    if not reason.strip():
        raise InvalidInput("a deletion needs a reason")
    with transaction.atomic():
        current = _locked(loss, revision=None)
        current.deleted_at = timezone.now()
        current.revision += 1
        current.save(update_fields=["deleted_at", "revision", "updated_at"])
        _version(current, by=by, kind=ChangeKind.DELETE, reason=reason, via=via)
    return current


def loss_restore(*, loss: Loss, by: Any = None, reason: str = "", via: str = "") -> Loss:
    """Undo a soft deletion: the loss is counted and shown again, and the restore is recorded."""
    with transaction.atomic():
        current = _locked(loss, revision=None)
        if current.deleted_at is None:
            raise InvalidInput(f"loss #{current.pk} is not deleted")
        current.deleted_at = None
        current.revision += 1
        current.save(update_fields=["deleted_at", "revision", "updated_at"])
        _version(current, by=by, kind=ChangeKind.RESTORE, reason=reason, via=via)
    return current


def depiction_create(
    *,
    loss: Loss,
    evidence: Evidence,
    capture: Capture | None = None,
    item_number: int | None = None,
    t_start_ms: int | None = None,
    t_end_ms: int | None = None,
    region: dict[str, float] | None = None,
    note: str = "",
    by: Any = None,
    via: str = "",
) -> Depiction:
    """Record that a loss is shown in a piece of evidence (and where, when in a video)."""
    if capture is not None and not capture.custody.filter(evidence=evidence).exists():
        raise InvalidInput(f"capture {capture.sha256[:12]} was not collected for this evidence")
    if region is not None:
        keys = {"x", "y", "w", "h"}
        if set(region) != keys or not all(0 <= float(region[k]) <= 1 for k in keys):
            raise InvalidInput("a region is {x, y, w, h}, each between 0 and 1")
    depiction = Depiction(
        loss=loss,
        evidence=evidence,
        capture=capture,
        item_number=item_number,
        t_start_ms=t_start_ms,
        t_end_ms=t_end_ms,
        region=region,
        note=note,
        created_by=by if getattr(by, "is_authenticated", False) else None,
    )
    _validate(depiction)
    with transaction.atomic():
        _save(depiction)
        history.record_version(depiction, by=by, kind=ChangeKind.CREATE, via=via)
    return depiction


def loss_revert(
    *,
    loss: Loss,
    version: int,
    by: Any = None,
    reason: str = "",
    revision: int | None = None,
    via: str = "",
) -> Loss:
    """Put a loss's content back as it was in one of its versions; the revert is a new version.

    Content is what an editor changes (the editable fields, fates and tags); the review status,
    a merge and a deletion have their own actions and are left as they are.
    """
    old = history.versions_of(Loss)._default_manager.filter(record_id=loss.pk, version=version)
    past: Any = old.first()
    if past is None:
        raise InvalidInput(f"loss #{loss.pk} has no version {version}")
    with transaction.atomic():
        current = _locked(loss, revision=revision)
        if current.status == ReviewStatus.MERGED:
            raise InvalidInput(f"loss #{current.pk} is merged into #{current.merged_into_id}")
        for field in Loss._meta.concrete_fields:
            if field.name in EDITABLE_FIELDS:
                setattr(current, field.attname, getattr(past, field.attname))
        current.fate = past.fate
        current.fate_history = past.fate_history
        if getattr(by, "is_authenticated", False):
            current.updated_by = by
        current.revision += 1
        _check_loss_refs(current)
        _validate(current)
        _save(current)
        current.tags.set(tags_ensure(past.tag_names or []))
        _version(
            current,
            by=by,
            kind=ChangeKind.REVERT,
            reason=reason or f"reverted to version {version}",
            via=via,
        )
    return current
