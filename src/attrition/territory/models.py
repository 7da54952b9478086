"""Administrative units of a conflict's boundary set, and who controlled each one when."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from attrition import history
from attrition.losses.choices import ReviewStatus


class BoundarySet(models.Model):
    """A published set of administrative boundaries (e.g. AIMS 398 districts via geoBoundaries)."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    source = models.TextField(help_text="Where the boundaries come from.")
    attribution = models.TextField(help_text="Credit line to show wherever the boundaries appear.")
    licence = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class AdminUnit(models.Model):
    """A province or district, with its outline stored as GeoJSON."""

    class Level(models.IntegerChoices):
        COUNTRY = 0, "country"
        PROVINCE = 1, "province"
        DISTRICT = 2, "district"

    boundary_set = models.ForeignKey(BoundarySet, on_delete=models.PROTECT, related_name="units")
    level = models.PositiveSmallIntegerField(choices=Level.choices)
    code = models.CharField(max_length=64, help_text="P-code or stable id, e.g. AF17-wakhan.")
    name = models.CharField(max_length=200)
    name_local = models.CharField(max_length=200, blank=True, default="")
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    area_km2 = models.FloatField(null=True, blank=True)
    label_lon = models.FloatField(null=True, blank=True)
    label_lat = models.FloatField(null=True, blank=True)
    # ISO3 codes of the countries this unit borders, e.g. ["TJK", "PAK"].
    border_countries = models.JSONField(default=list, blank=True)
    geometry = models.JSONField(null=True, blank=True, help_text="GeoJSON geometry, WGS84.")

    class Meta:
        ordering = ["boundary_set_id", "level", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["boundary_set", "code"], name="territory_unit_code_uniq"
            ),
            models.CheckConstraint(
                condition=Q(level=0) | Q(parent__isnull=False), name="territory_unit_has_parent"
            ),
            models.CheckConstraint(
                condition=Q(label_lon__isnull=True)
                | (Q(label_lon__gte=-180) & Q(label_lon__lte=180)),
                name="territory_unit_lon_range",
            ),
            models.CheckConstraint(
                condition=Q(label_lat__isnull=True)
                | (Q(label_lat__gte=-90) & Q(label_lat__lte=90)),
                name="territory_unit_lat_range",
            ),
        ]
        indexes = [models.Index(fields=["boundary_set", "level", "name"])]

    def __str__(self) -> str:
        if self.level == self.Level.DISTRICT and self.parent_id:
            return f"{self.name}, {self.parent.name}"  # type: ignore[union-attr]
        return self.name


class AdminUnitAlias(models.Model):
    """A spelling of a unit's name seen in the press (Achin for Acheen, Gardez for Gardiz)."""

    unit = models.ForeignKey(AdminUnit, on_delete=models.CASCADE, related_name="aliases")
    alias = models.CharField(max_length=200)
    normalized = models.CharField(max_length=200, editable=False)

    class Meta:
        verbose_name_plural = "admin unit aliases"
        constraints = [
            models.UniqueConstraint(fields=["unit", "normalized"], name="territory_alias_uniq")
        ]

    def __str__(self) -> str:
        return self.alias


class BorderSegment(models.Model):
    """The length of international border a unit shares with one neighbouring country."""

    unit = models.ForeignKey(AdminUnit, on_delete=models.CASCADE, related_name="border_segments")
    country = models.CharField(max_length=3, help_text="ISO 3166-1 alpha-3 code, e.g. TJK.")
    length_km = models.FloatField(help_text="Geodesic length of the shared border, in km.")

    class Meta:
        ordering = ["country", "unit_id"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "country"], name="territory_border_uniq"),
            models.CheckConstraint(condition=Q(length_km__gt=0), name="territory_border_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} / {self.country}: {self.length_km} km"


class ControlStatus(models.TextChoices):
    GOVERNMENT = "government", "government"
    CONTESTED = "contested", "contested"
    INSURGENT = "insurgent", "insurgent-controlled"
    CLAIMED = "claimed", "claimed, unconfirmed"


class ControlRecord(models.Model):
    """Who controlled an admin unit from a date, on what evidence, last confirmed when."""

    unit = models.ForeignKey(AdminUnit, on_delete=models.PROTECT, related_name="control_records")
    conflict = models.ForeignKey(
        "catalog.Conflict", on_delete=models.PROTECT, related_name="control_records"
    )
    status = models.CharField(max_length=16, choices=ControlStatus.choices)
    controlling_side = models.ForeignKey(
        "catalog.Side", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    since = models.DateField(help_text="Date from which this status held.")
    last_confirmed = models.DateField(null=True, blank=True)
    confidence = models.CharField(
        max_length=8,
        choices=[("low", "low"), ("medium", "medium"), ("high", "high")],
        default="medium",
    )
    evidence = models.ManyToManyField("evidence.Evidence", blank=True, related_name="+")
    note = models.TextField(blank=True, default="")
    review_status = models.CharField(
        max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.DRAFT
    )
    is_sample = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["unit_id", "-since"]
        # "The latest verified record of each unit on a date" is one index seek per unit.
        indexes = [
            models.Index(
                fields=["unit", "conflict", "review_status", "since"],
                name="territory_control_latest",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ControlStatus.values), name="territory_control_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(review_status__in=ReviewStatus.values),
                name="territory_control_review_valid",
            ),
            models.CheckConstraint(
                condition=Q(last_confirmed__isnull=True) | Q(last_confirmed__gte=models.F("since")),
                name="territory_control_confirmed_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit}: {self.get_status_display()} from {self.since}"


ControlRecordVersion = history.version_model(ControlRecord)
