"""``make run`` as a newcomer runs it: comes up, serves pages, and stops cleanly.

The command runs with a newcomer's bare environment (no DATABASE_URL/REDIS_URL,
so the embedded servers are used) and a fresh runtime directory (COORD_VAR_DIR),
so this is the cold path: initdb, all migrations, seeding. On SIGTERM every
process it started must be gone: its descendants and the embedded PostgreSQL and
Redis (which run in their own sessions, so they are found by working directory).

While it runs, the operator commands the README prints must work in a second
terminal of the same checkout with no variables set (``manage.py`` reads
``var/run.env``): they are run here with the same bare environment.

Linux-only (/proc), like the scripts it tests. Slow: about a minute.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.make_run]

BASE_DIR = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT = 420.0  # collectstatic + demo seed on a loaded two-core machine
SHUTDOWN_TIMEOUT = 60.0
# What a fresh login shell would have; nothing from this pytest process (its
# DJANGO_SETTINGS_MODULE, SECRET_KEY, DATABASE_URL, an outer make's MAKEFLAGS...).
INHERITED = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR",
             "TZ", "SHELL", "PYENV_ROOT", "PYENV_VERSION",
             # A newcomer's machine trusts its own certificates (a proxy's, here): installs need them.
             "SSL_CERT_FILE", "SSL_CERT_DIR", "PIP_CERT")  # fmt: skip


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, str, bytes] | None:
    """(status, content type, body), or None if nothing answers yet."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read()
    except (urllib.error.URLError, OSError):
        return None


def _processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, start time) for every live, non-zombie process."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        if fields[0] not in ("Z", "X"):
            table[int(entry)] = (int(fields[1]), fields[19])
    return table


def _descendants(root: int) -> set[tuple[int, str]]:
    table = _processes()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _start) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add((child, table[child][1]))
            todo.append(child)
    return found


def _working_in(directory: Path) -> set[tuple[int, str]]:
    """Processes whose working directory is inside ``directory`` (the servers chdir there)."""
    table = _processes()
    found = set()
    for pid, (_ppid, start) in table.items():
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            continue
        if cwd == str(directory) or cwd.startswith(f"{directory}/"):
            found.add((pid, start))
    return found


def _survivors(seen: set[tuple[int, str]]) -> set[tuple[int, str]]:
    """The processes in ``seen`` still alive (same pid *and* start time: no reuse)."""
    table = _processes()
    return {(pid, start) for pid, start in seen if table.get(pid, (0, ""))[1] == start}


def _describe(processes: set[tuple[int, str]]) -> str:
    lines = []
    for pid, _start in sorted(processes):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            cmd = "?"
        lines.append(f"  {pid}: {cmd[:200]}")
    return "\n".join(lines)


