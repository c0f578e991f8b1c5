"""Measure pages: a task on an identifier or the case, the freeze conversion, a renewal, a re-issue.

What each identifier allows and to whom is ``cases.measures`` (the registry);
the rules are the actions' (``create_task``, ``cases.actions.freezes``), whose
refusals come back as form errors with status 400, never a 500. Like the case
page's other actions, a case or task out of the user's scope is 404 before any
role check (403).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from coordination.exceptions import Conflict, InvalidTransition
from coordination.masking import mask
from coordination.views import ScopedView

from .. import actions, measures, permissions, task_types
from ..choices import TargetKind, TaskState, TaskType
from ..measure_forms import ConvertForm, MeasureForm, ReissueForm, RenewForm
from ..models import Case, CaseIdentifier, Task


def _issued_message(task: Task) -> str:
    if task.state == TaskState.PENDING_APPROVAL:
        return _("Task #%(id)s (%(type)s) created: it awaits a supervisor's approval.") % {
            "id": task.pk,
            "type": task.get_type_display(),
        }
    return _("Task #%(id)s (%(type)s) issued.") % {"id": task.pk, "type": task.get_type_display()}


class CaseScopedActionView(ScopedView):
    """A case the user may see (404 otherwise), then the centre's right to create tasks (403)."""

    def case(self, pk) -> Case:
        case = self.get_scoped(self.scoped(Case).select_related("district"), pk=pk)
        if not permissions.can_create_task(self.request.user):
            raise PermissionDenied
        return case


class MeasureCreateView(CaseScopedActionView):
    """A task of one registered type, on one identifier of the case (``?identifier=``) or on the case."""

    def setup_measure(self, pk, type):
        case = self.case(pk)
        spec = task_types.registry.find(type)
        if spec is None:
            raise Http404
        identifier = None
        raw = self.request.POST.get("identifier") or self.request.GET.get("identifier") or ""
        if raw:
            if not raw.isdigit():
                raise Http404
            link = (
                self.scoped(CaseIdentifier)
                .filter(case=case, identifier_id=int(raw))
                .select_related("identifier__bank")
                .first()
            )
            if link is None:
                raise Http404
            identifier = link.identifier
        agencies = measures.candidate_agencies(spec, self.request.user, identifier)
        return case, spec, identifier, agencies

    def show(self, case, spec, identifier, form, status=200):
        blocked = ""
        if spec.needs_filed_case and case.status != "filed":
            blocked = _("A %(type)s needs a formally filed case: file the case first.") % {"type": spec.label}
        return render(
            self.request,
            "cases/measure_form.html",
            {
                "case": case,
                "spec": spec,
                "identifier": identifier,
                "form": form,
                "blocked": blocked,
                "kind_allowed": (identifier.kind if identifier else TargetKind.NONE) in spec.target_kinds,
                "nav": "cases",
            },
            status=status,
        )

    def get(self, request, pk, type):
        case, spec, identifier, agencies = self.setup_measure(pk, type)
        if spec.allocates_return and identifier is not None:
            # The platform computes a return's allocation: its own page shows the trace.
            return redirect("fund-return", pk=case.pk, identifier=identifier.pk)
        candidates = list(agencies)
        proposed = measures.proposed_agency(spec, candidates, case, identifier)
        initial = {"agency": proposed.pk if proposed else None}
        # A stop-payment or freeze asks for what the account is known to hold; the analyst may change it.
        known = measures.known_amount(case, identifier, spec)
        if known is not None:
            initial["amount"] = known.amount
        form = MeasureForm(spec=spec, agencies=agencies, identifier=identifier, initial=initial)
        if known is not None and "amount" in form.fields:
            form.fields["amount"].help_text = _("Prefilled: %(source)s You may change it.") % {"source": known.source}
        return self.show(case, spec, identifier, form)

    def post(self, request, pk, type):
        case, spec, identifier, agencies = self.setup_measure(pk, type)
        if spec.allocates_return and identifier is not None:
            return redirect("fund-return", pk=case.pk, identifier=identifier.pk)
        form = MeasureForm(request.POST, spec=spec, agencies=agencies, identifier=identifier)
        if not form.is_valid():
            return self.show(case, spec, identifier, form, status=400)
        data = form.cleaned_data
        try:
            task = actions.create_task(
                case,
                acting_user=request.user,
                type=spec.code,
                agency=data["agency"],
                target_kind=identifier.kind if identifier else TargetKind.NONE,
                target_value=identifier.value if identifier else "",
                target_bank=identifier.bank if identifier else None,
                amount=data.get("amount"),
                legal_document_number=data.get("legal_document_number", ""),
                note=data.get("note", ""),
            )
            task = actions.approve_if_allowed(task, request.user)
        except ValidationError as exc:
            form.add_action_errors(exc)
            return self.show(case, spec, identifier, form, status=400)
        messages.success(request, _issued_message(task))
        return redirect("case-detail", pk=case.pk)


