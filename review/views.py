"""The review's pages: the side-by-side review, its spreadsheet, the tasks behind a number,
the score's weights and the supervision items (docs/review.md)."""

from __future__ import annotations

from io import BytesIO

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from agencies import roles
from agencies.models import Agency
from cases import review as figures
from cases.models import Task
from coordination.exceptions import ActionNotAllowed, InvalidTransition
from coordination.views import ScopedView

from . import actions
from .figures import review_for, scope_of
from .forms import CloseForm, NoteForm, SupervisionForm, WeightsForm
from .models import ScoreWeights, SupervisionItem


def label(row) -> str:
    return row["name_en"] if (get_language() or "").startswith("en") and row["name_en"] else row["name"]


def period_of(request):
    """The period asked for, or ``(None, errors)``: the edge's validators (``cases.review.parse_period``)."""
    try:
        return figures.parse_period(request.GET), {}
    except ValidationError as exc:
        return None, exc.message_dict


def period_query(period) -> str:
    return urlencode({"from": period.start.isoformat(), "to": period.end.isoformat()})


class ReviewView(ScopedView):
    """Every member unit side by side (or, for a manager, its own row and the others' spread)."""

    def allowed(self, user):
        return scope_of(user) is not None

    def get(self, request):
        period, errors = period_of(request)
        context = {"nav": "review", "errors": errors, "params": request.GET}
        if period is None:
            return render(request, "review/review.html", context, status=400)
        data = review_for(request.user, period)
        for row in data["units"]:
            row["label"] = label(row)
        context.update(
            data=data,
            period=period,
            last_day=period.last_day,
            query=period_query(period),
            runs_review=roles.can(request.user, "runs_review"),
        )
        return render(request, "review/review.html", context)


