"""Task pages: the task page and its one-button actions (the queues are in ``queues``)."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from coordination import hooks, reads
from coordination.choices import AuditAction
from coordination.exceptions import ActionNotAllowed, InvalidTransition
from coordination.masking import mask, mask_free_text
from coordination.views import ScopedView, redirect_back

from .. import actions, permissions
from ..choices import AWAITING_AGENCY_STATES, OPEN_TASK_STATES, ResultStatus, TaskState
from ..forms import OnwardFormSet, RejectForm, ResultForm
from ..measure_forms import ApproveForm, ObjectionForm
from ..models import ReturnAllocation, ReturnObjection, Task
from ..people import names_for

# What the page says when a result field the type requires is left empty.
REQUIRED_ON_PAGE = {"amount_held": gettext_lazy("Enter the amount held (0 if nothing could be held).")}


class TaskDetailView(ScopedView):
    """One task with the minimum case data it needs; the agency acts on it here."""

    def task(self, pk):
        return self.get_scoped(
            self.scoped(Task).select_related("case", "case__fraud_type", "case__district", "agency", "target"), pk=pk
        )

    def get(self, request, pk):
        task = self.task(pk)
        spec = actions.task_type(task.type)
        return self.show(
            task, ResultForm(task_type=spec), OnwardFormSet(prefix="onward", form_kwargs={"user": request.user})
        )

    def show(
        self,
        task,
        result_form,
        onward,
        status=200,
        reject_form=None,
        return_error=None,
        approve_form=None,
        objection_form=None,
        review_error=None,
    ):
        user = self.request.user
        spec = actions.task_type(task.type)
        if task.target_id and user.is_agency_user:
            # The agency reads its target in full: that read is audited.
            reads.primary(self.request, AuditAction.TASK_VIEW, obj=task, case_id=task.case_id)
        # Other apps' cards (alerts: the task's deliveries and their re-send buttons).
        panels = hooks.panels("task_page_panels", self, task)
        acts = permissions.can_act_for_agency(user, task)
        pending = task.state == TaskState.PENDING_APPROVAL
        return render(
            self.request,
            "cases/task_detail.html",
            {
                "task": task,
                "panels": panels,
                "can_act": acts and task.state in AWAITING_AGENCY_STATES,
                "can_accept": acts and task.state in (TaskState.APPROVED, TaskState.DISPATCHED),
                # What the result form asks for is the type's declaration (cases.task_types).
                "page": spec.page,
                "result_form": result_form,
                "onward": onward,
                "reject_form": reject_form or RejectForm(),
                "can_approve": pending and permissions.can_approve(user, task, spec.needs_supervisor),
                # Four eyes: the creator is told another supervisor approves it, and offered no button.
                "awaits_another": pending and permissions.awaits_another_approver(user, task, spec.needs_supervisor),
                "can_withdraw": task.state in OPEN_TASK_STATES and permissions.can_cancel(user),
                "allocations": _allocations(user, task, own=acts) if spec.allocates_return else None,
                **_free_texts(user, task, own=acts),
                "approve_form": (approve_form or ApproveForm()) if spec.legal_document_at_approval else None,
                **_notice(user, task, spec, pending, objection_form, review_error),
                "return_error": return_error,
                "return_reason": self.request.POST.get("reason", "") if return_error else "",
                "nav": "inbox" if user.is_agency_user else "cases",
            },
            status=status,
        )

    def post(self, request, pk):
        """The result form (complete or fail), with onward transfers as rows."""
        task = self.task(pk)
        if not permissions.can_act_for_agency(request.user, task):
            raise PermissionDenied
        spec = actions.task_type(task.type)
        form = ResultForm(request.POST, task_type=spec)
        # Only a page that shows the onward-transfer rows posts their management form.
        onward = OnwardFormSet(
            request.POST if spec.page.onward_transfers else None, prefix="onward", form_kwargs={"user": request.user}
        )
        if not (form.is_valid() and (not onward.is_bound or onward.is_valid())):
            return self.show(task, form, onward, status=400)
        data = form.cleaned_data
        page = spec.page
        result: dict = {}
        if data["status"] == ResultStatus.COMPLETED:
            if page.stamp:
                result[page.stamp] = timezone.now().isoformat()
            if page.returns_allocations:
                # Completed on the page: every allocation went back in full (the API reports less).
                now = timezone.now().isoformat()
                result["returned"] = [
                    {"account_number": account, "amount": f"{amount:.2f}", "at": now}
                    for account, amount in _allocated_by_account(task).items()
                ]
            for name in page.on_completion:
                value = data.get(name)
                if value in (None, "") and name in spec.required_fields:
                    form.add_error(
                        name, REQUIRED_ON_PAGE.get(name, _("This field is required when the task is completed."))
                    )
                    return self.show(task, form, onward, status=400)
                if value not in (None, ""):
                    result[name] = _page_value(value)
        for name in page.always:
            if data.get(name) not in (None, ""):
                result[name] = _page_value(data[name])
        rows = [f for f in onward.forms if f.has_changed() and not onward._should_delete_form(f)]
        if rows and page.onward_transfers:
            result["onward_transfers"] = [
                {
                    "account_number": f.cleaned_data["account_number"],
                    "bank": f.cleaned_data["bank"].code if f.cleaned_data.get("bank") else "",
                    "holder_name": f.cleaned_data.get("holder_name", ""),
                    "amount": f"{f.cleaned_data['amount']:.2f}",
                    "at": f.cleaned_data["at"].isoformat(),
                }
                for f in rows
            ]
        try:
            actions.submit_result(
                task, acting_user=request.user, status=data["status"], result=result, reason=data.get("reason") or None
            )
        except ValidationError as exc:
            for key, errors in exc.message_dict.items():
                field = key.rsplit(".", 1)[-1]
                form.add_error(field if field in form.fields else None, errors)
            return self.show(task, form, onward, status=400)
        except Exception as exc:
            from coordination.exceptions import Conflict

            if not isinstance(exc, Conflict | InvalidTransition):
                raise
            messages.error(request, str(exc))
            return redirect("task-detail", pk=task.pk)
        messages.success(request, _("Result recorded for task #%(id)s.") % {"id": task.pk})
        return redirect("inbox")


def _page_value(value):
    """A form value as the result carries it: amounts as two-decimal strings."""
    return f"{value:.2f}" if isinstance(value, Decimal) else value


class TaskActionView(ScopedView):
    """One-button task actions: accept, reject, approve, return (cancel), and other apps' (re-send)."""

    def post(self, request, pk, what):
        task = self.get_scoped(self.scoped(Task).select_related("case", "agency"), pk=pk)
        user = request.user
        if what == "accept":
            self.run_action(actions.accept_task, task, acting_user=user, success=_("Task accepted."))
        elif what == "reject":
            form = RejectForm(request.POST)
            if not form.is_valid():
                return TaskDetailView(request=request, kwargs={"pk": pk}).show(
                    task,
                    ResultForm(task_type=actions.task_type(task.type)),
                    OnwardFormSet(prefix="onward", form_kwargs={"user": user}),
                    status=400,
                    reject_form=form,
                )
            if not permissions.can_act_for_agency(user, task):
                raise PermissionDenied
            self.run_action(
                actions.reject_task,
                task,
                acting_user=user,
                reason=form.cleaned_data["reason"],
                success=_("Task rejected."),
            )
        elif what == "approve":
            spec = actions.task_type(task.type)
            if permissions.awaits_another_approver(user, task, spec.needs_supervisor):
                # Four eyes: a message on the page, not a 403 (the action refuses it too).
                messages.error(request, _("You created this task: another supervisor must approve it."))
            elif spec.legal_document_at_approval:
                # The approver names the legal document: refused, the page again with the error by the field.
                if not permissions.can_approve(user, task, spec.needs_supervisor):
                    raise PermissionDenied
                form = ApproveForm(request.POST)
                try:
                    if not form.is_valid():
                        raise ValidationError(form.errors.get_json_data())
                    actions.approve_task(
                        task, acting_user=user, legal_document_number=form.cleaned_data["legal_document_number"]
                    )
                except ValidationError as exc:
                    if hasattr(exc, "error_dict"):
                        for key, errors in exc.message_dict.items():
                            form.add_error("legal_document_number" if key in form.fields else None, errors)
                    return self.again(request, task, status=400, approve_form=form)
                except (InvalidTransition, ActionNotAllowed) as exc:
                    messages.error(request, str(exc))
                else:
                    messages.success(request, _("Task approved."))
            else:
                self.run_action(actions.approve_task, task, acting_user=user, success=_("Task approved."))
        elif what == "object":
            if not permissions.can_create_task(user):
                raise PermissionDenied
            form = ObjectionForm(request.POST)
            try:
                if not form.is_valid():
                    raise ValidationError(form.errors.get_json_data())
                actions.record_objection(task, acting_user=user, **form.cleaned_data)
            except ValidationError as exc:
                for key, errors in exc.message_dict.items():
                    form.add_error(key if key in form.fields else None, errors)
                return self.again(request, task, status=400, objection_form=form)
            messages.success(request, _("Objection recorded: the return waits for its review."))
        elif what == "review-objection":
            objection = self.get_scoped(
                ReturnObjection.objects.filter(task=task), pk=_int(request.POST.get("objection"))
            )
            if not permissions.can_approve(user, task, needs_supervisor=True):
                raise PermissionDenied
            try:
                actions.review_objection(objection, acting_user=user, note=request.POST.get("note", ""))
            except ValidationError as exc:
                return self.again(request, task, status=400, review_error=(objection.pk, exc.messages))
            messages.success(request, _("Objection reviewed."))
        elif what == "return":
            if not permissions.can_cancel(user):
                raise PermissionDenied
            try:
                reason = actions.return_reason(request.POST.get("reason"))
            except ValidationError as exc:
                # Nothing is changed: the task page again, the error beside the reason field.
                return TaskDetailView(request=request, kwargs={"pk": pk}).show(
                    task,
                    ResultForm(task_type=actions.task_type(task.type)),
                    OnwardFormSet(prefix="onward", form_kwargs={"user": user}),
                    status=400,
                    return_error=exc.message_dict["reason"],
                )
            self.run_action(actions.cancel_task, task, acting_user=user, reason=reason, success=_("Task returned."))
        elif handlers := hooks.get_hooks(f"task_action.{what}"):
            # Other apps' buttons (alerts: re-send a delivery).
            handlers[0](self, task)
        else:
            raise PermissionDenied
        return redirect_back(request, reverse("task-detail", args=[task.pk]))

    def again(self, request, task, *, status: int, **forms):
        """The task page again with the refused form's errors (nothing was changed)."""
        user = request.user
        return TaskDetailView(request=request, kwargs={"pk": task.pk}).show(
            task,
            ResultForm(task_type=actions.task_type(task.type)),
            OnwardFormSet(prefix="onward", form_kwargs={"user": user}),
            status=status,
            **forms,
        )


