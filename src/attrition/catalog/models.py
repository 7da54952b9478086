"""Conflicts, the sides in them, and the equipment taxonomy (categories, models, mappings)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from attrition import history


class Conflict(models.Model):
    """A theatre whose losses and territory the ledger records, e.g. "Afghanistan 2021"."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True, default="")
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    # [west, south, east, north] in WGS84 degrees: what a map of the conflict shows first.
    extent = models.JSONField(null=True, blank=True)
    boundary_set = models.ForeignKey(
        "territory.BoundarySet",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="conflicts",
    )
    is_public = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-period_start", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__isnull=True)
                | Q(period_start__isnull=True)
                | Q(period_end__gte=models.F("period_start")),
                name="catalog_conflict_period_order",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Side(models.Model):
    """A belligerent or operator in one conflict, e.g. the Taliban."""

    conflict = models.ForeignKey(Conflict, on_delete=models.PROTECT, related_name="sides")
    slug = models.SlugField(max_length=64)
    name = models.CharField(max_length=200)
    short_name = models.CharField(
        max_length=64, help_text='Name used in headlines, e.g. "Afghan forces".'
    )
    description = models.TextField(blank=True, default="")
    colour = models.CharField(max_length=7, default="#555555", help_text="#rrggbb for maps.")
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["conflict_id", "order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["conflict", "slug"], name="catalog_side_slug_uniq"),
            models.UniqueConstraint(fields=["conflict", "name"], name="catalog_side_name_uniq"),
            models.CheckConstraint(
                condition=Q(colour__regex=r"^#[0-9a-fA-F]{6}$"), name="catalog_side_colour_hex"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.short_name} ({self.conflict.name})"


class Category(models.Model):
    """A class of equipment, e.g. Tanks or Infantry Mobility Vehicles."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True, default="")
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class EquipmentModel(models.Model):
    """A named type of equipment, e.g. M1117 ASV, in one category."""

    slug = models.SlugField(max_length=120, unique=True)
    name = models.CharField(max_length=200, unique=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="models")
    # ISO 3166-1 alpha-2 code (or "SU" for the Soviet Union) of the country that produced it.
    country_of_production = models.CharField(max_length=2, blank=True, default="")
    description = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["category__order", "name"]
        verbose_name = "equipment model"
        constraints = [
            models.CheckConstraint(
                condition=Q(country_of_production="")
                | Q(country_of_production__regex=r"^[A-Z]{2}$"),
                name="catalog_model_country_iso2",
            ),
        ]

    def __str__(self) -> str:
        return self.name


EquipmentModelVersion = history.version_model(EquipmentModel)


class ModelAlias(models.Model):
    """Another name under which a model is written (in trackers, the press, other languages)."""

    model = models.ForeignKey(EquipmentModel, on_delete=models.CASCADE, related_name="aliases")
    alias = models.CharField(max_length=200)
    # Lower-cased, punctuation-folded form used to look the alias up (see catalog.services).
    normalized = models.CharField(max_length=200, unique=True, editable=False)

    class Meta:
        ordering = ["alias"]
        verbose_name_plural = "model aliases"

    def __str__(self) -> str:
        return self.alias


class CategoryMapping(models.Model):
    """How another tracker's category name maps to ours, over a dated period."""

    class Source(models.TextChoices):
        ORYX = "oryx", "Oryx"
        WARSPOTTING = "warspotting", "WarSpotting"
        LOSTARMOUR = "lostarmour", "LostArmour"
        CSV = "csv", "CSV import"

    source = models.CharField(max_length=32, choices=Source.choices)
    source_category = models.CharField(max_length=200)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="mappings")
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        ordering = ["source", "source_category", "valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "source_category", "valid_from"], name="catalog_mapping_uniq"
            ),
            models.UniqueConstraint(
                fields=["source", "source_category"],
                condition=Q(valid_from__isnull=True),
                name="catalog_mapping_undated_uniq",
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_to__gte=models.F("valid_from")),
                name="catalog_mapping_period_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()}: {self.source_category} -> {self.category}"
