"""The dashboard: today's and this month's figures, the golden hour, agency performance."""

from __future__ import annotations

import csv

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from agencies.models import Agency
from coordination.views import ScopedView, csv_cell

from .. import review
from ..models import Case
from .cases import sees_cases


def agency_label(row) -> str:
    return row["name_en"] if (get_language() or "").startswith("en") and row["name_en"] else row["name"]


def performance_rows(period) -> list[dict]:
    """The units with tasks received in ``period``, most tasks first: the review's rows (``cases.review``)."""
    rows = [unit.as_dict() for unit in review.unit_figures(period, members=False) if unit.received]
    for row in rows:
        row["label"] = agency_label(row)
    rows.sort(key=lambda r: (-r["received"], r["code"]))
    return rows


class DashboardView(ScopedView):
    def allowed(self, user):
        return sees_cases(user)

    def get(self, request):
        cases = self.scoped(Case)
        period, window = review.window(request.GET.get("window", "month"))
        rows = performance_rows(period)
        chart = {
            "labels": [f"{r['code']}" for r in rows[:15]],
            "response": [
                round(r["acceptance_median"] / 60, 1) if r["acceptance_median"] is not None else None for r in rows[:15]
            ],
            "ontime": [r["on_time_rate"] for r in rows[:15]],
            "response_label": _("Median time to acceptance (minutes)"),
            "ontime_label": _("On time (%)"),
        }
        since = period.start
        from dissuasion import figures

        now = timezone.now()
        districts = figures.district_figures(since, now)
        english = (get_language() or "").startswith("en")
        labels = {
            code: (name_en if english and name_en else name)
            for code, name, name_en in Agency.objects.filter(code__in=districts).values_list("code", "name", "name_en")
        }
        context = {
            "warnings": figures.totals(since, now),
            "warning_rows": [{"code": code, "label": labels.get(code, code), "f": f} for code, f in districts.items()],
            "today": review.totals(cases, review.day_start()),
            "month": review.totals(cases, review.month_start()),
            "golden": review.golden_hour(period),
            "rows": rows,
            "chart": chart,
            "window": window,
            "since": since,
            "nav": "dashboard",
        }
        return render(request, "cases/dashboard.html", context)


class AgencyPerformanceCSV(ScopedView):
    """The per-agency table for the joint meeting's review, as CSV (UTF-8 with BOM for Excel)."""

    def allowed(self, user):
        return sees_cases(user)

    def get(self, request):
        period, window = review.window(request.GET.get("window", "month"))
        since = period.start
        rows = performance_rows(period)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        stamp = timezone.localtime().strftime("%Y%m%d")
        response["Content-Disposition"] = f'attachment; filename="agency-performance-{window}-{stamp}.csv"'
        response.write("\ufeff")
        writer = csv.writer(response)
        writer.writerow(
            [
                _("Agency code"),
                _("Agency"),
                _("Tasks received"),
                _("Completed"),
                _("Overdue"),
                _("Median time to acceptance (seconds)"),
                _("On time (%)"),
                _("Completion rate (%)"),
                # The window's start, in the platform's zone with its offset.
                _("Since"),
            ]
        )
        since_text = timezone.localtime(since).isoformat() if since else ""
        for r in rows:
            writer.writerow(
                [
                    r["code"],
                    csv_cell(agency_label(r)),
                    r["received"],
                    r["completed"],
                    r["overdue"],
                    "" if r["acceptance_median"] is None else round(r["acceptance_median"]),
                    "" if r["on_time_rate"] is None else r["on_time_rate"],
                    "" if r["completion_rate"] is None else r["completion_rate"],
                    since_text,
                ]
            )
        return response
