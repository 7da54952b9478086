"""Admin for losses, depictions, tallies and tags; every write goes through losses.services."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from attrition.admin_base.actions import ReviewAdmin, SoftDeleteAdmin, reason_asked
from attrition.admin_base.filters import DeletedFilter, SideFilter
from attrition.admin_base.forms import EditorForm, ServiceForm
from attrition.admin_base.history import history_register
from attrition.admin_base.links import admin_link, record_link
from attrition.admin_base.roles import ADMINS, ALL_ROLES, REVIEWERS, RoleAdmin, role_of
from attrition.admin_base.versioned import VIA, ServiceAdmin
from attrition.errors import AttritionError, InvalidInput
from attrition.losses.choices import ReviewStatus
from attrition.losses.fates import fates_parse
from attrition.losses.models import Depiction, Loss, Tag, Tally
from attrition.losses.services import (
    EDITABLE_FIELDS,
    depiction_create,
    loss_create,
    loss_delete,
    loss_merge,
    loss_restore,
    loss_revert,
    loss_update,
)
from attrition.losses.tally import TallyRule
from attrition.review.workflow import Action, review_transition

# One entry of a fate history as written on the form: `destroyed (airstrike) on 2021-08-15`.
FATE_ITEM = re.compile(
    r"^(?P<fate>[^\s(),]+)\s*(?:\((?P<detail>[^()]*)\))?\s*(?:on\s+(?P<date>\d{4}-\d{2}-\d{2}))?$",
    re.IGNORECASE,
)


def _split_outside_brackets(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def fates_from_text(text: str) -> list[dict[str, str]]:
    """Return fate entries from text like "captured, destroyed (airstrike)"; raise InvalidInput."""
    entries = []
    for number, item in enumerate(_split_outside_brackets(text), start=1):
        match = FATE_ITEM.match(item)
        if match is None:
            raise InvalidInput(
                f"fate #{number} ({item!r}) is not written as: fate (detail) on YYYY-MM-DD, "
                'e.g. "captured, destroyed (airstrike)"'
            )
        entry = {"fate": match["fate"].lower()}
        if (match["detail"] or "").strip():
            entry["detail"] = match["detail"].strip()
        if match["date"]:
            entry["date"] = match["date"]
        entries.append(entry)
    fates_parse(entries)
    return entries


def fates_to_text(entries: Sequence[Mapping[str, Any]]) -> str:
    """Return a stored fate history as the form writes it: "captured, destroyed (airstrike)"."""
    parts = []
    for entry in entries:
        text = str(entry.get("fate", ""))
        if entry.get("detail"):
            text += f" ({entry['detail']})"
        if entry.get("date"):
            text += f" on {entry['date']}"
        parts.append(text)
    return ", ".join(parts)


def tags_from_text(text: str) -> list[str]:
    """Return the distinct tag names in a comma-separated list, in order."""
    names: list[str] = []
    for part in text.split(","):
        name = " ".join(part.split())
        if name and name.lower() not in {n.lower() for n in names}:
            names.append(name)
    return names


class LossForm(ServiceForm):
    """The loss form: fates and tags as text, the revision it was opened at, writes via services."""

    fates_text = forms.CharField(
        label="Fate history",
        max_length=1000,
        widget=forms.TextInput(attrs={"size": 70}),
        help_text='In order, comma-separated, detail in brackets: "captured, destroyed '
        '(airstrike)"; optionally a date: "abandoned on 2021-08-15". The last one is the headline.',
    )
    tags_text = forms.CharField(
        label="Tags",
        required=False,
        max_length=1000,
        widget=forms.TextInput(attrs={"size": 70}),
        help_text="Comma-separated.",
    )
    revision = forms.IntegerField(required=False, widget=forms.HiddenInput)
    status = forms.ChoiceField(choices=ReviewStatus.choices, initial=ReviewStatus.DRAFT)
    service_fields = {"fates": "fates_text", "tags": "tags_text"}

    class Meta:
        model = Loss
        fields = ["conflict", *sorted(EDITABLE_FIELDS)]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        loss: Loss = self.instance
        self.status_before = loss.status if loss.pk else ""
        if loss.pk:
            self.initial["fates_text"] = fates_to_text(loss.fate_history)
            self.initial["tags_text"] = ", ".join(sorted(t.name for t in loss.tags.all()))
            self.initial["revision"] = loss.revision
            self.fields["revision"].required = True

    def clean_fates_text(self) -> list[dict[str, str]]:
        try:
            return fates_from_text(self.cleaned_data["fates_text"])
        except InvalidInput as exc:
            raise forms.ValidationError(exc.message) from None

    def clean_tags_text(self) -> list[str]:
        return tags_from_text(self.cleaned_data.get("tags_text") or "")

    def commit(self) -> Loss:
        """Create the loss, or update it and then change its status, through the services."""
        data = self.cleaned_data
        reason = data.get("change_reason", "")
        if self.instance.pk is None:
            fields = {n: data[n] for n in EDITABLE_FIELDS - {"side", "model"} if n in data}
            return loss_create(
                conflict=data["conflict"],
                side=data["side"],
                model=data["model"],
                fates=data["fates_text"],
                tags=data["tags_text"],
                status=data["status"],
                by=self.user,
                via=VIA,
                reason=reason,
                **fields,
            )
        loss: Loss = self.instance
        changed = set(self.changed_data)
        if changed & (EDITABLE_FIELDS | {"fates_text", "tags_text"}):
            loss = loss_update(
                loss=loss,
                by=self.user,
                revision=data["revision"],
                fates=data["fates_text"] if "fates_text" in changed else None,
                tags=data["tags_text"] if "tags_text" in changed else None,
                reason=reason,
                via=VIA,
                **{name: data[name] for name in changed & EDITABLE_FIELDS},
            )
        if data["status"] != self.status_before:
            moved = review_transition(
                record=loss,
                action=Action.SUBMIT
                if data["status"] == ReviewStatus.SUBMITTED
                else Action.WITHDRAW,
                by=self.user,
                reason=reason,
                revision=loss.revision if loss is not self.instance else data["revision"],
                via=VIA,
            )
            assert isinstance(moved, Loss)
            loss = moved
        return loss


@admin.register(Loss)
class LossAdmin(ReviewAdmin[Loss], ServiceAdmin[Loss]):
    form = LossForm
    edit_roles = ALL_ROLES
    merge_roles = REVIEWERS
    actions = [*ReviewAdmin.actions, "merge"]
    history_formatters = {"fate_history": fates_to_text, "tag_names": ", ".join}
    list_display = (
        "id",
        "model",
        "side_name",
        "fate",
        "status",
        "first_seen",
        "place",
        "markings",
        "is_deleted",
    )
    list_display_links = ("id", "model")
    list_filter = (
        DeletedFilter,
        "status",
        "fate",
        ("side", SideFilter),
        "model__category",
        "conflict",
        "is_sample",
    )
    list_select_related = ("model", "side", "admin_unit")
    search_fields = (
        "id__exact",
        "model__name",
        "side__name",
        "markings",
        "unit",
        "place_text",
        "admin_unit__name",
    )
    autocomplete_fields = ("side", "model", "captured_by", "admin_unit")
    date_hierarchy = "first_seen"
    readonly_fields = (
        "fate",
        "merged_into",
        "status_reason",
        "created_by",
        "updated_by",
        "created_at",
        "updated_at",
        "deleted_at",
        "is_sample",
        "depictions_list",
        "duplicates_list",
        "history_table",
    )
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "conflict",
                    "side",
                    "model",
                    "fates_text",
                    "fate",
                    "captured_by",
                    "status",
                    "revision",
                )
            },
        ),
        (
            "When and where",
            {
                "fields": (
                    ("first_seen", "first_seen_precision"),
                    "admin_unit",
                    ("lon", "lat", "place_precision"),
                    "place_text",
                )
            },
        ),
        ("Details", {"fields": ("unit", "markings", "tags_text", "description", "change_reason")}),
        (
            "Record",
            {
                "fields": (
                    "merged_into",
                    "status_reason",
                    ("created_by", "created_at"),
                    ("updated_by", "updated_at"),
                    "deleted_at",
                    "is_sample",
                    "depictions_list",
                    "duplicates_list",
                    "history_table",
                )
            },
        ),
    )
    form_only_fields = ("change_reason", "revision", "seen_version")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Loss]:
        queryset = (
            super()
            .get_queryset(request)
            .select_related("model", "side", "admin_unit")
            .defer("admin_unit__geometry")
        )
        if role_of(request.user) not in REVIEWERS:
            # Drafts and records sent back are their author's until submitted.
            private = [ReviewStatus.DRAFT, ReviewStatus.NEEDS_CHANGES]
            queryset = queryset.filter(~Q(status__in=private) | Q(created_by=request.user.pk))
        return queryset

    def get_readonly_fields(self, request: HttpRequest, obj: Loss | None = None) -> Any:
        base = tuple(super().get_readonly_fields(request, obj))
        return (*base, "conflict") if obj is not None else base

    def has_merge_permission(self, request: HttpRequest) -> bool:
        return self._role_in(request, self.merge_roles)

    @admin.display(description="side", ordering="side__short_name")
    def side_name(self, obj: Loss) -> str:
        return obj.side.short_name

    @admin.display(description="place")
    def place(self, obj: Loss) -> str:
        return obj.admin_unit.name if obj.admin_unit is not None else obj.place_text

    @admin.display(description="fate history")
    def fates_text(self, obj: Loss) -> str:
        return fates_to_text(obj.fate_history)

    @admin.display(description="tags")
    def tags_text(self, obj: Loss) -> str:
        return ", ".join(sorted(t.name for t in obj.tags.all()))

    @admin.display(description="possible duplicates")
    def duplicates_list(self, obj: Loss) -> str:
        from attrition.dedup.models import LossCandidate

        pairs = (
            LossCandidate.objects.filter(Q(loss_a=obj) | Q(loss_b=obj), status="open")
            .select_related("loss_a__model", "loss_b__model")
            .order_by("-score")[:10]
        )
        return (
            format_html_join(
                SafeString("<br>"),
                '<a href="{}">loss #{} {}</a>: {} ({})',
                (
                    (
                        reverse("dedup:candidate", args=[p.pk]),
                        other.pk,
                        other.model,
                        p.verdict,
                        f"{p.score:.2f}",
                    )
                    for p in pairs
                    for other in [p.loss_b if p.loss_a_id == obj.pk else p.loss_a]
                ),
            )
            or "none found"
        )

    @admin.display(description="shown in")
    def depictions_list(self, obj: Loss) -> str:
        depictions = obj.depictions.filter(deleted_at__isnull=True).select_related("evidence")
        return (
            format_html_join(
                SafeString("<br>"), "{} {}", ((admin_link(d), d.note) for d in depictions)
            )
            or "—"
        )

    def soft_delete_one(self, request: HttpRequest, obj: Loss, reason: str) -> None:
        loss_delete(loss=obj, by=request.user, reason=reason, via=VIA)

    def revert_one(self, request: HttpRequest, obj: Loss, version: int, reason: str) -> Loss:
        return loss_revert(loss=obj, version=version, by=request.user, reason=reason, via=VIA)

    def restore_one(self, request: HttpRequest, obj: Loss) -> None:
        loss_restore(loss=obj, by=request.user, via=VIA)

    @admin.action(description="Merge two duplicates (the older stays)", permissions=["merge"])
    def merge(self, request: HttpRequest, queryset: QuerySet[Loss]) -> HttpResponse | None:
        losses = list(queryset.order_by("pk")[:3])
        if len(losses) != 2:
            self.message_user(
                request,
                f"Select exactly two losses to merge (you selected {queryset.count()}): the older "
                "(lower #) stays and the newer one is merged into it.",
                messages.ERROR,
            )
            return None
        older, newer = losses
        reason, page = reason_asked(
            self,
            request,
            queryset,
            action="merge",
            title=f"Merge #{newer.pk} into #{older.pk}",
            submit="Merge",
        )
        if reason is None:
            return page
        try:
            with transaction.atomic():
                loss_merge(loss=newer, into=older, by=request.user, reason=reason, via=VIA)
        except AttritionError as exc:
            self.message_user(request, f"Not merged: {exc.message}", messages.ERROR)
        except IntegrityError as exc:
            self.message_user(request, f"Not merged: the database refused: {exc}", messages.ERROR)
        else:
            self.message_user(
                request, f"Merged #{newer.pk} into #{older.pk}; its evidence moved over."
            )
        return None


class DepictionForm(ServiceForm):
    """Adds depictions through depiction_create; edits are versioned saves."""

    class Meta:
        model = Depiction
        fields = "__all__"

    def commit(self) -> Depiction | None:
        if self.instance.pk is not None:
            return None
        data = self.cleaned_data
        return depiction_create(
            loss=data["loss"],
            evidence=data["evidence"],
            capture=data.get("capture"),
            item_number=data.get("item_number"),
            t_start_ms=data.get("t_start_ms"),
            t_end_ms=data.get("t_end_ms"),
            region=data.get("region"),
            note=data.get("note", ""),
            by=self.user,
            via=VIA,
        )


@admin.register(Depiction)
class DepictionAdmin(SoftDeleteAdmin[Depiction], ServiceAdmin[Depiction]):
    form = DepictionForm
    edit_roles = ALL_ROLES
    list_display = (
        "id",
        "loss_ref",
        "evidence",
        "capture",
        "item_number",
        "t_start_ms",
        "t_end_ms",
        "created_at",
        "is_deleted",
    )
    list_filter = (DeletedFilter, "evidence__platform")
    list_select_related = ("evidence", "capture")
    search_fields = (
        "loss__id__exact",
        "evidence__canonical_url",
        "evidence__title",
        "capture__sha256",
        "note",
    )
    autocomplete_fields = ("loss", "evidence", "capture")
    date_hierarchy = "created_at"
    readonly_fields = ("created_by", "created_at", "updated_at", "deleted_at", "history_table")

    def get_readonly_fields(self, request: HttpRequest, obj: Depiction | None = None) -> Any:
        base = tuple(super().get_readonly_fields(request, obj))
        # What is shown where is fixed once recorded (and checked by depiction_create only).
        return (*base, "loss", "evidence", "capture", "region") if obj is not None else base

    @admin.display(description="loss", ordering="loss_id")
    def loss_ref(self, obj: Depiction) -> str:
        return record_link(Loss, obj.loss_id, f"#{obj.loss_id}")


class TallyForm(EditorForm):
    class Meta:
        model = Tally
        fields = "__all__"

    def clean_rule(self) -> Any:
        rule = self.cleaned_data.get("rule")
        try:
            TallyRule.parse(rule)
        except InvalidInput as exc:
            raise forms.ValidationError(exc.message) from None
        return rule


@admin.register(Tally)
class TallyAdmin(SoftDeleteAdmin[Tally]):
    form = TallyForm
    edit_roles = REVIEWERS
    list_display = (
        "name",
        "slug",
        "conflict",
        "is_public",
        "is_sample",
        "updated_at",
        "is_deleted",
    )
    list_filter = (DeletedFilter, "conflict", "is_public", "is_sample")
    list_select_related = ("conflict",)
    search_fields = ("name", "slug", "description")
    prepopulated_fields = {"slug": ("name",)}
    date_hierarchy = "created_at"
    readonly_fields = ("created_by", "created_at", "updated_at", "deleted_at", "history_table")


@admin.register(Tag)
class TagAdmin(RoleAdmin[Tag]):
    edit_roles = ADMINS
    list_display = ("name", "slug")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


history_register(Loss, formatters={"fate_history": fates_to_text, "tag_names": ", ".join})
history_register(Depiction)
history_register(Tally)