def _free_texts(user, task: Task, *, own: bool) -> dict:
    """The task's note and reason: in full for its own agency, else masked with its case's names (``cases.people``)."""
    if own:
        return {"shown_note": task.note, "shown_reason": task.reason}
    names = names_for(user, task.case_id) if (task.note or task.reason) else set()
    of = ("cases.task", task.pk, task.case_id)
    return {
        "shown_note": mask_free_text(user, task.note, names, of=of),
        "shown_reason": mask_free_text(user, task.reason, names, of=of),
    }


def _notice(user, task, spec, pending: bool, objection_form, review_error) -> dict:
    """A return's public notice and its objections, for the centre (the bank is not shown them)."""
    if not spec.notice_when_mixed or user.is_agency_user:
        return {"notice": None}
    objections = [
        {
            "pk": o.pk,
            "objector": mask(user, "name", o.objector),
            "text": mask_free_text(user, o.text),
            "recorded_at": o.recorded_at,
            "reviewed_at": o.reviewed_at,
            "review_note": o.review_note,
            "review_error": review_error[1] if review_error and review_error[0] == o.pk else None,
        }
        for o in task.objections.order_by("id")
    ]
    now = timezone.now()
    return {
        "notice": {
            "until": task.notice_until,
            "running": task.notice_until is not None and now < task.notice_until,
            "objections": objections,
            "can_record": pending and permissions.can_create_task(user),
            "can_review": pending and permissions.can_approve(user, task, needs_supervisor=True),
        },
        "objection_form": objection_form or ObjectionForm(),
    }


def _int(value) -> int:
    text = str(value or "")
    return int(text) if text.isascii() and text.isdigit() and len(text) < 12 else 0


def _allocations(user, task: Task, *, own: bool) -> list[dict]:
    """A fund return's allocation as ``user`` reads it: in full for the return's own bank, masked otherwise."""
    rows = (
        ReturnAllocation.objects.visible_to(user)
        .filter(task=task)
        .select_related("case", "victim", "account__bank")
        .order_by("id")
    )
    return [
        {
            "case": row.case,
            "account": mask(user, "bank_account", row.account.value, own_task_target=own),
            "bank": row.account.bank.code if row.account.bank_id else "",
            "holder": mask(
                user, "name", row.victim.name if row.victim else row.account.holder_name, own_task_target=own
            ),
            "traced": row.traced,
            "amount": row.amount,
            "mixed": row.mixed,
            "returned": row.returned,
            "returned_at": row.returned_at,
        }
        for row in rows
    ]


def _allocated_by_account(task: Task) -> dict:
    totals: dict = {}
    for account, amount in ReturnAllocation.objects.filter(task=task).values_list("account__value", "amount"):
        totals[account] = totals.get(account, 0) + amount
    return totals
