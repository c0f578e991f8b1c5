"""Serializers of the cases API.

Input serializers validate shape and types and resolve codes through querysets
scoped by ``visible_to``; the action functions then apply the domain rules.
Output serializers mask personal data through ``coordination.masking.mask``.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from agencies import roles
from agencies.models import Agency
from coordination.api import InstantField
from coordination.masking import mask, mask_contact, mask_data, mask_free_text, mask_repr, sees_full_pii
from coordination.validators import parse_amount

from .. import task_types
from ..actions.cases import CLOSURE_SUMMARY_MAX
from ..choices import CaseOutcome, CaseStatus, IdentifierKind, ResultStatus, TargetKind, TaskState
from ..models import (
    Case,
    CaseIdentifier,
    Channel,
    District,
    FollowUpProposal,
    FraudType,
    ReturnAllocation,
    Task,
    Transfer,
    Victim,
)
from ..people import names_for, names_of_cases
from ..validators import (
    MAX_AMOUNT,
    check_case_times,
    validate_bank_account,
    validate_identifier,
    validate_resident_id,
    validate_victim_phone,
)

MONEY = {"max_digits": 14, "decimal_places": 2, "max_value": MAX_AMOUNT}


@extend_schema_field(OpenApiTypes.STR)
class ScopedSlugField(serializers.SlugRelatedField):
    """A code resolved among the rows the requesting user may see."""

    def __init__(self, model, **kwargs):
        self.model = model
        kwargs.setdefault("slug_field", "code")
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return self.model.objects.visible_to(getattr(request, "user", None), "view")

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class ReferenceField(serializers.SlugRelatedField):
    """An active reference code (fraud type, district, channel): public data, not scoped."""

    def __init__(self, model, **kwargs):
        super().__init__(slug_field="code", queryset=model.objects.filter(is_active=True), **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


# --- input -----------------------------------------------------------------------


@extend_schema_field({"type": "string", "format": "decimal", "pattern": r"^[0-9]{1,12}(\.[0-9]{1,2})?$"})
class MoneyField(serializers.DecimalField):
    """Yuan as a plain ASCII decimal string ("52000.00"), checked by ``parse_amount``.

    A JSON float would already have lost cents; spaces, exponents and other
    scripts' digits are refused rather than guessed at.
    """

    def __init__(self, **kwargs):
        for key, value in MONEY.items():
            kwargs.setdefault(key, value)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        allow_zero = self.min_value is not None and self.min_value <= 0
        try:
            amount = parse_amount(data, allow_zero=allow_zero)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None
        return super().to_internal_value(amount)


def _django_to_drf(validator, value):
    try:
        validator(value)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.messages) from None
    return value


class VictimInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    id_number = serializers.CharField(max_length=18, required=False, allow_blank=True, allow_null=True)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True, allow_null=True)

    def validate_id_number(self, value):
        if value:
            _django_to_drf(validate_resident_id, value)
        return (value or "").strip().upper()

    def validate_phone(self, value):
        if value:
            _django_to_drf(validate_victim_phone, value)
        return value or ""


class TransferInputSerializer(serializers.Serializer):
    from_account = serializers.CharField(max_length=40)
    # A bank may be unknown at intake: the account is then recorded without one
    # (and gets no automatic stop-payment until a bank is known).
    from_bank = ScopedSlugField(Agency, required=False, allow_null=True, default=None)
    to_account = serializers.CharField(max_length=40)
    to_bank = ScopedSlugField(Agency, required=False, allow_null=True, default=None)
    amount = MoneyField(min_value=Decimal("0.01"))
    at = InstantField()

    def validate_from_account(self, value):
        return _django_to_drf(validate_bank_account, value)

    def validate_to_account(self, value):
        return _django_to_drf(validate_bank_account, value)


class IdentifierInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=IdentifierKind.choices)
    value = serializers.CharField(max_length=255)

    def validate(self, attrs):
        try:
            validate_identifier(attrs["kind"], attrs["value"])
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"value": exc.messages}) from None
        return attrs


class CaseCreateSerializer(serializers.Serializer):
    """The protocol's "Creating a case" body."""

    fraud_type = ReferenceField(FraudType)
    district = ReferenceField(District)
    channel = ReferenceField(Channel)
    reported_at = InstantField()
    occurred_at = InstantField(required=False, allow_null=True)
    loss_amount = MoneyField(min_value=Decimal("0.01"))
    summary = serializers.CharField(max_length=20000, required=False, allow_blank=True)
    victim = VictimInputSerializer(required=False, allow_null=True)
    transfers = TransferInputSerializer(many=True, required=False, max_length=200)
    identifiers = IdentifierInputSerializer(many=True, required=False, max_length=200)

    def validate(self, attrs):
        transfers = attrs.get("transfers") or []
        errors = check_case_times(
            reported_at=attrs.get("reported_at"),
            occurred_at=attrs.get("occurred_at"),
            transfer_times=[(f"transfers.{i}.at", row["at"]) for i, row in enumerate(transfers)],
        )
        if errors:
            rows = [{} for _row in transfers]
            for key in [k for k in errors if k.startswith("transfers.")]:
                _prefix, index, field = key.split(".")
                rows[int(index)][field] = errors.pop(key)
            if any(rows):
                errors["transfers"] = rows
            raise serializers.ValidationError(errors)
        return attrs


class TargetInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=TargetKind.choices)
    value = serializers.CharField(max_length=255, required=False, allow_blank=True, allow_null=True)


@extend_schema_field(OpenApiTypes.INT)
class ScopedCaseField(serializers.PrimaryKeyRelatedField):
    """A case id among the cases the caller may change."""

    def get_queryset(self):
        request = self.context.get("request")
        return Case.objects.visible_to(getattr(request, "user", None), "change")

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)


class TaskTypeField(serializers.ChoiceField):
    """A registered task type's code; the registry is read per serializer, so a type added later is taken."""

    def __init__(self, **kwargs):
        super().__init__(choices=task_types.choices(), **kwargs)


class PersonInputSerializer(serializers.Serializer):
    """Who a victim warning must reach: one of the case's victims (``victim``), or a person named here."""

    victim = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=2**63 - 1, help_text=_("A victim of the case.")
    )
    name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
    address = serializers.CharField(max_length=255, required=False, allow_blank=True)


class TaskCreateSerializer(serializers.Serializer):
    """The protocol's "Creating a task" body; ``person`` for a victim warning (else the case's first victim)."""

    case = ScopedCaseField()
    type = TaskTypeField()
    agency = ScopedSlugField(Agency)
    target = TargetInputSerializer(required=False, allow_null=True)
    amount = MoneyField(min_value=Decimal("0.01"), required=False, allow_null=True)
    legal_document_number = serializers.CharField(max_length=64, required=False, allow_blank=True, allow_null=True)
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, allow_null=True)
    person = PersonInputSerializer(required=False, allow_null=True)


class ApproveSerializer(serializers.Serializer):
    """Approval: a type whose legal document is named at approval (``fund_return``) needs it here."""

    legal_document_number = serializers.CharField(max_length=64, required=False, allow_blank=True)


class ReasonSerializer(serializers.Serializer):
    """A rejection's or a return's reason: required, and not only spaces (the action refuses that too)."""

    reason = serializers.CharField(max_length=2000)


class ResultSerializer(serializers.Serializer):
    """A partner's result (protocol: "Result" and "v1.1 rules on results").

    The per-type fields and the rules that need the task (times, ``lapses_at``,
    ``amount_held``) are checked by the action (``cases.result_rules``), so a
    refused result names its field and stores nothing, whatever the path.
    """

    status = serializers.ChoiceField(choices=ResultStatus.choices)
    executed_at = InstantField(required=False, allow_null=True)
    reason = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=2000)
    result = serializers.JSONField(required=False, allow_null=True)


class BulkApproveSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), min_length=1, max_length=200
    )


class FileCaseSerializer(serializers.Serializer):
    filing_number = serializers.CharField(max_length=64)


