"""The work queues: the supervisor's approval queue and the agency's inbox.

Both list tasks with the one list engine (a ``TaskQueueFilterSet`` and the
keyset helper of ``coordination.pagination``), in the orders and with the age
flags of ``cases.queues``. Other apps add columns through the
``task_list_columns`` hook (alerts: a failed push and the partner's reason).
"""

from __future__ import annotations

from collections import defaultdict

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies import roles
from agencies.models import Agency
from coordination import hooks
from coordination.filtersets import named_filters
from coordination.pagination import page_of
from coordination.views import ScopedView

from .. import actions, permissions, queues, task_types
from ..choices import AWAITING_AGENCY_STATES, TaskState
from ..filtersets import TaskQueueFilterSet
from ..models import Task, Transfer

# Rows per page: a page is for working; the keyset's next link reaches the rest.
QUEUE_PAGE = 50
INBOX_PAGE = 50
# At most this many tasks accepted by one click (a page and a half of the inbox).
BULK_LIMIT = 100
# The inbox's orders (``?sort=``): newest first unless the liaison asks for urgency.
INBOX_ORDERS = {"new": queues.NEWEST, "urgent": queues.URGENCY}


def filter_context(request, filterset, *, with_agency: bool) -> dict:
    """What a queue's filter form draws: the chosen values, the choices, the errors."""
    errors = []
    if filterset.is_bound and not filterset.form.is_valid():
        errors = [e for field_errors in filterset.form.errors.values() for e in field_errors]
    context = {
        "f": request.GET,
        "filter_errors": errors,
        "type_choices": task_types.choices(),
        "age_choices": queues.AgeFlag.choices,
    }
    if with_agency:
        context["agency_choices"] = list(
            Agency.objects.visible_to(request.user).order_by("code").only("code", "name", "name_en")
        )
    return context


class ApprovalQueueView(ScopedView):
    """Tasks waiting for a supervisor's approval, most urgent first; approve or return one or many.

    Only the types whose registry approver is the supervisor
    (``TaskTypeSpec.needs_supervisor``): a stop-payment the analyst approves
    never waits here.
    """

    def allowed(self, user):
        return roles.can(user, "approves_supervisor_types")

    def waiting(self):
        return self.scoped(Task, "change").filter(state=TaskState.PENDING_APPROVAL, type__in=queues.supervisor_types())

    def get(self, request, *, status: int = 200, return_error=None):
        filterset = TaskQueueFilterSet(
            named_filters(TaskQueueFilterSet, request.GET), queryset=self.waiting(), request=request
        )
        rows = filterset.qs.select_related("case", "agency", "target", "created_by")
        page = page_of(request, rows, queues.URGENCY, QUEUE_PAGE)
        tasks = page.rows
        queues.mark_ages(tasks, timezone.now())
        for task in tasks:
            # Four eyes: a supervisor's own request waits for another supervisor.
            spec = task_types.registry.find(task.type)
            task.awaits_another = spec is not None and permissions.awaits_another_approver(
                request.user, task, spec.needs_supervisor
            )
        context = {
            "tasks": tasks,
            "page": page,
            "columns": hooks.panels("task_list_columns", self, tasks),
            "return_error": return_error,
            "return_reason": request.POST.get("reason", ""),
            "selected": set(request.POST.getlist("task")),
            "nav": "approvals",
            **filter_context(request, filterset, with_agency=True),
        }
        context["type_choices"] = [(code, label) for code, label in context["type_choices"] if code in self.types()]
        return render(request, "cases/approvals.html", context, status=status)

    @staticmethod
    def types() -> set[str]:
        return set(queues.supervisor_types())

    def post(self, request):
        ids = [int(i) for i in request.POST.getlist("task") if i.isascii() and i.isdigit()][:BULK_LIMIT]
        tasks = list(self.scoped(Task, "change").filter(pk__in=ids, state=TaskState.PENDING_APPROVAL).order_by("id"))
        if not tasks:
            messages.warning(request, _("Select at least one task."))
            return redirect("approvals")
        if request.POST.get("do") == "return":
            try:
                # The action's own rule, checked once before returning many: the error sits by the field.
                reason = actions.return_reason(request.POST.get("reason"))
            except ValidationError as exc:
                return self.get(request, status=400, return_error=exc.message_dict["reason"])
            done = 0
            for task in tasks:
                returned = self.run_action(
                    actions.cancel_task, task, acting_user=request.user, reason=reason, pending_only=True
                )
                done += returned is not None
            messages.success(request, _("%(n)d task(s) returned.") % {"n": done})
        else:
            approved, refused = actions.approve_tasks(tasks, acting_user=request.user)
            messages.success(request, _("%(n)d task(s) approved.") % {"n": len(approved)})
            for task_id, reason in refused.items():
                messages.error(request, f"#{task_id}: {reason}")
        return redirect("approvals")


