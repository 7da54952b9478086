"""Admin for claimed figures: versioned edits, review actions, soft delete."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin

from attrition.admin_base.actions import ReviewAdmin
from attrition.admin_base.filters import DeletedFilter
from attrition.admin_base.forms import EditorForm
from attrition.admin_base.history import history_register
from attrition.admin_base.roles import ALL_ROLES
from attrition.claims.models import Claim
from attrition.errors import InvalidInput
from attrition.losses.tally import TallyRule


class ClaimForm(EditorForm):
    source_url = forms.URLField(
        label="Source URL", required=False, max_length=2000, assume_scheme="https"
    )

    class Meta:
        model = Claim
        fields = "__all__"

    def clean_scope_rule(self) -> Any:
        rule = self.cleaned_data.get("scope_rule")
        if rule is None:
            return None
        try:
            TallyRule.parse(rule)
        except InvalidInput as exc:
            raise forms.ValidationError(exc.message) from None
        return rule


@admin.register(Claim)
class ClaimAdmin(ReviewAdmin[Claim]):
    form = ClaimForm
    edit_roles = ALL_ROLES
    list_display = ("claimant", "claimed_on", "figure", "scope", "conflict", "status", "is_deleted")
    list_filter = (DeletedFilter, "status", "kind", "conflict", "is_sample")
    list_select_related = ("conflict",)
    search_fields = ("claimant", "scope", "quote", "source_url")
    autocomplete_fields = ("evidence",)
    date_hierarchy = "claimed_on"
    readonly_fields = (
        "is_sample",
        "created_by",
        "created_at",
        "updated_at",
        "deleted_at",
        "history_table",
    )

    @admin.display(description="figure", ordering="number")
    def figure(self, obj: Claim) -> str:
        if obj.kind == Claim.Kind.RANGE:
            return f"{obj.number} to {obj.number_high}"
        return f"{obj.get_kind_display()} {obj.number}"


history_register(Claim)
