"""Admin for imported source records: read-only, since imports write them."""

from __future__ import annotations

from django.contrib import admin
from django.template.defaultfilters import truncatechars
from django.utils.safestring import SafeString

from attrition.admin_base.links import record_link
from attrition.admin_base.roles import ReadOnlyAdmin
from attrition.importers.models import SourceRecord
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
