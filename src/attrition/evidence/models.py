"""Evidence (posts and pages that show losses), their archived captures and custody records."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from attrition import history
from attrition.losses.choices import DatePrecision


class Platform(models.TextChoices):
    TELEGRAM = "telegram", "Telegram"
    X = "x", "X (Twitter)"
    YOUTUBE = "youtube", "YouTube"
    FACEBOOK = "facebook", "Facebook"
    INSTAGRAM = "instagram", "Instagram"
    TIKTOK = "tiktok", "TikTok"
    IMAGE_HOST = "image_host", "image host"
    NEWS = "news", "news site"
    WEB = "web", "other web page"
    UPLOAD = "upload", "uploaded file"


class SourceStatus(models.TextChoices):
    UNKNOWN = "unknown", "not checked yet"
    ALIVE = "alive", "online"
    GONE = "gone", "deleted by source"
    CHANGED = "changed", "changed since captured"


class Evidence(models.Model):
    """A post, page or file that shows one or more losses."""

    # NULL, not "", for uploads: the URL is unique only where there is one.
    canonical_url = models.URLField(max_length=2000, null=True, blank=True)  # noqa: DJ001
    original_url = models.URLField(max_length=2000, blank=True, default="")
    platform = models.CharField(max_length=16, choices=Platform.choices, default=Platform.WEB)
    channel = models.CharField(
        max_length=300, blank=True, default="", help_text="Channel or author."
    )
    title = models.CharField(max_length=500, blank=True, default="")
    description = models.TextField(blank=True, default="")
    posted_at = models.DateTimeField(null=True, blank=True)
    posted_at_precision = models.CharField(
        max_length=8, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    captures: models.ManyToManyField[Capture, CustodyRecord] = models.ManyToManyField(
        "Capture", through="CustodyRecord", related_name="evidence", blank=True
    )
    source_status = models.CharField(
        max_length=8,
        choices=SourceStatus.choices,
        default=SourceStatus.UNKNOWN,
        help_text="Whether the source was still online at its last check.",
    )
    source_checked_at = models.DateTimeField(null=True, blank=True)
    graphic = models.BooleanField(
        default=False, help_text="Graphic: public pages blur its media until a click."
    )
    personal_data = models.BooleanField(
        default=False,
        help_text="Shows personal data: the public sees only redacted copies of its media.",
    )
    is_sample = models.BooleanField(default=False, help_text="Demo record, not real evidence.")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "evidence"
        constraints = [
            models.UniqueConstraint(
                fields=["canonical_url"],
                condition=Q(canonical_url__isnull=False),
                name="evidence_canonical_url_uniq",
            ),
            models.CheckConstraint(
                condition=Q(platform__in=Platform.values), name="evidence_platform_valid"
            ),
            models.CheckConstraint(
                condition=Q(canonical_url__isnull=False) | Q(platform=Platform.UPLOAD),
                name="evidence_url_or_upload",
            ),
            models.CheckConstraint(
                condition=Q(source_status__in=SourceStatus.values),
                name="evidence_source_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.canonical_url or self.title or f"upload #{self.pk}"

    @property
    def url(self) -> str:
        return self.canonical_url or self.original_url


# Whether the source is still online is checked by a job, not edited: it is not versioned.
EvidenceVersion = history.version_model(Evidence, exclude=("source_status", "source_checked_at"))


class Capture(models.Model):
    """An archived artifact, addressed by its SHA-256 and never modified once stored."""

    class Kind(models.TextChoices):
        PAGE = "page", "web page"
        IMAGE = "image", "image"
        VIDEO = "video", "video"
        OTHER = "other", "other file"

    sha256 = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    storage_key = models.CharField(max_length=300, help_text="Path of the original in storage.")
    mime = models.CharField(max_length=127)
    size_bytes = models.PositiveBigIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    duration_s = models.FloatField(null=True, blank=True)
    pdq = models.CharField(max_length=64, blank=True, default="", help_text="PDQ hash, hex.")
    pdq_quality = models.PositiveSmallIntegerField(null=True, blank=True)
    exif = models.JSONField(null=True, blank=True)
    derivatives = models.JSONField(
        default=dict,
        blank=True,
        help_text="Public working copies, metadata stripped: {name: {key, mime, width, height}}.",
    )
    notes = models.JSONField(default=list, blank=True, help_text="What enrichment noticed.")
    # Set and cleared through evidence.sensitive, each change logged in the custody log.
    graphic = models.BooleanField(
        default=False, help_text="Graphic: public pages blur it until a click."
    )
    personal_data = models.BooleanField(
        default=False, help_text="Shows personal data: the public sees only a redacted copy."
    )
    is_sample = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(sha256__regex=r"^[0-9a-f]{64}$"), name="evidence_capture_sha256_hex"
            ),
            models.CheckConstraint(
                condition=Q(pdq="") | Q(pdq__regex=r"^[0-9a-f]{64}$"),
                name="evidence_capture_pdq_hex",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["page", "image", "video", "other"]),
                name="evidence_capture_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(pdq_quality__isnull=True) | Q(pdq_quality__lte=100),
                name="evidence_capture_pdq_quality_range",
            ),
            models.CheckConstraint(
                condition=Q(duration_s__isnull=True) | Q(duration_s__gte=0),
                name="evidence_capture_duration_nonneg",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.sha256[:12]}"


class FrameHash(models.Model):
    """The PDQ hash of one sampled frame of a video capture."""

    capture = models.ForeignKey(Capture, on_delete=models.CASCADE, related_name="frames")
    t_ms = models.PositiveIntegerField(help_text="Time of the frame, in milliseconds.")
    is_keyframe = models.BooleanField(default=False)
    pdq = models.CharField(max_length=64)
    pdq_quality = models.PositiveSmallIntegerField()
    storage_key = models.CharField(
        max_length=300, blank=True, default="", help_text="The frame as a derived image."
    )

    class Meta:
        ordering = ["capture_id", "t_ms"]
        constraints = [
            models.UniqueConstraint(fields=["capture", "t_ms"], name="evidence_frame_uniq"),
            models.CheckConstraint(
                condition=Q(pdq__regex=r"^[0-9a-f]{64}$"), name="evidence_frame_pdq_hex"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.capture} at {self.t_ms} ms"


class CustodyRecord(models.Model):
    """Who collected a capture for a piece of evidence, when, from where, and with what tools."""

    class Method(models.TextChoices):
        HTTP = "http", "HTTP fetch"
        YTDLP = "ytdlp", "yt-dlp"
        BROWSER = "browser", "browser snapshot"
        UPLOAD = "upload", "upload"
        IMPORT = "import", "import"

    evidence = models.ForeignKey(Evidence, on_delete=models.PROTECT, related_name="custody")
    capture = models.ForeignKey(Capture, on_delete=models.PROTECT, related_name="custody")
    method = models.CharField(max_length=16, choices=Method.choices)
    collected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    collected_at = models.DateTimeField(help_text="UTC time the bytes were received.")
    source_url = models.URLField(max_length=2000, blank=True, default="")
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    http_headers = models.JSONField(default=dict, blank=True)
    tool_versions = models.JSONField(default=dict, blank=True)
    job = models.ForeignKey(
        "capture.CaptureJob",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="custody",
        help_text="The capture job that collected it.",
    )
    note = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["collected_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["job", "capture"],
                condition=Q(job__isnull=False),
                name="evidence_custody_job_capture_uniq",
            ),
            models.UniqueConstraint(
                fields=["evidence", "capture", "collected_at"], name="evidence_custody_uniq"
            ),
            models.CheckConstraint(
                condition=Q(http_status__isnull=True)
                | (Q(http_status__gte=100) & Q(http_status__lte=599)),
                name="evidence_custody_http_status_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.capture} for {self.evidence} at {self.collected_at:%Y-%m-%d %H:%M}Z"


class LivenessCheck(models.Model):
    """One check of whether the source of a piece of evidence is still online and unchanged."""

    class Result(models.TextChoices):
        ALIVE = "alive", "alive"
        GONE = "gone", "gone"
        CHANGED = "changed", "changed"
        ERROR = "error", "could not check"

    evidence = models.ForeignKey(Evidence, on_delete=models.CASCADE, related_name="liveness")
    checked_at = models.DateTimeField()
    result = models.CharField(max_length=8, choices=Result.choices)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    final_url = models.URLField(max_length=2000, blank=True, default="")
    sha256 = models.CharField(
        max_length=64, blank=True, default="", help_text="Of the body, when it was read."
    )
    detail = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["evidence_id", "-checked_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(result__in=["alive", "gone", "changed", "error"]),
                name="evidence_liveness_result_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.result} at {self.checked_at:%Y-%m-%d %H:%M}Z"


class CustodyEvent(models.Model):
    """One entry of a capture's append-only custody log: captured, viewed, exported, flagged..."""

    class Action(models.TextChoices):
        CAPTURED = "captured", "captured"
        VIEWED = "viewed", "viewed"
        EXPORTED = "exported", "exported"
        BUNDLED = "bundled", "bundled"
        RECHECKED = "rechecked", "source re-checked"
        FLAGGED = "flagged", "flags changed"
        REDACTED = "redacted", "redacted copy made"

    capture = models.ForeignKey(Capture, on_delete=models.PROTECT, related_name="custody_log")
    evidence = models.ForeignKey(
        Evidence, on_delete=models.PROTECT, null=True, blank=True, related_name="custody_log"
    )
    action = models.CharField(max_length=12, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField()
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["capture_id", "at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    action__in=[
                        "captured",
                        "viewed",
                        "exported",
                        "bundled",
                        "rechecked",
                        "flagged",
                        "redacted",
                    ]
                ),
                name="evidence_custody_event_action_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.capture} at {self.at:%Y-%m-%d %H:%M:%S}Z"