class ConvertFreezesView(CaseScopedActionView):
    """Every live stop-payment of a filed case into a freeze, under one legal document."""

    def show(self, case, form, status=200):
        stops = list(
            self.scoped(Task)
            .filter(case=case, type=TaskType.EMERGENCY_STOP_PAYMENT, state__in=measures.CONVERTIBLE_STATES)
            .select_related("agency", "target")
            .order_by("id")
        )
        return render(
            self.request,
            "cases/convert_freezes.html",
            {"case": case, "form": form, "stops": stops, "filed": case.status == "filed", "nav": "cases"},
            status=status,
        )

    def get(self, request, pk):
        return self.show(self.case(pk), ConvertForm())

    def post(self, request, pk):
        case = self.case(pk)
        form = ConvertForm(request.POST)
        if not form.is_valid():
            return self.show(case, form, status=400)
        try:
            result = actions.convert_stop_payments(
                case, acting_user=request.user, legal_document_number=form.cleaned_data["legal_document_number"]
            )
        except ValidationError as exc:
            form.add_action_errors(exc)
            return self.show(case, form, status=400)
        if result.freezes:
            messages.success(
                request,
                _("%(n)d freeze(s) issued from live stop-payments: %(ids)s.")
                % {"n": len(result.freezes), "ids": ", ".join(f"#{t.pk}" for t in result.freezes)},
            )
        for identifier, reason in result.skipped:
            messages.info(
                request,
                _("Account %(account)s skipped: %(reason)s.")
                % {"account": _masked(request.user, identifier), "reason": reason},
            )
        if not result.freezes and not result.skipped:
            messages.info(request, _("No live stop-payment to convert."))
        return redirect("case-detail", pk=case.pk)


def _masked(user, identifier) -> str:
    return mask(user, identifier.kind, identifier.value)


class TaskScopedActionView(ScopedView):
    """A task the user may see (404 otherwise), then the centre's right to create tasks (403)."""

    def task(self, pk) -> Task:
        task = self.get_scoped(self.scoped(Task).select_related("case", "agency", "target", "target__bank"), pk=pk)
        if not permissions.can_create_task(self.request.user):
            raise PermissionDenied
        return task

    def run(self, form, func, task, **kwargs):
        """Call the action; its refusals on the form (a state race too). Returns the new task or ``None``."""
        try:
            return func(task, acting_user=self.request.user, **kwargs)
        except ValidationError as exc:
            form.add_action_errors(exc)
        except (InvalidTransition, Conflict) as exc:
            form.add_error(None, str(exc))
        return None


class RenewView(TaskScopedActionView):
    """Renew a freeze before it lapses: a new freeze naming the one it renews (product brief)."""

    def show(self, task, form, status=200):
        return render(
            self.request,
            "cases/renew.html",
            {"task": task, "form": form, "renewable": measures.can_renew(task), "nav": "cases"},
            status=status,
        )

    def get(self, request, pk):
        task = self.task(pk)
        return self.show(task, RenewForm(spec=actions.task_type(task.type)))

    def post(self, request, pk):
        task = self.task(pk)
        form = RenewForm(request.POST, spec=actions.task_type(task.type))
        if not form.is_valid():
            return self.show(task, form, status=400)
        renewal = self.run(
            form,
            actions.renew_task,
            task,
            legal_document_number=form.cleaned_data.get("legal_document_number", ""),
            amount=form.cleaned_data.get("amount"),
        )
        if renewal is None:
            return self.show(task, form, status=400)
        messages.success(request, _issued_message(renewal))
        return redirect("task-detail", pk=renewal.pk)


class ReissueView(TaskScopedActionView):
    """A rejected task again, corrected, with the agency's reason in view."""

    def form(self, task, data=None):
        spec = actions.task_type(task.type)
        agencies = measures.candidate_agencies(spec, self.request.user)
        initial = {"agency": task.agency_id, "amount": task.amount}
        return ReissueForm(data, task=task, spec=spec, agencies=agencies, initial=initial)

    def show(self, task, form, status=200):
        return render(
            self.request,
            "cases/reissue.html",
            {"task": task, "form": form, "reissuable": measures.can_reissue(task), "nav": "cases"},
            status=status,
        )

    def get(self, request, pk):
        task = self.task(pk)
        return self.show(task, self.form(task))

    def post(self, request, pk):
        task = self.task(pk)
        form = self.form(task, request.POST)
        if not form.is_valid():
            return self.show(task, form, status=400)
        data = form.cleaned_data
        reissued = self.run(
            form,
            actions.reissue_task,
            task,
            target_value=data.get("target_value") or None,
            agency=data["agency"],
            amount=task.amount if data.get("amount") is None else data["amount"],
            legal_document_number=data.get("legal_document_number", ""),
            note=data.get("note", ""),
        )
        if reissued is None:
            return self.show(task, form, status=400)
        messages.success(request, _issued_message(reissued))
        return redirect("case-detail", pk=reissued.case_id)
