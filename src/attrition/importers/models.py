"""Raw records from imported trackers and the ledger records each one produced."""

from __future__ import annotations

from django.db import models


class SourceRecord(models.Model):
    """One raw record of another tracker (an Oryx page link, a CSV row) as it was read."""

    source = models.CharField(max_length=32, help_text="Importer name, e.g. oryx_html.")
    external_id = models.CharField(max_length=300, help_text="Stable id within the source.")
    raw_label = models.TextField(blank=True, default="")
    raw_category = models.CharField(max_length=300, blank=True, default="")
    raw = models.JSONField(default=dict)
    loss = models.ForeignKey(
        "losses.Loss",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="source_records",
    )
    evidence = models.ForeignKey(
        "evidence.Evidence",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="source_records",
    )
    first_imported_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now=True)
    content_hash = models.CharField(max_length=64, help_text="SHA-256 of the raw record.")

    class Meta:
        ordering = ["source", "external_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="importers_source_record_uniq"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id}"
