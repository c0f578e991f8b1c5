"""Forms of the measure pages: a measure on an identifier or the case, the freeze conversion, renewal, re-issue.

Each form asks for what the task type's declaration says (``cases.task_types``):
the legal document number only where the type needs one, the amount only for
an account. The actions check the rest (shape of the document number, filed
case, sectors, target kinds); the views put their errors on these fields.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .actions.legal_documents import accepted_formats
from .choices import TargetKind
from .forms import AmountField, BankChoiceField

LEGAL_DOCUMENT_INPUT = forms.TextInput(attrs={"autocomplete": "off", "placeholder": "成公冻字〔2026〕7号"})


def legal_document_field(required: bool = True) -> forms.CharField:
    shapes = "; ".join(description for _pattern, description in accepted_formats() if description)
    return forms.CharField(
        label=_("Legal document number"),
        max_length=64,
        required=required,
        widget=LEGAL_DOCUMENT_INPUT,
        help_text=shapes,
        error_messages={"required": _("This task type needs a legal document number.")},
    )


class ActionErrorsMixin:
    """Put an action's ``ValidationError`` on the form's fields, the rest above the form."""

    # An action's error key -> the form's field that holds it.
    error_fields: dict[str, str] = {}

    def add_action_errors(self, exc) -> None:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}
        for key, messages in errors.items():
            name = key.rsplit(".", 1)[-1] if key else None
            name = self.error_fields.get(name, name)
            self.add_error(name if name in self.fields else None, messages)


class MeasureForm(ActionErrorsMixin, forms.Form):
    """One measure of ``spec``: to which agency, under which legal document, for how much, with a note."""

    agency = BankChoiceField(label=_("To agency"), queryset=None)
    amount = AmountField(label=_("Amount (yuan)"), required=False)
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000)

    def __init__(self, *args, spec, agencies, identifier=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = agencies
        if spec.needs_legal_document and not spec.legal_document_at_approval:
            self.fields["legal_document_number"] = legal_document_field()
            self.order_fields(["agency", "legal_document_number"])
        if identifier is None or identifier.kind != TargetKind.BANK_ACCOUNT:
            del self.fields["amount"]
        if identifier is None:
            # A case-level task says what is asked.
            self.fields["note"].required = True
            self.fields["note"].label = _("What is asked")


class ConvertForm(ActionErrorsMixin, forms.Form):
    """The legal document that covers the freezes of every live stop-payment."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["legal_document_number"] = legal_document_field()


class RenewForm(ActionErrorsMixin, forms.Form):
    amount = AmountField(label=_("Amount to keep held (yuan)"), required=False)

    def __init__(self, *args, spec, **kwargs):
        super().__init__(*args, **kwargs)
        if spec.needs_legal_document:
            self.fields["legal_document_number"] = legal_document_field()
            self.order_fields(["legal_document_number", "amount"])


class ReissueForm(ActionErrorsMixin, forms.Form):
    """The corrected details: the target as it should be, its agency, the amount."""

    error_fields = {"target": "target_value"}

    target_value = forms.CharField(
        label=_("Corrected target"),
        max_length=255,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "class": "mono"}),
        help_text=_("Leave empty to keep the target as it was."),
    )
    agency = BankChoiceField(label=_("To agency"), queryset=None)
    amount = AmountField(label=_("Amount (yuan)"), required=False)
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=1000)

    def __init__(self, *args, task, spec, agencies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = agencies
        if spec.needs_legal_document:
            self.fields["legal_document_number"] = legal_document_field(required=False)
            self.fields["legal_document_number"].help_text = _("Leave empty to keep %(number)s.") % {
                "number": task.legal_document_number
            }
        if task.target_id is None:
            del self.fields["target_value"]
        if task.target_kind != TargetKind.BANK_ACCOUNT:
            del self.fields["amount"]


class FundReturnForm(ActionErrorsMixin, forms.Form):
    """Prepare a fund return: the platform computes the allocation; the approver names the legal document."""

    error_fields = {"target": None, "case": None}

    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000)


class ApproveForm(forms.Form):
    """Approve a type whose legal document is named at approval (a fund return)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Built here, not at import: the accepted shapes are the administrator's (a query).
        self.fields["legal_document_number"] = legal_document_field()


class ObjectionForm(forms.Form):
    """An objection to a pro-rata return, received during its public notice."""

    objector = forms.CharField(label=_("Who objects"), max_length=100)
    text = forms.CharField(label=_("Objection"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
