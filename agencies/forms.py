"""Forms of the agency manager's page."""

from __future__ import annotations

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _


class EndpointForm(forms.Form):
    endpoint_url = forms.URLField(label=_("Liaison endpoint (HTTPS)"), max_length=500, assume_scheme="https")


class LiaisonForm(forms.Form):
    username = forms.CharField(label=_("User name"), max_length=150)
    first_name = forms.CharField(label=_("Name"), max_length=150, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    password = forms.CharField(label=_("Initial password"), widget=forms.PasswordInput, min_length=8)

    def clean_password(self):
        password = self.cleaned_data["password"]
        validate_password(password)
        return password
