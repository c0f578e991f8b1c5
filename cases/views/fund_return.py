"""The fund-return page of a frozen account: the trace, the allocation, and "prepare return".

The figures are ``cases.fund_return.prepare_return`` (definitions in
docs/fund-return.md); preparing creates a ``fund_return`` task whose
allocation the platform computes again at creation, under the account's lock
(``create_task``), so what is stored is never what a stale page showed.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from .. import actions, fund_return, task_types
from ..choices import TargetKind
from ..measure_forms import FundReturnForm
from ..models import CaseIdentifier, ReturnAllocation, Task
from .cases import flow_graph
from .measures import CaseScopedActionView, _issued_message


class FundReturnView(CaseScopedActionView):
    """GET: what a return from the account would give back; POST: prepare it (a task awaiting approval)."""

    def setup_return(self, pk, identifier):
        case = self.case(pk)
        link = self.get_scoped(
            self.scoped(CaseIdentifier).select_related("identifier__bank"),
            case=case,
            identifier_id=identifier,
            identifier__kind=TargetKind.BANK_ACCOUNT,
        )
        return case, link.identifier

    def show(self, case, account, form, status=200):
        prepared = fund_return.prepare_return(account)
        graph_ids = {f.id for f in fund_return.flows_into(account.pk)[0]}
        from ..models import Transfer

        transfers = list(
            Transfer.objects.filter(pk__in=graph_ids)
            .select_related("from_identifier__bank", "to_identifier__bank")
            .order_by("at", "id")
        )
        traced_accounts = {row.account.pk for row in prepared.rows}
        graph = flow_graph(self.request.user, transfers, [])
        for node in graph["nodes"]:
            if node["id"] == f"i{account.pk}":
                node["classes"] = (node["classes"] + " held").strip()
            elif int(node["id"][1:]) in traced_accounts:
                node["classes"] = (node["classes"] + " victim").strip()
        earlier = list(
            self.scoped(Task)
            .filter(target=account, type=fund_return.FUND_RETURN)
            .select_related("case", "agency")
            .order_by("-id")[:20]
        )
        spec = task_types.get(fund_return.FUND_RETURN)
        return render(
            self.request,
            "cases/fund_return.html",
            {
                "case": case,
                "account": account,
                "prepared": prepared,
                "graph": graph,
                "form": form,
                "earlier": earlier,
                "filed": case.status == "filed",
                "has_bank": account.bank_id is not None,
                "spec": spec,
                "notice_days": settings.RETURN_NOTICE_DAYS,
                "nav": "cases",
            },
            status=status,
        )

    def get(self, request, pk, identifier):
        case, account = self.setup_return(pk, identifier)
        return self.show(case, account, FundReturnForm())

    def post(self, request, pk, identifier):
        case, account = self.setup_return(pk, identifier)
        form = FundReturnForm(request.POST)
        if not form.is_valid():
            return self.show(case, account, form, status=400)
        if account.bank is None:
            form.add_error(None, _("The bank holding this account is not known: a return cannot be sent."))
            return self.show(case, account, form, status=400)
        try:
            task = actions.create_task(
                case,
                acting_user=request.user,
                type=fund_return.FUND_RETURN,
                agency=account.bank,
                target_kind=TargetKind.BANK_ACCOUNT,
                target_value=account.value,
                target_bank=account.bank,
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            form.add_action_errors(exc)
            return self.show(case, account, form, status=400)
        messages.success(request, _issued_message(task))
        return redirect("task-detail", pk=task.pk)


def case_returns(user, case) -> list[ReturnAllocation]:
    """What returns give back to this case's victims, across serial cases (their allocations, as ``user`` sees them)."""
    return list(
        ReturnAllocation.objects.visible_to(user)
        .filter(case=case)
        .select_related("task__agency", "task__case", "account__bank")
        .order_by("-task_id", "id")[:50]
    )
