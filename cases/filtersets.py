"""Filters of the case, task and proposal lists (django-filter), for the API and the pages.

One FilterSet per model holds the rules (NetBox style): the API's viewsets use
them as they are, and a page that offers more than the API (the case list's
search box and whole local days) subclasses them and reaches the same filters.
Every filter maps to an indexed column (see the indexes in ``cases/models``),
so a filtered keyset page stays an index range scan. Choices over other models
come from ``visible_to``: a filter never reveals a row the caller cannot see.
"""

from __future__ import annotations

import re
from datetime import timedelta

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency
from coordination.filters import BooleanFilter, InstantFilter
from coordination.filtersets import local_midnight
from coordination.masking import KEPT as MASKED_KINDS
from coordination.masking import sees_full_pii

from . import queues, search, task_types
from .choices import CaseStatus, IdentifierKind, ProposalState, TaskState
from .forms import CaseFilterForm
from .models import Case, CaseIdentifier, Channel, District, FollowUpProposal, FraudType, Identifier, Task
from .validators import normalise_identifier, validate_identifier

REFERENCE_RE = re.compile(r"^CD-\d{4}-\d{1,12}$", re.IGNORECASE)
# The kinds a search box value is looked up as whole (by its stored form) before it is
# taken for words; a URL is searched as words of its stored form, so a part of it finds it too.
SEARCH_KINDS = (IdentifierKind.BANK_ACCOUNT, IdentifierKind.PHONE)


def visible_agencies(request):
    return Agency.objects.visible_to(getattr(request, "user", None))


def visible_cases(request):
    return Case.objects.visible_to(getattr(request, "user", None))


def _identifier_ids(value: str, kind: str | None = None):
    """Identifiers whose stored (normalised) value matches ``value`` in any or one kind."""
    kinds = [kind] if kind else IdentifierKind.values
    forms = {normalise_identifier(k, value) for k in kinds} - {""}
    qs = Identifier.objects.filter(value__in=forms)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.values("pk")


class CaseFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=CaseStatus.choices)
    fraud_type = django_filters.ModelChoiceFilter(queryset=FraudType.objects.all(), to_field_name="code")
    district = django_filters.ModelChoiceFilter(queryset=District.objects.all(), to_field_name="code")
    channel = django_filters.ModelChoiceFilter(queryset=Channel.objects.all(), to_field_name="code")
    reported_after = InstantFilter(field_name="reported_at", lookup_expr="gte")
    reported_before = InstantFilter(field_name="reported_at", lookup_expr="lt")
    reference = django_filters.CharFilter(field_name="reference", max_length=20)
    identifier = django_filters.CharFilter(
        method="filter_identifier", max_length=255, help_text=_("An account, phone, URL... named in the case.")
    )
    agency = django_filters.ModelChoiceFilter(
        queryset=visible_agencies,
        to_field_name="code",
        field_name="agencies",
        method="filter_agency",
        help_text=_("A participating agency."),
    )
    q = django_filters.CharFilter(
        method="search",
        max_length=255,
        validators=[search.validate_query],
        help_text=_(
            "Search: a reference; a whole account, phone or URL; else words (space-separated, all must match) "
            "found in a victim's name or phone, an identifier or the summary, in part: a surname, the last "
            "digits of an account. Roles that see masked values search only what the mask shows."
        ),
    )

    class Meta:
        model = Case
        fields = ["status", "fraud_type", "district", "channel", "reference"]

    def search(self, queryset, name, value):
        """A reference, else a whole identifier (the ``identifier`` filter), else partial words (``cases.search``)."""
        q = value.strip()
        if not q:
            return queryset
        if REFERENCE_RE.match(q):
            return self.filters["reference"].filter(queryset, q.upper())
        user = getattr(self.request, "user", None)
        # The exact lookup finds a whole account by its stored form (spaces, +86 dropped);
        # a masked reader has no whole account to type, and must not confirm one.
        if sees_full_pii(user) and any(_is_identifier(kind, q) for kind in SEARCH_KINDS):
            # Digits that read as an identifier may still be the end of a longer one
            # (``95588`` is a phone, and the tail of many accounts): words when no
            # identifier is stored so.
            found = list(_identifier_ids(q).values_list("pk", flat=True)[:100])
            if found:
                links = CaseIdentifier.objects.filter(identifier_id__in=found).values("case_id")
                return queryset.filter(pk__in=links)
        if _is_identifier(IdentifierKind.URL, q):
            q = normalise_identifier(IdentifierKind.URL, q)
        return search.filter_cases(queryset, q, user)

    def filter_identifier(self, queryset, name, value):
        identifiers = _identifier_ids(value)
        if not sees_full_pii(getattr(self.request, "user", None)):
            # A masked reader confirms no account or phone by its hidden digits (docs/permissions.md).
            identifiers = identifiers.exclude(kind__in=list(MASKED_KINDS))
        links = CaseIdentifier.objects.filter(identifier__in=identifiers).values("case_id")
        return queryset.filter(pk__in=links)

    def filter_agency(self, queryset, name, value):
        # A semi-join on the case-agency table's unique (case_id, agency_id) index rather
        # than a join: the link table has no rule of its own, it only narrows cases that
        # are already ``visible_to`` the caller.
        through = Case.agencies.through.objects.filter(agency_id=value.pk).order_by().values("case_id")
        return queryset.filter(pk__in=Subquery(through))


