"""The agency manager's page, and the auditor's view of the audit trail."""

from __future__ import annotations

import csv
import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from cases import stats
from cases.models import Task
from coordination.models import AuditRecord
from coordination.validators import MAX_OFFSET
from coordination.views import ScopedView, csv_cell

from . import actions
from .choices import Role
from .forms import EndpointForm, LiaisonForm
from .models import Agency, User

AUDIT_PAGE = 100


class MyAgencyView(ScopedView):
    """A manager's agency: its liaisons, its endpoint (secret rotation) and its performance."""

    def allowed(self, user):
        return user.role == Role.MANAGER and bool(user.agency_id)

    def agency(self):
        return self.get_scoped(Agency, "change", pk=self.request.user.agency_id)

    def get(self, request):
        return self.show(self.agency())

    def show(self, agency, *, endpoint_form=None, liaison_form=None, new_secret="", status=200):
        request = self.request
        since, _window = stats.window(request.GET.get("window", "90d"))
        performance = stats.agency_performance(self.scoped(Task), since, agency_id=agency.pk)
        people = list(self.scoped(User).filter(agency_id=agency.pk).order_by("username"))
        return render(
            request,
            "agencies/my_agency.html",
            {
                "agency": agency,
                "people": people,
                "performance": performance[0] if performance else None,
                "since": since,
                "endpoint_form": endpoint_form or EndpointForm(initial={"endpoint_url": agency.endpoint_url}),
                "liaison_form": liaison_form or LiaisonForm(),
                "new_secret": new_secret,
                "nav": "agency",
            },
            status=status,
        )

    def post(self, request):
        agency = self.agency()
        do = request.POST.get("do")
        if do in ("endpoint", "rotate"):
            form = EndpointForm(request.POST if do == "endpoint" else {"endpoint_url": agency.endpoint_url})
            if not form.is_valid():
                return self.show(agency, endpoint_form=form, status=400)
            try:
                agency, secret = actions.set_endpoint(
                    agency, url=form.cleaned_data["endpoint_url"], secret=None, acting_user=request.user
                )
            except ValidationError as exc:
                form.add_error(None, exc.messages)
                return self.show(agency, endpoint_form=form, status=400)
            # Shown once, in this answer only; never stored in the page again.
            messages.success(request, _("A new secret was generated. Copy it now: it will not be shown again."))
            return self.show(agency, new_secret=secret)
        if do == "clear":
            actions.clear_endpoint(agency, acting_user=request.user)
            messages.success(request, _("The endpoint was removed: tasks now wait in the inbox."))
            return redirect("my-agency")
        if do == "liaison":
            form = LiaisonForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                # User names are unique platform-wide: the check must see every agency's
                # people, and it reveals nothing but "taken".
                if User.objects.filter(username=data["username"]).exists():
                    form.add_error("username", _("This user name is taken."))
                else:
                    try:
                        actions.create_user(
                            username=data["username"],
                            agency=agency,
                            role=Role.LIAISON,
                            acting_user=request.user,
                            password=data["password"],
                            first_name=data["first_name"],
                            email=data["email"],
                        )
                    except ValidationError as exc:
                        form.add_error(None, exc.messages)
                    else:
                        messages.success(request, _("Liaison %(name)s added.") % {"name": data["username"]})
                        return redirect("my-agency")
            return self.show(agency, liaison_form=form, status=400)
        return redirect("my-agency")


class AuditView(ScopedView):
    """The audit trail: filterable, keyset-paginated, exportable as CSV."""

    def allowed(self, user):
        return user.is_superuser or user.role == Role.AUDITOR

    def filtered(self, request):
        rows = self.scoped(AuditRecord)
        get = request.GET
        if get.get("action"):
            rows = rows.filter(action=get["action"].strip())
        if get.get("user"):
            rows = rows.filter(user_name=get["user"].strip())
        if get.get("case"):
            from cases.models import Case

            ref = get["case"].strip()
            if ref.isascii() and ref.isdigit() and len(ref) < 19:  # a bigint, not a database error
                rows = rows.filter(case_id=int(ref))
            else:
                case = self.scoped(Case).filter(reference=ref.upper()).only("pk").first()
                rows = rows.filter(case_id=case.pk if case else -1)
        if get.get("object_type"):
            rows = rows.filter(object_type=get["object_type"].strip())
        for key, op in (("date_from", "gte"), ("date_to", "lte")):
            value = get.get(key, "").strip()
            if value:
                parsed = _page_time(
                    value + ("T00:00:00" if op == "gte" else "T23:59:59") if len(value) == 10 else value
                )
                if parsed is not None:
                    from django.utils import timezone

                    if timezone.is_naive(parsed):
                        parsed = timezone.make_aware(parsed)
                    rows = rows.filter(**{f"at__{op}": parsed})
        return rows.order_by("-at", "-id")

    def get(self, request):
        rows = self.filtered(request)
        if request.GET.get("format") == "csv":
            return self.csv(rows)
        after = request.GET.get("after", "")
        if "|" in after:
            raw, _sep, raw_id = after.rpartition("|")
            at = _page_time(raw)
            if at is not None and raw_id.isascii() and raw_id.isdigit() and len(raw_id) < 19:
                # ``at <= cursor`` lets the scan start at the cursor (see the case list).
                rows = rows.filter(at__lte=at).filter(Q(at__lt=at) | Q(at=at, id__lt=int(raw_id)))
        page = list(rows[: AUDIT_PAGE + 1])
        next_url = ""
        if len(page) > AUDIT_PAGE:
            page = page[:AUDIT_PAGE]
            query = request.GET.copy()
            query["after"] = f"{page[-1].at.isoformat()}|{page[-1].pk}"
            next_url = "?" + query.urlencode()
        query = request.GET.copy()
        query.pop("after", None)
        query["format"] = "csv"
        return render(
            request,
            "agencies/audit.html",
            {"rows": page, "next_url": next_url, "csv_url": "?" + query.urlencode(), "f": request.GET, "nav": "audit"},
        )

    def csv(self, rows):
        class Echo:
            def write(self, value):
                return value

        writer = csv.writer(Echo())

        def lines():
            yield "\ufeff"
            yield writer.writerow(
                ["time", "user", "agency", "action", "object_type", "object_id", "object", "case_id", "before", "after"]
            )
            for r in rows.iterator(chunk_size=2000):
                yield writer.writerow(
                    [
                        r.at.isoformat(),
                        csv_cell(r.user_name),
                        r.agency_code,
                        r.action,
                        r.object_type,
                        r.object_id or "",
                        csv_cell(r.object_repr),
                        r.case_id or "",
                        json.dumps(r.before, ensure_ascii=False) if r.before else "",
                        json.dumps(r.after, ensure_ascii=False) if r.after else "",
                    ]
                )

        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="audit.csv"'
        return response


def _page_time(text: str):
    """A time typed into a filter or carried by a cursor, or ``None``: never one PostgreSQL refuses.

    Like ``coordination.validators.parse_instant`` for the zone (within ±14:00),
    but a date or a local time without a zone is allowed in a page's filter.
    """
    try:
        parsed = parse_datetime(text)
    except ValueError:
        return None
    if parsed is not None and parsed.utcoffset() is not None and abs(parsed.utcoffset()) > MAX_OFFSET:
        return None
    return parsed
