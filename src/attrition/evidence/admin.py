"""Admin for evidence (versioned, soft-deleted) and its captures and custody (read-only)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.defaultfilters import filesizeformat, truncatechars
from django.urls import URLPattern, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from attrition.admin_base.actions import SoftDeleteAdmin
from attrition.admin_base.filters import DeletedFilter
from attrition.admin_base.forms import ServiceForm
from attrition.admin_base.history import history_register
from attrition.admin_base.links import admin_link
from attrition.admin_base.roles import ALL_ROLES, ReadOnlyAdmin
from attrition.admin_base.versioned import VIA, ServiceAdmin
from attrition.errors import InvalidInput
from attrition.evidence.admin_sensitive import (
    FLAG_ACTIONS,
    FlagActionsAdmin,
    media_html,
    redact_urls,
)
from attrition.evidence.custody import custody_log
from attrition.evidence.models import (
    Capture,
    CustodyEvent,
    CustodyRecord,
    Evidence,
    FrameHash,
    LivenessCheck,
    Platform,
)
from attrition.evidence.sensitive import capture_flag, evidence_flag
from attrition.evidence.services import evidence_create, url_canonical

ADD_FIELDS = ("url", "platform", "channel", "title", "description", "posted_at")
CHANGE_FIELDS = (
    "canonical_url",
    "original_url",
    "platform",
    "channel",
    "title",
    "description",
    ("posted_at", "posted_at_precision"),
    ("graphic", "personal_data"),
    "change_reason",
    ("added_by", "created_at"),
    "updated_at",
    "deleted_at",
    "is_sample",
    "custody_table",
    "liveness_table",
    "history_table",
)


class EvidenceForm(ServiceForm):
    """Adds evidence through evidence_create (one record per canonical URL); edits are versioned."""

    url = forms.CharField(
        label="URL",
        max_length=2000,
        required=False,
        widget=forms.URLInput(attrs={"size": 90}),
        help_text="The post or page; it is kept once, under its canonical form.",
    )

    class Meta:
        model = Evidence
        # The admin sets the fields it shows; URLs are read-only once evidence exists.
        fields = ["platform", "channel", "title", "description", "posted_at"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        platform = self.fields.get("platform")
        if self.instance.pk is None and isinstance(platform, forms.ChoiceField):
            platform.required = False
            platform.choices = [("", "(from the URL)"), *Platform.choices]
            self.initial["platform"] = ""
            self.fields["url"].required = True

    def clean_url(self) -> str:
        url = str(self.cleaned_data.get("url") or "")
        if self.instance.pk is not None:
            return url
        try:
            canonical = url_canonical(url)
        except InvalidInput as exc:
            raise forms.ValidationError(exc.message) from None
        existing = Evidence.objects.filter(canonical_url=canonical).first()
        if existing is not None:
            raise forms.ValidationError(f"This URL is already evidence #{existing.pk}: {canonical}")
        return url

    def commit(self) -> Evidence | None:
        if self.instance.pk is not None:
            return None
        data = self.cleaned_data
        return evidence_create(
            url=data["url"],
            by=self.user,
            platform=data.get("platform") or None,
            channel=data.get("channel", ""),
            title=data.get("title", ""),
            description=data.get("description", ""),
            posted_at=data.get("posted_at"),
            via=VIA,
        )


@admin.register(Evidence)
class EvidenceAdmin(FlagActionsAdmin[Evidence], SoftDeleteAdmin[Evidence], ServiceAdmin[Evidence]):
    form = EvidenceForm
    edit_roles = ALL_ROLES
    actions: Any = [*SoftDeleteAdmin.actions, *FLAG_ACTIONS]
    list_display = (
        "id",
        "short_url",
        "platform",
        "channel",
        "title",
        "posted_at",
        "added_by",
        "graphic",
        "personal_data",
        "is_deleted",
    )
    list_display_links = ("id", "short_url")
    list_filter = (
        DeletedFilter,
        "platform",
        "source_status",
        "graphic",
        "personal_data",
        "is_sample",
        "posted_at_precision",
    )
    list_select_related = ("added_by",)
    search_fields = ("id__exact", "canonical_url", "original_url", "title", "channel")
    date_hierarchy = "created_at"
    readonly_fields = (
        "canonical_url",
        "original_url",
        "added_by",
        "created_at",
        "updated_at",
        "deleted_at",
        "is_sample",
        "graphic",
        "personal_data",
        "custody_table",
        "liveness_table",
        "history_table",
    )

    def flag_one(self, request: HttpRequest, obj: Evidence, reason: str, **flags: bool) -> None:
        evidence_flag(evidence=obj, by=request.user, reason=reason, via=VIA, **flags)

    def get_fields(self, request: HttpRequest, obj: Evidence | None = None) -> Any:
        return ADD_FIELDS if obj is None else CHANGE_FIELDS

    @admin.display(description="URL", ordering="canonical_url")
    def short_url(self, obj: Evidence) -> str:
        return truncatechars(obj.url or f"upload #{obj.pk}", 70)

    @admin.display(description="captures (custody)")
    def custody_table(self, obj: Evidence) -> str:
        records = obj.custody.select_related("capture", "collected_by")
        return (
            format_html_join(
                SafeString("<br>"),
                "{} — {} by {} at {}, HTTP {}",
                (
                    (
                        admin_link(r.capture),
                        r.get_method_display(),
                        r.collected_by or "the pipeline",
                        r.collected_at,
                        r.http_status or "—",
                    )
                    for r in records
                ),
            )
            or "—"
        )

    @admin.display(description="liveness checks (latest 10)")
    def liveness_table(self, obj: Evidence) -> str:
        checks = obj.liveness.order_by("-checked_at")[:10]
        return (
            format_html_join(
                SafeString("<br>"),
                "{}: {} {}",
                ((c.checked_at, c.get_result_display(), c.detail) for c in checks),
            )
            or "—"
        )


@admin.register(Capture)
class CaptureAdmin(FlagActionsAdmin[Capture], ReadOnlyAdmin[Capture]):
    actions: Any = FLAG_ACTIONS
    list_display = (
        "short_sha",
        "kind",
        "mime",
        "size",
        "dimensions",
        "duration_s",
        "pdq_quality",
        "graphic",
        "personal_data",
        "is_sample",
        "created_at",
    )
    list_filter = ("kind", "graphic", "personal_data", "is_sample")
    search_fields = ("^sha256", "^pdq", "mime", "storage_key")
    date_hierarchy = "created_at"
    readonly_fields = ("custody_table", "original_link", "derived_images", "custody_log_table")

    def get_urls(self) -> list[URLPattern]:
        return [*redact_urls(self), *super().get_urls()]

    def flag_one(self, request: HttpRequest, obj: Capture, reason: str, **flags: bool) -> None:
        capture_flag(capture=obj, by=request.user, reason=reason, via=VIA, **flags)

    @admin.display(description="derived images and redactions")
    def derived_images(self, obj: Capture) -> str:
        return media_html(obj)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """Show a capture, recording in its custody log who looked at it."""
        capture = Capture.objects.filter(pk=object_id).first() if object_id.isdigit() else None
        if capture is not None and request.method == "GET":
            custody_log(capture=capture, action=CustodyEvent.Action.VIEWED, by=request.user)
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="original")
    def original_link(self, obj: Capture) -> str:
        url = reverse("evidence:original", args=[obj.sha256])
        return format_html('<a href="{}">download as captured</a> (recorded in the log)', url)

    @admin.display(description="custody log")
    def custody_log_table(self, obj: Capture) -> str:
        events = obj.custody_log.select_related("actor").order_by("at", "pk")
        return (
            format_html_join(
                SafeString("<br>"),
                "{} {} by {}",
                (
                    (e.at.strftime("%Y-%m-%d %H:%M:%SZ"), e.action, e.actor or "the system")
                    for e in events
                ),
            )
            or "—"
        )

    @admin.display(description="SHA-256", ordering="sha256")
    def short_sha(self, obj: Capture) -> str:
        return obj.sha256[:16]

    @admin.display(description="size", ordering="size_bytes")
    def size(self, obj: Capture) -> str:
        return filesizeformat(obj.size_bytes)

    @admin.display(description="pixels")
    def dimensions(self, obj: Capture) -> str:
        return f"{obj.width}x{obj.height}" if obj.width and obj.height else "—"

    @admin.display(description="collected for")
    def custody_table(self, obj: Capture) -> str:
        records = obj.custody.select_related("evidence")
        return (
            format_html_join(
                SafeString("<br>"),
                "{} at {}",
                ((admin_link(r.evidence), r.collected_at) for r in records),
            )
            or "—"
        )


@admin.register(FrameHash)
class FrameHashAdmin(ReadOnlyAdmin[FrameHash]):
    list_display = ("capture", "t_ms", "is_keyframe", "pdq_quality")
    list_filter = ("is_keyframe",)
    list_select_related = ("capture",)
    search_fields = ("^capture__sha256", "^pdq")


@admin.register(CustodyRecord)
class CustodyRecordAdmin(ReadOnlyAdmin[CustodyRecord]):
    list_display = (
        "id",
        "capture",
        "evidence",
        "method",
        "collected_at",
        "collected_by",
        "http_status",
    )
    list_filter = ("method",)
    list_select_related = ("capture", "evidence", "collected_by")
    search_fields = ("^capture__sha256", "evidence__canonical_url", "source_url")
    date_hierarchy = "collected_at"


@admin.register(LivenessCheck)
class LivenessCheckAdmin(ReadOnlyAdmin[LivenessCheck]):
    list_display = ("evidence", "checked_at", "result", "http_status")
    list_filter = ("result",)
    list_select_related = ("evidence",)
    search_fields = ("evidence__canonical_url",)
    date_hierarchy = "checked_at"


history_register(Evidence)