class CaseListFilterSet(CaseFilterSet):
    """The case list page: the API's case filters (its search box is the API's ``q``), plus whole local days.

    The page's own form (``CaseFilterForm``: its labels and choices, district and
    fraud type by id as the page's links have always had them, and the sort)
    validates the query; the filtering is the API's filters above. As the page
    always did, a query with an invalid field filters nothing and shows its errors.
    """

    date_from = django_filters.DateFilter(method="filter_from_day")
    date_to = django_filters.DateFilter(method="filter_to_day")

    @property
    def form(self):
        if not hasattr(self, "_form"):
            user = getattr(self.request, "user", None)
            self._form = CaseFilterForm(self.data if self.is_bound else None, user=user)
        return self._form

    def filter_queryset(self, queryset):
        if not self.form.is_valid():
            return queryset
        for name, value in self.form.cleaned_data.items():
            if name in self.filters:  # not ``sort``: the order is the page's keyset
                queryset = self.filters[name].filter(queryset, value)
        return queryset

    def filter_from_day(self, queryset, name, value):
        # Whole local days as a datetime range, so the reported_at indexes apply.
        return self.filters["reported_after"].filter(queryset, local_midnight(value))

    def filter_to_day(self, queryset, name, value):
        return self.filters["reported_before"].filter(queryset, local_midnight(value + timedelta(days=1)))


def _is_identifier(kind: str, value: str) -> bool:
    try:
        validate_identifier(kind, value)
    except ValidationError:
        return False
    return True


class TaskFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(field_name="state", choices=TaskState.choices, method="filter_status")
    type = django_filters.ChoiceFilter(choices=task_types.lazy_choices)
    agency = django_filters.ModelChoiceFilter(queryset=visible_agencies, to_field_name="code")
    case = django_filters.ModelChoiceFilter(queryset=visible_cases)
    needs_attention = BooleanFilter()
    is_overdue = BooleanFilter()
    created_after = InstantFilter(field_name="created_at", lookup_expr="gte")
    created_before = InstantFilter(field_name="created_at", lookup_expr="lt")
    reference = django_filters.CharFilter(field_name="case__reference", max_length=20)
    target = django_filters.CharFilter(method="filter_target", max_length=255, help_text=_("The target's value."))

    class Meta:
        model = Task
        fields = ["status", "type", "agency", "case", "needs_attention", "is_overdue"]

    def filter_status(self, queryset, name, value):
        # One status is an equality, not ``IN (...)``: on the 1M-case bench a one-element IN
        # (an array match to PostgreSQL 15) was once planned as a hash join over the whole
        # case table for an agency's large "completed" set (343 ms vs 3 ms for the equality).
        if not value:
            return queryset
        if len(value) == 1:
            return queryset.filter(state=value[0])
        return queryset.filter(state__in=value)

    def filter_target(self, queryset, name, value):
        return queryset.filter(target__in=_identifier_ids(value))


class TaskQueueFilterSet(TaskFilterSet):
    """The work queues' filters (approvals, inbox): the API's task filters, the age flag, a search box."""

    age = django_filters.ChoiceFilter(choices=queues.AgeFlag.choices, method="filter_age", label=_("Age"))
    q = django_filters.CharFilter(method="search", max_length=64, label=_("Search"))

    def filter_age(self, queryset, name, value):
        return queryset.filter(queues.age_filter(value, timezone.now()))

    def search(self, queryset, name, value):
        """A case reference, else the target account: in full, or its last digits (at least four).

        Only the queues of people who read these targets in full use it (the
        agency's own targets, the centre): the last digits reveal nothing hidden.
        """
        q = value.strip()
        if not q:
            return queryset
        if REFERENCE_RE.match(q):
            return queryset.filter(case__reference=q.upper())
        digits = re.sub(r"[\s-]", "", q)
        if digits.isascii() and digits.isdigit() and len(digits) >= 4:
            return queryset.filter(Q(target__value__endswith=digits) | Q(target__in=_identifier_ids(q)))
        return queryset.filter(target__in=_identifier_ids(q))


# Why a task asks for a person.
ATTENTION_KINDS = (
    ("delivery", _("Push failed or dead-lettered")),
    ("rejected", _("Rejected by the agency")),
    ("overdue", _("Overdue")),
)


def attention_filter(kind: str | None, now) -> Q:
    """The tasks on the "needs attention" page, or those of one ``kind`` (``ATTENTION_KINDS``).

    A failed or dead-lettered push and a rejection flag the task
    (``needs_attention``) until a supervisor marks it handled; an overdue task
    stays until it is answered.
    """
    from .choices import TaskState

    kinds = {
        "delivery": Q(needs_attention=True) & ~Q(state=TaskState.REJECTED),
        "rejected": Q(needs_attention=True, state=TaskState.REJECTED),
        "overdue": queues.age_filter(queues.AgeFlag.OVERDUE, now, deadlines={}),
    }
    if kind:
        return kinds[kind]
    return kinds["delivery"] | kinds["rejected"] | kinds["overdue"]


class AttentionFilterSet(TaskQueueFilterSet):
    kind = django_filters.ChoiceFilter(choices=ATTENTION_KINDS, method="filter_kind", label=_("Why"))

    def filter_kind(self, queryset, name, value):
        return queryset.filter(attention_filter(value, timezone.now()))


class ProposalFilterSet(django_filters.FilterSet):
    case = django_filters.ModelChoiceFilter(queryset=visible_cases)
    state = django_filters.ChoiceFilter(choices=ProposalState.choices)
    agency = django_filters.ModelChoiceFilter(queryset=visible_agencies, to_field_name="code")

    class Meta:
        model = FollowUpProposal
        fields = ["case", "state", "agency"]
