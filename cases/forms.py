"""Forms of the case pages: intake with its transfer rows, results, filters.

Validation reuses ``cases.validators`` so the messages (in Chinese by default)
are the same as the API's; choices come from ``visible_to``.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.forms import formset_factory
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.choices import FINANCIAL_SECTORS
from agencies.models import Agency

from .choices import CaseStatus, ResultStatus, WarningOutcome
from .models import Channel, District, FraudType
from .validators import validate_amount, validate_bank_account, validate_mobile, validate_resident_id

DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
MONEY_INPUT = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})
ACCOUNT_INPUT = forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "class": "mono"})


def banks_for(user):
    """Banks and payment institutions, as the user may see them."""
    return Agency.objects.visible_to(user).filter(sector__in=FINANCIAL_SECTORS, is_active=True).order_by("code")


class BankChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        from django.utils.translation import get_language

        name = obj.name_en if (get_language() or "").startswith("en") and obj.name_en else obj.name
        return f"{obj.code} {name}"


class RefChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        from django.utils.translation import get_language

        return obj.name_en if (get_language() or "").startswith("en") and obj.name_en else obj.name


def _money_field(label, required=True):
    return forms.DecimalField(
        label=label,
        max_digits=14,
        decimal_places=2,
        required=required,
        widget=MONEY_INPUT,
        validators=[validate_amount],
    )


class CaseIntakeForm(forms.Form):
    """Victim and case facts (golden-hour step 1)."""

    victim_name = forms.CharField(label=_("Victim's name"), max_length=100)
    victim_id_number = forms.CharField(
        label=_("Resident ID number"), max_length=18, required=False, validators=[validate_resident_id]
    )
    victim_phone = forms.CharField(
        label=_("Victim's phone"), max_length=20, required=False, validators=[validate_mobile]
    )
    fraud_type = RefChoiceField(label=_("Fraud type"), queryset=FraudType.objects.none())
    channel = RefChoiceField(label=_("Reporting channel"), queryset=Channel.objects.none())
    district = RefChoiceField(label=_("District"), queryset=District.objects.none())
    reported_at = forms.DateTimeField(label=_("Reported at"), widget=DATETIME_INPUT)
    occurred_at = forms.DateTimeField(label=_("Occurred at"), widget=DATETIME_INPUT, required=False)
    loss_amount = _money_field(_("Amount lost (yuan)"), required=False)
    summary = forms.CharField(label=_("Narrative"), widget=forms.Textarea(attrs={"rows": 4}), required=False)
    suspect_phone = forms.CharField(label=_("Suspect's phone"), max_length=20, required=False)
    suspect_url = forms.CharField(label=_("Suspect's URL or domain"), max_length=255, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Reference data is public to every signed-in user: active items only.
        self.fields["fraud_type"].queryset = FraudType.objects.filter(is_active=True)
        self.fields["channel"].queryset = Channel.objects.filter(is_active=True)
        self.fields["district"].queryset = District.objects.filter(is_active=True)
        if not self.is_bound:
            self.initial.setdefault("reported_at", timezone.localtime().strftime("%Y-%m-%dT%H:%M"))

    def clean_victim_id_number(self):
        return self.cleaned_data["victim_id_number"].strip().upper()

    def clean_suspect_phone(self):
        from .validators import validate_identifier

        value = self.cleaned_data["suspect_phone"].strip()
        if value:
            validate_identifier("phone", value)
        return value

    def clean_suspect_url(self):
        from .validators import validate_identifier

        value = self.cleaned_data["suspect_url"].strip()
        if value:
            validate_identifier("url", value)
        return value

    def clean_reported_at(self):
        value = self.cleaned_data["reported_at"]
        if value and value > timezone.now() + timezone.timedelta(minutes=5):
            raise forms.ValidationError(_("The report time cannot be in the future."))
        return value


class TransferForm(forms.Form):
    """One transfer the victim made: a row of the repeating group."""

    from_account = forms.CharField(
        label=_("From account"), max_length=40, widget=ACCOUNT_INPUT, validators=[validate_bank_account]
    )
    from_bank = BankChoiceField(label=_("From bank"), queryset=Agency.objects.none(), required=False)
    to_account = forms.CharField(
        label=_("To account"), max_length=40, widget=ACCOUNT_INPUT, validators=[validate_bank_account]
    )
    to_bank = BankChoiceField(label=_("Receiving bank"), queryset=Agency.objects.none())
    amount = _money_field(_("Amount (yuan)"))
    at = forms.DateTimeField(label=_("Time of transfer"), widget=DATETIME_INPUT)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        banks = banks_for(user)
        self.fields["from_bank"].queryset = banks
        self.fields["to_bank"].queryset = banks


class BaseTransferFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        if not self.live_forms():
            raise forms.ValidationError(_("Record at least one transfer."))

    def live_forms(self):
        return [f for f in self.forms if f.has_changed() and not self._should_delete_form(f)]


TransferFormSet = formset_factory(
    TransferForm, formset=BaseTransferFormSet, extra=1, can_delete=True, min_num=0, max_num=50, validate_max=True
)


class ResultForm(forms.Form):
    """A liaison's result: the outcome, what the task type's page asks for, remarks.

    ``task_type`` (a ``cases.task_types.TaskTypeSpec``) keeps the inputs its
    ``page`` names; onward transfers are rows of ``OnwardFormSet``.
    """

    TYPE_FIELDS = ("amount_held", "balance", "outcome")

    status = forms.ChoiceField(label=_("Outcome"), choices=ResultStatus.choices, initial=ResultStatus.COMPLETED)
    amount_held = forms.DecimalField(
        label=_("Amount held (yuan)"),
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0"),
        required=False,
        widget=MONEY_INPUT,
    )
    balance = forms.DecimalField(
        label=_("Balance (yuan)"),
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0"),
        required=False,
        widget=MONEY_INPUT,
    )
    outcome = forms.ChoiceField(
        label=_("Warning outcome"), choices=[("", "—"), *WarningOutcome.choices], required=False
    )
    reason = forms.CharField(
        label=_("Remarks or reason for failure"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def __init__(self, *args, task_type, **kwargs):
        super().__init__(*args, **kwargs)
        asked = set(task_type.page.fields)
        for name in self.TYPE_FIELDS:
            if name not in asked:
                del self.fields[name]

    def asked(self):
        """The type's own inputs, bound, in the form's order (the template lays them out)."""
        return [self[name] for name in self.TYPE_FIELDS if name in self.fields]


class OnwardTransferForm(forms.Form):
    account_number = forms.CharField(
        label=_("Onward account"), max_length=40, widget=ACCOUNT_INPUT, validators=[validate_bank_account]
    )
    bank = BankChoiceField(label=_("Bank"), queryset=Agency.objects.none(), required=False)
    holder_name = forms.CharField(label=_("Holder"), max_length=100, required=False)
    amount = _money_field(_("Amount (yuan)"))
    at = forms.DateTimeField(label=_("Time of transfer"), widget=DATETIME_INPUT)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bank"].queryset = banks_for(user)


OnwardFormSet = formset_factory(OnwardTransferForm, extra=0, can_delete=True, max_num=200, validate_max=True)


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Reason for rejecting"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class CaseFilterForm(forms.Form):
    """The case list's filters; every one maps to an indexed column."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=255,
        help_text=_("Reference, victim's name, account, phone or URL"),
    )
    status = forms.ChoiceField(label=_("Status"), choices=[("", _("Any")), *CaseStatus.choices], required=False)
    district = RefChoiceField(
        label=_("District"), queryset=District.objects.none(), required=False, empty_label=_("Any")
    )
    fraud_type = RefChoiceField(
        label=_("Fraud type"), queryset=FraudType.objects.none(), required=False, empty_label=_("Any")
    )
    agency = forms.ModelChoiceField(
        label=_("Agency"), queryset=Agency.objects.none(), required=False, empty_label=_("Any"), to_field_name="code"
    )
    date_from = forms.DateField(
        label=_("Reported from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(label=_("Reported to"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("-reported_at", _("Newest first")),
            ("reported_at", _("Oldest first")),
            ("-loss_amount", _("Largest loss first")),
        ],
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["district"].queryset = District.objects.filter(is_active=True)
        self.fields["fraud_type"].queryset = FraudType.objects.filter(is_active=True)
        self.fields["agency"].queryset = Agency.objects.visible_to(user).order_by("code")


class FileCaseForm(forms.Form):
    filing_number = forms.CharField(label=_("Filing number"), max_length=64)
