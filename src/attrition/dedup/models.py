"""What deduplication found: media that match, and losses that may be the same physical item.

Pairs are stored once, lower id first. A reviewer's decision on a pair of losses is kept on the
pair, so "not a duplicate" is remembered and the pair is never suggested again.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class MediaMatch(models.Model):
    """Two captures that show the same picture or footage, and how that was found."""

    class Kind(models.TextChoices):
        PDQ = "pdq", "near-identical image (PDQ)"
        FRAMES = "frames", "shared video footage (frame hashes)"
        FEATURES = "features", "same scene (local features)"

    class Band(models.TextChoices):
        AUTO = "auto", "linked"
        SUGGEST = "suggest", "for review"

    capture_a = models.ForeignKey(
        "evidence.Capture", on_delete=models.CASCADE, related_name="matches_as_a"
    )
    capture_b = models.ForeignKey(
        "evidence.Capture", on_delete=models.CASCADE, related_name="matches_as_b"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    band = models.CharField(max_length=8, choices=Band.choices)
    distance = models.SmallIntegerField(
        null=True, blank=True, help_text="PDQ bits apart (best dihedral variant, or frames median)."
    )
    trusted = models.BooleanField(default=True, help_text="False when a hash had low quality.")
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["capture_a", "capture_b", "kind"], name="dedup_media_match_uniq"
            ),
            models.CheckConstraint(
                condition=Q(capture_a__lt=F("capture_b")), name="dedup_media_match_ordered"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["pdq", "frames", "features"]),
                name="dedup_media_match_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(band__in=["auto", "suggest"]), name="dedup_media_match_band_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} match {self.capture_a_id} ~ {self.capture_b_id} ({self.band})"


class LossCandidate(models.Model):
    """Two losses that may be one physical item, with the score that says why, and the decision."""

    class Status(models.TextChoices):
        OPEN = "open", "open"
        MERGED = "merged", "merged"
        DIFFERENT_ITEMS = "different", "same evidence, different items"
        NOT_DUPLICATE = "not_dup", "not a duplicate"

    loss_a = models.ForeignKey(
        "losses.Loss", on_delete=models.CASCADE, related_name="candidates_as_a"
    )
    loss_b = models.ForeignKey(
        "losses.Loss", on_delete=models.CASCADE, related_name="candidates_as_b"
    )
    score = models.FloatField()
    verdict = models.CharField(max_length=16)
    signals = models.JSONField(default=list, help_text="Each signal with its weight and value.")
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.OPEN)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-score", "pk"]
        indexes = [models.Index(fields=["status", "-score"], name="dedup_candidate_open")]
        constraints = [
            models.UniqueConstraint(fields=["loss_a", "loss_b"], name="dedup_candidate_uniq"),
            models.CheckConstraint(
                condition=Q(loss_a__lt=F("loss_b")), name="dedup_candidate_ordered"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "merged", "different", "not_dup"]),
                name="dedup_candidate_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(status="open") | Q(decided_at__isnull=False),
                name="dedup_candidate_decided_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"losses #{self.loss_a_id} ~ #{self.loss_b_id} ({self.score:.2f}, {self.status})"
