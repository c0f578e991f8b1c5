"""Task types: one declaration per type, and the registry every layer reads.

Everything true of a type is in its ``TaskTypeSpec``: who may receive it, who
approves it, what it needs, its default deadline, its result fields, whether it
holds money or feeds the money flow, when it lapses and which watchers follow
it, what the task page asks for and how the demo partner answers it. Choices,
forms, result validation, pages, the API schema, watchers, the seed and the
simulator read the registry instead of branching on codes (Wagtail's
``register_*`` registries, NetBox's ``registry``). Adding a type is one
``register(TaskTypeSpec(...))`` plus translations: see docs/task-types.md.

The administrator may change a type's deadline: ``TaskTypeConfig`` is that row,
seeded from ``deadline`` here.

This module imports no models (the models read it for their choices) and needs
no settings, so the demo partner can read it too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from django.utils.choices import CallableChoiceIterator
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from agencies.choices import FINANCIAL_SECTORS, Role, Sector

from . import results as r
from .choices import TargetKind, TaskType


class Watcher(StrEnum):
    """Watchers (``alerts.watchers``) a time-limited type opts into, besides overdue and expiry."""

    LAPSE_WARNING = "lapse_warning"  # warn the analyst shortly before it lapses
    RENEWAL_REMINDER = "renewal_reminder"  # remind the analyst to renew it well before


class DemoAnswer(StrEnum):
    """The shape of the demo partner's answer (``simulator.results``)."""

    HOLD = "hold"  # money held, the rest moved on in onward transfers
    ACCOUNT_QUERY = "account_query"  # the holder, the balance and onward transfers
    NUMBER_TRACE = "number_trace"  # the registered holder and related numbers
    DONE = "done"  # done_at
    WARNING = "warning"  # contacted_at, reached
    RETURN = "return"  # every allocation returned in full
    NOTHING = "nothing"  # an empty result


@dataclass(frozen=True)
class Holding:
    """A measure that holds money at a bank until it lapses."""

    # The case's running total the amount held adds to (a ``Case`` field).
    case_total: str
    # From execution, unless the partner reports ``lapses_at``.
    lapses_after: timedelta


@dataclass(frozen=True)
class ResultPage:
    """What the task page's result form asks the agency for (fields of ``cases.forms.ResultForm``)."""

    # Sent with a completed result only; a required result field is required here too.
    on_completion: tuple[str, ...] = ()
    # Sent whatever the outcome.
    always: tuple[str, ...] = ()
    # Rows of onward transfers (the result field ``onward_transfers``).
    onward_transfers: bool = False
    # A result field set to the moment of submission when completed (``done_at``).
    stamp: str | None = None
    # A fund return completed on the page returned every allocation in full, now (``returned``).
    returns_allocations: bool = False

    @property
    def fields(self) -> tuple[str, ...]:
        return (*self.on_completion, *self.always)


@dataclass(frozen=True)
class TargetLimit:
    """At most ``count`` tasks of the type per target and case, whatever became of them.

    A task that lapsed, failed, was refused or was withdrawn after approval
    still counts (the agency had it); only one withdrawn before anyone approved
    it, which never left the centre, does not. ``create_task`` counts under the
    target's row lock, so concurrent requests cannot pass the limit together.
    """

    count: int
    message: Promise


