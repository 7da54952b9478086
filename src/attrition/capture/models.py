"""Capture jobs: one archiving of a URL or an upload, its state, and each step's recorded outcome.

The database, not the queue, is the record of what is left to do: a queue message only nudges a
worker, and a job whose worker died is taken up again once its lease runs out.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class CaptureJob(models.Model):
    """Archiving one URL or one uploaded file as captures of a piece of evidence."""

    class State(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        DONE = "done", "done"
        FAILED = "failed", "failed"

    evidence = models.ForeignKey(
        "evidence.Evidence", on_delete=models.PROTECT, related_name="capture_jobs"
    )
    url = models.URLField(max_length=2000, blank=True, default="", help_text="URL to fetch.")
    upload_sha256 = models.CharField(
        max_length=64, blank=True, default="", help_text="Stored original of an upload."
    )
    upload_name = models.CharField(max_length=255, blank=True, default="")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    via = models.CharField(max_length=16, blank=True, default="", help_text="web, api, cli, bulk.")
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(help_text="Not to be run before this time.")
    lease_until = models.DateTimeField(
        null=True, blank=True, help_text="A running job whose lease ran out is taken up again."
    )
    worker = models.CharField(
        max_length=200, blank=True, default="", help_text="host:pid of the worker running it."
    )
    steps = models.JSONField(default=list, blank=True, help_text="Each step's outcome, in order.")
    error_code = models.CharField(max_length=32, blank=True, default="")
    error_message = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="capture_job_due")]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["queued", "running", "done", "failed"]),
                name="capture_job_state_valid",
            ),
            models.CheckConstraint(
                condition=~Q(url="") | Q(upload_sha256__regex=r"^[0-9a-f]{64}$"),
                name="capture_job_url_or_upload",
            ),
            models.CheckConstraint(
                condition=Q(state="running", lease_until__isnull=False) | ~Q(state="running"),
                name="capture_job_running_has_lease",
            ),
        ]

    def __str__(self) -> str:
        return f"capture job #{self.pk} ({self.state}) {self.url or self.upload_name}"

    @property
    def is_finished(self) -> bool:
        return self.state in {self.State.DONE, self.State.FAILED}
