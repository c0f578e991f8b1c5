"""``make run``: the whole platform on this machine, with demo data, in one command.

1. PostgreSQL and Redis (``scripts/services.py``: ``DATABASE_URL``/``REDIS_URL`` if
   set, else embedded servers under ``var/``). A superuser's ``DATABASE_URL`` (the
   embedded server's) is replaced by the platform's own role, which owns nothing, and
   ``DATABASE_OWNER_URL`` for migrations (``restricted_roles``, docs/adr/0008).
2. Setup, in order, stopping at the first failure: migrate, compilemessages,
   collectstatic, seed_reference, seed_demo, demo_partners (all idempotent, so a
   second ``make run`` is quick and keeps your data).
3. The long-running processes, output interleaved with a name prefix: the web
   server (gunicorn), a Celery worker, Celery beat and the demo partner simulator.
4. Once ``GET /health/`` answers 200 (database, Redis and a worker are up), a
   banner with the addresses and the demo logins.

While it runs, ``var/run.env`` (0600) holds the environment its processes got
(the live ``DATABASE_URL``/``REDIS_URL``, ``SECRET_KEY``, ``DEBUG=0``...), so that
``.venv/bin/python manage.py ...`` in a second terminal of this checkout, with no
variables set, reaches the same servers (``manage.py`` reads it). The development
``SECRET_KEY`` is made once per checkout and kept in ``var/secret_key`` (0600).

Ctrl-C (or SIGTERM) stops everything: each child runs in its own process group,
which gets SIGTERM, then SIGKILL after ``STOP_TIMEOUT`` seconds; then the embedded
servers are stopped. If any process dies on its own, everything is stopped and
the exit status is non-zero.

It serves as a deployment would: ``DEBUG`` off (the platform's own error pages,
static files collected and served by whitenoise), with only the HTTPS-only rules
relaxed (``LOCAL_HTTP``), since it answers plain HTTP on 127.0.0.1.

Environment: ``PORT`` (web, default 8000), ``SIM_PORT`` (simulator, default 8100),
``STOP_TIMEOUT`` (default 10), plus anything the settings read (``.env.example``).
Options: ``--skip-setup`` starts the processes without migrating or seeding.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

# `python scripts/run.py` puts scripts/ first on sys.path.
from services import restricted_roles, start_services, var_dir_for

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

# settings.PRODUCT_NAME["en"]; this script runs before Django can be set up
# (tests/pages/test_deploy_pages.py keeps the two in step).
PRODUCT_NAME_EN = "Joint Anti-Fraud Coordination Platform"

# seed_demo creates exactly these accounts (keep the two in step).
DEMO_PASSWORD = "demo12345"
# Kept in step with cases.demo.DEMO_USERS (tests/test_make_run.py checks it).
DEMO_LOGINS = [
    ("analyst", "centre analyst"),
    ("supervisor", "centre supervisor"),
    ("icbc_liaison", "ICBC liaison"),
    ("ccb_liaison", "CCB liaison"),
    ("icbc_manager", "ICBC manager"),
    ("cmcc_liaison", "China Mobile liaison"),
    ("wuhou_liaison", "Wuhou police sub-bureau liaison"),
    ("yulin_liaison", "Yulin police station liaison (Wuhou)"),
    ("jiangxi_liaison", "Jiangxi Street police station liaison (Wuhou)"),
    ("cuqiao_liaison", "Cuqiao police station liaison (Wuhou)"),
    ("auditor", "auditor (read-only)"),
    ("admin", "administrator, /admin/"),
]

# What manage.py in another terminal reads (see its ``_run_environment``): the
# variables our children get that decide which servers and which key they use.
RUN_ENV_FILE = "run.env"
# The production settings' HTTPS rules, relaxed for plain HTTP on this machine.
LOCAL_HTTP = {
    "SECURE_SSL_REDIRECT": "0",
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
    "SECURE_HSTS_SECONDS": "0",
}
RUN_ENV_KEYS = (
    "DEBUG",
    "DATABASE_URL",
    "DATABASE_OWNER_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "PLATFORM_BASE_URL",
    "PUSH_ALLOWED_HOSTS",
    "EMAIL_BACKEND",
    *LOCAL_HTTP,
)
SECRET_KEY_FILE = "secret_key"

HEALTH_TIMEOUT = 240.0  # a cold first run migrates and seeds before this starts
COLOURS = ["36", "33", "35", "32", "34", "31"]


@dataclass
class Plan:
    """What to run; ``build_plan`` makes the real one, tests substitute stubs."""

    setup: list[tuple[str, list[str]]]
    processes: list[tuple[str, list[str]]]
    health_url: str
    banner: list[str] = field(default_factory=list)


def demo_allow_list(current: str, sim_port: int) -> str:
    """``PUSH_ALLOWED_HOSTS`` with the simulator's address added (once)."""
    entries = [entry.strip() for entry in current.split(",") if entry.strip()]
    simulator = f"127.0.0.1:{sim_port}"
    return ",".join(entries if simulator in entries else [*entries, simulator])