class CloseCaseSerializer(serializers.Serializer):
    """Closure and review, as the case page's close form: how it ended and a summary.

    The amount returned is not typed: it follows from the banks' fund-return reports.
    """

    outcome = serializers.ChoiceField(choices=CaseOutcome.choices, help_text=_("How the case ended."))
    summary = serializers.CharField(
        max_length=CLOSURE_SUMMARY_MAX, help_text=_("The closing summary, in words: what was done and recovered.")
    )

    def to_internal_value(self, data):
        # Refused beside whatever else is wrong, so a client learns it in one answer.
        typed = isinstance(data, dict) and "amount_returned" in data
        refusal = [_("The amount returned follows from the banks' return reports; it is not typed.")]
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if typed and isinstance(exc.detail, dict):
                exc.detail["amount_returned"] = refusal
            raise
        if typed:
            raise serializers.ValidationError({"amount_returned": refusal})
        return value


class ShareSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    permission = serializers.ChoiceField(choices=[("view", "view"), ("change", "change")], default="view")


class IssueFollowUpsSerializer(serializers.Serializer):
    proposal_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        allow_null=True,
        max_length=200,
    )
    approve = serializers.BooleanField(default=True)


class IssueStopPaymentsSerializer(serializers.Serializer):
    approve = serializers.BooleanField(default=True)


class LookupQuerySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=IdentifierKind.choices)
    value = serializers.CharField(max_length=255)


# --- output ----------------------------------------------------------------------


def _iso(value) -> str | None:
    """A datetime as DRF's DateTimeField renders it (current time zone, ISO 8601).

    Defensive: a stored time Python cannot shift into the local zone is given in UTC.
    """
    if value is None:
        return None
    try:
        text = timezone.localtime(value).isoformat()
    except (OverflowError, ValueError):
        text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _money(value) -> str | None:
    """A model decimal as DRF renders it with COERCE_DECIMAL_TO_STRING (two places)."""
    return None if value is None else f"{value.quantize(Decimal('0.01')):f}"


class SafeDateTimeField(serializers.DateTimeField):
    """DRF's output rendering of a stored time, falling back to UTC where the local zone cannot hold it."""

    def to_representation(self, value):
        try:
            return super().to_representation(value)
        except (OverflowError, ValueError):
            return _iso(value)


# Model serializers whose stored times render defensively (``SafeDateTimeField``); no
# docstring on purpose, or it would become the schema's description of every subclass.
class SafeModelSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: SafeDateTimeField,
    }


class FastListMixin:
    """Hand-written ``to_representation`` for the hot lists.

    DRF's field-by-field machinery costs more than the query on a 50-row page;
    these serializers build the same dict directly. The declared fields still
    define the schema, and ``tests/api/test_serializers.py`` checks that the
    fast dict equals DRF's own rendering for every role.
    """

    def drf_representation(self, instance):
        return super().to_representation(instance)


class CodeNameSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    name_en = serializers.CharField()


class ReferenceSerializer(serializers.Serializer):
    """``/api/v1/reference/``: every code a client needs (schema only; the view builds the dict)."""

    fraud_types = CodeNameSerializer(many=True)
    districts = CodeNameSerializer(many=True)
    channels = CodeNameSerializer(many=True)
    task_types = CodeNameSerializer(many=True)
    sectors = CodeNameSerializer(many=True)


class CaseCreatedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()


class VictimSerializer(SafeModelSerializer):
    name = serializers.SerializerMethodField()
    id_number = serializers.SerializerMethodField()
    phone = serializers.SerializerMethodField()

    class Meta:
        model = Victim
        fields = ["name", "id_number", "phone"]

    def _user(self):
        return self.context["request"].user

    def _of(self, obj):
        return ("cases.victim", obj.pk, obj.case_id)

    def get_name(self, obj) -> str:
        return mask(self._user(), "name", obj.name, of=self._of(obj))

    def get_id_number(self, obj) -> str:
        return mask(self._user(), "id_number", obj.id_number, of=self._of(obj))

    def get_phone(self, obj) -> str:
        return mask(self._user(), "phone", obj.phone, of=self._of(obj))


class OutcomeField(serializers.ChoiceField):
    """A case's outcome, ``null`` while it has none (stored blank), as the fast path writes it."""

    def to_representation(self, value):
        return value or None


