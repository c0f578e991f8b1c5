"""``manage.py import_cases FILE [--dry-run] [--resume ID]``: historical cases from CSV or XLSX (docs/imports.md)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from imports import cases_import, jobs, parsing
from imports.models import ImportJob, ImportKind
from imports.progress import ProgressBar

from ._common import acting_user, print_errors


class Command(BaseCommand):
    help = "Import historical cases from a CSV (UTF-8, UTF-8 BOM, GBK) or XLSX file; --dry-run checks only."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="the CSV or XLSX file (not with --resume)")
        parser.add_argument("--dry-run", action="store_true", help="report every row's errors, change nothing")
        parser.add_argument("--resume", type=int, metavar="ID", help="continue import job ID after its last batch")
        parser.add_argument("--user", help="the analyst or supervisor the import is recorded for")
        parser.add_argument("--batch-size", type=int, default=cases_import.BATCH_SIZE)
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options):
        if options["resume"]:
            job = ImportJob.objects.filter(pk=options["resume"], kind=ImportKind.CASES).first()
            if job is None:
                raise CommandError(f"No case import job {options['resume']}.")
            if not jobs.can_resume(job) and job.status != "queued":
                raise CommandError(f"Job {job.pk} is {job.status}: only a cancelled or failed job resumes.")
        else:
            if not options["file"]:
                raise CommandError("Name the file to import (or --resume ID).")
            path = Path(options["file"])
            if not path.is_file():
                raise CommandError(f"No such file: {path}")
            content = path.read_bytes()
            if options["dry_run"]:
                try:
                    report = cases_import.dry_run(content, path.name)
                except parsing.FileError as exc:
                    raise CommandError(str(exc)) from None
                print_errors(self.stdout, report.errors)
                self.stdout.write(
                    f"dry run: {report.total} rows, {report.valid} valid ({report.already} already imported), "
                    f"{report.error_rows} with errors; nothing changed"
                )
                return
            job = jobs.create_job(content=content, file_name=path.name, acting_user=acting_user(options["user"]))
        bar = None

        def progress(current):
            nonlocal bar
            if options["no_progress"]:
                return
            if bar is None:
                bar = ProgressBar(current.total, stream=self.stderr._out)
            bar.update(current.done)

        job = jobs.run_case_import(job, batch_size=options["batch_size"], progress=progress)
        if bar is not None:
            bar.close()
        print_errors(self.stdout, job.errors)
        self.stdout.write(
            f"job {job.pk} {job.status}: {job.done}/{job.total} rows, {job.created} cases created, "
            f"{job.skipped} already imported, {job.error_count} rows with errors"
        )
        if job.status == "failed":
            raise CommandError(job.message)
