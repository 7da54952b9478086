"""Changelist filters shared by the app admins."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest


class DeletedFilter(admin.SimpleListFilter):
    """Show live records by default; deleted ones, or all, on request."""

    title = "deleted"
    parameter_name = "deleted"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("no", "no"), ("yes", "yes"), ("all", "all")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value() or "no"
        if value == "yes":
            return queryset.filter(deleted_at__isnull=False)
        if value == "all":
            return queryset
        return queryset.filter(deleted_at__isnull=True)

    def choices(self, changelist: Any) -> Any:
        current = self.value() or "no"
        for lookup, title in self.lookup_choices:
            yield {
                "selected": current == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


class SideFilter(admin.RelatedFieldListFilter):
    """A filter by side whose choices load their conflicts in the same query."""

    def field_choices(self, field: Any, request: HttpRequest, model_admin: Any) -> Any:
        ordering = self.field_admin_ordering(field, request, model_admin) or ()
        sides = field.related_model._default_manager.select_related("conflict")
        return [(side.pk, str(side)) for side in sides.order_by(*ordering)]
