"""Task pages: the task page, the agency inbox, the supervisor's approval queue."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agencies import roles
from coordination import audit, hooks
from coordination.choices import AuditAction
from coordination.views import ScopedView, redirect_back

from .. import actions, permissions, task_types
from ..choices import AWAITING_AGENCY_STATES, OPEN_TASK_STATES, ResultStatus, TaskState
from ..forms import OnwardFormSet, RejectForm, ResultForm
from ..models import Task

# Pages show this many rows at most (nearest deadlines, oldest requests): a page is
# for working, and rendering hundreds of rows with their forms costs more than it helps.
INBOX_LIMIT = 50
QUEUE_LIMIT = 50
# What the page says when a result field the type requires is left empty.
REQUIRED_ON_PAGE = {"amount_held": gettext_lazy("Enter the amount held (0 if nothing could be held).")}


def is_agency_user(user) -> bool:
    return roles.is_agency_user(user)


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

    def show(self, task, result_form, onward, status=200, reject_form=None):
        user = self.request.user
        spec = actions.task_type(task.type)
        if task.target_id and user.is_agency_user:
            # The agency reads its target in full: that read is audited.
            audit.record(user=user, action=AuditAction.TASK_VIEW, obj=task, case_id=task.case_id)
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
        onward = OnwardFormSet(request.POST, prefix="onward", form_kwargs={"user": request.user})
        if not (form.is_valid() and onward.is_valid()):
            return self.show(task, form, onward, status=400)
        data = form.cleaned_data
        page = spec.page
        result: dict = {}
        if data["status"] == ResultStatus.COMPLETED:
            if page.stamp:
                result[page.stamp] = timezone.now().isoformat()
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
            from coordination.exceptions import Conflict, InvalidTransition

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
            if permissions.awaits_another_approver(user, task, actions.task_type(task.type).needs_supervisor):
                # Four eyes: a message on the page, not a 403 (the action refuses it too).
                messages.error(request, _("You created this task: another supervisor must approve it."))
            else:
                self.run_action(actions.approve_task, task, acting_user=user, success=_("Task approved."))
        elif what == "return":
            if not permissions.can_cancel(user):
                raise PermissionDenied
            self.run_action(
                actions.cancel_task,
                task,
                acting_user=user,
                reason=request.POST.get("reason", ""),
                success=_("Task returned."),
            )
        elif handlers := hooks.get_hooks(f"task_action.{what}"):
            # Other apps' buttons (alerts: re-send a delivery).
            handlers[0](self, task)
        else:
            raise PermissionDenied
        return redirect_back(request, reverse("task-detail", args=[task.pk]))


class InboxView(ScopedView):
    """The agency's open tasks by deadline; the rows refresh by HTMX polling."""

    template = "cases/inbox.html"

    def allowed(self, user):
        return is_agency_user(user)

    def get(self, request):
        # The page's ids first (the agency's open tasks, sorted on the task table alone),
        # then their rows with case and target: joining before the LIMIT made PostgreSQL
        # hash-join the whole case table.
        ids = list(
            self.scoped(Task)
            .filter(agency_id=request.user.agency_id, state__in=AWAITING_AGENCY_STATES)
            .order_by("deadline", "id")
            .values_list("id", flat=True)[:INBOX_LIMIT]
        )
        rows = self.scoped(Task).filter(pk__in=ids).select_related("case", "case__fraud_type", "agency", "target")
        tasks = sorted(rows, key=lambda t: (t.deadline, t.pk))
        template = "cases/_inbox_rows.html" if request.htmx else self.template
        context = {"tasks": tasks, "nav": "inbox", "now": timezone.now(), "limit": INBOX_LIMIT}
        if not request.htmx:
            context["recent"] = list(
                self.scoped(Task)
                .filter(
                    agency_id=request.user.agency_id,
                    state__in=[TaskState.COMPLETED, TaskState.FAILED, TaskState.REJECTED],
                )
                .select_related("case", "target", "agency")
                .order_by("-id")[:20]
            )
        return render(request, template, context)


class ApprovalQueueView(ScopedView):
    """Pending tasks, oldest first; approve or return one or many."""

    def allowed(self, user):
        return roles.can(user, "approves_supervisor_types")

    def get(self, request):
        tasks = list(
            self.scoped(Task, "change")
            .filter(state=TaskState.PENDING_APPROVAL)
            .select_related("case", "agency", "target", "created_by")
            .order_by("created_at", "id")[:QUEUE_LIMIT]
        )
        for task in tasks:
            # Four eyes: a supervisor's own request waits for another supervisor.
            spec = task_types.registry.find(task.type)
            task.awaits_another = spec is not None and permissions.awaits_another_approver(
                request.user, task, spec.needs_supervisor
            )
        return render(request, "cases/approvals.html", {"tasks": tasks, "nav": "approvals", "limit": QUEUE_LIMIT})

    def post(self, request):
        ids = [int(i) for i in request.POST.getlist("task") if i.isdigit()]
        tasks = list(
            self.scoped(Task, "change").filter(pk__in=ids, state=TaskState.PENDING_APPROVAL).order_by("created_at")
        )
        if not tasks:
            messages.warning(request, _("Select at least one task."))
            return redirect("approvals")
        if request.POST.get("do") == "return":
            reason = request.POST.get("reason", "").strip()
            done = 0
            for task in tasks:
                if (
                    self.run_action(
                        actions.cancel_task, task, acting_user=request.user, reason=reason, pending_only=True
                    )
                    is not None
                ):
                    done += 1
            messages.success(request, _("%(n)d task(s) returned.") % {"n": done})
        else:
            approved, refused = actions.approve_tasks(tasks, acting_user=request.user)
            messages.success(request, _("%(n)d task(s) approved.") % {"n": len(approved)})
            for task_id, reason in refused.items():
                messages.error(request, f"#{task_id}: {reason}")
        return redirect("approvals")
