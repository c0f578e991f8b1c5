"""The platform's own scheduled jobs (Celery beat): the audit chain's exported head."""

from celery import shared_task

from . import chain


@shared_task(name="coordination.export_audit_head")
def export_audit_head() -> dict:
    """Append the audit chain's head, signed, to ``AUDIT_HEAD_FILE`` (docs/operations.md)."""
    return chain.export_head()