class ReviewExportView(ScopedView):
    """The same rows as a spreadsheet (openpyxl): one sheet, one row per unit."""

    def allowed(self, user):
        return scope_of(user) is not None

    def get(self, request):
        from openpyxl import Workbook

        period, errors = period_of(request)
        if period is None:
            return HttpResponse("; ".join(m for ms in errors.values() for m in ms), status=400)
        data = review_for(request.user, period)
        book = Workbook()
        sheet = book.active
        sheet.title = _("Review")[:31]
        columns = [
            ("code", _("Agency code")),
            ("label", _("Agency")),
            ("received", _("Tasks received")),
            ("accepted_on_time", _("Accepted on time")),
            ("completed", _("Completed")),
            ("rejected", _("Rejected")),
            ("cancelled", _("Cancelled")),
            ("overdue", _("Overdue")),
            ("on_time_rate", _("On time (%)")),
            ("completion_rate", _("Completion rate (%)")),
            ("acceptance_median", _("Median time to acceptance (seconds)")),
            ("acceptance_p90", _("p90 time to acceptance (seconds)")),
            ("result_median", _("Median time to result (seconds)")),
            ("result_p90", _("p90 time to result (seconds)")),
            ("stopped", _("Stopped")),
            ("frozen", _("Frozen")),
            ("returned", _("Returned")),
            ("warnings_reached", _("Warnings reached")),
            ("score", _("Score")),
        ]
        start, end = timezone.localtime(period.start), timezone.localtime(period.end)
        sheet.append([_("Period"), start.isoformat(), end.isoformat()])
        sheet.append([str(title) for _key, title in columns])
        for row in data["units"]:
            row["label"] = label(row)
            sheet.append([_cell(row.get(key)) for key, _title in columns])
        if data["golden_hour"]:
            golden = data["golden_hour"]
            sheet.append([])
            sheet.append([_("Golden hour"), _("median (seconds)"), golden["median"], "p90", golden["p90"]])
        buffer = BytesIO()
        book.save(buffer)
        response = HttpResponse(
            buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        stamp = f"{start:%Y%m%d}-{timezone.localtime(period.end):%Y%m%d}"
        response["Content-Disposition"] = f'attachment; filename="review-{stamp}.xlsx"'
        return response


def _cell(value):
    """A spreadsheet cell: numbers stay numbers; text that a spreadsheet would run as a formula is quoted."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


class ReviewTasksView(ScopedView):
    """The tasks behind one number of one unit: within what the viewer may see (``visible_to``)."""

    def allowed(self, user):
        return scope_of(user) is not None

    def get(self, request):
        period, errors = period_of(request)
        figure = request.GET.get("figure", "received")
        agency = Agency.objects.filter(code=request.GET.get("agency", "")).first()
        if period is None or figure not in figures.DRILLABLE or agency is None:
            errors = errors or {"figure": [_("Choose a unit and one of the review's figures.")]}
            return render(request, "review/tasks.html", {"errors": errors, "nav": "review"}, status=400)
        tasks = (
            self.scoped(Task)
            .filter(figures.tasks_behind(figure, period), agency=agency)
            .select_related("case", "agency")
            .order_by("dispatched_at", "id")
        )
        page = list(tasks[:501])
        context = {
            "nav": "review",
            "agency": agency,
            "figure": figure,
            "period": period,
            "tasks": page[:500],
            "more": len(page) > 500,
            "back": reverse("review") + "?" + period_query(period),
        }
        return render(request, "review/tasks.html", context)


class WeightsView(ScopedView):
    """The score's weights: the meeting's office sets them (audited)."""

    def allowed(self, user):
        return roles.can(user, "runs_review")

    def get(self, request):
        form = WeightsForm(instance=ScoreWeights.current())
        return render(request, "review/weights.html", {"form": form, "nav": "review"})

    def post(self, request):
        form = WeightsForm(request.POST)
        if form.is_valid():
            try:
                actions.set_weights(acting_user=request.user, **form.cleaned_data)
                return redirect("review")
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    for message in messages:
                        form.add_error(field if field in form.fields else None, message)
        return render(request, "review/weights.html", {"form": form, "nav": "review"}, status=400)


def visible_items(user):
    """Every item for the review's readers of all units; an agency's people their own unit's; no one else's."""
    if roles.can(user, "reviews_all_units"):
        return SupervisionItem.objects.all()
    if user.agency_id is not None and (roles.can(user, "acts_for_own_agency") or roles.can(user, "reviews_own_unit")):
        return SupervisionItem.objects.filter(owner_id=user.agency_id)
    return SupervisionItem.objects.none()


def may_see_items(user) -> bool:
    return roles.can(user, "reviews_all_units") or (
        user.agency_id is not None and (roles.can(user, "acts_for_own_agency") or roles.can(user, "reviews_own_unit"))
    )


class SupervisionListView(ScopedView):
    def allowed(self, user):
        return may_see_items(user)

    def context(self, request, form=None):
        items = visible_items(request.user).select_related("owner").order_by("status", "deadline", "id")[:500]
        runs = roles.can(request.user, "runs_review")
        return {
            "items": items,
            "form": form or (SupervisionForm() if runs else None),
            "runs_review": runs,
            "now": timezone.now(),
            "nav": "supervision",
        }

    def get(self, request):
        return render(request, "review/supervision_list.html", self.context(request))

    def post(self, request):
        if not roles.can(request.user, "runs_review"):
            raise ActionNotAllowed(_("Only the joint meeting's office assigns supervision items."))
        form = SupervisionForm(request.POST)
        if form.is_valid():
            try:
                item = actions.create_item(acting_user=request.user, **form.cleaned_data)
                return redirect("supervision-detail", item.pk)
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    for message in messages:
                        form.add_error(field if field in form.fields else None, message)
        return render(request, "review/supervision_list.html", self.context(request, form), status=400)


class SupervisionDetailView(ScopedView):
    def allowed(self, user):
        return may_see_items(user)

    def item(self, pk):
        item = visible_items(self.request.user).select_related("owner").filter(pk=pk).first()
        if item is None:
            raise Http404
        return item

    def render_item(self, request, item, note_form=None, close_form=None, status=200):
        owns = actions.owns(request.user, item)
        context = {
            "item": item,
            "notes": item.notes.select_related("created_by").all(),
            "owns": owns and item.status == "open",
            "note_form": note_form or NoteForm(),
            "close_form": close_form or CloseForm(),
            "now": timezone.now(),
            "nav": "supervision",
        }
        return render(request, "review/supervision_detail.html", context, status=status)

    def get(self, request, pk):
        return self.render_item(request, self.item(pk))

    def post(self, request, pk):
        item = self.item(pk)
        do = request.POST.get("do")
        form_class = CloseForm if do == "close" else NoteForm
        form = form_class(request.POST)
        if form.is_valid():
            try:
                if do == "close":
                    actions.close_item(item, acting_user=request.user, **form.cleaned_data)
                else:
                    actions.add_note(item, acting_user=request.user, **form.cleaned_data)
                return redirect("supervision-detail", item.pk)
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    for message in messages:
                        form.add_error(field if field in form.fields else None, message)
            except InvalidTransition:
                form.add_error(None, _("This item is closed."))
        forms = {"close_form": form} if do == "close" else {"note_form": form}
        return self.render_item(request, item, status=400, **forms)
