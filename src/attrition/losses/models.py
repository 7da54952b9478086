"""Losses (one physical item each), where they are depicted, and saved counting rules."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from attrition import history
from attrition.losses.choices import DatePrecision, Fate, PlacePrecision, ReviewStatus


class Tag(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Loss(models.Model):
    """One physical item (a vehicle, gun, airframe) that a side lost."""

    conflict = models.ForeignKey(
        "catalog.Conflict", on_delete=models.PROTECT, related_name="losses"
    )
    side = models.ForeignKey(
        "catalog.Side",
        on_delete=models.PROTECT,
        related_name="losses",
        help_text="Side that lost it.",
    )
    model = models.ForeignKey(
        "catalog.EquipmentModel", on_delete=models.PROTECT, related_name="losses"
    )
    # The headline fate: always the last entry of fate_history (losses.services keeps them so).
    fate = models.CharField(max_length=16, choices=Fate.choices)
    # [{"fate": "captured", "detail": "", "date": "2021-08-15" | null}, ...] in the order they
    # happened; see losses.fates.FateEntry.
    fate_history = models.JSONField(default=list)
    captured_by = models.ForeignKey(
        "catalog.Side", on_delete=models.PROTECT, null=True, blank=True, related_name="captures"
    )
    first_seen = models.DateField(null=True, blank=True)
    first_seen_precision = models.CharField(
        max_length=8, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    admin_unit = models.ForeignKey(
        "territory.AdminUnit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="losses",
    )
    lon = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    place_precision = models.CharField(
        max_length=16, choices=PlacePrecision.choices, default=PlacePrecision.UNKNOWN
    )
    place_text = models.CharField(max_length=300, blank=True, default="")
    unit = models.CharField(max_length=300, blank=True, default="", help_text="Military unit.")
    markings = models.CharField(
        max_length=300, blank=True, default="", help_text="Hull, tail or registration numbers."
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="losses")
    description = models.TextField(blank=True, default="")
    status = models.CharField(
        max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.DRAFT
    )
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_from"
    )
    status_reason = models.TextField(blank=True, default="")
    is_sample = models.BooleanField(default=False, help_text="Demo record, not a real loss.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    revision = models.PositiveIntegerField(default=1, help_text="Bumped on every save.")
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # By id only: a multi-column default order makes planners walk an index of the whole
        # table to avoid a sort (seen: 1.2 s for a 4k-loss conflict beside a 1M-loss one).
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(fate__in=Fate.values), name="losses_loss_fate_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=ReviewStatus.values), name="losses_loss_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(first_seen_precision__in=DatePrecision.values),
                name="losses_loss_date_precision_valid",
            ),
            models.CheckConstraint(
                condition=Q(place_precision__in=PlacePrecision.values),
                name="losses_loss_place_precision_valid",
            ),
            models.CheckConstraint(
                condition=(Q(status=ReviewStatus.MERGED) & Q(merged_into__isnull=False))
                | (~Q(status=ReviewStatus.MERGED) & Q(merged_into__isnull=True)),
                name="losses_loss_merged_has_target",
            ),
            models.CheckConstraint(
                condition=Q(merged_into__isnull=True) | ~Q(merged_into=F("id")),
                name="losses_loss_not_merged_into_self",
            ),
            models.CheckConstraint(
                condition=Q(captured_by__isnull=True) | ~Q(captured_by=F("side")),
                name="losses_loss_captor_not_loser",
            ),
            models.CheckConstraint(
                condition=(Q(lon__isnull=True) & Q(lat__isnull=True))
                | (
                    Q(lon__isnull=False)
                    & Q(lat__isnull=False)
                    & Q(lon__gte=-180)
                    & Q(lon__lte=180)
                    & Q(lat__gte=-90)
                    & Q(lat__lte=90)
                ),
                name="losses_loss_point_valid",
            ),
        ]
        indexes = [
            # Covers tallies: they only ever count live (not deleted) rows.
            models.Index(
                fields=["conflict", "side", "status", "fate", "model", "first_seen"],
                name="losses_loss_tally",
                condition=Q(deleted_at__isnull=True),
            ),
            models.Index(fields=["status", "updated_at"], name="losses_loss_status_upd"),
            # The data version (ledger_changed_at: the latest updated_at of any loss).
            models.Index(fields=["updated_at"], name="losses_loss_updated"),
            # Covers the public counts (losses_stats: by side, model, fate, place, period) and
            # their filters; status leads so that SQLite's planner prefers it to status_upd.
            models.Index(
                fields=[
                    "status",
                    "conflict",
                    "side",
                    "model",
                    "fate",
                    "admin_unit",
                    "first_seen",
                    "deleted_at",
                ],
                name="losses_loss_public_stats",
                condition=Q(deleted_at__isnull=True),
            ),
            # Pages of a list filtered by model or category, and by place: covering, so that a
            # model with 20,000 losses is sorted from the index alone (~40 ms -> ~5 ms, SQLite).
            models.Index(
                fields=["model", "first_seen", "conflict", "status", "deleted_at"],
                name="losses_loss_public_model",
                condition=Q(status=ReviewStatus.VERIFIED, deleted_at__isnull=True),
            ),
            models.Index(
                fields=["admin_unit", "first_seen", "conflict", "status", "deleted_at"],
                name="losses_loss_public_place",
                condition=Q(status=ReviewStatus.VERIFIED, deleted_at__isnull=True),
            ),
            # A conflict's public losses by day: counts by period stream from it, no sort.
            models.Index(
                fields=["conflict", "first_seen", "side", "model", "fate", "admin_unit"],
                name="losses_loss_public_period",
                condition=Q(status=ReviewStatus.VERIFIED, deleted_at__isnull=True),
            ),
            # One side's list newest first (alone, or with a fate, model or place), read in
            # index order; created by migration 0008 (NULLS LAST on PostgreSQL, as below).
            models.Index(
                fields=["side", "-first_seen", "-id", "fate", "model", "conflict", "admin_unit"],
                name="losses_loss_public_side",
                condition=Q(status=ReviewStatus.VERIFIED, deleted_at__isnull=True),
            ),
            # The public lists' default order, newest sighting first, read in index order, with
            # the columns the lists test (0011). On PostgreSQL migrations 0005 and 0011 create
            # it with first_seen DESC NULLS LAST, the order the lists ask for; SQLite refuses
            # NULLS LAST in an index and needs none.
            models.Index(
                fields=["-first_seen", "-id", "conflict", "side", "fate", "model", "admin_unit"],
                name="losses_loss_public_seen",
                condition=Q(status=ReviewStatus.VERIFIED, deleted_at__isnull=True),
            ),
        ]
        verbose_name_plural = "losses"

    def __str__(self) -> str:
        return f"#{self.pk} {self.model} ({self.fate})"


LossVersion = history.version_model(
    Loss,
    extra={"tag_names": models.JSONField(default=list, blank=True)},
    # Covers "as of D" tallies (DESIGN.md: History). deleted_at is a column too: SQLite reads the
    # table for a column that only the partial index's condition names, and is then 10x slower.
    indexes=[
        models.Index(
            fields=[
                "conflict",
                "side",
                "status",
                "fate",
                "model",
                "first_seen",
                "valid_from",
                "valid_to",
                "deleted_at",
            ],
            name="losses_lossver_cover",
            condition=Q(deleted_at__isnull=True),
        )
    ],
)


class Depiction(models.Model):
    """A loss shown in a piece of evidence: which item, where in the capture, when in the video."""

    loss = models.ForeignKey(Loss, on_delete=models.PROTECT, related_name="depictions")
    evidence = models.ForeignKey(
        "evidence.Evidence", on_delete=models.PROTECT, related_name="depictions"
    )
    capture = models.ForeignKey(
        "evidence.Capture",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="depictions",
    )
    item_number = models.PositiveIntegerField(
        null=True, blank=True, help_text="The number the source gave this item, if any."
    )
    t_start_ms = models.PositiveIntegerField(null=True, blank=True)
    t_end_ms = models.PositiveIntegerField(null=True, blank=True)
    # {"x": 0..1, "y": 0..1, "w": 0..1, "h": 0..1} relative to the image or frame.
    region = models.JSONField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["loss_id", "evidence_id", "t_start_ms"]
        constraints = [
            models.CheckConstraint(
                condition=Q(t_start_ms__isnull=True)
                | Q(t_end_ms__isnull=True)
                | Q(t_end_ms__gte=F("t_start_ms")),
                name="losses_depiction_time_order",
            ),
            models.UniqueConstraint(
                fields=["loss", "evidence"],
                condition=Q(deleted_at__isnull=True, capture__isnull=True, t_start_ms__isnull=True),
                name="losses_depiction_once_per_evidence",
            ),
        ]

    def __str__(self) -> str:
        return f"loss #{self.loss_id} in {self.evidence}"


DepictionVersion = history.version_model(Depiction)


class Tally(models.Model):
    """A saved counting rule (see losses.tally.TallyRule) with a name and a permalink."""

    conflict = models.ForeignKey(
        "catalog.Conflict", on_delete=models.PROTECT, related_name="tallies"
    )
    slug = models.SlugField(max_length=120)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    rule = models.JSONField(help_text="Counting rule; see the methodology page.")
    is_public = models.BooleanField(default=True)
    is_sample = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["conflict_id", "name"]
        verbose_name_plural = "tallies"
        constraints = [
            models.UniqueConstraint(fields=["conflict", "slug"], name="losses_tally_slug_uniq"),
        ]

    def __str__(self) -> str:
        return self.name


TallyVersion = history.version_model(Tally)
