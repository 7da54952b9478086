"""Equipment models: alias normalisation, lookup, adding aliases, and versioned edits."""

from __future__ import annotations

import unicodedata
from typing import Any

from django.db import IntegrityError, transaction

from attrition import history
from attrition.catalog.models import EquipmentModel, ModelAlias
from attrition.errors import InvalidInput

MODEL_FIELDS = ("name", "category", "country_of_production", "description")


class AliasTaken(InvalidInput):
    """The alias already names another model; aliases must identify one model."""

    code = "alias_taken"


def alias_normalize(text: str) -> str:
    """Return `text` NFKC-normalised and case-folded, keeping only its letters and digits."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    # Folding can leave unnormalised sequences; Unicode's caseless-match recipe normalises again.
    return "".join(ch for ch in unicodedata.normalize("NFKC", folded) if ch.isalnum())


def model_lookup(*, name: str) -> EquipmentModel | None:
    """Return the model whose name, slug or normalised alias is `name`, or None."""
    found = EquipmentModel.objects.filter(name=name).first()
    if found is None:
        found = EquipmentModel.objects.filter(slug=name).first()
    if found is None:
        normalized = alias_normalize(name)
        if not normalized:
            return None
        alias = ModelAlias.objects.select_related("model").filter(normalized=normalized).first()
        found = alias.model if alias is not None else None
    return found


def model_add_alias(*, model: EquipmentModel, alias: str) -> ModelAlias:
    """Return the alias of `model` spelled `alias`, creating it; fail if another model has it."""
    alias = " ".join(alias.split())
    normalized = alias_normalize(alias)
    if not normalized:
        raise InvalidInput(f"Alias {alias!r} has no letters or digits", details={"alias": alias})
    limit = ModelAlias._meta.get_field("alias").max_length
    if limit is not None and len(alias) > limit:
        raise InvalidInput(
            f"Alias {alias[:40]!r}... is longer than {limit} characters", details={"alias": alias}
        )
    existing = ModelAlias.objects.select_related("model").filter(normalized=normalized).first()
    if existing is None:
        try:
            with transaction.atomic():
                return ModelAlias.objects.create(model=model, alias=alias, normalized=normalized)
        except IntegrityError:
            # Someone added the same normalised alias between our read and our write.
            existing = ModelAlias.objects.select_related("model").get(normalized=normalized)
    if existing.model_id != model.pk:
        raise AliasTaken(
            f"Alias {alias!r} already belongs to {existing.model.name!r} "
            f"(as {existing.alias!r}); an alias can name only one model",
            details={"alias": alias, "model": existing.model.slug},
        )
    return existing


def model_baseline(*, model: EquipmentModel) -> None:
    """Record the model as stored, dated its creation, if it has no version yet.

    Called before an edit, so that counts "as of" earlier moments see the category it had.
    """
    if history.latest_version(model) is not None:
        return
    stored = EquipmentModel.objects.get(pk=model.pk)
    history.record_version(
        stored,
        kind=history.ChangeKind.IMPORT,
        reason="as stored before its first recorded change",
        at=stored.created_at,
    )


def model_update(
    *, model: EquipmentModel, by: Any = None, reason: str = "", via: str = "", **fields: Any
) -> EquipmentModel:
    """Change a model (e.g. move it to another category) and record the change as a version.

    Counts as of a moment before the change still file the model's losses as they were then.
    """
    unknown = sorted(set(fields) - set(MODEL_FIELDS))
    if unknown:
        raise InvalidInput(f"an equipment model has no editable field(s) {', '.join(unknown)}")
    with transaction.atomic():
        model_baseline(model=model)
        for key, value in fields.items():
            setattr(model, key, value)
        model.full_clean(validate_constraints=False)
        model.save()
        history.record_version(model, by=by, reason=reason, via=via)
    return model
