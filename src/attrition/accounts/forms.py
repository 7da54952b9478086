"""Forms of the account pages."""

from __future__ import annotations

from django import forms

from attrition.accounts.models import Scope
from attrition.accounts.tokens import MAX_DAYS, MAX_NAME


class TokenForm(forms.Form):
    name = forms.CharField(max_length=MAX_NAME, help_text="What the token is for.")
    scope = forms.ChoiceField(
        choices=Scope.choices,
        initial=Scope.READ,
        widget=forms.RadioSelect,
        help_text="Read tokens may only read; write tokens may also submit and change records.",
    )
    expires_in_days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_DAYS,
        label="Expires after (days)",
        help_text="Leave empty for a token that lasts until you revoke it.",
    )
