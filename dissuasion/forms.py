"""The pages' forms: a clue typed by the centre, a CSV of clues, a hand-over, a contact."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.models import District

from .choices import ContactMethod, Level, Outcome


class ClueForm(forms.Form):
    """One clue, as the API takes it (``dissuasion.intake.check_clue`` checks it)."""

    source_reference = forms.CharField(label=_("Source reference"), max_length=64)
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=24, required=False)
    id_number = forms.CharField(label=_("Resident ID number"), max_length=18, required=False)
    district = forms.ChoiceField(label=_("District"))
    address = forms.CharField(label=_("Address"), max_length=255, required=False)
    level = forms.ChoiceField(label=_("Level"), choices=Level.choices)
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)
    identifier_kind = forms.ChoiceField(
        label=_("Identifier kind"),
        required=False,
        choices=[
            ("", "—"),
            ("bank_account", _("Bank account")),
            ("phone", _("Phone number")),
            ("url", _("URL / domain")),
        ],
    )
    identifier_value = forms.CharField(label=_("Identifier"), max_length=255, required=False)
    amount = forms.CharField(label=_("Amount at risk"), max_length=20, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["district"].choices = [
            (d.code, d.name) for d in District.objects.filter(is_active=True).order_by("sort_order", "code")
        ]

    def clue(self) -> dict:
        data = self.cleaned_data
        body = {k: data.get(k) or None for k in ("source_reference", "name", "phone", "id_number", "address", "reason")}
        body.update(district=data["district"], level=data["level"], amount=data.get("amount") or None)
        if data.get("identifier_kind") and data.get("identifier_value"):
            body["identifier"] = {"kind": data["identifier_kind"], "value": data["identifier_value"]}
        return body


class ClueUploadForm(forms.Form):
    file = forms.FileField(label=_("CSV file"))
    dry_run = forms.BooleanField(label=_("Dry run: check only, store nothing"), required=False, initial=True)


class HandOverForm(forms.Form):
    station = forms.ModelChoiceField(label=_("Police station"), queryset=None, to_field_name="code")

    def __init__(self, *args, stations=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["station"].queryset = stations


class ContactForm(forms.Form):
    contacted_at = forms.DateTimeField(
        label=_("Contacted at"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    method = forms.ChoiceField(label=_("How"), choices=ContactMethod.choices)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=[c for c in Outcome.choices if c[0] != Outcome.PENDING])
    amount_lost = forms.DecimalField(
        label=_("Amount already lost"), required=False, min_value=0, max_digits=14, decimal_places=2
    )

    def clean(self):
        data = super().clean()
        if data.get("outcome") == Outcome.ALREADY_LOST and not data.get("amount_lost"):
            self.add_error("amount_lost", _("Say how much the person has already lost."))
        return data
