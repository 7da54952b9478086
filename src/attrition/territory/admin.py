"""Admin for boundary sets and admin units (reference data) and control records (versioned)."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat

from attrition.admin_base.actions import ReviewAdmin
from attrition.admin_base.filters import DeletedFilter, SideFilter
from attrition.admin_base.history import history_register
from attrition.admin_base.roles import ALL_ROLES, TaxonomyAdmin
from attrition.catalog.services import alias_normalize
from attrition.territory.models import AdminUnit, AdminUnitAlias, BoundarySet, ControlRecord

# Every query that shows admin units leaves their outlines (often 100 kB each) in the database.
UNIT_HEAVY = ("geometry", "parent__geometry")


def _points(coordinates: Any) -> int:
    if isinstance(coordinates, list) and coordinates and isinstance(coordinates[0], int | float):
        return 1
    if isinstance(coordinates, list):
        return sum(_points(c) for c in coordinates)
    return 0


def geometry_summary(geometry: Any) -> str:
    """Return what a GeoJSON geometry is, without showing it: type, points and size."""
    if not isinstance(geometry, dict):
        return "—"
    size = len(json.dumps(geometry, separators=(",", ":")))
    points = _points(geometry.get("coordinates"))
    return f"{geometry.get('type', '?')}, {points:,} points, {filesizeformat(size)} of GeoJSON"


class ProvinceFilter(admin.SimpleListFilter):
    """Filter units by their parent province (listed by name, outlines not loaded)."""

    title = "province"
    parameter_name = "province"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[Any, str]]:
        provinces = AdminUnit.objects.filter(level=AdminUnit.Level.PROVINCE).only("pk", "name")
        return [(p.pk, p.name) for p in provinces.order_by("name")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(parent_id=value) if value else queryset


@admin.register(BoundarySet)
class BoundarySetAdmin(TaxonomyAdmin[BoundarySet]):
    list_display = ("name", "slug", "licence", "unit_count", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}

    def get_queryset(self, request: HttpRequest) -> QuerySet[BoundarySet]:
        return super().get_queryset(request).annotate(unit_count=Count("units"))

    @admin.display(description="units", ordering="unit_count")
    def unit_count(self, obj: Any) -> int:
        return int(getattr(obj, "unit_count", 0))


@admin.register(AdminUnit)
class AdminUnitAdmin(TaxonomyAdmin[AdminUnit]):
    list_display = ("name", "code", "level", "parent_name", "boundary_set", "area_km2")
    list_filter = ("level", "boundary_set", ProvinceFilter)
    list_select_related = ("parent", "boundary_set")
    search_fields = ("name", "code", "name_local", "aliases__alias")
    autocomplete_fields = ("parent",)
    exclude = ("geometry",)
    readonly_fields = ("geometry_summary",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[AdminUnit]:
        queryset = super().get_queryset(request).select_related("parent", "boundary_set")
        return queryset.defer(*UNIT_HEAVY)

    @admin.display(description="parent", ordering="parent__name")
    def parent_name(self, obj: AdminUnit) -> str:
        return obj.parent.name if obj.parent is not None else "—"

    @admin.display(description="geometry")
    def geometry_summary(self, obj: AdminUnit) -> str:
        return geometry_summary(obj.geometry)


class AdminUnitAliasForm(forms.ModelForm):  # type: ignore[type-arg]
    """An alias form that keeps the normalised form, once per unit."""

    class Meta:
        model = AdminUnitAlias
        fields = ["unit", "alias"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        alias = " ".join(str(data.get("alias") or "").split())
        normalized = alias_normalize(alias)
        if alias and not normalized:
            self.add_error("alias", "An alias needs at least one letter or digit.")
        unit = data.get("unit")
        taken = AdminUnitAlias.objects.filter(unit=unit, normalized=normalized).exclude(
            pk=self.instance.pk
        )
        if unit is not None and normalized and taken.exists():
            self.add_error("alias", f"{unit} already has the alias {alias!r}.")
        data["alias"] = alias
        self.instance.normalized = normalized
        return data


@admin.register(AdminUnitAlias)
class AdminUnitAliasAdmin(TaxonomyAdmin[AdminUnitAlias]):
    form = AdminUnitAliasForm
    list_display = ("alias", "unit", "normalized")
    list_select_related = ("unit__parent",)
    search_fields = ("alias", "normalized", "unit__name")
    autocomplete_fields = ("unit",)
    readonly_fields = ("normalized",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[AdminUnitAlias]:
        queryset = super().get_queryset(request).select_related("unit__parent")
        return queryset.defer("unit__geometry", "unit__parent__geometry")


@admin.register(ControlRecord)
class ControlRecordAdmin(ReviewAdmin[ControlRecord]):
    edit_roles = ALL_ROLES
    status_field = "review_status"
    list_display = (
        "unit_name",
        "status",
        "side_name",
        "since",
        "last_confirmed",
        "confidence",
        "review_status",
        "is_deleted",
    )
    list_filter = (
        DeletedFilter,
        "status",
        "review_status",
        "confidence",
        ("controlling_side", SideFilter),
        "conflict",
    )
    list_select_related = ("unit", "controlling_side")
    search_fields = ("unit__name", "unit__code", "note")
    autocomplete_fields = ("unit", "controlling_side", "evidence")
    date_hierarchy = "since"
    readonly_fields = (
        "is_sample",
        "created_by",
        "created_at",
        "updated_at",
        "deleted_at",
        "history_table",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[ControlRecord]:
        queryset = super().get_queryset(request).select_related("unit", "controlling_side")
        return queryset.defer("unit__geometry")

    @admin.display(description="unit", ordering="unit__name")
    def unit_name(self, obj: ControlRecord) -> str:
        return obj.unit.name

    @admin.display(description="controlled by", ordering="controlling_side__short_name")
    def side_name(self, obj: ControlRecord) -> str:
        side = obj.controlling_side
        return side.short_name if side is not None else "—"


history_register(ControlRecord)