class InboxView(ScopedView):
    """The agency's open tasks, newest first (or most urgent), live by HTMX polling; bulk accept."""

    template = "cases/inbox.html"

    def allowed(self, user):
        return roles.is_agency_user(user)

    def open_tasks(self):
        return self.scoped(Task).filter(agency_id=self.request.user.agency_id, state__in=AWAITING_AGENCY_STATES)

    def get(self, request):
        filterset = TaskQueueFilterSet(
            named_filters(TaskQueueFilterSet, request.GET), queryset=self.open_tasks(), request=request
        )
        sort = request.GET.get("sort") if request.GET.get("sort") in INBOX_ORDERS else "new"
        keyset = INBOX_ORDERS[sort]
        # The page's ids first (sorted on the task table alone), then their rows with case
        # and target: joining before the LIMIT made PostgreSQL hash-join the whole case table.
        page = page_of(request, filterset.qs.values(*{"id", *keyset.fields}), keyset, INBOX_PAGE)
        ids = [row["id"] for row in page.rows]
        found = {
            t.pk: t
            for t in self.scoped(Task)
            .filter(pk__in=ids)
            .select_related("case", "case__fraud_type", "agency", "target", "target__bank")
        }
        tasks = [found[i] for i in ids if i in found]
        queues.mark_ages(tasks, timezone.now())
        self.add_payments(tasks)
        context = {
            "tasks": tasks,
            "page": page,
            "sort": sort,
            "nav": "inbox",
            "now": timezone.now(),
            "status_choices": [(s.value, s.label) for s in TaskState if s in AWAITING_AGENCY_STATES],
            **filter_context(request, filterset, with_agency=False),
        }
        if request.htmx:
            return render(request, "cases/_inbox_rows.html", context)
        context["recent"] = list(
            self.scoped(Task)
            .filter(
                agency_id=request.user.agency_id,
                state__in=[TaskState.COMPLETED, TaskState.FAILED, TaskState.REJECTED],
            )
            .select_related("case", "target", "agency")
            .order_by("-id")[:20]
        )
        return render(request, self.template, context)

    def add_payments(self, tasks) -> None:
        """What the bank verifies on a stop-payment or a freeze: the victim's payments into the target.

        ``payments`` on each task: the transfers into its target in its case (one
        query for the page), payer account masked by ``coordination.masking``.
        """
        wanted = [t for t in tasks if t.target_id and queues.shows_payer(t.type)]
        for task in tasks:
            task.payments = []
        if not wanted:
            return
        by_target = defaultdict(list)
        transfers = (
            self.scoped(Transfer)
            .filter(case_id__in={t.case_id for t in wanted}, to_identifier_id__in={t.target_id for t in wanted})
            .select_related("from_identifier__bank")
            .order_by("at", "id")
        )
        for transfer in transfers:
            by_target[transfer.case_id, transfer.to_identifier_id].append(transfer)
        for task in wanted:
            task.payments = by_target[task.case_id, task.target_id]

    def post(self, request):
        """Accept the ticked tasks, each through ``accept_task`` (audited); one not the agency's is a 404."""
        raw = request.POST.getlist("task")
        if any(not (i.isascii() and i.isdigit() and len(i) <= 18) for i in raw):
            raise Http404
        ids = list(dict.fromkeys(int(i) for i in raw))
        if not ids:
            messages.warning(request, _("Select at least one task."))
            return redirect("inbox")
        if len(ids) > BULK_LIMIT:
            messages.error(request, _("Accept at most %(n)d tasks at once.") % {"n": BULK_LIMIT})
            return redirect("inbox")
        found = {t.pk: t for t in self.scoped(Task).filter(pk__in=ids).select_related("case", "agency")}
        if len(found) != len(ids):
            # Another agency's task is answered exactly like a missing one, and nothing is accepted.
            raise Http404
        accepted = 0
        for task_id in ids:
            accepted += self.run_action(actions.accept_task, found[task_id], acting_user=request.user) is not None
        messages.success(request, _("%(n)d task(s) accepted.") % {"n": accepted})
        return redirect("inbox")