class CaseSerializer(FastListMixin, SafeModelSerializer):
    """A case in lists: codes, amounts and status; no personal data."""

    fraud_type = serializers.SlugRelatedField(slug_field="code", read_only=True)
    district = serializers.SlugRelatedField(slug_field="code", read_only=True)
    channel = serializers.SlugRelatedField(slug_field="code", read_only=True)
    status = serializers.ChoiceField(choices=CaseStatus.choices, read_only=True)
    outcome = OutcomeField(
        choices=CaseOutcome.choices,
        read_only=True,
        allow_null=True,
        help_text=_("How a closed case ended; null while open."),
    )

    class Meta:
        model = Case
        fields = [
            "id",
            "reference",
            "fraud_type",
            "district",
            "channel",
            "reported_at",
            "occurred_at",
            "loss_amount",
            "currency",
            "status",
            "filing_number",
            "amount_stopped",
            "amount_frozen",
            "amount_returned",
            "outcome",
            "closure_summary",
            "closed_at",
            "first_stop_delivered_at",
            "created_at",
        ]
        read_only_fields = fields

    def _free_text(self, case, text: str) -> str:
        """A list's free text: long digit runs masked for a masked reader (the detail masks names too)."""
        request = self.context.get("request")
        return mask_free_text(request.user, text, of=("cases.case", case.pk, case.pk)) if request else text

    def to_representation(self, case):
        return {
            "id": case.pk,
            "reference": case.reference,
            "fraud_type": case.fraud_type.code,
            "district": case.district.code,
            "channel": case.channel.code,
            "reported_at": _iso(case.reported_at),
            "occurred_at": _iso(case.occurred_at),
            "loss_amount": _money(case.loss_amount),
            "currency": case.currency,
            "status": case.status,
            "filing_number": case.filing_number,
            "amount_stopped": _money(case.amount_stopped),
            "amount_frozen": _money(case.amount_frozen),
            "amount_returned": _money(case.amount_returned),
            "outcome": case.outcome or None,
            "closure_summary": self._free_text(case, case.closure_summary),
            "closed_at": _iso(case.closed_at),
            "first_stop_delivered_at": _iso(case.first_stop_delivered_at),
            "created_at": _iso(case.created_at),
        }


class CaseDetailSerializer(CaseSerializer):
    """A case with its summary and victims (masked by role)."""

    victims = VictimSerializer(many=True, read_only=True)

    def to_representation(self, case):
        # The detail is one row: DRF's own rendering is cheap enough here. Its free texts are
        # masked with the case's own names too (``cases.people``) for a reader who sees them masked.
        user = self.context["request"].user
        names = names_for(user, case.pk)
        data = serializers.ModelSerializer.to_representation(self, case)
        data["summary"] = mask_free_text(user, case.summary, names, of=("cases.case", case.pk, case.pk))
        data["closure_summary"] = mask_free_text(user, case.closure_summary, names, of=("cases.case", case.pk, case.pk))
        return data

    class Meta(CaseSerializer.Meta):
        fields = [*CaseSerializer.Meta.fields, "summary", "victims"]
        read_only_fields = fields


class CaseIdentifierSerializer(SafeModelSerializer):
    kind = serializers.CharField(source="identifier.kind")
    value = serializers.SerializerMethodField()
    bank = serializers.SlugRelatedField(source="identifier.bank", slug_field="code", read_only=True, allow_null=True)
    case_count = serializers.IntegerField(source="identifier.case_count")
    first_seen_at = SafeDateTimeField(source="identifier.first_seen_at")
    last_seen_at = SafeDateTimeField(source="identifier.last_seen_at")

    class Meta:
        model = CaseIdentifier
        fields = ["id", "kind", "value", "role", "bank", "case_count", "first_seen_at", "last_seen_at", "added_at"]

    def get_value(self, obj) -> str:
        user, ident = self.context["request"].user, obj.identifier
        return mask(user, ident.kind, ident.value, of=("cases.identifier", ident.pk, obj.case_id))


class TransferSerializer(SafeModelSerializer):
    from_account = serializers.SerializerMethodField()
    from_bank = serializers.SlugRelatedField(
        source="from_identifier.bank", slug_field="code", read_only=True, allow_null=True
    )
    to_account = serializers.SerializerMethodField()
    to_bank = serializers.SlugRelatedField(
        source="to_identifier.bank", slug_field="code", read_only=True, allow_null=True
    )

    class Meta:
        model = Transfer
        fields = ["id", "from_account", "from_bank", "to_account", "to_bank", "amount", "at", "source", "source_task"]

    def _side(self, obj, ident) -> str:
        return mask(self.context["request"].user, ident.kind, ident.value, of=("cases.transfer", obj.pk, obj.case_id))

    def get_from_account(self, obj) -> str:
        return self._side(obj, obj.from_identifier)

    def get_to_account(self, obj) -> str:
        return self._side(obj, obj.to_identifier)


class MoneyFlowNodeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    value = serializers.CharField()
    bank = serializers.CharField(allow_null=True)
    role = serializers.CharField(allow_null=True)


class MoneyFlowEdgeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    source = serializers.IntegerField()
    target = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    at = SafeDateTimeField()


class MoneyFlowSerializer(serializers.Serializer):
    nodes = MoneyFlowNodeSerializer(many=True)
    edges = MoneyFlowEdgeSerializer(many=True)
    truncated = serializers.BooleanField()


class AuditRecordSerializer(serializers.Serializer):
    """An audit row; personal data in its label and its before/after masked as the reader's role must see it."""

    id = serializers.IntegerField()
    at = SafeDateTimeField()
    user = serializers.CharField(source="user_name")
    agency = serializers.CharField(source="agency_code")
    action = serializers.CharField()
    object_type = serializers.CharField()
    object_id = serializers.IntegerField(allow_null=True)
    object = serializers.CharField(source="object_repr")
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)

    def to_representation(self, record):
        data = super().to_representation(record)
        user = self.context["request"].user
        of = (record.object_type, record.object_id, record.case_id)
        data["object"] = mask_repr(user, record.object_type, record.object_repr)
        data["before"] = mask_data(user, record.before, model=record.object_type, of=of)
        data["after"] = mask_data(user, record.after, model=record.object_type, of=of)
        return data


class ProposalSerializer(SafeModelSerializer):
    case = serializers.PrimaryKeyRelatedField(read_only=True)
    account = serializers.SerializerMethodField()
    agency = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = FollowUpProposal
        fields = ["id", "case", "account", "agency", "amount", "source_task", "state", "issued_task", "created_at"]

    def get_account(self, obj) -> str:
        ident = obj.identifier
        return mask(
            self.context["request"].user, ident.kind, ident.value, of=("cases.followupproposal", obj.pk, obj.case_id)
        )


class TaskCaseSerializer(serializers.Serializer):
    """The case data a task needs (protocol push body): reference, fraud type, reported at."""

    id = serializers.IntegerField(required=False, help_text=_("Only for centre roles and auditors."))
    reference = serializers.CharField()
    fraud_type = serializers.CharField()
    reported_at = SafeDateTimeField()


class TaskPersonSerializer(serializers.Serializer):
    name = serializers.CharField()
    phone = serializers.CharField(allow_null=True)
    id_number = serializers.CharField(allow_null=True)
    district = serializers.CharField()
    address = serializers.CharField(allow_null=True)
    level = serializers.CharField(required=False, help_text=_("A warning from a clue: high, medium or low."))
    reason = serializers.CharField(required=False, help_text=_("A warning from a clue: why the person is at risk."))


class TaskTargetSerializer(serializers.Serializer):
    kind = serializers.CharField()
    value = serializers.CharField(allow_null=True)
    holder_name = serializers.CharField(allow_blank=True)
    bank = serializers.CharField(allow_null=True)


RESULT_MASKS = {
    "holder_id_number": "id_number",
    "registered_id_number": "id_number",
    "holder_name": "name",
    "registered_name": "name",
}


class TaskListSerializer(serializers.ListSerializer):
    """A page of tasks: the allocations of its fund returns in one query, not one per return task."""

    def to_representation(self, data):
        tasks = list(data.all() if hasattr(data, "all") else data)
        request = self.context.get("request")
        if request is not None and not sees_full_pii(request.user):
            # A masked reader's notes and reasons are masked with their cases' names: one query.
            texts = [t for t in tasks if (t.note or t.reason) and not roles.acts_for(request.user, t.agency_id)]
            names = names_of_cases(t.case_id for t in texts)
            for task in texts:
                task._names_loaded = names.get(task.case_id, set())
        returns = {t.pk: t for t in tasks if (spec := task_types.registry.find(t.type)) and spec.allocates_return}
        if returns:
            for task in returns.values():
                task._allocations_loaded = []
            rows = (
                ReturnAllocation.objects.filter(task_id__in=list(returns))
                .select_related("case", "victim", "account__bank")
                .order_by("task_id", "id")
            )
            for row in rows:
                returns[row.task_id]._allocations_loaded.append(row)
        return super().to_representation(tasks)


