"""``/health/``: database, Redis and the Celery worker."""

import pytest


@pytest.mark.django_db
def test_health_reports_each_part(client, monkeypatch):
    from coordination import health

    monkeypatch.setattr(health, "_celery", lambda: {"ok": True, "workers": 1})
    response = client.get("/health/")
    assert response.status_code == 200
    body = response.json()
    assert body["database"]["ok"] and body["redis"]["ok"]


@pytest.mark.django_db
def test_health_is_503_without_a_worker(client, settings):
    # No worker is running in this test process: the real inspect answers nobody.
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["celery"]["ok"] is False
    assert response.json()["database"]["ok"] is True


@pytest.mark.django_db
def test_health_is_503_when_redis_is_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["redis"]["ok"] is False
