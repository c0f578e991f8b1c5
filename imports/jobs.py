"""Running an import job: one transaction per batch, progress on the job, cancel and resume.

The command line and the Celery job (``imports.tasks.run_import``) both call
``run_case_import``. Each batch is committed with the job's counters in the same
transaction, so ``job.done`` is always the number of rows whose outcome is committed:
a resumed job skips exactly those rows (and a row imported anyway would be skipped by
its external reference). The cancel flag is read before each batch.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import User

from . import cases_import, parsing
from .models import ImportJob, ImportKind, ImportStatus

Progress = Callable[[ImportJob], None]


def create_job(
    *, content: bytes, file_name: str, acting_user: User, kind: str = ImportKind.CASES, task=None, bank: str = ""
) -> ImportJob:
    return ImportJob.objects.create(
        kind=kind,
        status=ImportStatus.QUEUED,
        file_name=file_name[:255],
        file_sha256=parsing.sha256(content),
        content=content,
        created_by=acting_user,
        task=task,
        bank=bank,
    )


def _count_rows(content: bytes, file_name: str) -> int:
    table = parsing.read_table(content, file_name)
    return sum(1 for _row in table.rows)


def run_case_import(
    job: ImportJob, *, batch_size: int = cases_import.BATCH_SIZE, progress: Progress | None = None
) -> ImportJob:
    """Import (or resume) ``job``'s file; returns the job as last saved."""
    content = bytes(job.content)
    try:
        table, positions = cases_import.open_file(content, job.file_name)
        total = _count_rows(content, job.file_name)
    except parsing.FileError as exc:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.FAILED, message=str(exc), updated_at=timezone.now()
        )
        job.refresh_from_db()
        return job
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.RUNNING, total=total, message="", updated_at=timezone.now()
    )
    job.refresh_from_db()
    ref = cases_import.Reference.load()
    # Resume: the rows whose outcome is committed are not read again.
    chunks = cases_import.batches(itertools.islice(table.rows, job.done, None), batch_size)
    seen: dict[str, int] = {}
    user = job.created_by

    def check_next():
        """The next batch read and checked (pure: no database), or ``None`` at the end of the file."""
        chunk = next(chunks, None)
        if chunk is None:
            return None
        report = cases_import.CheckReport()
        valid = list(cases_import.checked_rows(chunk, positions, ref, report, seen=seen))
        return len(chunk), valid, report

    # The next batch is read and checked in a second thread while this one is written: the
    # writer mostly waits on the database, which releases the interpreter to the checker.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-check") as pool:
        pending = pool.submit(check_next)
        while (checked := pending.result()) is not None:
            if ImportJob.objects.filter(pk=job.pk, cancel_requested=True).exists():
                ImportJob.objects.filter(pk=job.pk).update(
                    status=ImportStatus.CANCELLED, cancel_requested=False, updated_at=timezone.now()
                )
                job.refresh_from_db()
                return job
            pending = pool.submit(check_next)
            read, valid, report = checked
            with transaction.atomic():
                locked = ImportJob.objects.select_for_update().get(pk=job.pk)
                outcome = cases_import.write_batch(
                    valid, acting_user=user, file_name=job.file_name, file_sha256=job.file_sha256, job=locked
                )
                locked.done += read
                locked.created += outcome["created"]
                locked.skipped += outcome["skipped"]
                locked.error_count += report.error_rows
                room = cases_import.MAX_STORED_ERRORS - len(locked.errors)
                if room > 0:
                    locked.errors = locked.errors + report.errors[:room]
                locked.save(update_fields=["done", "created", "skipped", "error_count", "errors", "updated_at"])
            job = locked
            if progress is not None:
                progress(job)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.DONE, updated_at=timezone.now())
    job.refresh_from_db()
    return job


def request_cancel(job: ImportJob) -> None:
    ImportJob.objects.filter(pk=job.pk, status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING]).update(
        cancel_requested=True, updated_at=timezone.now()
    )


# A job "running" with no committed batch for this long lost its worker: it may be resumed by hand.
STALLED_AFTER = timedelta(minutes=15)


def can_resume(job: ImportJob, now=None) -> bool:
    if job.kind != ImportKind.CASES:
        return False
    if job.status in (ImportStatus.CANCELLED, ImportStatus.FAILED):
        return True
    return job.status == ImportStatus.RUNNING and job.updated_at < (now or timezone.now()) - STALLED_AFTER


FAILED_MESSAGE = _("The import stopped on an unexpected error; it can be resumed.")
