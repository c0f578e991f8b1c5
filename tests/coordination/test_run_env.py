"""``manage.py`` in a bare shell takes the environment of the running ``make run`` (var/run.env).

The file is what ``scripts/run.py`` writes; tests/test_make_run.py checks the two
ends together against a real ``make run``. Here: when it is read and when not.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIGURED_BY = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")  # manage.CONFIGURED_BY
SHOW = "from django.conf import settings; print(settings.SECRET_KEY, settings.DEBUG, settings.REDIS_URL)"


def _manage_shell(var: Path, **extra: str) -> subprocess.CompletedProcess:
    dropped = {"DEBUG", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE", *CONFIGURED_BY}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(COORD_VAR_DIR=str(var), **extra)
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SHOW],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _write_run_env(var: Path, pid: int) -> None:
    var.mkdir(parents=True, exist_ok=True)
    (var / "run.env").write_text(
        "# Written by scripts/run.py\n"
        f"RUN_PID={pid}\n"
        "DEBUG=1\n"
        "DATABASE_URL=postgres://postgres@127.0.0.1:1/coordination\n"
        "REDIS_URL=redis://127.0.0.1:2/0\n"
        "SECRET_KEY=from-run-env-0123456789abcdefghijklmnopqrstuvwxyz\n"
    )


def test_a_bare_shell_uses_the_running_make_run(tmp_path):
    _write_run_env(tmp_path, os.getpid())  # this process stands for the live make run
    result = _manage_shell(tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == [
        "from-run-env-0123456789abcdefghijklmnopqrstuvwxyz",
        "True",
        "redis://127.0.0.1:2/0",
    ]


def test_a_configured_shell_ignores_it(tmp_path):
    _write_run_env(tmp_path, os.getpid())
    result = _manage_shell(tmp_path, SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_a_file_left_by_a_killed_make_run_is_ignored(tmp_path):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    _write_run_env(tmp_path, gone.pid)
    result = _manage_shell(tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_without_the_file_production_rules_apply(tmp_path):
    result = _manage_shell(tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
