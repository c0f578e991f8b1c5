"""The worker keeps its database connection between jobs (issue 16).

Celery's Django fix-up closes every connection before and after each job unless
``CELERY_DB_REUSE_MAX`` is set: ``CONN_MAX_AGE`` and the pool did nothing in the
worker, and each push opened a new PostgreSQL session. The setting is on, and
``coordination.celery`` still drops a connection that broke, after the job.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from celery.fixups.django import DjangoWorkerFixup
from django.conf import settings
from django.db import connection, connections

from coordination.celery import _close_unusable_connections, app


def test_the_worker_reuses_connections_for_many_jobs():
    assert settings.CELERY_DB_REUSE_MAX >= 100
    assert app.conf.get("CELERY_DB_REUSE_MAX") == settings.CELERY_DB_REUSE_MAX  # what the fix-up reads


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_the_fixup_keeps_the_session_across_jobs_and_a_broken_one_is_dropped(monkeypatch):
    fixup = DjangoWorkerFixup(app)
    job = SimpleNamespace(request=SimpleNamespace(is_eager=False))
    # The worker's setting (harness.processes.worker_env; with DB_POOL a closed connection goes
    # back to the pool instead, the session kept either way).
    connection.close()
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 300)
    pid = _backend_pid()
    for _ in range(50):  # 50 jobs: before and after each
        fixup.on_task_prerun(sender=job)
        fixup.on_task_postrun(sender=job)
        _close_unusable_connections(task=job)
    assert _backend_pid() == pid  # the same PostgreSQL session served every job

    # Without the setting (as before), every job closed it: the session changes each time.
    monkeypatch.setattr(fixup, "db_reuse_max", None)
    fixup.on_task_postrun(sender=job)
    assert connection.connection is None
    pid = _backend_pid()

    # A connection that broke (PostgreSQL restarted) is dropped after the job, not reused.
    wrapper = connections["default"]  # the connection itself, not the proxy
    wrapper.errors_occurred = True
    monkeypatch.setattr(wrapper, "is_usable", lambda: False)
    _close_unusable_connections(task=job)
    assert wrapper.connection is None
    monkeypatch.undo()
    assert _backend_pid() != pid