def _env_port(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip() or str(default)
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        sys.exit(f"run: {name}={raw!r} is not a TCP port number")
    return int(raw)


def _has_po_files() -> bool:
    skip = {".venv", "var", "node_modules", ".git"}
    for _root, dirs, files in os.walk(BASE_DIR):
        dirs[:] = [d for d in dirs if d not in skip]
        if any(f.endswith(".po") for f in files):
            return True
    return False


def build_plan(port: int, sim_port: int, var: Path, env: dict[str, str]) -> Plan:
    manage = [PYTHON, "manage.py"]
    platform = f"http://127.0.0.1:{port}"
    simulator = f"http://127.0.0.1:{sim_port}"
    sim_config = str(var / "simulator.json")

    setup = [("migrate", [*manage, "migrate", "--noinput"])]
    if _has_po_files():
        if shutil.which("msgfmt"):
            ignore = [f"--ignore={d}" for d in (".venv", "var", "node_modules")]
            setup.append(("messages", [*manage, "compilemessages", *ignore]))
        else:
            print(
                "run: WARNING msgfmt (apt package gettext) is missing; using the "
                "translations compiled last time, if any",
                file=sys.stderr,
            )
    setup += [
        ("static", [*manage, "collectstatic", "--noinput"]),
        ("seed", [*manage, "seed_reference"]),
        ("seed", [*manage, "seed_demo"]),
        ("seed", [*manage, "demo_partners", "--simulator-url", simulator, "--config", sim_config]),
    ]
    celery = [PYTHON, "-m", "celery", "-A", "coordination"]
    processes = [
        (
            "web",
            # --graceful-timeout: Ctrl-C should not wait 30 s for idle keep-alives.
            # --no-control-socket: the default ~/.gunicorn/gunicorn.ctl is shared by
            # every gunicorn of this user (two checkouts, or the make-run test).
            [PYTHON, "-m", "gunicorn", "coordination.wsgi", "-b", f"127.0.0.1:{port}",
             "--workers", "2", "--threads", "4", "--graceful-timeout", "5",
             "--no-control-socket", "--access-logfile", "-",
             # Request lines without identifiers (docs/operations.md, "Logs").
             "--logger-class", "coordination.gunicorn_logging.AccessLogger"],
        ),
        ("worker", [*celery, "worker", "-l", "info", "--concurrency", "4"]),
        ("beat", [*celery, "beat", "-l", "info", "-s", str(var / "celerybeat-schedule")]),
        (
            "sim",
            [PYTHON, "-m", "simulator", "--port", str(sim_port),
             "--config", sim_config, "--platform", platform],
        ),
    ]  # fmt: skip
    width = max(len(user) for user, _ in DEMO_LOGINS)
    banner = [
        f"The {PRODUCT_NAME_EN} is running (DEBUG off, as deployed):",
        "",
        f"  Web        {platform}/",
        f"  Admin      {platform}/admin/",
        f"  API docs   {platform}/api/docs/",
        f"  Health     {platform}/health/",
        f"  Simulator  {simulator}/   (demo banks and operators)",
        f"  PostgreSQL {env['DATABASE_URL']}",
        f"  Redis      {env['REDIS_URL']}",
        "",
        "Operator commands work in another terminal of this checkout, e.g.",
        "  .venv/bin/python manage.py create_api_user USERNAME --agency CODE --role liaison",
        f"(manage.py reads {var / RUN_ENV_FILE} while this runs).",
        "",
        f"Demo logins (password for all: {DEMO_PASSWORD}):",
        *(f"  {user:<{width}}  {role}" for user, role in DEMO_LOGINS),
        "",
        "Press Ctrl-C to stop everything.",
    ]
    return Plan(setup=setup, processes=processes, health_url=f"{platform}/health/", banner=banner)


class Output:
    """Line-interleaved, name-prefixed output of all children on our stdout."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        self.width = 8
        self.colours: dict[str, str] = {}

    def line(self, name: str, text: str) -> None:
        prefix = f"{name:<{self.width}}|"
        if self.colour:
            code = self.colours.setdefault(name, COLOURS[len(self.colours) % len(COLOURS)])
            prefix = f"\033[{code}m{prefix}\033[0m"
        with self.lock:
            sys.stdout.write(f"{prefix} {text}\n")
            sys.stdout.flush()

    def banner(self, lines: list[str]) -> None:
        rule = "=" * 72
        with self.lock:
            sys.stdout.write("\n".join(["", rule, *lines, rule, ""]) + "\n")
            sys.stdout.flush()

    def pump(self, name: str, stream) -> threading.Thread:
        def run() -> None:
            for raw in iter(stream.readline, b""):
                self.line(name, raw.decode("utf-8", "replace").rstrip("\r\n"))
            stream.close()

        thread = threading.Thread(target=run, name=f"output-{name}", daemon=True)
        thread.start()
        return thread


class Supervisor:
    """Starts children in their own process groups and guarantees their end."""

    def __init__(self, env: dict[str, str], out: Output) -> None:
        self.env = env
        self.out = out
        self.children: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.pumps: list[threading.Thread] = []
        # Plain attributes, not threading.Event: setting an Event from a signal
        # handler can deadlock on the Event's internal lock.
        self.stopping = False  # a signal asked us to stop
        self.forced = False  # a second Ctrl-C: skip the grace period
        self.signal_name = ""

    def spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            argv,
            cwd=BASE_DIR,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            # Own session and process group: Ctrl-C reaches us only, and we can
            # signal the child *with* its descendants (gunicorn and celery workers).
            start_new_session=True,
        )
        self.children.append((name, proc))
        self.pumps.append(self.out.pump(name, proc.stdout))
        return proc

    def run_step(self, name: str, argv: list[str]) -> bool:
        """Run one setup command to completion; False if it failed or we are stopping."""
        self.out.line(name, "$ " + " ".join(Path(a).name if a == PYTHON else a for a in argv))
        proc = self.spawn(name, argv)
        while proc.poll() is None:
            if self.stopping:
                return False
            time.sleep(0.1)
        self.children.remove((name, proc))
        if proc.returncode != 0:
            self.out.line(name, f"failed with exit status {proc.returncode}")
            return False
        return True

    def first_dead(self) -> tuple[str, int] | None:
        for name, proc in self.children:
            if proc.poll() is not None:
                return name, proc.returncode
        return None

    def _signal_groups(self, sig: int) -> None:
        for _name, proc in self.children:
            # pgid == pid: each child leads its own group.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, sig)

    def _groups_alive(self) -> bool:
        if any(proc.poll() is None for _name, proc in self.children):
            return True
        # Leaders gone; a grandchild (gunicorn or celery worker) may linger in a group.
        return bool({proc.pid for _name, proc in self.children} & _live_pgids())

    def terminate_all(self, timeout: float) -> None:
        if not self.children:
            return
        self._signal_groups(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while self._groups_alive() and time.monotonic() < deadline and not self.forced:
            time.sleep(0.1)
        if self._groups_alive():
            names = [name for name, proc in self.children if proc.poll() is None]
            self.out.line("run", f"killing what is left ({', '.join(names) or 'grandchildren'})")
            self._signal_groups(signal.SIGKILL)
            deadline = time.monotonic() + 5
            while self._groups_alive() and time.monotonic() < deadline:
                time.sleep(0.05)
        for _name, proc in self.children:
            proc.wait()
        for pump in self.pumps:
            pump.join(timeout=2)


def _live_pgids() -> set[int]:
    """Process groups of all live processes (from /proc; zombies excluded)."""
    pgids = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        if fields[0] not in ("Z", "X"):
            pgids.add(int(fields[2]))
    return pgids


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _write_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``, readable by this user only from the first byte."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.replace(tmp, path)


def development_secret(var: Path) -> str:
    """This checkout's development SECRET_KEY: ``var/secret_key``, made on first use."""
    path = var / SECRET_KEY_FILE
    with contextlib.suppress(FileNotFoundError):
        key = path.read_text().strip()
        if key:
            return key
    key = secrets.token_urlsafe(50)
    _write_private(path, key + "\n")
    return key


def write_run_env(var: Path, env: dict[str, str]) -> Path:
    """Publish our children's environment for ``manage.py`` in other terminals."""
    path = var / RUN_ENV_FILE
    lines = [
        f"# Written by scripts/run.py (pid {os.getpid()}) while `make run` runs; removed when it stops.",
        "# manage.py reads it when none of DATABASE_URL, REDIS_URL, SECRET_KEY is set.",
        f"RUN_PID={os.getpid()}",
        *(f"{key}={env[key]}" for key in RUN_ENV_KEYS if env.get(key)),
    ]
    _write_private(path, "\n".join(lines) + "\n")
    return path


def remove_run_env(var: Path) -> None:
    """Remove ``var/run.env`` if it is still ours (a second ``make run`` may have replaced it)."""
    path = var / RUN_ENV_FILE
    with contextlib.suppress(OSError):
        if f"RUN_PID={os.getpid()}\n" in path.read_text():
            path.unlink()


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def main(argv: list[str] | None = None, plan_factory=build_plan) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-setup", action="store_true", help="no migrate/seed")
    args = parser.parse_args(argv)

    port = _env_port("PORT", 8000)
    sim_port = _env_port("SIM_PORT", 8100)
    stop_timeout = float(os.environ.get("STOP_TIMEOUT", "10"))
    for name, value in (("PORT", port), ("SIM_PORT", sim_port)):
        if not _port_free(value):
            print(
                f"run: port {value} is already in use (another `make run`?). "
                f"Choose another, e.g. `{name}={value + 1} make run`.",
                file=sys.stderr,
            )
            return 2

    out = Output()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "coordination.settings",
        # As a deployment runs: DEBUG off, so a 404 is our page and not Django's
        # technical one listing every URL, and static files come from whitenoise's
        # collected, hashed copies. Only what needs HTTPS is relaxed (this serves
        # plain HTTP on 127.0.0.1): no redirect, no secure-only cookies, no HSTS.
        "DEBUG": "0",
        **LOCAL_HTTP,
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
        "PYTHONUNBUFFERED": "1",  # children's output appears as it happens
    }
    env.setdefault("PLATFORM_BASE_URL", f"http://127.0.0.1:{port}")
    # The endpoint rule refuses loopback and plain HTTP: the demo simulator is vouched for by
    # name and port on the operator's allow-list (added to any the caller set).
    env["PUSH_ALLOWED_HOSTS"] = demo_allow_list(env.get("PUSH_ALLOWED_HOSTS", ""), sim_port)
    sup = Supervisor(env, out)

    def on_signal(signum: int, _frame: object) -> None:
        # Only set flags: printing here could re-enter a write in progress.
        if sup.stopping and signum == signal.SIGINT:
            sup.forced = True  # a second Ctrl-C: stop waiting politely
        # A repeated SIGTERM (from make *and* a process-group kill) changes nothing.
        sup.signal_name = sup.signal_name or signal.Signals(signum).name
        sup.stopping = True

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)

    var = var_dir_for(BASE_DIR)
    try:
        services_env, stop_services = start_services(BASE_DIR, log=lambda message: out.line("services", message))
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        out.line("services", f"could not start PostgreSQL/Redis: {exc}")
        return 1
    atexit.register(stop_services)  # idempotent; covers a crash of this script
    if not env.get("DATABASE_OWNER_URL"):
        # The platform connects as a role that owns nothing; migrate as the owner (docs/adr/0008).
        services_env.update(restricted_roles(services_env["DATABASE_URL"], log=lambda m: out.line("services", m)))
    env.update(services_env)
    if not env.get("SECRET_KEY"):
        env["SECRET_KEY"] = development_secret(var)
    write_run_env(var, env)
    atexit.register(remove_run_env, var)  # registered last, so it runs before stop_services
    plan = plan_factory(port, sim_port, var, services_env)

    status = 0
    try:
        status = _run(plan, sup, out, skip_setup=args.skip_setup)
    finally:
        if sup.signal_name:
            out.line("run", f"{sup.signal_name} received, stopping everything")
        sup.stopping = True
        sup.terminate_all(stop_timeout)
        remove_run_env(var)
        stop_services()
        out.line("run", "stopped" + ("" if status == 0 else f" (exit status {status})"))
    return status


def _run(plan: Plan, sup: Supervisor, out: Output, *, skip_setup: bool) -> int:
    if not skip_setup:
        for name, argv in plan.setup:
            if sup.stopping or not sup.run_step(name, argv):
                return 0 if sup.stopping else 1

    for name, argv in plan.processes:
        sup.spawn(name, argv)

    announced = False
    deadline = time.monotonic() + HEALTH_TIMEOUT
    next_probe = 0.0
    while not sup.stopping:
        dead = sup.first_dead()
        if dead:
            out.line("run", f"{dead[0]} exited unexpectedly (status {dead[1]}); stopping")
            return 1
        if not announced and time.monotonic() >= next_probe:
            if _healthy(plan.health_url):
                out.banner(plan.banner)
                announced = True
            elif time.monotonic() > deadline:
                out.line("run", f"{plan.health_url} did not answer 200 in {HEALTH_TIMEOUT:.0f}s")
                return 1
            next_probe = time.monotonic() + 1.0
        time.sleep(0.1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
