"""Real processes for delivery tests: a private Redis, a Celery worker, the demo partner.

The worker runs ``coordination.settings`` (never eager) against pytest-django's
test database, so tests use ``live_server``/``transactional_db`` and the worker
sees committed rows. Delivery timings are shortened through the environment.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pytest
from django.db import connection

from agencies.actions import ensure_api_user, set_endpoint
from harness.processes import RedisServer, Worker, database_url_of, use_broker, worker_env
from simulator import serve_in_thread

from ..conftest import agency

# Short enough for tests, the same shape as production (connect + read + margin = lease).
FAST = {
    "DELIVERY_CONNECT_TIMEOUT": "1",
    "DELIVERY_READ_TIMEOUT": "3",
    "DELIVERY_LEASE_MARGIN": "1",
    "DELIVERY_BACKOFF_BASE": "0.2",
    "DELIVERY_BACKOFF_MAX": "1",
    "DELIVERY_REQUEUE_AFTER": "2",
    "DELIVERY_SWEEP_SECONDS": "0.5",
    "DELIVERY_AGENCY_CONCURRENCY": "2",
    "WATCH_SECONDS": "3600",
}
PARTNERS = ("CCB", "ICBC", "ABC", "CMCC", "TENCENT")


@pytest.fixture
def redis_proc():
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
def broker(redis_proc):
    """This process publishes to the private Redis, for real (not eagerly)."""
    from coordination.celery import app

    before = app.conf.broker_url
    use_broker(redis_proc.url, eager=False)
    yield redis_proc
    use_broker(before, eager=True)


@dataclass
class Live:
    sim: object
    worker: Worker
    redis: RedisServer
    tokens: dict = field(default_factory=dict)

    def wait(self, predicate, timeout: float = 20.0, interval: float = 0.1):
        """Poll ``predicate`` until it returns something truthy; fail with the worker's log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(interval)
        raise AssertionError(f"timed out after {timeout}s; worker log tail:\n{self.worker.log()[-4000:]}")


@pytest.fixture
def live(live_server, broker, tmp_path, settings):
    """The demo partner for PARTNERS (results posted to ``live_server``) and a worker."""
    for name, value in FAST.items():
        setattr(settings, name, float(value))
    settings.DELIVERY_AGENCY_CONCURRENCY = int(FAST["DELIVERY_AGENCY_CONCURRENCY"])
    settings.PLATFORM_BASE_URL = live_server.url
    sim = serve_in_thread({"agencies": {}}, live_server.url, result_delay=0.0)
    # The endpoint rule refuses loopback: the operator's allow-list names the simulator.
    settings.PUSH_ALLOWED_HOSTS = [f"127.0.0.1:{sim.port}"]
    config = {"agencies": {}}
    tokens = {}
    for code in PARTNERS:
        secret = f"secret-{code.lower()}-0123456789"
        set_endpoint(agency(code), url=sim.endpoint(code), secret=secret, acting_user=None)
        _user, token = ensure_api_user(username=f"{code.lower()}_system", agency=agency(code), role="liaison")
        config["agencies"][code] = {"secret": secret, "token": token, "sector": agency(code).sector}
        tokens[code] = token
    sim.set_config(config)
    env = worker_env(
        database_url_of(connection.settings_dict),
        broker.url,
        live_server.url,
        PUSH_ALLOWED_HOSTS=",".join(settings.PUSH_ALLOWED_HOSTS),
        **FAST,
    )
    worker = Worker(env, concurrency=4, beat=True, logfile=tmp_path / "worker.log").start()
    yield Live(sim=sim, worker=worker, redis=broker, tokens=tokens)
    worker.stop()
    sim.stop()
