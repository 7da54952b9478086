"""Admin of the importers: source records (read-only), saved column mappings, import runs."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.defaultfilters import truncatechars
from django.urls import URLPattern, path
from django.utils.safestring import SafeString

from attrition.admin_base.links import record_link
from attrition.admin_base.roles import ADMINS, NOBODY, ReadOnlyAdmin, RoleAdmin
from attrition.errors import InvalidInput
from attrition.importers.csv_generic.mapping import BUILTIN, mapping_parse
from attrition.importers.models import ColumnMapping, ImportRun, SourceRecord
from attrition.importers.views_admin import (
    cancel_view,
    confirm_view,
    retry_view,
    run_view,
    upload_view,
)
from attrition.losses.models import Loss


@admin.register(SourceRecord)
class SourceRecordAdmin(ReadOnlyAdmin[SourceRecord]):
    list_display = (
        "source",
        "external_id",
        "label",
        "loss_ref",
        "first_imported_at",
        "last_seen_at",
    )
    list_filter = ("source",)
    search_fields = ("external_id", "raw_label", "raw_category", "loss__id__exact")
    date_hierarchy = "first_imported_at"

    @admin.display(description="raw label", ordering="raw_label")
    def label(self, obj: SourceRecord) -> str:
        return truncatechars(obj.raw_label, 80)

    @admin.display(description="loss", ordering="loss_id")
    def loss_ref(self, obj: SourceRecord) -> SafeString | str:
        return record_link(Loss, obj.loss_id, f"#{obj.loss_id}") if obj.loss_id else "—"


class ColumnMappingForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = ColumnMapping
        fields = ("name", "description", "mapping")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("name") == BUILTIN:
            self.add_error("name", f"{BUILTIN!r} is the built-in mapping of our own export.")
        if "mapping" in data:
            try:
                mapping_parse(data["mapping"], name=data.get("name") or "")
            except InvalidInput as exc:
                self.add_error("mapping", exc.message)
        return data


@admin.register(ColumnMapping)
class ColumnMappingAdmin(RoleAdmin[ColumnMapping]):
    """Saved CSV column mappings: admins write them, checked as `import-mapping save` does."""

    form = ColumnMappingForm
    view_roles = ADMINS
    edit_roles = ADMINS
    delete_roles = ADMINS
    list_display = ("name", "description", "updated_at")
    search_fields = ("name", "description")

    def save_model(self, request: HttpRequest, obj: ColumnMapping, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)


@admin.register(ImportRun)
class ImportRunAdmin(RoleAdmin[ImportRun]):
    """Import runs: upload and dry run (the add page), confirm, cancel, retry; admins only."""

    view_roles = ADMINS
    edit_roles = ADMINS
    delete_roles = NOBODY
    list_display = ("id", "kind", "source_name", "state", "summary", "created_by", "created_at")
    list_filter = ("state", "kind")
    search_fields = ("source_name", "sha256")
    date_hierarchy = "created_at"

    @admin.display(description="report")
    def summary(self, obj: ImportRun) -> str:
        report = obj.report or obj.dry_run_report
        if obj.error:
            return truncatechars(obj.error, 120)
        counts = report.get("counts") or {}
        text = ", ".join(f"{n} {k}" for k, n in counts.items() if n)
        return ("dry run: " if not obj.report else "") + (text or "nothing")

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/confirm/", view(confirm_view), name="importers_importrun_confirm"),
            path("<int:pk>/cancel/", view(cancel_view), name="importers_importrun_cancel"),
            path("<int:pk>/retry/", view(retry_view), name="importers_importrun_retry"),
            *super().get_urls(),
        ]

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        return upload_view(request)

    # The upload page checks CSRF itself, after putting its size cap on the upload handlers.
    add_view.csrf_exempt = True  # type: ignore[attr-defined]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        return run_view(request, object_id)