class TaskAllocationSerializer(serializers.Serializer):
    """One victim's part of a fund return (protocol v1.1 ``allocations``), with what the bank returned."""

    victim_reference = serializers.CharField()
    case = serializers.CharField()
    account_number = serializers.CharField()
    bank = serializers.CharField(allow_null=True)
    holder_name = serializers.CharField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    traced = serializers.DecimalField(max_digits=14, decimal_places=2)
    mixed = serializers.BooleanField()
    returned = serializers.DecimalField(max_digits=14, decimal_places=2)


class TaskSerializer(FastListMixin, SafeModelSerializer):
    """A task as its reader may see it.

    The assigned agency reads its own target in full (a bank cannot stop an
    account it cannot read) and only the case fields the task needs; centre roles
    see everything; auditors see personal data masked.
    """

    case = serializers.SerializerMethodField()
    agency = serializers.SlugRelatedField(slug_field="code", read_only=True)
    target = serializers.SerializerMethodField()
    # The protocol's name (v1.1), the same as the ``?status=`` filter; ``state`` is internal.
    status = serializers.ChoiceField(source="state", choices=TaskState.choices, read_only=True)
    result_status = serializers.ChoiceField(choices=ResultStatus.choices, allow_blank=True, read_only=True)
    result = serializers.SerializerMethodField()
    person = serializers.SerializerMethodField()
    allocations = serializers.SerializerMethodField()

    class Meta:
        model = Task
        fields = [
            "id",
            "case",
            "type",
            "agency",
            "target",
            "amount",
            "currency",
            "legal_document_number",
            "note",
            "status",
            "deadline",
            "is_overdue",
            "needs_attention",
            "follows",
            "created_at",
            "approved_at",
            "dispatched_at",
            "accepted_at",
            "finished_at",
            "reason",
            "result_status",
            "result",
            "executed_at",
            "amount_held",
            "lapses_at",
            "person",
            "allocations",
            "notice_until",
        ]
        read_only_fields = fields
        list_serializer_class = TaskListSerializer

    def _user(self):
        return self.context["request"].user

    def to_representation(self, task):
        return {
            "id": task.pk,
            "case": self.get_case(task),
            "type": task.type,
            "agency": task.agency.code,
            "target": self.get_target(task),
            "amount": _money(task.amount),
            "currency": task.currency,
            "legal_document_number": task.legal_document_number,
            "note": self._free_text(task, task.note),
            "status": task.state,
            "deadline": _iso(task.deadline),
            "is_overdue": task.is_overdue,
            "needs_attention": task.needs_attention,
            "follows": task.follows_id,
            "created_at": _iso(task.created_at),
            "approved_at": _iso(task.approved_at),
            "dispatched_at": _iso(task.dispatched_at),
            "accepted_at": _iso(task.accepted_at),
            "finished_at": _iso(task.finished_at),
            "reason": self._free_text(task, task.reason),
            "result_status": task.result_status,
            "result": self.get_result(task),
            "executed_at": _iso(task.executed_at),
            "amount_held": _money(task.amount_held),
            "lapses_at": _iso(task.lapses_at),
            "person": self.get_person(task),
            "allocations": self.get_allocations(task),
            "notice_until": _iso(task.notice_until),
        }

    def _own(self, obj) -> bool:
        user = self._user()
        return roles.acts_for(user, obj.agency_id)

    def _free_text(self, task, text: str) -> str:
        """A note or reason: the assigned agency reads its own in full; a masked reader with digits and names masked.

        The names are the case's (``cases.people``): loaded for a page's masked tasks in one
        query by ``TaskListSerializer``, for one task here.
        """
        if not text or self._own(task):
            return text
        user = self._user()
        names = getattr(task, "_names_loaded", None)
        if names is None:
            names = names_for(user, task.case_id)
        return mask_free_text(user, text, names, of=("cases.task", task.pk, task.case_id))

    @extend_schema_field(TaskCaseSerializer(allow_null=True))
    def get_case(self, obj) -> dict | None:
        case = obj.case
        if case is None:
            return None  # a victim warning from a partner's clue (docs/warnings.md)
        data = {"reference": case.reference, "fraud_type": case.fraud_type.code, "reported_at": _iso(case.reported_at)}
        if roles.can(self._user(), "sees_all_cases"):
            data = {"id": case.pk, **data}
        return data

    @extend_schema_field(TaskTargetSerializer(allow_null=True))
    def get_target(self, obj) -> dict | None:
        target = obj.target
        if target is None:
            return {"kind": obj.target_kind, "value": None, "holder_name": "", "bank": None}
        user, own, of = self._user(), self._own(obj), ("cases.task", obj.pk, obj.case_id)
        return {
            "kind": target.kind,
            "value": mask(user, target.kind, target.value, own_task_target=own, of=of),
            "holder_name": mask(user, "name", target.holder_name, own_task_target=own, of=of),
            "bank": target.bank.code if target.bank_id else None,
        }

    @extend_schema_field(TaskPersonSerializer(allow_null=True))
    def get_person(self, obj) -> dict | None:
        """A victim warning's person to reach: in full for the centre and the assigned agency, masked elsewhere."""
        person = obj.person_to_reach()
        if person is None:
            return None
        contact = {"name": person["name"], "phone": person["phone"] or "", "address": person["address"] or ""}
        if person["id_number"]:
            contact["id_number"] = person["id_number"]  # a clue may name one (docs/warnings.md)
        shown = mask_contact(self._user(), contact, own_task=self._own(obj), of=("cases.task", obj.pk, obj.case_id))
        return {**person, **{k: v or None for k, v in shown.items() if k != "name"}, "name": shown["name"]}

    @extend_schema_field(TaskAllocationSerializer(many=True, allow_null=True))
    def get_allocations(self, obj) -> list | None:
        """A fund return's allocation (v1.1): the centre, auditors (masked) and the return's own bank only.

        An agency reads only its own tasks, so no bank ever sees another bank's
        return. One query per return task (other types read nothing).
        """
        spec = task_types.registry.find(obj.type)
        if spec is None or not spec.allocates_return:
            return None
        user, own = self._user(), self._own(obj)
        rows = getattr(obj, "_allocations_loaded", None)
        if rows is None:
            rows = obj.allocations.select_related("case", "victim", "account__bank").order_by("id")
        return [
            {
                "victim_reference": f"{row.case.reference}/{row.victim_id or 0}",
                "case": row.case.reference,
                "account_number": mask(user, "bank_account", row.account.value, own_task_target=own),
                "bank": row.account.bank.code if row.account.bank_id else None,
                "holder_name": mask(
                    user, "name", row.victim.name if row.victim else row.account.holder_name, own_task_target=own
                ),
                "amount": _money(row.amount),
                "traced": _money(row.traced),
                "mixed": row.mixed,
                "returned": _money(row.returned),
            }
            for row in rows
        ]

    @extend_schema_field({"type": "object", "additionalProperties": {}, "nullable": True})
    def get_result(self, obj):
        result = obj.result
        if not isinstance(result, dict):
            return None  # nothing reported yet (or a stored value that is not an object)
        # The one rule on every key (``coordination.masking.FIELD_KINDS``): holders' names and IDs,
        # onward transfers' accounts and holders. The reporting agency reads its own result.
        return mask_data(self._user(), result, own=self._own(obj), of=("cases.task", obj.pk, obj.case_id))


class ResultAnswerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=TaskState.choices, help_text=_("The task's status after the result."))
    changed = serializers.BooleanField()


class BulkApproveAnswerSerializer(serializers.Serializer):
    approved = serializers.ListField(child=serializers.IntegerField())
    refused = serializers.DictField(child=serializers.CharField())


class LookupAnswerSerializer(serializers.Serializer):
    kind = serializers.CharField()
    value = serializers.CharField()
    involved = serializers.BooleanField()
    case_count = serializers.IntegerField()
    first_seen_at = serializers.DateTimeField(allow_null=True)
    last_seen_at = serializers.DateTimeField(allow_null=True)
    stop_payment_active = serializers.BooleanField()
    freeze_active = serializers.BooleanField()
    cases = serializers.ListField(
        child=serializers.CharField(), required=False, help_text=_("Case references; centre roles only.")
    )
