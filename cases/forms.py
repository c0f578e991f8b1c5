"""Forms of the case pages: intake with its transfer rows, results, filters.

Validation reuses ``cases.validators`` so the messages (in Chinese by default)
are the same as the API's; choices come from ``visible_to``.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.forms import formset_factory
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.choices import FINANCIAL_SECTORS
from agencies.models import Agency
from coordination.validators import EARLIEST, LATEST, parse_amount

from .choices import CaseOutcome, CaseStatus, IdentifierKind, ResultStatus, WarningOutcome
from .models import Case, Channel, District, FraudType
from .search import validate_query
from .validators import (
    account_warning,
    check_case_times,
    normalise_account,
    validate_bank_account,
    validate_resident_id,
    validate_victim_phone,
)

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


class AmountField(forms.DecimalField):
    """Yuan typed by a person: surrounding spaces dropped, then the API's strict check (``parse_amount``).

    Django's ``DecimalField`` would take Arabic-Indic or full-width digits and
    exponents; these are refused with the same message as in the API. Its own
    checks (digits, decimal places, bounds) are dropped: ``parse_amount`` makes
    them all, with messages written for people ("金额最多两位小数。"), where
    Django's read "确认小数不超过 2 位." or "确保该值大于或等于0。".
    """

    default_error_messages = {
        "invalid": _("Enter an amount such as 52000.00."),
        "required": _("Enter the amount."),
    }

    def __init__(self, *, allow_zero=False, **kwargs):
        self.allow_zero = allow_zero
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("widget", MONEY_INPUT)
        super().__init__(**kwargs)
        self.validators = []

    def validate(self, value):
        # DecimalField's would repeat parse_amount's checks with Django's wording.
        forms.Field.validate(self, value)

    def widget_attrs(self, widget):
        # No min/max/step: a browser's own bubble would speak before ours.
        return forms.Field.widget_attrs(self, widget)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return parse_amount(str(value).strip(), allow_zero=self.allow_zero)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages, code="invalid") from None


def _money_field(label, required=True):
    return AmountField(label=label, required=required)


class LocalTimeField(forms.DateTimeField):
    """A local time typed in the page (the browser's datetime-local), within 1990-2099."""

    def to_python(self, value):
        result = super().to_python(value)
        if result is not None and not (EARLIEST.year <= result.year < LATEST.year):
            raise forms.ValidationError(_("Enter a time between 1990 and 2099."), code="invalid")
        return result


class CaseIntakeForm(forms.Form):
    """Victim and case facts (golden-hour step 1)."""

    victim_name = forms.CharField(label=_("Victim's name"), max_length=100)
    victim_id_number = forms.CharField(
        label=_("Resident ID number"), max_length=18, required=False, validators=[validate_resident_id]
    )
    victim_phone = forms.CharField(
        label=_("Victim's phone"), max_length=20, required=False, validators=[validate_victim_phone]
    )
    fraud_type = RefChoiceField(label=_("Fraud type"), queryset=FraudType.objects.none())
    channel = RefChoiceField(label=_("Reporting channel"), queryset=Channel.objects.none())
    district = RefChoiceField(label=_("District"), queryset=District.objects.none())
    reported_at = LocalTimeField(label=_("Reported at"), widget=DATETIME_INPUT)
    occurred_at = LocalTimeField(label=_("Occurred at"), widget=DATETIME_INPUT, required=False)
    loss_amount = _money_field(_("Amount lost (yuan)"), required=False)
    summary = forms.CharField(label=_("Narrative"), widget=forms.Textarea(attrs={"rows": 4}), required=False)
    suspect_phone = forms.CharField(label=_("Suspect's phone"), max_length=20, required=False)
    suspect_url = forms.CharField(label=_("Suspect's URL or domain"), max_length=255, required=False)
    # Shown once a card-like number fails its Luhn check: corporate accounts carry no Luhn digit.
    confirm_accounts = forms.BooleanField(
        label=_("The account numbers are correct as typed"), required=False, widget=forms.CheckboxInput
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Reference data is public to every signed-in user: active items only.
        self.fields["fraud_type"].queryset = FraudType.objects.filter(is_active=True)
        self.fields["channel"].queryset = Channel.objects.filter(is_active=True)
        self.fields["district"].queryset = District.objects.filter(is_active=True)
        self.show_confirm = False
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

    def check_with_transfers(self, formset) -> bool:
        """The rules that span the form and its transfer rows (call after both are valid).

        Times: occurred and transfers not after the report (``check_case_times``).
        Accounts: a card-like number failing Luhn is flagged on its row until the
        analyst ticks ``confirm_accounts``. Returns whether everything holds.
        """
        rows = formset.live_forms()
        errors = check_case_times(
            reported_at=self.cleaned_data.get("reported_at"),
            occurred_at=self.cleaned_data.get("occurred_at"),
            transfer_times=[(str(i), row.cleaned_data["at"]) for i, row in enumerate(rows)],
        )
        for key, messages in errors.items():
            if key in self.fields:
                self.add_error(key, messages)
            else:
                rows[int(key)].add_error("at", messages)
        self.show_confirm = False
        for row in rows:
            for name in ("from_account", "to_account"):
                warning = account_warning(row.cleaned_data.get(name, ""))
                if warning:
                    self.show_confirm = True
                    if not self.cleaned_data.get("confirm_accounts"):
                        row.add_error(name, warning)
        return not (errors or (self.show_confirm and not self.cleaned_data.get("confirm_accounts")))


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
    at = LocalTimeField(label=_("Time of transfer"), widget=DATETIME_INPUT)

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
    amount_held = AmountField(label=_("Amount held (yuan)"), min_value=Decimal("0"), required=False, allow_zero=True)
    balance = AmountField(label=_("Balance (yuan)"), min_value=Decimal("0"), required=False, allow_zero=True)
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
    at = LocalTimeField(label=_("Time of transfer"), widget=DATETIME_INPUT)

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
        validators=[validate_query],
        help_text=_("Reference, part of a name, last digits of an account or phone, URL, summary words"),
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

    def _day(self, name):
        day = self.cleaned_data.get(name)
        if day is not None and not (EARLIEST.year <= day.year < LATEST.year):
            raise forms.ValidationError(_("Enter a time between 1990 and 2099."), code="invalid")
        return day

    def clean_date_from(self):
        return self._day("date_from")

    def clean_date_to(self):
        return self._day("date_to")


class FileCaseForm(forms.Form):
    filing_number = forms.CharField(label=_("Filing number"), max_length=64)


# --- the rest of a case's life: corrections, additions, links, closure (``views.case_edit``) ---

REASON_INPUT = forms.Textarea(attrs={"rows": 2})


def _reason_field(label=None):
    return forms.CharField(label=label or _("Reason for the change"), widget=REASON_INPUT, max_length=2000)


def _local_input(value):
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M") if value else None


class CaseCorrectionForm(forms.Form):
    """The case's facts as recorded, to correct; the reason is required and goes to the audit row."""

    fraud_type = RefChoiceField(label=_("Fraud type"), queryset=FraudType.objects.none())
    channel = RefChoiceField(label=_("Reporting channel"), queryset=Channel.objects.none())
    district = RefChoiceField(label=_("District"), queryset=District.objects.none())
    reported_at = LocalTimeField(label=_("Reported at"), widget=DATETIME_INPUT)
    occurred_at = LocalTimeField(label=_("Occurred at"), widget=DATETIME_INPUT, required=False)
    loss_amount = _money_field(_("Amount lost (yuan)"))
    summary = forms.CharField(label=_("Narrative"), widget=forms.Textarea(attrs={"rows": 4}), required=False)
    reason = _reason_field()

    def __init__(self, *args, case, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "fraud_type": case.fraud_type_id,
                "channel": case.channel_id,
                "district": case.district_id,
                "reported_at": _local_input(case.reported_at),
                "occurred_at": _local_input(case.occurred_at),
                "loss_amount": case.loss_amount,
                "summary": case.summary,
            },
        )
        super().__init__(*args, **kwargs)
        self.case = case
        # Active reference data, and whatever the case holds now even if retired since.
        for name, model in (("fraud_type", FraudType), ("channel", Channel), ("district", District)):
            current = getattr(case, f"{name}_id")
            self.fields[name].queryset = model.objects.filter(models.Q(is_active=True) | models.Q(pk=current))

    def changes(self) -> dict:
        """The submitted facts; a time left as shown (to the minute) keeps its recorded seconds."""
        changes = {name: self.cleaned_data.get(name) for name in self.fields if name != "reason"}
        for name in ("reported_at", "occurred_at"):
            recorded, typed = getattr(self.case, name), changes[name]
            if recorded and typed and typed == recorded.replace(second=0, microsecond=0):
                changes[name] = recorded
        return changes


class VictimFieldsForm(forms.Form):
    """A victim's personal data, checked as at intake."""

    name = forms.CharField(label=_("Victim's name"), max_length=100)
    id_number = forms.CharField(
        label=_("Resident ID number"), max_length=18, required=False, validators=[validate_resident_id]
    )
    phone = forms.CharField(
        label=_("Victim's phone"), max_length=20, required=False, validators=[validate_victim_phone]
    )
    address = forms.CharField(label=_("Address"), max_length=255, required=False)

    def clean_id_number(self):
        return self.cleaned_data["id_number"].strip().upper()

    def clean_name(self):
        return self.cleaned_data["name"].strip()


class VictimCorrectionForm(VictimFieldsForm):
    reason = _reason_field()

    def __init__(self, *args, victim, **kwargs):
        kwargs.setdefault(
            "initial",
            {"name": victim.name, "id_number": victim.id_number, "phone": victim.phone, "address": victim.address},
        )
        super().__init__(*args, **kwargs)

    def changes(self) -> dict:
        return {name: self.cleaned_data.get(name) or "" for name in ("name", "id_number", "phone", "address")}


class AddTransferForm(TransferForm):
    """A transfer the victim remembered after intake: the intake's row, with its Luhn confirmation."""

    confirm_accounts = forms.BooleanField(label=_("The account numbers are correct as typed"), required=False)

    def clean(self):
        data = super().clean()
        if not data.get("confirm_accounts"):
            for name in ("from_account", "to_account"):
                warning = account_warning(data.get(name, ""))
                if warning:
                    self.add_error(name, warning)
        return data


class TransferCorrectionForm(TransferForm):
    """A recorded transfer as it stands (accounts, banks, amount, time), to correct with a reason."""

    confirm_accounts = forms.BooleanField(label=_("The account numbers are correct as typed"), required=False)
    reason = _reason_field()

    def __init__(self, *args, transfer, bank_choices=None, **kwargs):
        self.transfer = transfer
        source, target = transfer.from_identifier, transfer.to_identifier
        kwargs.setdefault(
            "initial",
            {
                "from_account": source.value,
                "from_bank": source.bank_id,
                "to_account": target.value,
                "to_bank": target.bank_id,
                "amount": transfer.amount,
                "at": _local_input(transfer.at),
            },
        )
        super().__init__(*args, **kwargs)
        # A bank-reported edge may start at an account of no known bank: keep what is recorded.
        self.fields["to_bank"].required = False
        if bank_choices is not None:
            # The page's one read of the banks, shared by every transfer's form (not one per form).
            for name in ("from_bank", "to_bank"):
                self.fields[name].choices = bank_choices

    def bank_choices(self) -> list:
        # Iterated, not ``list()``: that would ask the iterator's length first (a COUNT query).
        return [choice for choice in self.fields["from_bank"].choices]

    def clean(self):
        data = super().clean()
        source, target = self.transfer.from_identifier, self.transfer.to_identifier
        for name, value in (("from_account", source.value), ("to_account", target.value)):
            typed = data.get(name)
            # As when adding a transfer, a likely typo in a number typed now (not in one recorded before).
            if typed and normalise_account(typed) != value and not data.get("confirm_accounts"):
                warning = account_warning(typed)
                if warning:
                    self.add_error(name, warning)
        source_typed, target_typed = data.get("from_account"), data.get("to_account")
        if source_typed and target_typed and normalise_account(source_typed) == normalise_account(target_typed):
            self.add_error("to_account", _("A transfer goes from one account to another."))
        return data

    def changes(self) -> dict:
        """The submitted values; a time left as shown (to the minute) keeps its recorded seconds."""
        data = self.cleaned_data
        changes = {name: data.get(name) for name in ("from_account", "to_account", "amount", "at")}
        for side in ("from", "to"):
            if data.get(f"{side}_bank") is not None:
                changes[f"{side}_bank"] = data[f"{side}_bank"]
        recorded = self.transfer.at
        if changes["at"] and changes["at"] == recorded.replace(second=0, microsecond=0):
            changes["at"] = recorded
        return changes


class AddIdentifierForm(forms.Form):
    """An identifier found later: the suspect's phone, URL, account, app or social account."""

    KINDS = (
        IdentifierKind.PHONE,
        IdentifierKind.URL,
        IdentifierKind.BANK_ACCOUNT,
        IdentifierKind.APP,
        IdentifierKind.SOCIAL_ACCOUNT,
    )

    kind = forms.ChoiceField(label=_("Kind"), choices=[(k.value, k.label) for k in KINDS])
    value = forms.CharField(label=_("Value"), max_length=255)
    bank = BankChoiceField(label=_("Bank"), queryset=Agency.objects.none(), required=False)
    holder_name = forms.CharField(label=_("Holder"), max_length=100, required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bank"].queryset = banks_for(user)

    def clean(self):
        from .validators import validate_identifier

        data = super().clean()
        kind, value = data.get("kind"), (data.get("value") or "").strip()
        if kind and value:
            try:
                validate_identifier(kind, value)
            except ValidationError as exc:
                self.add_error("value", exc.messages)
            data["value"] = value
        if data.get("bank") and kind != IdentifierKind.BANK_ACCOUNT:
            self.add_error("bank", _("Only an account has a bank."))
        return data


class LinkCaseForm(forms.Form):
    """Link another case by its reference (串并案 by hand)."""

    reference = forms.CharField(label=_("Case reference"), max_length=20, help_text=_("e.g. CD-2026-000123"))
    reason = _reason_field(_("Reason for linking"))

    def __init__(self, *args, case, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.case, self.user = case, user

    def clean_reference(self):
        reference = self.cleaned_data["reference"].strip().upper()
        other = Case.objects.visible_to(self.user, "change").filter(reference=reference).first()
        if other is None:
            raise forms.ValidationError(_("No case has this reference."))
        if other.pk == self.case.pk:
            raise forms.ValidationError(_("A case cannot be linked to itself."))
        self.other = other
        return reference


class UnlinkCaseForm(forms.Form):
    other = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1)
    reason = _reason_field(_("Reason for unlinking"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_other(self):
        other = Case.objects.visible_to(self.user, "change").filter(pk=self.cleaned_data["other"]).first()
        if other is None:
            raise forms.ValidationError(_("No such case."))
        self.other_case = other
        return other.pk


class CloseCaseForm(forms.Form):
    """Closure and review: how it ended, in words (the money returned follows from the banks' return reports)."""

    outcome = forms.ChoiceField(label=_("Outcome"), choices=[("", "—"), *CaseOutcome.choices])
    summary = forms.CharField(label=_("Closing summary"), widget=forms.Textarea(attrs={"rows": 3}), max_length=20000)
