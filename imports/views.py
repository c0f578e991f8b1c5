"""The import pages (analysts and supervisors: ``imports_records``): upload, dry-run report, progress.

A case file is checked on upload (the dry run: nothing changes) and kept on its job;
"Import" queues the Celery job (``imports.tasks.run_import``), whose progress the job
page polls (htmx, every second while it runs); a running job can be cancelled and a
cancelled or failed one resumed from its last committed batch. A statement is checked
and recorded on its own page, for an account query the user may change.
"""

from __future__ import annotations

import csv
import io

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from cases import permissions
from cases.models import Task
from coordination.views import ScopedView

from . import cases_import, jobs, parsing, statements
from .columns import BANK_LAYOUTS, CASE_COLUMNS
from .models import ImportJob, ImportKind, ImportStatus

MAX_UPLOAD = parsing.MAX_FILE_BYTES


def english() -> bool:
    return (get_language() or "").startswith("en")


def localise(errors: list[dict]) -> list[dict]:
    """Each error with the column and message of the reader's language (both are stored)."""
    en = english()
    return [
        {
            **e,
            "column": e["column_en"] if en else e["column_zh"],
            "message": e["message_en"] if en else e["message_zh"],
        }
        for e in errors
    ]


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("File (CSV or XLSX)"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError(_("The file is larger than 200 MB."))
        if not upload.name.lower().endswith((".csv", ".xlsx", ".txt")):
            raise forms.ValidationError(_("Upload a CSV or XLSX file."))
        return upload


class StatementForm(UploadForm):
    bank = forms.ChoiceField(label=gettext_lazy("Bank layout"), choices=())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bank"].choices = [(code, layout["label"]) for code, layout in BANK_LAYOUTS.items()]


class ImportsMixin:
    def allowed(self, user):
        return permissions.can_import_records(user)


class ImportListView(ImportsMixin, ScopedView):
    def get(self, request, form=None, status=200):
        jobs_list = self.scoped(ImportJob).select_related("created_by").defer("content", "errors")[:50]
        context = {"form": form or UploadForm(), "jobs": jobs_list, "nav": "imports", "columns": CASE_COLUMNS}
        return render(request, "imports/import_list.html", context, status=status)

    def post(self, request):
        form = UploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.get(request, form=form, status=400)
        upload = form.cleaned_data["file"]
        content = upload.read()
        try:
            report = cases_import.dry_run(content, upload.name)
        except parsing.FileError as exc:
            form.add_error("file", str(exc))
            return self.get(request, form=form, status=400)
        job = jobs.create_job(content=content, file_name=upload.name, acting_user=request.user)
        job.status = ImportStatus.CHECKED
        job.total, job.error_count, job.errors = report.total, report.error_rows, report.errors
        job.skipped = report.already
        job.save(update_fields=["status", "total", "error_count", "errors", "skipped"])
        return redirect("import-detail", pk=job.pk)


class ImportDetailView(ImportsMixin, ScopedView):
    template = "imports/import_detail.html"

    def job(self, pk, action="view"):
        return self.get_scoped(self.scoped(ImportJob, action).defer("content"), pk=pk)

    def get(self, request, pk):
        job = self.job(pk)
        context = {
            "job": job,
            "errors": localise(job.errors),
            "valid": max(job.total - job.error_count, 0),
            "nav": "imports",
            "can_resume": jobs.can_resume(job),
        }
        return render(request, self.template, context)


class ImportProgressView(ImportDetailView):
    """The progress bar alone (htmx polls it); it stops polling once the job has finished."""

    template = "imports/_progress.html"


class ImportActionView(ImportDetailView):
    def post(self, request, pk, what):
        job = self.job(pk, "change")
        if what == "start" and job.status == ImportStatus.CHECKED:
            self._queue(job, reset=True)
            messages.success(request, _("Import started."))
        elif what == "resume" and jobs.can_resume(job):
            self._queue(job, reset=False)
            messages.success(request, _("Import resumed from the last committed batch."))
        elif what == "cancel" and job.status in (ImportStatus.QUEUED, ImportStatus.RUNNING):
            jobs.request_cancel(job)
            messages.info(request, _("Cancelling: the batch being written is finished first."))
        elif what in ("start", "resume", "cancel"):
            messages.error(request, _("This import cannot do that in its present state."))
        else:
            raise Http404
        return redirect("import-detail", pk=job.pk)

    @staticmethod
    def _queue(job: ImportJob, *, reset: bool) -> None:
        from .tasks import run_import

        fields = {"status": ImportStatus.QUEUED, "cancel_requested": False}
        if reset:
            # The dry run's counts were a forecast: the import counts again as it commits.
            fields.update(done=0, created=0, skipped=0, error_count=0, errors=[])
        ImportJob.objects.filter(pk=job.pk).update(**fields)
        transaction.on_commit(lambda: run_import.delay(job.pk))


class TemplateDownloadView(ImportsMixin, ScopedView):
    """The case template: the headers (Chinese or English) and one example row, as CSV (BOM) or XLSX."""

    def get(self, request, fmt):
        lang = request.GET.get("lang") or ("en" if english() else "zh")
        headers = [c.en if lang == "en" else c.zh for c in CASE_COLUMNS]
        example = [c.example for c in CASE_COLUMNS]
        name = f"case-import-template-{'en' if lang == 'en' else 'zh'}"
        if fmt == "csv":
            out = io.StringIO(newline="")
            writer = csv.writer(out)
            writer.writerow(headers)
            writer.writerow(example)
            response = HttpResponse(out.getvalue().encode("utf-8-sig"), content_type="text/csv; charset=utf-8")
        elif fmt == "xlsx":
            from openpyxl import Workbook

            workbook = Workbook()
            sheet = workbook.active
            sheet.append(headers)
            sheet.append(example)
            out = io.BytesIO()
            workbook.save(out)
            response = HttpResponse(
                out.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            )
        else:
            raise Http404
        response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
        return response


class StatementImportView(ImportsMixin, ScopedView):
    """A bank statement for one account query: check (dry run) or record as its result."""

    def task(self, pk):
        return self.get_scoped(self.scoped(Task, "change").select_related("case", "agency"), pk=pk)

    def get(self, request, pk, form=None, report=None, status=200, error=None):
        task = self.task(pk)
        context = {
            "task": task,
            "form": form
            or StatementForm(initial={"bank": task.agency.code if task.agency.code in BANK_LAYOUTS else "generic"}),
            "report": report,
            "errors": localise(report.errors) if report else [],
            "error": error,
            "amount_out": statements.amount_out(report) if report else None,
            "nav": "imports",
        }
        return render(request, "imports/statement.html", context, status=status)

    def post(self, request, pk):
        task = self.task(pk)
        form = StatementForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.get(request, pk, form=form, status=400)
        upload = form.cleaned_data["file"]
        dry_run = request.POST.get("action") != "import"
        try:
            report = statements.import_statement(
                task,
                content=upload.read(),
                file_name=upload.name,
                bank=form.cleaned_data["bank"],
                acting_user=request.user,
                dry_run=dry_run,
            )
        except statements.StatementError as exc:
            return self.get(request, pk, form=form, status=400, error=exc.en if english() else exc.zh)
        if report.errors:
            return self.get(request, pk, form=form, report=report, status=400)
        if dry_run:
            return self.get(request, pk, form=form, report=report)
        if report.changed:
            messages.success(request, _("The statement was recorded as the query's result."))
        else:
            messages.info(request, _("This statement was already recorded: nothing changed."))
        return redirect("task-detail", pk=task.pk)


KIND_LABELS = dict(ImportKind.choices)
