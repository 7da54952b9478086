"""Raw records from imported trackers and the ledger records each one produced."""

from __future__ import annotations

from django.conf import settings
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
    removed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When a sync found the record gone from its source (kept, never deleted).",
    )

    class Meta:
        ordering = ["source", "external_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="importers_source_record_uniq"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id}"


class SyncState(models.Model):
    """Where the sync of one remote source stands: the last day fetched, the last full pass."""

    source = models.CharField(max_length=32, help_text="Importer name, e.g. warspotting.")
    key = models.CharField(
        max_length=200, blank=True, default="", help_text="Which feed of the source, e.g. a side."
    )
    last_date = models.DateField(null=True, blank=True, help_text="Last day synced in full.")
    last_sync_at = models.DateTimeField(null=True, blank=True)
    last_full_at = models.DateTimeField(null=True, blank=True)
    state = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "key"], name="importers_sync_state_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.key}" if self.key else self.source


class ColumnMapping(models.Model):
    """A saved mapping from a CSV file's columns to the ledger's fields, reusable by name."""

    name = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True, default="")
    mapping = models.JSONField(default=dict, help_text="Ledger field -> column and options.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ImportRun(models.Model):
    """One import started from the admin or as a job: its input, its dry run, its outcome."""

    class State(models.TextChoices):
        PLANNED = "planned", "planned (dry run done)"
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        DONE = "done", "done"
        FAILED = "failed", "failed"
        CANCELLED = "cancelled", "cancelled"

    kind = models.CharField(max_length=32, help_text="Importer name.")
    source_name = models.CharField(max_length=300)
    upload = models.FileField(upload_to="imports/%Y/%m/", blank=True)
    sha256 = models.CharField(max_length=64, blank=True, default="")
    options = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PLANNED)
    dry_run_report = models.JSONField(default=dict, blank=True)
    report = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.source_name} ({self.state})"
