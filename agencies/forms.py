"""Forms of the agency manager's page."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from .endpoints import check_endpoint_url


class EndpointForm(forms.Form):
    """The endpoint and, when its secret is replaced, how long the previous one keeps signing."""

    endpoint_url = forms.URLField(label=_("Liaison endpoint (HTTPS)"), max_length=500, assume_scheme="https")
    overlap_hours = forms.IntegerField(
        label=_("Previous secret stays valid for (hours)"),
        min_value=0,
        max_value=168,
        required=False,
        help_text=_("Pushes are signed with both secrets meanwhile; 0 stops the previous one at once."),
    )

    def clean_endpoint_url(self):
        url = self.cleaned_data["endpoint_url"]
        check_endpoint_url(url)
        return url

    def overlap(self) -> timedelta | None:
        hours = self.cleaned_data.get("overlap_hours")
        return None if hours is None else timedelta(hours=hours)


class LiaisonForm(forms.Form):
    username = forms.CharField(label=_("User name"), max_length=150)
    first_name = forms.CharField(label=_("Name"), max_length=150, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    password = forms.CharField(label=_("Initial password"), widget=forms.PasswordInput, min_length=8)

    def clean_password(self):
        password = self.cleaned_data["password"]
        validate_password(password)
        return password
