"""The import job (Celery): runs or resumes a case import; a crash leaves it failed and resumable."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from . import jobs
from .models import ImportJob, ImportStatus

log = logging.getLogger(__name__)


# Acknowledged late (the project's default): a worker lost mid-import has the job delivered
# again, and ``run_case_import`` continues after the last committed batch.
@shared_task(name="imports.run_import", ignore_result=True)
def run_import(job_id: int) -> str:
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None or job.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        return "skipped"
    try:
        job = jobs.run_case_import(job)
    except Exception:
        log.exception("import job %s failed", job_id)
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportStatus.FAILED, message=str(jobs.FAILED_MESSAGE), updated_at=timezone.now()
        )
        return "failed"
    return job.status
