"""Scheduled jobs of the cases app (Celery beat)."""

from celery import shared_task

from . import retention


@shared_task(name="cases.apply_retention", ignore_result=True)
def apply_retention() -> int:
    """Pseudonymise the personal data of cases closed longer than ``RETENTION_DAYS`` (cases.retention)."""
    return retention.apply_retention()
