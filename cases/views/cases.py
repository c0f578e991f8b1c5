"""Case pages: home, list, intake (with live checks), case page, one-click actions."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from agencies import roles
from coordination import audit, hooks, reads
from coordination.choices import OFF_TIMELINE, AuditAction
from coordination.masking import mask, mask_free_text, mask_value
from coordination.models import AuditRecord
from coordination.pagination import Keyset, page_of
from coordination.views import ScopedView

from .. import actions, holdings, measures, permissions
from ..audit_labels import known_labels
from ..choices import HOLDING_STATES, IdentifierKind, ProposalState, TaskState, TaskType
from ..filtersets import CaseListFilterSet
from ..forms import CaseIntakeForm, FileCaseForm, TransferFormSet
from ..models import Case, CaseIdentifier, FollowUpProposal, Identifier, Task, Transfer, Victim
from ..validators import (
    account_warning,
    normalise_identifier,
    validate_amount,
    validate_identifier,
    validate_resident_id,
    validate_victim_phone,
)
from . import case_edit

PAGE_SIZE = 50
# The case list's orders, each served by an index (case_reported_idx, case_loss_idx).
SORTS = {
    "-reported_at": Keyset(("-reported_at", "-id")),
    "reported_at": Keyset(("reported_at", "id")),
    "-loss_amount": Keyset(("-loss_amount", "-id")),
}


def home(request):
    """Each role starts where its work is."""
    from django.contrib.auth.views import redirect_to_login

    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    home_page = roles.policy_for(user).home
    if not home_page:
        raise PermissionDenied
    return redirect(home_page)


def sees_cases(user) -> bool:
    return roles.can(user, "sees_all_cases")


def _fields(url: str) -> list[tuple[str, str]]:
    """A page link's query (``?a=1&b=2``) as the hidden fields of a form that posts it."""
    return [(name, value) for name, values in QueryDict(url[1:]).lists() for value in values] if url else []


class CaseListView(ScopedView):
    """The API's case filters (``CaseListFilterSet``) and keyset pages (no OFFSET/COUNT)."""

    def allowed(self, user):
        return sees_cases(user)

    def post(self, request):
        """The same list with the filters in the body: a searched account or phone stays out of the URL.

        The search form posts here; the next page is a form posting the same filters
        with the position (``next_fields``), so no page of a search puts ``q`` in a URL.
        """
        query = request.POST.copy()
        query.pop("csrfmiddlewaretoken", None)
        request.GET = query  # the filters and the keyset page read request.GET
        return self.get(request, posted=True)

    def get(self, request, posted=False):
        cases = self.scoped(Case).select_related("fraud_type", "district")
        filterset = CaseListFilterSet(request.GET or None, queryset=cases, request=request)
        sort = (filterset.is_valid() and filterset.form.cleaned_data.get("sort")) or "-reported_at"
        page = page_of(request, filterset.qs, SORTS[sort], PAGE_SIZE)
        rows = page.rows
        victims = defaultdict(list)
        for victim in self.scoped(Victim).filter(case_id__in=[c.pk for c in rows]).order_by("id"):
            victims[victim.case_id].append(victim)
        for row in rows:
            row.victim_list = victims[row.pk]
        return render(
            request,
            "cases/case_list.html",
            {
                "form": filterset.form,
                "cases": rows,
                "next_url": page.next_url,
                "first_url": page.first_url,
                "posted": posted,
                "next_fields": _fields(page.next_url) if posted else [],
                "first_fields": _fields(page.first_url) if posted else [],
                "nav": "cases",
            },
        )


