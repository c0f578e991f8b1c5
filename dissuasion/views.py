"""Warning pages: the list (a unit's inbox, a sender's clues, the centre's all), one warning, entry and CSV."""

from __future__ import annotations

import csv
import io

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies import roles
from cases.models import District
from coordination.exceptions import Conflict, InvalidTransition
from coordination.masking import mask, mask_contact
from coordination.pagination import Keyset, page_of
from coordination.views import ScopedView

from . import actions, intake
from .choices import Outcome
from .forms import ClueForm, ClueUploadForm, ContactForm, HandOverForm
from .models import Warning
from .permissions import can_send_clues, sees_routing, sees_warnings_page, works_warnings

PAGE = 50
NEWEST = Keyset(("-id",))
CSV_COLUMNS = (
    "source_reference",
    "name",
    "phone",
    "id_number",
    "district",
    "address",
    "level",
    "reason",
    "identifier_kind",
    "identifier_value",
    "amount",
)
MAX_CSV_BYTES = 2 * 1024 * 1024


def _page(request, queryset):
    """A keyset page of warnings: the ids first on the warning table alone, then their rows."""
    page = page_of(request, queryset.values("id"), NEWEST, PAGE)
    ids = [row["id"] for row in page.rows]
    found = {w.pk: w for w in Warning.objects.filter(pk__in=ids).select_related("district", "unit", "sender")}
    return page, [found[i] for i in ids if i in found]


class WarningListView(ScopedView):
    """A police unit's inbox (and a sub-bureau's district), a sender's clues, or every clue for the centre."""

    def allowed(self, user):
        return sees_warnings_page(user)

    def get(self, request):
        user = request.user
        visible = self.scoped(Warning)
        context = {"nav": "warnings", "centre": sees_routing(user), "can_enter": can_send_clues(user)}
        if sees_routing(user):
            context["page"], context["warnings"] = _page(request, visible)
            context["mode"] = "all"
        elif works_warnings(user):
            # The unit's own pending warnings (partial index warning_inbox_idx), then, for a
            # sub-bureau, its stations' pending ones (warning_bureau_idx).
            context["page"], context["warnings"] = _page(request, visible.inbox(user.agency_id))
            context["district"] = list(
                visible.filter(bureau_id=user.agency_id, outcome=Outcome.PENDING)
                .exclude(unit_id=user.agency_id)
                .select_related("unit")
                .order_by("-id")[:PAGE]
            )
            context["mode"] = "inbox"
        else:
            context["page"], context["warnings"] = _page(request, visible.filter(sender_id=user.agency_id))
            context["mode"] = "sent"
        now = timezone.now()
        for warning in context["warnings"]:
            warning.late = warning.outcome == Outcome.PENDING and warning.deadline < now
        return render(request, "dissuasion/warning_list.html", context)


class WarningDetailView(ScopedView):
    """One warning: the person (in full to the unit that has it), its routing, hand-over and contact."""

    def allowed(self, user):
        return sees_warnings_page(user)

    def context(self, warning, *, hand_over=None, contact=None):
        user = self.request.user
        own = roles.acts_for(user, warning.unit_id)
        police = own or roles.acts_for(user, warning.bureau_id) or sees_routing(user)
        of = ("dissuasion.warning", warning.pk, None)
        person = None
        if police:
            person = mask_contact(
                user,
                {"name": warning.name, "phone": warning.phone, "address": warning.address},
                own_task=own,
                of=of,
            )
            person["id_number"] = mask(user, "id_number", warning.id_number, own_task_target=own, of=of)
        identifier = ""
        if police and warning.identifier_kind:
            identifier = mask(user, warning.identifier_kind, warning.identifier_value, of=of)
        stations = actions.stations_of(warning.bureau_id)
        return {
            "warning": warning,
            "person": person,
            "identifier": identifier,
            "police": police,
            "centre": sees_routing(user),
            "linked": list(warning.cases.order_by("-reported_at")) if sees_routing(user) else [],
            "can_hand_over": actions.can_hand_over(user, warning),
            "hand_over": hand_over or HandOverForm(stations=stations),
            "can_contact": own and warning.outcome == Outcome.PENDING and warning.task_id is not None,
            "contact": contact
            or ContactForm(initial={"contacted_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")}),
            "nav": "warnings",
        }

    def get(self, request, pk):
        warning = self.get_scoped(self.scoped(Warning).select_related("district", "unit", "bureau", "sender"), pk=pk)
        return render(request, "dissuasion/warning_detail.html", self.context(warning))

    def post(self, request, pk):
        warning = self.get_scoped(self.scoped(Warning).select_related("district", "unit", "bureau", "sender"), pk=pk)
        user = request.user
        if request.POST.get("do") == "hand_over":
            form = HandOverForm(request.POST, stations=actions.stations_of(warning.bureau_id))
            if not actions.can_hand_over(user, warning):
                raise PermissionDenied(_("Only the sub-bureau holding the warning hands it over."))
            if form.is_valid():
                try:
                    actions.hand_over(warning, station=form.cleaned_data["station"], acting_user=user)
                except (ValidationError, Conflict) as exc:
                    form.add_error(None, exc.messages if isinstance(exc, ValidationError) else str(exc))
                else:
                    messages.success(
                        request, _("Handed over to %(station)s.") % {"station": form.cleaned_data["station"].name}
                    )
                    return redirect("warning-detail", pk=pk)
            return render(request, "dissuasion/warning_detail.html", self.context(warning, hand_over=form), status=400)
        if request.POST.get("do") == "contact":
            form = ContactForm(request.POST)
            if not (roles.acts_for(user, warning.unit_id) and warning.outcome == Outcome.PENDING and warning.task_id):
                raise PermissionDenied(_("Only the unit the warning is assigned to records the contact."))
            if form.is_valid():
                data = form.cleaned_data
                try:
                    actions.record_contact(
                        warning,
                        acting_user=user,
                        contacted_at=data["contacted_at"],
                        method=data["method"],
                        outcome=data["outcome"],
                        amount_lost=data.get("amount_lost"),
                    )
                except ValidationError as exc:
                    for key, errors in exc.message_dict.items():
                        name = key.removeprefix("result.") if key.removeprefix("result.") in form.fields else None
                        for error in errors:
                            form.add_error(name, error)
                except (Conflict, InvalidTransition) as exc:
                    form.add_error(None, str(exc))
                else:
                    messages.success(request, _("Contact recorded."))
                    return redirect("warning-detail", pk=pk)
            return render(request, "dissuasion/warning_detail.html", self.context(warning, contact=form), status=400)
        messages.error(request, _("Unknown action."))
        return redirect("warning-detail", pk=pk)


