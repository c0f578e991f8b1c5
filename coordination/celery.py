"""The Celery application; tasks live in each app's ``tasks.py``."""

import logging.config
import os

from celery import Celery, signals
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coordination.settings")

app = Celery("coordination")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_postrun.connect
def _close_unusable_connections(task=None, **_kwargs) -> None:
    """After each job, what Django does after each request: drop a broken or obsolete connection.

    ``CELERY_DB_REUSE_MAX`` stops the fix-up from closing connections around every job;
    this keeps a connection that PostgreSQL dropped (restart, failover) from failing the
    next jobs, and honours ``CONN_MAX_AGE`` (with the pool, closing returns it to the pool).
    """
    if task is not None and getattr(task.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()


@signals.setup_logging.connect
def _use_django_logging(**_kwargs) -> None:
    """Workers and beat log through ``settings.LOGGING``, as the web does.

    Celery's own set-up would stamp lines in local time without a zone; connected
    to this signal it leaves logging to us (``coordination.logs.ZonedFormatter``).
    """
    logging.config.dictConfig(settings.LOGGING)
    from .logs import mask_every_handler

    mask_every_handler()