class CaseCreateView(ScopedView):
    """Intake: victim, facts and the victim's transfers as a repeating group of rows."""

    def allowed(self, user):
        return permissions.can_create_case(user)

    def get(self, request):
        form = CaseIntakeForm()
        formset = TransferFormSet(prefix="transfers", form_kwargs={"user": request.user})
        return self.show(form, formset)

    def show(self, form, formset, status=200):
        return render(
            self.request, "cases/case_form.html", {"form": form, "formset": formset, "nav": "intake"}, status=status
        )

    def post(self, request):
        form = CaseIntakeForm(request.POST)
        formset = TransferFormSet(request.POST, prefix="transfers", form_kwargs={"user": request.user})
        if not (form.is_valid() and formset.is_valid() and form.check_with_transfers(formset)):
            return self.show(form, formset, status=400)
        data = form.cleaned_data
        transfers = [
            actions.TransferData(
                from_account=row.cleaned_data["from_account"],
                from_bank=row.cleaned_data.get("from_bank"),
                to_account=row.cleaned_data["to_account"],
                to_bank=row.cleaned_data["to_bank"],
                amount=row.cleaned_data["amount"],
                at=row.cleaned_data["at"],
            )
            for row in formset.live_forms()
        ]
        identifiers = []
        if data.get("suspect_phone"):
            identifiers.append(actions.IdentifierData(kind=IdentifierKind.PHONE, value=data["suspect_phone"]))
        if data.get("suspect_url"):
            identifiers.append(actions.IdentifierData(kind=IdentifierKind.URL, value=data["suspect_url"]))
        loss = data.get("loss_amount") or sum((t.amount for t in transfers), Decimal("0.00"))
        try:
            case = actions.create_case(
                acting_user=request.user,
                fraud_type=data["fraud_type"],
                channel=data["channel"],
                district=data["district"],
                reported_at=data["reported_at"],
                occurred_at=data.get("occurred_at"),
                loss_amount=loss,
                summary=data.get("summary", ""),
                victims=[
                    actions.VictimData(
                        name=data["victim_name"], id_number=data["victim_id_number"], phone=data["victim_phone"]
                    )
                ],
                transfers=transfers,
                identifiers=identifiers,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.show(form, formset, status=400)
        messages.success(request, _("Case %(ref)s recorded.") % {"ref": case.reference})
        return redirect("case-detail", pk=case.pk)


# Which check applies to which intake field (by the end of its name).
FIELD_CHECKS = (
    ("victim_id_number", None, validate_resident_id),
    ("victim_phone", None, validate_victim_phone),
    ("_account", IdentifierKind.BANK_ACCOUNT, None),
    ("account_number", IdentifierKind.BANK_ACCOUNT, None),
    ("suspect_phone", IdentifierKind.PHONE, None),
    ("suspect_url", IdentifierKind.URL, None),
    ("amount", None, validate_amount),
)


class FieldCheckView(ScopedView):
    """HTMX: the inline message for one field, and "seen in N cases" for a known identifier."""

    def allowed(self, user):
        return permissions.can_create_case(user) or permissions.can_create_task(user) or user.is_agency_user

    def post(self, request):
        name = request.POST.get("field", "")
        value = (request.POST.get(name) or "").strip()
        context = {"error": "", "warning": "", "known": None, "value": value}
        if value:
            for suffix, kind, check in FIELD_CHECKS:
                if not name.endswith(suffix):
                    continue
                try:
                    if kind:
                        validate_identifier(kind, value)
                    else:
                        check(value)
                except ValidationError as exc:
                    context["error"] = " ".join(exc.messages)
                    break
                if kind == IdentifierKind.BANK_ACCOUNT:
                    context["warning"] = account_warning(value)
                if kind and roles.can(request.user, "sees_all_cases"):
                    # The centre sees every identifier; agencies only their own targets.
                    identifier = (
                        self.scoped(Identifier)
                        .filter(kind=kind, value=normalise_identifier(kind, value))
                        .only("pk", "case_count")
                        .first()
                    )
                    # A lookup of an identifier among the cases: audited like the API's (one row).
                    reads.primary(
                        request,
                        AuditAction.IDENTIFIER_LOOKUP,
                        object_type="cases.identifier",
                        object_id=identifier.pk if identifier else None,
                        kind=kind,
                        value=mask_value(kind, normalise_identifier(kind, value)),
                        involved=bool(identifier and identifier.case_count),
                    )
                    if identifier and identifier.case_count:
                        context["known"] = identifier
                        context["search_url"] = reverse("case-list") + "?q=" + normalise_identifier(kind, value)
                break
        return render(request, "cases/_field_check.html", context)


class CaseDetailView(ScopedView):
    """Facts, victims (masked), identifiers, money flow, tasks with deliveries, follow-ups, timeline."""

    def get(self, request, pk):
        case = self.get_scoped(self.scoped(Case).select_related("fraud_type", "channel", "district"), pk=pk)
        user = request.user
        # Every read of a case is in the audit trail: one row for the request, listing what it
        # showed in full (``coordination.reads``).
        reads.primary(request, AuditAction.CASE_VIEW, obj=case, case_id=case.pk)
        victims = list(self.scoped(Victim).filter(case=case))
        links = list(
            self.scoped(CaseIdentifier)
            .filter(case=case)
            .select_related("identifier", "identifier__bank")
            .order_by("id")
        )
        # Which identifier links each case, and what is held on it (constant queries).
        linked_cases, _unlinked = case_edit.linked_cases(self.scoped, case, links)
        transfers = list(
            self.scoped(Transfer)
            .filter(case=case)
            .select_related("from_identifier__bank", "to_identifier__bank")
            .order_by("at", "id")
        )
        tasks = list(self.scoped(Task).filter(case=case).select_related("agency", "target").order_by("id"))
        # Other apps' columns of the task table (alerts: each task's deliveries).
        task_columns = hooks.panels("case_page_task_columns", self, case, tasks)
        proposals = list(
            self.scoped(FollowUpProposal)
            .filter(case=case, state=ProposalState.PROPOSED)
            .select_related("identifier", "agency")
        )
        timeline = list(
            self.scoped(AuditRecord)
            .filter(case_id=case.pk)
            .exclude(action__in=OFF_TIMELINE)
            .order_by("-at", "-id")[:100]
        )
        # In the reader's language, masked for the reader, from the objects in hand.
        known = known_labels(
            user,
            case=case,
            tasks=tasks,
            identifiers=[link.identifier for link in links],
            transfers=transfers,
        )
        audit.describe(user, timeline, known)
        # Free text masked with the case's own names for a masked reader (``cases.people``), from the rows in hand.
        names = (
            {v.name for v in victims}
            | {link.identifier.holder_name for link in links}
            | {t.contact_name for t in tasks}
        )
        for task in tasks:
            task.shown_reason = mask_free_text(user, task.reason, names, of=("cases.task", task.pk, case.pk))
        return render(
            request,
            "cases/case_detail.html",
            {
                "case": case,
                "summary": mask_free_text(user, case.summary, names, of=("cases.case", case.pk, case.pk)),
                "closure_summary": mask_free_text(
                    user, case.closure_summary, names, of=("cases.case", case.pk, case.pk)
                ),
                "victims": victims,
                "links": links,
                "linked_cases": linked_cases,
                "transfers": transfers,
                "tasks": tasks,
                "task_columns": task_columns,
                "proposals": proposals,
                "timeline": timeline,
                "last_event": max((r.pk for r in timeline), default=0),
                "graph": flow_graph(user, transfers, tasks),
                # Stopped and frozen now, each yuan counted once (cases.holdings, docs/holdings.md).
                "held": holdings.case_totals([case.pk])[case.pk],
                # Fund returns: what came back to this case's victims (any case's return), and
                # the accounts a live freeze holds, each with its return page.
                "returns": case_returns(user, case),
                "frozen": frozen_targets(tasks),
                "can_issue": permissions.can_create_task(user) and case.status != "closed",
                "can_edit": permissions.can_edit_case(user),
                "can_change": not case.is_closed
                and (permissions.can_edit_case(user) or permissions.can_extend_case(user)),
                # What each identifier and the case allow (the registry: cases.measures).
                "measures": measures.case_offers(case, links, tasks),
                "file_form": FileCaseForm(),
                "nav": "cases",
            },
        )


def frozen_targets(tasks) -> list:
    """The accounts a completed freeze of the case holds money on, once each (from the tasks in hand)."""
    seen = {}
    for task in tasks:
        if task.type == TaskType.FREEZE and task.state in HOLDING_STATES and task.amount_held and task.target_id:
            seen.setdefault(task.target_id, task.target)
    return list(seen.values())


def case_returns(user, case):
    from .fund_return import case_returns as returns

    return returns(user, case)


def flow_graph(user, transfers, tasks) -> dict:
    """Accounts as nodes, transfers as edges with amounts; held amounts marked on their node."""
    from coordination.templatetags.coordination_tags import yuan

    held = defaultdict(Decimal)
    by_id = {task.pk: task for task in tasks}
    # Each yuan once: a freeze converted from a stop-payment takes over what it holds (cases.holdings).
    for pk, amount in holdings.counted(tasks).items():
        if by_id[pk].target_id and amount:
            held[by_id[pk].target_id] += amount
    nodes, edges = {}, []
    for transfer in transfers:
        for identifier, _is_victim in (
            (transfer.from_identifier, transfer.source == "victim_report"),
            (transfer.to_identifier, False),
        ):
            if identifier.pk in nodes:
                continue
            label = mask(user, identifier.kind, identifier.value)
            if identifier.bank_id:
                label += f"\n{identifier.bank.code}"
            classes = []
            if identifier.pk in held:
                label += "\n" + _("held %(amount)s") % {"amount": yuan(held[identifier.pk])}
                classes.append("held")
            nodes[identifier.pk] = {"id": f"i{identifier.pk}", "label": label, "classes": " ".join(classes)}
        edges.append(
            {
                "id": f"t{transfer.pk}",
                "source": f"i{transfer.from_identifier_id}",
                "target": f"i{transfer.to_identifier_id}",
                "label": yuan(transfer.amount),
            }
        )
    # The victim's own accounts are the roots of the flow.
    targets = {e["target"] for e in edges}
    for node in nodes.values():
        if node["id"] not in targets:
            node["classes"] = (node["classes"] + " victim").strip()
    return {"nodes": list(nodes.values()), "edges": edges}


class CaseActionView(ScopedView):
    """POSTs on a case: stop-payments in one click, issue follow-ups, file."""

    def post(self, request, pk, what):
        case = self.get_scoped(Case, pk=pk)
        user = request.user
        if what == "stop-payments":
            if not permissions.can_create_task(user):
                raise PermissionDenied
            tasks = self.run_action(actions.issue_stop_payments, case, acting_user=user)
            if tasks is not None:
                if tasks:
                    messages.success(request, _("%(n)d stop-payment(s) issued.") % {"n": len(tasks)})
                else:
                    messages.info(request, _("Every receiving account already has a stop-payment."))
                refused = (
                    self.scoped(Task)
                    .filter(case=case, type=TaskType.EMERGENCY_STOP_PAYMENT, state=TaskState.REJECTED)
                    .filter(follow_ups__isnull=True)
                    .count()
                )
                if refused:
                    messages.warning(
                        request,
                        _(
                            "%(n)d stop-payment(s) the bank rejected were not re-sent: "
                            "re-issue them with corrected details (the reason is in the task table)."
                        )
                        % {"n": refused},
                    )
        elif what == "follow-ups":
            if not permissions.can_create_task(user):
                raise PermissionDenied
            ids = [int(i) for i in request.POST.getlist("proposal") if i.isdigit()] or None
            tasks = self.run_action(actions.issue_follow_ups, case, acting_user=user, proposal_ids=ids)
            if tasks is not None:
                messages.success(request, _("%(n)d follow-up stop-payment(s) issued.") % {"n": len(tasks)})
        elif what == "file":
            if not permissions.can_edit_case(user):
                raise PermissionDenied
            form = FileCaseForm(request.POST)
            if form.is_valid():
                self.run_action(
                    actions.file_case,
                    case,
                    acting_user=user,
                    filing_number=form.cleaned_data["filing_number"],
                    success=_("The case is filed."),
                )
            else:
                messages.error(request, _("The filing number is required."))
        else:
            raise PermissionDenied
        return redirect("case-detail", pk=case.pk)


class CaseChangesView(ScopedView):
    """HTMX: has anything happened to the case since the page was drawn? (one indexed read)."""

    def get(self, request, pk):
        case = self.get_scoped(Case, pk=pk)
        try:
            after = int(request.GET.get("after", "0"))
        except ValueError:
            after = 0
        count = (
            self.scoped(AuditRecord)
            .filter(case_id=case.pk, id__gt=after)
            .exclude(action__in=OFF_TIMELINE)
            .order_by()
            .count()
        )
        return render(request, "cases/_case_changes.html", {"case": case, "count": count})