class WarningEntryView(ScopedView):
    """The centre types a clue, or uploads a CSV of them (dry run first: each row's errors)."""

    template = "dissuasion/warning_entry.html"

    def allowed(self, user):
        return can_send_clues(user) and roles.can(user, "changes_all_cases")

    def get(self, request):
        return render(request, self.template, {"form": ClueForm(), "upload": ClueUploadForm(), "nav": "warnings"})

    def post(self, request):
        user = request.user
        if request.POST.get("do") == "upload":
            return self.upload(request)
        form = ClueForm(request.POST)
        context = {"form": form, "upload": ClueUploadForm(), "nav": "warnings"}
        if form.is_valid():
            [entry] = intake.take_clues(user.agency, user, [form.clue()])
            if entry.errors is None:
                if entry.created:
                    messages.success(request, _("Warning recorded and routed."))
                else:
                    messages.info(request, _("This clue was recorded before: nothing was done twice."))
                return redirect("warning-detail", pk=entry.warning)
            for key, errors in entry.errors.items():
                name = key if key in form.fields else ("identifier_value" if key == "identifier" else None)
                for error in errors:
                    form.add_error(name, error)
        return render(request, self.template, context, status=400)

    def upload(self, request):
        user = request.user
        upload = ClueUploadForm(request.POST, request.FILES)
        context = {"form": ClueForm(), "upload": upload, "nav": "warnings"}
        if not upload.is_valid():
            return render(request, self.template, context, status=400)
        raw = upload.cleaned_data["file"]
        if raw.size > MAX_CSV_BYTES:
            upload.add_error("file", _("The file is larger than 2 MB."))
            return render(request, self.template, context, status=400)
        try:
            text = raw.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            upload.add_error("file", _("Save the file as UTF-8 CSV."))
            return render(request, self.template, context, status=400)
        reader = csv.DictReader(io.StringIO(text))
        missing = [c for c in ("source_reference", "district", "level") if c not in (reader.fieldnames or [])]
        if missing:
            upload.add_error("file", _("Missing columns: %(names)s.") % {"names": ", ".join(missing)})
            return render(request, self.template, context, status=400)
        clues = []
        for row in reader:
            clue = {
                k: (row.get(k) or "").strip() or None
                for k in CSV_COLUMNS
                if k not in ("identifier_kind", "identifier_value")
            }
            if (row.get("identifier_kind") or "").strip():
                clue["identifier"] = {
                    "kind": row["identifier_kind"].strip(),
                    "value": (row.get("identifier_value") or "").strip(),
                }
            clues.append(clue)
            if len(clues) > intake.MAX_BATCH:
                upload.add_error("file", _("At most 1,000 rows per file."))
                return render(request, self.template, context, status=400)
        if upload.cleaned_data["dry_run"]:
            districts = {d.code: d for d in District.objects.filter(is_active=True)}
            results = [
                {
                    "row": i + 2,
                    "source_reference": c.get("source_reference"),
                    "errors": intake.check_clue(i, c, districts).errors,
                }
                for i, c in enumerate(clues)
            ]
            context.update(results=results, dry=True, bad=sum(1 for r in results if r["errors"]))
            return render(request, self.template, context)
        entries = intake.take_clues(user.agency, user, clues)
        results = [
            {
                "row": i + 2,
                "source_reference": e.source_reference,
                "errors": e.errors or {},
                "warning": e.warning,
                "created": e.created,
            }
            for i, e in enumerate(entries)
        ]
        context.update(results=results, dry=False, bad=sum(1 for r in results if r["errors"]))
        return render(request, self.template, context)
