"""Claimed figures: numbers someone asserted, shown beside documented counts, never added in."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from attrition import history
from attrition.losses.choices import DatePrecision, ReviewStatus


class Claim(models.Model):
    """A figure someone asserted ("analysts estimate 700 vehicles"), with scope and source."""

    class Kind(models.TextChoices):
        EXACT = "exact", "exactly"
        AT_LEAST = "at_least", "at least"
        ABOUT = "about", "about"
        RANGE = "range", "between"

    conflict = models.ForeignKey(
        "catalog.Conflict", on_delete=models.PROTECT, related_name="claims"
    )
    claimant = models.CharField(max_length=300, help_text="Who asserted it.")
    claimed_on = models.DateField()
    claimed_on_precision = models.CharField(
        max_length=8, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    scope = models.CharField(max_length=500, help_text='In words, e.g. "military vehicles".')
    # The same scope as a tally rule (losses.tally.TallyRule), when it can be stated as one.
    scope_rule = models.JSONField(null=True, blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.EXACT)
    number = models.PositiveIntegerField()
    number_high = models.PositiveIntegerField(null=True, blank=True)
    source_url = models.URLField(max_length=2000, blank=True, default="")
    evidence = models.ForeignKey(
        "evidence.Evidence", on_delete=models.PROTECT, null=True, blank=True, related_name="claims"
    )
    quote = models.TextField(blank=True, default="")
    status = models.CharField(
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
        ordering = ["conflict_id", "-claimed_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["exact", "at_least", "about", "range"]),
                name="claims_claim_kind_valid",
            ),
            models.CheckConstraint(
                condition=(Q(kind="range") & Q(number_high__gte=F("number")))
                | (~Q(kind="range") & Q(number_high__isnull=True)),
                name="claims_claim_range_bounds",
            ),
            models.CheckConstraint(
                condition=Q(status__in=ReviewStatus.values), name="claims_claim_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.claimant}: {self.get_kind_display()} {self.number} {self.scope}"


ClaimVersion = history.version_model(Claim)
