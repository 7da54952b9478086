"""Admin report of duplicate candidates and media matches (decisions are made on the review
pages, where the pair is shown side by side)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from attrition.admin_base.links import admin_link
from attrition.admin_base.roles import REVIEWERS, ReadOnlyAdmin
from attrition.dedup.models import LossCandidate, MediaMatch


@admin.register(LossCandidate)
class LossCandidateAdmin(ReadOnlyAdmin[LossCandidate]):
    view_roles = REVIEWERS
    list_display = ("id", "score_text", "verdict", "loss_a_link", "loss_b_link", "status", "review")
    list_filter = ("status", "verdict")
    ordering = ("-score",)
    readonly_fields = ("signals",)

    @admin.display(description="score", ordering="score")
    def score_text(self, obj: LossCandidate) -> str:
        return f"{obj.score:.2f}"

    @admin.display(description="loss")
    def loss_a_link(self, obj: LossCandidate) -> str:
        return admin_link(obj.loss_a)

    @admin.display(description="loss")
    def loss_b_link(self, obj: LossCandidate) -> str:
        return admin_link(obj.loss_b)

    @admin.display(description="")
    def review(self, obj: LossCandidate) -> str:
        url = reverse("dedup:candidate", args=[obj.pk])
        return format_html('<a href="{}">side by side</a>', url)


@admin.register(MediaMatch)
class MediaMatchAdmin(ReadOnlyAdmin[MediaMatch]):
    view_roles = REVIEWERS
    list_display = (
        "id",
        "kind",
        "band",
        "distance",
        "trusted",
        "capture_a",
        "capture_b",
        "created_at",
    )
    list_filter = ("kind", "band", "trusted")
