"""Admin for conflicts, sides and the equipment taxonomy: admins edit, reviewers read."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from attrition.admin_base.history import history_register
from attrition.admin_base.roles import ADMINS, REVIEWERS, RoleInline, TaxonomyAdmin
from attrition.admin_base.versioned import VersionedAdmin
from attrition.catalog.models import (
    Category,
    CategoryMapping,
    Conflict,
    EquipmentModel,
    ModelAlias,
    Side,
)
from attrition.catalog.services import alias_normalize, model_baseline


class ModelAliasForm(forms.ModelForm):  # type: ignore[type-arg]
    """An alias form that keeps the normalised form and refuses an alias naming another model."""

    class Meta:
        model = ModelAlias
        fields = ["model", "alias"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        alias = " ".join(str(data.get("alias") or "").split())
        normalized = alias_normalize(alias)
        if alias and not normalized:
            self.add_error("alias", "An alias needs at least one letter or digit.")
        clash = (
            ModelAlias.objects.filter(normalized=normalized)
            .exclude(pk=self.instance.pk)
            .select_related("model")
            .first()
        )
        if normalized and clash is not None:
            self.add_error(
                "alias",
                f"{alias!r} already names {clash.model} (as {clash.alias!r}); "
                "an alias can name only one model.",
            )
        data["alias"] = alias
        self.instance.normalized = normalized
        return data


class ModelAliasInline(RoleInline):
    model = ModelAlias
    form = ModelAliasForm
    fields = ("alias", "normalized")
    readonly_fields = ("normalized",)


class TaxonomyVersionedAdmin(VersionedAdmin[EquipmentModel]):
    view_roles = REVIEWERS
    edit_roles = ADMINS
    delete_roles = ADMINS


@admin.register(EquipmentModel)
class EquipmentModelAdmin(TaxonomyVersionedAdmin):
    list_display = ("name", "category", "country_of_production", "slug", "updated_at")
    list_filter = ("category", "country_of_production")
    list_select_related = ("category",)
    search_fields = ("name", "slug", "aliases__alias")
    prepopulated_fields = {"slug": ("name",)}
    inlines = (ModelAliasInline,)
    readonly_fields = ("created_at", "updated_at", "history_table")

    def save_model(
        self, request: HttpRequest, obj: EquipmentModel, form: Any, change: bool
    ) -> None:
        if change:
            # Counts as of earlier moments need the category the model had before this edit.
            model_baseline(model=obj)
        super().save_model(request, obj, form, change)


@admin.register(ModelAlias)
class ModelAliasAdmin(TaxonomyAdmin[ModelAlias]):
    form = ModelAliasForm
    list_display = ("alias", "model", "normalized")
    list_select_related = ("model",)
    search_fields = ("alias", "normalized", "model__name")
    autocomplete_fields = ("model",)
    readonly_fields = ("normalized",)


@admin.register(Conflict)
class ConflictAdmin(TaxonomyAdmin[Conflict]):
    list_display = ("name", "slug", "period_start", "period_end", "boundary_set", "is_public")
    list_filter = ("is_public",)
    list_select_related = ("boundary_set",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("created_at", "updated_at")


@admin.register(Side)
class SideAdmin(TaxonomyAdmin[Side]):
    list_display = ("short_name", "name", "conflict", "order", "colour")
    list_filter = ("conflict",)
    list_select_related = ("conflict",)
    search_fields = ("name", "short_name", "slug")
    prepopulated_fields = {"slug": ("short_name",)}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Side]:
        return super().get_queryset(request).select_related("conflict")


@admin.register(Category)
class CategoryAdmin(TaxonomyAdmin[Category]):
    list_display = ("name", "slug", "order", "model_count")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Category]:
        return super().get_queryset(request).annotate(model_count=Count("models"))

    @admin.display(description="models", ordering="model_count")
    def model_count(self, obj: Any) -> int:
        return int(getattr(obj, "model_count", 0))


@admin.register(CategoryMapping)
class CategoryMappingAdmin(TaxonomyAdmin[CategoryMapping]):
    list_display = ("source", "source_category", "category", "valid_from", "valid_to", "note")
    list_filter = ("source", "category")
    list_select_related = ("category",)
    search_fields = ("source_category", "note", "category__name")


history_register(EquipmentModel, view_roles=REVIEWERS)