def _manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    """``.venv/bin/python manage.py ARGS`` as the README prints it, in ``env`` only."""
    python = BASE_DIR / ".venv" / "bin" / "python"
    return subprocess.run(
        [str(python) if python.exists() else sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _operator_commands_work(env: dict, base: str, var: Path) -> None:
    """The README's commands, from a second terminal: no DATABASE_URL, REDIS_URL or SECRET_KEY."""
    for name in ("run.env", "secret_key"):
        mode = (var / name).stat().st_mode & 0o777
        assert mode == 0o600, f"var/{name} has mode {mode:o}"

    created = _manage(env, "create_api_user", "probe_system", "--agency", "ICBC", "--role", "liaison")
    assert created.returncode == 0, created.stdout + created.stderr
    token = created.stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{40}", token), created.stdout
    # The token works against the running web server: the command reached make run's database.
    request = urllib.request.Request(f"{base}/api/v1/tasks/", headers={"Authorization": f"Token {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        assert "results" in json.loads(response.read())

    endpoint = "https://bocom.example.invalid/push"
    changed = _manage(env, "set_endpoint", "BOCOM", endpoint, "--secret", "probe-secret-0123456789")
    assert changed.returncode == 0, changed.stdout + changed.stderr
    assert f"Endpoint of BOCOM set to {endpoint}." in changed.stdout
    shown = _manage(
        env, "shell", "-c", "from agencies.models import Agency; print(Agency.objects.get(code='BOCOM').endpoint_url)"
    )
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert shown.stdout.strip().splitlines()[-1] == endpoint  # after "N objects imported automatically"


def _serves_as_deployed(base: str, simulator: str, login_page: bytes) -> None:
    """DEBUG off: our 404 page, not Django's technical one; static files served; the banner's links answer."""
    missing = _get(f"{base}/no-such-page/")
    assert missing and missing[0] == 404, missing and missing[0]
    assert b"URLconf" not in missing[2] and b'class="brand"' in missing[2], missing[2][:500]
    stylesheet = re.search(rb'href="(/static/css/app[^"]*\.css)"', login_page)
    assert stylesheet, "the login page links no stylesheet"
    assert re.search(rb"app\.[0-9a-f]{12}\.css", stylesheet[1]), stylesheet[1]  # whitenoise's hashed copy
    css = _get(base + stylesheet[1].decode())
    assert css and css[0] == 200 and css[1].startswith("text/css"), css and css[:2]
    index = _get(f"{simulator}/")
    assert index and index[0] == 200 and index[1].startswith("text/html"), index and index[:2]


def test_make_run_comes_up_and_stops_without_leftovers(tmp_path: Path) -> None:
    port, sim_port = _free_port(), _free_port()
    var = tmp_path / "var"
    env = {name: os.environ[name] for name in INHERITED if name in os.environ}
    env.update(PORT=str(port), SIM_PORT=str(sim_port), COORD_VAR_DIR=str(var), NO_COLOR="1")
    command = ["make", "--no-print-directory", "run"]
    if not shutil.which("make"):
        command = [sys.executable, "scripts/run.py"]

    log_path = tmp_path / "make-run.log"
    base = f"http://127.0.0.1:{port}"
    seen: set[tuple[int, str]] = set()

    def log_tail() -> str:
        text = log_path.read_text(errors="replace") if log_path.exists() else ""
        return "\n".join(text.splitlines()[-60:])

    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal job would be
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        login = health = None
        while True:
            seen |= _descendants(proc.pid) | _working_in(var)
            assert proc.poll() is None, f"`make run` exited early with status {proc.returncode}:\n{log_tail()}"
            login = _get(f"{base}/accounts/login/")
            health = _get(f"{base}/health/")
            if login and login[0] == 200 and health and health[0] == 200:
                break
            assert time.monotonic() < deadline, (
                f"not up after {STARTUP_TIMEOUT:.0f}s (login: {login and login[0]}, "
                f"health: {health and health[0]}):\n{log_tail()}"
            )
            time.sleep(2)

        assert b"<form" in login[2], "the login page has no form"
        assert health[1].startswith("application/json"), health[1]
        assert json.loads(health[2])["status"] == "ok", health[2]
        _serves_as_deployed(base, f"http://127.0.0.1:{sim_port}", login[2])

        # Everything is up now: note every process before asking it to stop.
        seen |= _descendants(proc.pid) | _working_in(var)
        assert _working_in(var), "no embedded server found under COORD_VAR_DIR"
        # COORD_VAR_DIR stands for "the same checkout": this test's make run keeps var/ there.
        _operator_commands_work({**env, "COORD_VAR_DIR": str(var)}, base, var)
        seen |= _descendants(proc.pid) | _working_in(var)

        os.killpg(proc.pid, signal.SIGTERM)  # what closing the terminal job does
        try:
            proc.wait(timeout=SHUTDOWN_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"`make run` still running {SHUTDOWN_TIMEOUT:.0f}s after SIGTERM")
        # Stragglers exit within moments of their parent, or never.
        deadline = time.monotonic() + 10
        while _survivors(seen) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = _survivors(seen) | _working_in(var)
        assert not left, f"processes left behind:\n{_describe(left)}\n{log_tail()}"
        # run.py's last line; "stopped (exit status N)" would mean a child had died.
        assert re.search(r"^run +\| stopped$", log_tail(), re.MULTILINE), log_tail()
        # Stopped, it takes its environment with it; production rules apply again.
        assert not (var / "run.env").exists(), "var/run.env outlived make run"
        bare = _manage({**env, "COORD_VAR_DIR": str(var)}, "check")
        assert bare.returncode != 0 and "SECRET_KEY must be set" in bare.stderr, bare.stdout + bare.stderr
    finally:
        # Never leave a platform running behind a failed test.
        seen |= _descendants(proc.pid)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        for pid, _start in _survivors(seen) | _working_in(var):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


def test_banner_lists_every_demo_login():
    """The logins `make run` prints are the ones seed_demo creates."""
    import ast

    from cases.demo import DEMO_PASSWORD, DEMO_USERS

    tree = ast.parse((Path(__file__).resolve().parents[1] / "scripts" / "run.py").read_text())
    constants = {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") in ("DEMO_LOGINS", "DEMO_PASSWORD")
    }
    assert {user for user, _label in constants["DEMO_LOGINS"]} == {user[0] for user in DEMO_USERS}
    assert constants["DEMO_PASSWORD"] == DEMO_PASSWORD