@dataclass(frozen=True)
class TaskTypeSpec:
    """Everything true of one task type."""

    code: str
    label: Promise
    # The Chinese name partners read in ``/api/v1/reference/`` (seeded into ``TaskTypeConfig``).
    name_zh: str
    # The deadline the agency has from approval, until an administrator changes it.
    deadline: timedelta
    # Agency sectors it may be assigned to; empty means any agency.
    sectors: frozenset[str] = frozenset()
    # Identifier kinds it is aimed at, the usual one first (``none``: no target).
    target_kinds: tuple[str, ...] = (TargetKind.NONE,)
    # The least role that approves it.
    approver: str = Role.ANALYST
    needs_legal_document: bool = False
    # The legal document is named by the approving supervisor, not by the preparer
    # (fund return: "the supervisor approves the return with the legal document").
    legal_document_at_approval: bool = False
    # A return made through mixing (pro rata, CBRC/MPS 2016 Art. 8 (3)) waits for a public
    # notice of ``settings.RETURN_NOTICE_DAYS`` and the review of any objection before approval.
    notice_when_mixed: bool = False
    needs_filed_case: bool = False
    result_fields: tuple[r.ResultField, ...] = ()
    holding: Holding | None = None
    # The instruction itself runs out ``holding.lapses_after`` from approval: never pushed later.
    lapse_bounds_delivery: bool = False
    # Its first delivery ends the case's golden hour (``Case.first_stop_delivered_at``).
    golden_hour: bool = False
    target_limit: TargetLimit | None = None
    # It carries the person to reach (name, phone, address: ``Task.contact_*``), shown in
    # full to the centre and the assigned agency only (``coordination.masking.mask_contact``).
    reaches_person: bool = False
    # The platform computes the task's amount and allocations itself from the trace of the
    # frozen target (``cases.fund_return``); the push carries ``allocations`` (v1.1), the
    # result ``returned``, and each victim case's ``amount_returned`` follows from it.
    allocates_return: bool = False
    watchers: frozenset[str] = frozenset()
    page: ResultPage = field(default_factory=ResultPage)
    demo_answer: str = DemoAnswer.NOTHING

    def __post_init__(self) -> None:
        # A ``TaskType`` member is stored as its plain code.
        object.__setattr__(self, "code", str(self.code))

    @property
    def needs_supervisor(self) -> bool:
        return self.approver == Role.SUPERVISOR

    @property
    def feeds_flow(self) -> bool:
        """Its result's onward transfers become identifiers, edges and proposed follow-ups."""
        return any(f.name == "onward_transfers" for f in self.result_fields)

    @property
    def result_field_names(self) -> frozenset[str]:
        return frozenset(f.name for f in self.result_fields)

    @property
    def required_fields(self) -> frozenset[str]:
        return frozenset(f.name for f in self.result_fields if f.required)

    @property
    def deadline_minutes(self) -> int:
        return int(self.deadline.total_seconds() // 60)

    def clean_result(self, status: str, result) -> dict:
        return r.clean_result(self.result_fields, status, result)


_CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")  # Task.type holds 32 characters
_PAGE_FIELDS = frozenset({"amount_held", "balance", "outcome"})  # the inputs ResultForm has


class TaskTypeRegistry:
    """The registered task types, in registration order (the order of every list)."""

    def __init__(self) -> None:
        self._types: dict[str, TaskTypeSpec] = {}

    def register(self, spec: TaskTypeSpec) -> TaskTypeSpec:
        """Add ``spec``; refuses a code taken or a declaration that contradicts itself."""
        if spec.code in self._types:
            raise ValueError(f"task type {spec.code!r} is already registered")
        _check(spec)
        self._types[spec.code] = spec
        return spec

    def unregister(self, code: str) -> None:
        """Remove a type (tests register throw-away types and take them out again)."""
        del self._types[code]

    def get(self, code: str) -> TaskTypeSpec:
        """The declaration of ``code``; ``LookupError`` if no such type is registered."""
        try:
            return self._types[code]
        except KeyError:
            raise LookupError(f"unknown task type {code!r}") from None

    def find(self, code: object) -> TaskTypeSpec | None:
        return self._types.get(code) if isinstance(code, str) else None

    def where(self, predicate: Callable[[TaskTypeSpec], object]) -> list[str]:
        """Codes of the types for which ``predicate`` holds, in order."""
        return [spec.code for spec in self._types.values() if predicate(spec)]

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code in self._types

    def __iter__(self) -> Iterator[TaskTypeSpec]:
        return iter(list(self._types.values()))

    def __len__(self) -> int:
        return len(self._types)


def _check(spec: TaskTypeSpec) -> None:
    problems = []
    if not _CODE.match(spec.code):
        problems.append("the code is lower-case snake case of at most 32 characters")
    names = spec.result_field_names
    if len(names) != len(spec.result_fields):
        problems.append("a result field is declared twice")
    if spec.approver not in (Role.ANALYST, Role.SUPERVISOR):
        problems.append("the approver is an analyst or a supervisor")
    if not set(spec.sectors) <= set(Sector.values):
        problems.append(f"unknown sectors {sorted(set(spec.sectors) - set(Sector.values))}")
    if not spec.target_kinds or not set(spec.target_kinds) <= set(TargetKind.values):
        problems.append("target kinds are TargetKind values, at least one")
    page = spec.page
    if not set(page.fields) <= _PAGE_FIELDS & names:
        problems.append(f"the page asks for {sorted(set(page.fields) - (_PAGE_FIELDS & names))}, not result fields")
    if page.stamp is not None and page.stamp not in names:
        problems.append(f"the page stamps {page.stamp!r}, not a result field")
    if page.returns_allocations and not spec.allocates_return:
        problems.append("the page returns allocations of a type that allocates none")
    if page.onward_transfers and not spec.feeds_flow:
        problems.append("the page asks for onward transfers the result does not take")
    if spec.holding is not None and "amount_held" not in names:
        problems.append("a holding type reports amount_held")
    if (spec.watchers or spec.lapse_bounds_delivery) and spec.holding is None:
        problems.append("lapse watchers and delivery bounds need a holding (a lapse)")
    if not set(spec.watchers) <= set(Watcher):
        problems.append(f"unknown watchers {sorted(set(spec.watchers) - set(Watcher))}")
    if spec.allocates_return and ("returned" not in names or tuple(spec.target_kinds) != (TargetKind.BANK_ACCOUNT,)):
        problems.append("a return is aimed at a bank account and reports returned")
    if spec.demo_answer not in set(DemoAnswer):
        problems.append(f"unknown demo answer {spec.demo_answer!r}")
    if problems:
        raise ValueError(f"task type {spec.code!r}: " + "; ".join(problems))


registry = TaskTypeRegistry()
register = registry.register
get = registry.get


def choices() -> list[tuple[str, Promise]]:
    """``(code, label)`` of every registered type: the ``choices`` of model and form fields.

    Fields take this function, not its value, so a type registered later is a
    valid choice at once and adding one changes no migration.
    """
    return [(spec.code, spec.label) for spec in registry]


#: ``choices()`` as an iterable read afresh at each use, for fields that take no callable
#: or whose schema generator does not call one (django-filter's ``ChoiceFilter``).
lazy_choices = CallableChoiceIterator(choices)


# --- the protocol's types ------------------------------------------------------------

_HOLD_FIELDS = (
    r.ResultField("amount_held", r.money, required=True),
    r.ResultField("balance", r.money),
    r.ResultField("onward_transfers", r.onward_transfers),
    r.ResultField("lapses_at", r.moment),
)
_HOLD_PAGE = ResultPage(on_completion=("amount_held",), always=("balance",), onward_transfers=True)
_DONE_FIELDS = (r.ResultField("done_at", r.moment, required=True),)
_DONE_PAGE = ResultPage(stamp="done_at")

register(
    TaskTypeSpec(
        code=TaskType.EMERGENCY_STOP_PAYMENT,
        label=TaskType.EMERGENCY_STOP_PAYMENT.label,
        name_zh="紧急止付",
        deadline=timedelta(minutes=30),
        sectors=FINANCIAL_SECTORS,
        target_kinds=(TargetKind.BANK_ACCOUNT,),
        result_fields=_HOLD_FIELDS,
        # A stop-payment lasts 48 hours in law.
        holding=Holding(case_total="amount_stopped", lapses_after=timedelta(hours=48)),
        lapse_bounds_delivery=True,
        golden_hour=True,
        # The law allows one renewal: at most two per account and case, ever (protocol v1.1: a third is a 400).
        target_limit=TargetLimit(2, _("This account already has two stop-payments in this case.")),
        watchers=frozenset({Watcher.LAPSE_WARNING}),
        page=_HOLD_PAGE,
        demo_answer=DemoAnswer.HOLD,
    )
)
register(
    TaskTypeSpec(
        code=TaskType.FREEZE,
        label=TaskType.FREEZE.label,
        name_zh="冻结",
        deadline=timedelta(hours=4),
        sectors=FINANCIAL_SECTORS,
        target_kinds=(TargetKind.BANK_ACCOUNT,),
        approver=Role.SUPERVISOR,
        needs_legal_document=True,
        needs_filed_case=True,
        result_fields=_HOLD_FIELDS,
        # A deposit freeze lasts at most six months before it must be renewed.
        holding=Holding(case_total="amount_frozen", lapses_after=timedelta(days=180)),
        watchers=frozenset({Watcher.RENEWAL_REMINDER}),
        page=_HOLD_PAGE,
        demo_answer=DemoAnswer.HOLD,
    )
)
register(
    TaskTypeSpec(
        code=TaskType.ACCOUNT_QUERY,
        label=TaskType.ACCOUNT_QUERY.label,
        name_zh="账户查询",
        deadline=timedelta(hours=4),
        sectors=FINANCIAL_SECTORS,
        target_kinds=(TargetKind.BANK_ACCOUNT,),
        approver=Role.SUPERVISOR,
        needs_legal_document=True,
        needs_filed_case=True,
        result_fields=(
            r.ResultField("holder_name", r.text),
            r.ResultField("holder_id_number", r.resident_id),
            r.ResultField("balance", r.money),
            r.ResultField("opened_at", r.moment),
            r.ResultField("onward_transfers", r.onward_transfers),
        ),
        page=ResultPage(onward_transfers=True),
        demo_answer=DemoAnswer.ACCOUNT_QUERY,
    )
)
register(
    TaskTypeSpec(
        code=TaskType.NUMBER_SHUTDOWN,
        label=TaskType.NUMBER_SHUTDOWN.label,
        name_zh="号码关停",
        deadline=timedelta(hours=2),
        sectors=frozenset({Sector.TELECOM_OPERATOR}),
        target_kinds=(TargetKind.PHONE,),
        result_fields=_DONE_FIELDS,
        page=_DONE_PAGE,
        demo_answer=DemoAnswer.DONE,
    )
)
register(
    TaskTypeSpec(
        code=TaskType.NUMBER_TRACE,
        label=TaskType.NUMBER_TRACE.label,
        name_zh="号码溯源",
        deadline=timedelta(hours=24),
        sectors=frozenset({Sector.TELECOM_OPERATOR}),
        target_kinds=(TargetKind.PHONE,),
        approver=Role.SUPERVISOR,
        result_fields=(
            r.ResultField("registered_name", r.text),
            r.ResultField("registered_id_number", r.resident_id),
            r.ResultField("location", r.text),
            r.ResultField("related_numbers", r.mobile_numbers),
        ),
        demo_answer=DemoAnswer.NUMBER_TRACE,
    )
)
register(
    TaskTypeSpec(
        code=TaskType.URL_BLOCK,
        label=TaskType.URL_BLOCK.label,
        name_zh="网址封堵",
        deadline=timedelta(hours=4),
        sectors=frozenset({Sector.INTERNET_REGULATOR, Sector.INTERNET_PLATFORM}),
        target_kinds=(TargetKind.URL, TargetKind.APP),
        result_fields=_DONE_FIELDS,
        page=_DONE_PAGE,
        demo_answer=DemoAnswer.DONE,
    )
)
register(
    TaskTypeSpec(
        code=TaskType.ACCOUNT_BAN,
        label=TaskType.ACCOUNT_BAN.label,
        name_zh="平台账号封禁",
        deadline=timedelta(hours=4),
        sectors=frozenset({Sector.INTERNET_PLATFORM}),
        target_kinds=(TargetKind.SOCIAL_ACCOUNT, TargetKind.APP),
        result_fields=_DONE_FIELDS,
        page=_DONE_PAGE,
        demo_answer=DemoAnswer.DONE,
    )
)
register(
    TaskTypeSpec(
        code=TaskType.VICTIM_WARNING,
        label=TaskType.VICTIM_WARNING.label,
        name_zh="预警劝阻",
        deadline=timedelta(minutes=30),
        sectors=frozenset({Sector.PUBLIC_SECURITY}),
        target_kinds=(TargetKind.NONE, TargetKind.PHONE, TargetKind.PERSON),
        reaches_person=True,
        result_fields=(
            r.ResultField("contacted_at", r.moment),
            r.ResultField("outcome", r.warning_outcome),
            # Ours beside the protocol's two (docs/warnings.md): how, and what was lost already.
            r.ResultField("method", r.contact_method),
            r.ResultField("amount_lost", r.money),
        ),
        page=ResultPage(on_completion=("outcome",), stamp="contacted_at"),
        demo_answer=DemoAnswer.WARNING,
    )
)
register(
    TaskTypeSpec(
        code=TaskType.OTHER,
        label=TaskType.OTHER.label,
        name_zh="其他协作",
        deadline=timedelta(days=3),
    )
)
register(
    TaskTypeSpec(
        code="fund_return",
        label=_("Fund return"),
        name_zh="溯源返还",
        # The bank executes a return within 3 working days (CBRC/MPS 2016, Art. 8).
        deadline=timedelta(days=3),
        sectors=FINANCIAL_SECTORS,
        target_kinds=(TargetKind.BANK_ACCOUNT,),
        approver=Role.SUPERVISOR,
        needs_legal_document=True,
        legal_document_at_approval=True,
        notice_when_mixed=True,
        needs_filed_case=True,
        result_fields=(r.ResultField("returned", r.returned_rows, required=True),),
        allocates_return=True,
        page=ResultPage(returns_allocations=True),
        demo_answer=DemoAnswer.RETURN,
    )
)
