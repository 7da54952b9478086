"""Editor forms, and service-backed forms whose service refusals show as form errors."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.db import IntegrityError, models, transaction

from attrition import history
from attrition.errors import AttritionError, StaleEdit
from attrition.losses.choices import ReviewStatus

# Statuses anyone who may edit can pick on a form; verifying and rejecting are review actions.
FORM_STATUSES = (ReviewStatus.DRAFT, ReviewStatus.SUBMITTED)


class EditorForm(forms.ModelForm):  # type: ignore[type-arg]
    """A model form that knows its user and restricts review statuses to what a form may set."""

    user: ClassVar[Any] = None
    role: ClassVar[str | None] = None
    status_field: ClassVar[str] = ""
    change_reason = forms.CharField(
        required=False,
        max_length=500,
        label="Why (kept in the history)",
        widget=forms.TextInput(attrs={"size": 80}),
    )

    seen_version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields.get(self.status_field)
        if isinstance(field, forms.ChoiceField):
            field.choices = status_choices(
                current=getattr(self.instance, self.status_field, None), role=self.role
            )
        if self.instance.pk is not None and type(self.instance) in history.VERSION_MODELS:
            latest = history.latest_version(self.instance)
            self.initial["seen_version"] = getattr(latest, "version", None)

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or self.cleaned_data
        self._refuse_stale(cleaned.get("seen_version"))
        return cleaned

    def _refuse_stale(self, seen: int | None) -> None:
        """Refuse the save if someone saved the record since this form was opened.

        The admin runs the form inside its transaction: the row lock (a write lock on SQLite,
        whose transactions start IMMEDIATE) holds until the save, so no write slips in between.
        """
        instance = self.instance
        if seen is None or instance.pk is None or type(instance) not in history.VERSION_MODELS:
            return
        type(instance)._default_manager.select_for_update().filter(pk=instance.pk).first()
        latest: Any = history.latest_version(instance)
        if latest is None or latest.version == seen:
            return
        versions = history.versions_of(type(instance))._default_manager
        opened = versions.filter(record_id=instance.pk, version=seen).first()
        changes = history.changes_since(instance, opened)
        who = latest.changed_by or "someone"
        meanwhile = f" Meanwhile: {history.changes_text(changes)}." if changes else ""
        raise forms.ValidationError(
            f"{instance} was changed by {who} since you opened it (version {seen}, now "
            f"{latest.version}).{meanwhile} Your edit was not saved and is still in the form: "
            "reload the record, then apply it again.",
            code="stale",
        )


def status_choices(*, current: str | None, role: str | None) -> list[tuple[str, str]]:
    """Return the statuses a form offers: draft or submitted, and the record's current one.

    Verifying, rejecting, sending back and reopening are review actions (review.workflow), for
    every role: a form that could set them would skip the four-eyes rule.
    """
    allowed: set[str] = set(FORM_STATUSES)
    if current:
        allowed.add(current)
    return [(value, label) for value, label in ReviewStatus.choices if value in allowed]


class ServiceForm(EditorForm):
    """A form whose last validation step is the service call, so a refusal is a form error.

    `commit()` writes through a service and returns the saved record, or returns None to leave the
    save to the admin (a versioned save). It runs inside the admin's transaction, in a savepoint,
    so a refusal saves nothing.
    """

    # Service error detail keys that name a differently named form field.
    service_fields: ClassVar[dict[str, str]] = {}
    saved: models.Model | None = None

    def commit(self) -> models.Model | None:
        """Write the record through its service; return it (or None for a plain versioned save)."""
        return None

    def full_clean(self) -> None:
        super().full_clean()
        if not self.is_bound or self.errors:
            return
        try:
            with transaction.atomic():
                self.saved = self.commit()
        except StaleEdit as exc:
            self.add_error(None, exc.message)
        except AttritionError as exc:
            self._add_service_error(exc)
        except IntegrityError as exc:
            self.add_error(None, f"The database refused the change: {exc}")

    def _add_service_error(self, exc: AttritionError) -> None:
        placed = False
        for key, value in exc.details.items():
            name = self.service_fields.get(key, key)
            if name in self.fields:
                messages_ = value if isinstance(value, list) else [exc.message]
                self.add_error(name, [str(m) for m in messages_])
                placed = True
        if not placed:
            self.add_error(None, exc.message)
