"""The rest of a case's life from its page: correct, add to, link and unlink, close.

One page (``cases/<pk>/edit/``) holds every form; each POST names its form in
``do`` and goes to one action of ``cases.actions.corrections`` (or
``close_case``). Bad input is a form error on this page (400) with nothing
saved; a closed case refuses every change with one message. Who may do which is
the role policy's (``edits_cases``, ``extends_cases``, ``links_cases``); an
agency's user never reaches the case (404).

``linked_cases`` builds the case page's linked-cases panel too: which
identifier links each case and what is already held on it, in three queries
whatever the number of links.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from coordination import reads
from coordination.choices import AuditAction
from coordination.exceptions import Conflict
from coordination.views import ScopedView

from .. import actions, fund_return, holdings, permissions, task_types
from ..choices import CaseLinkState
from ..forms import (
    AddIdentifierForm,
    AddTransferForm,
    CaseCorrectionForm,
    CloseCaseForm,
    LinkCaseForm,
    TransferCorrectionForm,
    UnlinkCaseForm,
    VictimCorrectionForm,
    VictimFieldsForm,
)
from ..models import Case, CaseIdentifier, CaseLink, Identifier, Task, Transfer, Victim

LINKED_LIMIT = 20


@dataclass
class Held:
    """What the holding measures (stop-payments, freezes) did on one identifier, across every case."""

    label: str
    tasks: int = 0
    holding: int = 0
    amount: Decimal = Decimal("0.00")


@dataclass
class Via:
    identifier: Identifier
    role: str
    held: list[Held] = field(default_factory=list)


@dataclass
class LinkedCase:
    case: Case
    via: list[Via] = field(default_factory=list)
    manual: CaseLink | None = None


def linked_cases(scoped, case: Case, links: list[CaseIdentifier]) -> tuple[list[LinkedCase], list[LinkedCase]]:
    """The cases linked to ``case`` (by identifier or by hand) and those unlinked by hand.

    ``scoped`` is the view's ``scoped`` (``visible_to``); ``links`` the case's
    own identifier rows. Three queries: the other cases' rows of the same
    identifiers (with their case), the links set by hand, and the holding
    measures on the linking identifiers grouped by identifier and type.
    """
    identifiers = {link.identifier_id: link.identifier for link in links}
    shared = list(
        scoped(CaseIdentifier)
        .filter(identifier_id__in=list(identifiers))
        .exclude(case_id=case.pk)
        .select_related("case")
        .only("case_id", "identifier_id", "role", "case__reference", "case__reported_at", "case__status")
        .order_by("-case__reported_at", "case_id")[:200]
    )
    manual = list(
        scoped(CaseLink)
        .filter(Q(case_id=case.pk) | Q(other_id=case.pk))
        .select_related("case", "other")
        .only(
            "case_id",
            "other_id",
            "state",
            "reason",
            "changed_at",
            *(f"{side}__{name}" for side in ("case", "other") for name in ("reference", "reported_at", "status")),
        )
    )
    by_case: dict[int, LinkedCase] = {}
    for row in shared:
        entry = by_case.setdefault(row.case_id, LinkedCase(case=row.case))
        entry.via.append(Via(identifier=identifiers[row.identifier_id], role=row.get_role_display()))
    held = _held(scoped, {via.identifier.pk for entry in by_case.values() for via in entry.via})
    for entry in by_case.values():
        for via in entry.via:
            via.held = held.get(via.identifier.pk, [])
    unlinked = []
    for link in manual:
        other = link.other if link.case_id == case.pk else link.case
        if link.state == CaseLinkState.UNLINKED:
            entry = by_case.pop(other.pk, None) or LinkedCase(case=other)
            entry.manual = link
            unlinked.append(entry)
        else:
            by_case.setdefault(other.pk, LinkedCase(case=other)).manual = link
    linked = sorted(by_case.values(), key=lambda e: (e.case.reported_at, e.case.pk), reverse=True)
    return linked[:LINKED_LIMIT], unlinked


def _held(scoped, identifier_ids: set[int]) -> dict[int, list[Held]]:
    """Per identifier, per holding type: tasks issued, how many hold money now, the amount they hold.

    "Hold now" and the amount are ``cases.holdings``' definition: live holds
    only, and a freeze converted from a stop-payment takes over what it holds,
    so the stop-payment's row shows only what it still holds itself. One query.
    """
    if not identifier_ids:
        return {}
    codes = task_types.registry.where(lambda spec: spec.holding is not None)
    rows = list(
        scoped(Task)
        .filter(target_id__in=identifier_ids, type__in=codes)
        .only("id", "target_id", "type", "state", "amount_held", "lapses_at", "follows_id")
        .order_by("target_id", "type", "id")
    )
    counted = holdings.counted(rows)
    groups: dict[tuple[int, str], Held] = {}
    for task in rows:
        entry = groups.get((task.target_id, task.type))
        if entry is None:
            entry = groups[(task.target_id, task.type)] = Held(label=str(task_types.get(task.type).label))
        entry.tasks += 1
        if task.pk in counted:
            entry.holding += 1
            entry.amount += counted[task.pk]
    out: dict[int, list[Held]] = defaultdict(list)
    for (target_id, _type), entry in groups.items():
        out[target_id].append(entry)
    return out


# What each form needs of the role policy (``cases.permissions``).
NEEDS = {
    "correct": permissions.can_edit_case,
    "victim": permissions.can_edit_case,
    "transfer": permissions.can_edit_case,
    "close": permissions.can_edit_case,
    "add-victim": permissions.can_extend_case,
    "add-transfer": permissions.can_extend_case,
    "add-identifier": permissions.can_extend_case,
    "link": permissions.can_link_cases,
    "unlink": permissions.can_link_cases,
}


class CaseEditView(ScopedView):
    """Correct a case, add victims, transfers and identifiers, link and unlink cases, close it."""

    def case(self, pk) -> Case:
        case = self.get_scoped(self.scoped(Case).select_related("fraud_type", "channel", "district"), pk=pk)
        if not any(check(self.request.user) for check in NEEDS.values()):
            raise PermissionDenied
        return case

    def get(self, request, pk):
        return self.show(self.case(pk))

    def forms(self, case: Case, bound: dict) -> dict:
        user = self.request.user
        victims = list(self.scoped(Victim).filter(case=case))
        forms = {
            "correct": CaseCorrectionForm(case=case, prefix="case"),
            "add-victim": VictimFieldsForm(prefix="new-victim"),
            "add-transfer": AddTransferForm(prefix="transfer", user=user),
            "add-identifier": AddIdentifierForm(prefix="identifier", user=user),
            "link": LinkCaseForm(prefix="link", case=case, user=user),
            "close": CloseCaseForm(prefix="close"),
        }
        forms["victims"] = [
            bound.get(f"victim-{v.pk}") or VictimCorrectionForm(victim=v, prefix=f"victim-{v.pk}") for v in victims
        ]
        transfers = (
            self.scoped(Transfer)
            .filter(case=case)
            .select_related("from_identifier__bank", "to_identifier__bank")
            .order_by("at", "id")
        )
        forms["transfers"], choices = [], None
        for t in transfers:
            form = bound.get(f"transfer-{t.pk}") or TransferCorrectionForm(
                transfer=t, prefix=f"transfer-{t.pk}", user=user, bank_choices=choices
            )
            choices = choices if choices is not None else form.bank_choices()
            forms["transfers"].append(form)
        forms.update({k: v for k, v in bound.items() if not k.startswith(("victim-", "transfer-"))})
        return forms

    def show(self, case: Case, bound: dict | None = None, status: int = 200):
        user = self.request.user
        # The correction forms hold the victims' data in full: a read of the case (one row per request).
        reads.primary(self.request, AuditAction.CASE_VIEW, obj=case, case_id=case.pk)
        links = list(self.scoped(CaseIdentifier).filter(case=case).select_related("identifier").order_by("id"))
        linked, unlinked = linked_cases(self.scoped, case, links)
        unlink_bound = (bound or {}).get("unlink")
        unlink_forms = [
            (
                entry,
                unlink_bound
                if unlink_bound is not None and unlink_bound.prefix == f"unlink-{entry.case.pk}"
                else UnlinkCaseForm(prefix=f"unlink-{entry.case.pk}", user=user, initial={"other": entry.case.pk}),
            )
            for entry in linked
        ]
        context = {
            "case": case,
            "closed": case.is_closed,
            "held": holdings.case_totals([case.pk])[case.pk],
            "linked": linked,
            "unlinked": unlinked,
            "unlink_forms": unlink_forms,
            "can_edit": permissions.can_edit_case(user),
            "can_extend": permissions.can_extend_case(user),
            "can_link": permissions.can_link_cases(user),
            # The closing figures: frozen money no victim's trace claims (docs/fund-return.md).
            "untraced_remainder": fund_return.case_untraced(case)
            if permissions.can_edit_case(user) and not case.is_closed
            else None,
            "nav": "cases",
            **{name.replace("-", "_") + "_form": form for name, form in self.forms(case, bound or {}).items()},
        }
        return render(self.request, "cases/case_edit.html", context, status=status)

    def post(self, request, pk):
        case = self.case(pk)
        do = request.POST.get("do", "")
        check = NEEDS.get(do)
        if check is None or not check(request.user):
            raise PermissionDenied
        if case.is_closed:
            messages.error(request, _("The case is closed: it can no longer be changed."))
            return redirect("case-detail", pk=case.pk)
        form, run = getattr(self, "form_" + do.replace("-", "_"))(case)
        if not form.is_valid():
            return self.show(case, {self.bound_key(do, form): form}, status=400)
        try:
            message = run(form)
        except ValidationError as exc:
            for key, errors in exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]:
                form.add_error(key if key in form.fields else None, errors)
            return self.show(case, {self.bound_key(do, form): form}, status=400)
        except Conflict as exc:
            messages.error(request, str(exc))
            return redirect("case-detail", pk=case.pk)
        if message:
            messages.success(request, message)
        return redirect("case-detail", pk=case.pk)

    @staticmethod
    def bound_key(do: str, form) -> str:
        return form.prefix if do in ("victim", "transfer") else do

    # Each ``form_<do>`` returns the bound form and what to run once it is valid (a success message).

    def form_correct(self, case):
        form = CaseCorrectionForm(self.request.POST, case=case, prefix="case")

        def run(form):
            changed = actions.correct_case(
                case, acting_user=self.request.user, reason=form.cleaned_data["reason"], changes=form.changes()
            )
            if not changed:
                return _("Nothing was changed.")
            return _("Corrected: %(fields)s.") % {"fields": ", ".join(str(form.fields[n].label) for n in changed)}

        return form, run

    def form_victim(self, case):
        victim = self.get_scoped(Victim, case=case, pk=_int(self.request.POST.get("victim")))
        form = VictimCorrectionForm(self.request.POST, victim=victim, prefix=f"victim-{victim.pk}")

        def run(form):
            changed = actions.correct_victim(
                victim, acting_user=self.request.user, reason=form.cleaned_data["reason"], changes=form.changes()
            )
            return _("Victim corrected.") if changed else _("Nothing was changed.")

        return form, run

    def form_transfer(self, case):
        transfer = self.get_scoped(
            self.scoped(Transfer).select_related("from_identifier__bank", "to_identifier__bank"),
            case=case,
            pk=_int(self.request.POST.get("transfer")),
        )
        form = TransferCorrectionForm(
            self.request.POST, transfer=transfer, prefix=f"transfer-{transfer.pk}", user=self.request.user
        )

        def run(form):
            changed = actions.correct_transfer(
                transfer, acting_user=self.request.user, reason=form.cleaned_data["reason"], changes=form.changes()
            )
            if not changed:
                return _("Nothing was changed.")
            return _("Transfer corrected: %(fields)s.") % {
                "fields": ", ".join(str(form.fields[n].label) for n in changed)
            }

        return form, run

    def form_add_victim(self, case):
        form = VictimFieldsForm(self.request.POST, prefix="new-victim")

        def run(form):
            data = form.cleaned_data
            actions.add_victim(
                case,
                acting_user=self.request.user,
                data=actions.VictimData(name=data["name"], id_number=data["id_number"], phone=data["phone"]),
                address=data["address"],
            )
            return _("Victim added.")

        return form, run

    def form_add_transfer(self, case):
        form = AddTransferForm(self.request.POST, prefix="transfer", user=self.request.user)

        def run(form):
            data = form.cleaned_data
            _transfer, earlier = actions.add_case_transfer(
                case,
                acting_user=self.request.user,
                data=actions.TransferData(
                    from_account=data["from_account"],
                    from_bank=data.get("from_bank"),
                    to_account=data["to_account"],
                    to_bank=data["to_bank"],
                    amount=data["amount"],
                    at=data["at"],
                ),
            )
            return self.linked_message(_("Transfer added."), earlier)

        return form, run

    def form_add_identifier(self, case):
        form = AddIdentifierForm(self.request.POST, prefix="identifier", user=self.request.user)

        def run(form):
            data = form.cleaned_data
            _identifier, earlier = actions.add_case_identifier(
                case,
                acting_user=self.request.user,
                data=actions.IdentifierData(
                    kind=data["kind"], value=data["value"], bank=data.get("bank"), holder_name=data["holder_name"]
                ),
            )
            return self.linked_message(_("Identifier added."), earlier)

        return form, run

    def form_link(self, case):
        form = LinkCaseForm(self.request.POST, prefix="link", case=case, user=self.request.user)

        def run(form):
            actions.link_cases(case, form.other, acting_user=self.request.user, reason=form.cleaned_data["reason"])
            return _("Linked to %(ref)s.") % {"ref": form.other.reference}

        return form, run

    def form_unlink(self, case):
        other = _int(self.request.POST.get("unlink"))
        form = UnlinkCaseForm(self.request.POST, prefix=f"unlink-{other}", user=self.request.user)

        def run(form):
            actions.unlink_cases(
                case, form.other_case, acting_user=self.request.user, reason=form.cleaned_data["reason"]
            )
            return _("Unlinked from %(ref)s.") % {"ref": form.other_case.reference}

        return form, run

    def form_close(self, case):
        form = CloseCaseForm(self.request.POST, prefix="close")

        def run(form):
            data = form.cleaned_data
            actions.close_case(
                case,
                acting_user=self.request.user,
                summary=data["summary"],
                outcome=data["outcome"],
            )
            return _("The case is closed.")

        return form, run

    def linked_message(self, done: str, earlier: list[int]) -> str:
        """As at intake: an identifier seen before links the cases at once, and the analyst is told which."""
        if not earlier:
            return done
        references = list(self.scoped(Case).filter(pk__in=earlier[:10]).values_list("reference", flat=True))
        return done + " " + _("Seen before in %(refs)s: the cases are linked.") % {"refs": ", ".join(references)}


def _int(value) -> int:
    try:
        return max(0, min(int(value), 2**63 - 1))
    except (TypeError, ValueError):
        return 0
