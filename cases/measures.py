"""Which measures a case's identifiers allow, and to which agencies: read from the task-type registry.

The case page offers, for each identifier, every registered type whose
``target_kinds`` name the identifier's kind, and the case-level types (those
that may have no target). Which agencies may receive one is the type's
``sectors``; among those, the right one is proposed first: the account's bank
for a bank account (and only that bank, once known), the operator that issued
the number's block for a phone (numbers may have been ported: the user may pick
another operator), the case district's police for a warning. Adding a type to
the registry adds it here without a line of code.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import phonenumbers
from django.utils import timezone
from django.utils.translation import gettext as _
from phonenumbers import carrier

from agencies.choices import CENTRE_AGENCY_CODE, FINANCIAL_SECTORS
from agencies.models import Agency

from . import task_types
from .choices import CaseStatus, TargetKind, TaskState, TaskType
from .task_types import TaskTypeSpec, Watcher
from .validators import PHONE_REGION

# A stop-payment in these states still holds (or is about to hold) the account: it can become a freeze.
CONVERTIBLE_STATES = frozenset(
    {TaskState.PENDING_APPROVAL, TaskState.APPROVED, TaskState.DISPATCHED, TaskState.ACCEPTED, TaskState.COMPLETED}
)
# States a task may be re-issued from, with corrected details.
REISSUABLE_STATES = frozenset({TaskState.REJECTED, TaskState.FAILED})


@dataclass(frozen=True)
class Offer:
    """One measure the case page offers: a type, and why it cannot be issued yet (``blocked``)."""

    spec: TaskTypeSpec
    blocked: str = ""

    @property
    def code(self) -> str:
        return self.spec.code


def types_for(kind: str) -> list[TaskTypeSpec]:
    """The registered types aimed at identifiers of ``kind`` (``none``: the case-level types)."""
    return [spec for spec in task_types.registry if kind in spec.target_kinds]


def offers(kind: str, case) -> list[Offer]:
    """``types_for(kind)``, each with the reason the case cannot take it now (a filed case), if any."""
    result = []
    for spec in types_for(kind):
        blocked = ""
        if spec.needs_filed_case and case.status != CaseStatus.FILED:
            blocked = _("Needs a formally filed case.")
        result.append(Offer(spec, blocked))
    return result


def candidate_agencies(spec: TaskTypeSpec, user, identifier=None):
    """The active agencies ``spec`` may go to, as ``user`` sees them (never the centre itself).

    A bank account whose bank is known goes to that bank only.
    """
    rows = Agency.objects.visible_to(user).filter(is_active=True).exclude(code=CENTRE_AGENCY_CODE)
    if spec.sectors:
        rows = rows.filter(sector__in=spec.sectors)
    if (
        identifier is not None
        and identifier.kind == TargetKind.BANK_ACCOUNT
        and identifier.bank_id
        and set(spec.sectors) <= FINANCIAL_SECTORS
    ):
        rows = rows.filter(pk=identifier.bank_id)
    return rows.order_by("code")


def operator_name(number: str) -> str:
    """The Chinese name of the operator whose number block holds ``number`` (``中国移动``), or ``""``."""
    try:
        parsed = phonenumbers.parse(number, PHONE_REGION)
    except phonenumbers.NumberParseException:
        return ""
    return carrier.name_for_number(parsed, "zh") or ""


def proposed_agency(spec: TaskTypeSpec, candidates: list[Agency], case, identifier=None) -> Agency | None:
    """The agency to preselect among ``candidates``: the right one for the identifier, else the only one."""
    if identifier is not None and identifier.bank_id:
        for agency in candidates:
            if agency.pk == identifier.bank_id:
                return agency
    if identifier is not None and identifier.kind == TargetKind.PHONE:
        name = operator_name(identifier.value)
        for agency in candidates:
            if name and agency.name.startswith(name):
                return agency
    police = getattr(case.district, "police_agency_id", None)
    for agency in candidates:
        if agency.pk == police:
            return agency
    return candidates[0] if len(candidates) == 1 else None


@dataclass(frozen=True)
class KnownAmount:
    """The amount a holding measure on an account is proposed with, and where it comes from (for the form)."""

    amount: Decimal
    source: str


def known_amount(case, identifier, spec: TaskTypeSpec) -> KnownAmount | None:
    """What a stop-payment or freeze of ``identifier`` should ask the bank to hold, as far as the case knows.

    A freeze (any holding type but the stop-payment) asks for what a live
    stop-payment of the case on the account holds (the latest one, as the
    conversion does). Otherwise, and for a stop-payment: what the case's
    transfers put into the account (victims' payments and onward transfers the
    banks reported). ``None`` when neither is known, or the measure holds no money.
    """
    from django.db.models import Sum

    from . import holdings
    from .models import Task, Transfer

    if identifier is None or identifier.kind != TargetKind.BANK_ACCOUNT or spec.holding is None:
        return None
    if spec.code != TaskType.EMERGENCY_STOP_PAYMENT:
        stops = Task.objects.filter(
            case=case, target=identifier, type=TaskType.EMERGENCY_STOP_PAYMENT, state=TaskState.COMPLETED
        ).order_by("-id")
        now = timezone.now()
        for stop in stops[:5]:
            if holdings.is_live(stop, now) and stop.amount_held:
                return KnownAmount(
                    stop.amount_held, _("What stop-payment #%(id)s holds on this account.") % {"id": stop.pk}
                )
    inflow = Transfer.objects.filter(case=case, to_identifier=identifier).aggregate(total=Sum("amount"))["total"]
    if inflow:
        return KnownAmount(inflow, _("What this case's transfers put into this account."))
    return None


def renewable(spec: TaskTypeSpec) -> bool:
    """A holding the law lets lapse unless renewed: renewed by a new task of its type naming it."""
    return spec.holding is not None and Watcher.RENEWAL_REMINDER in spec.watchers


def can_renew(task) -> bool:
    spec = task_types.registry.find(task.type)
    return spec is not None and renewable(spec) and task.state == TaskState.COMPLETED


def can_reissue(task) -> bool:
    return task.state in REISSUABLE_STATES and task.type in task_types.registry


def case_offers(case, links, tasks) -> dict:
    """What the case page offers: each link gets ``offers``; the case-level types; the conversion.

    No query: the registry and the rows the page already read.
    """
    for link in links:
        link.offers = offers(link.identifier.kind, case)
    freeze_targets = {t.target_id for t in tasks if t.type == TaskType.FREEZE and t.state in CONVERTIBLE_STATES}
    convertible = {
        t.target_id
        for t in tasks
        if t.type == TaskType.EMERGENCY_STOP_PAYMENT
        and t.state in CONVERTIBLE_STATES
        and t.target_id
        and t.target_id not in freeze_targets
    }
    return {
        "case_level": offers(TargetKind.NONE, case),
        "convertible": len(convertible),
        "can_convert": case.status == CaseStatus.FILED,
    }
