"""`manage.py check --deploy` is clean with production settings."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _check(extra_env: dict) -> subprocess.CompletedProcess:
    # A deployment's environment, not the test process's: the browser tests set
    # DJANGO_ALLOW_ASYNC_UNSAFE for Playwright, which a deployment must never do.
    dropped = ("DEBUG", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update({"DJANGO_SETTINGS_MODULE": "coordination.settings", **extra_env})
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_check_is_clean():
    result = _check({"SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "afc.example.gov.cn"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = _check({"SECRET_KEY": ""})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_malformed_setting_fails_fast_with_its_name():
    result = _check({"SECRET_KEY": secrets.token_urlsafe(50), "AXES_FAILURE_LIMIT": "five"})
    assert result.returncode != 0
    assert "AXES_FAILURE_LIMIT" in result.stderr
