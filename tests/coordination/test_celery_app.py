"""The platform's Celery app registers the platform's jobs only: no benchmark code in production."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# What `celery -A coordination worker` imports before it serves: the app, then every app's tasks.
LIST_TASKS = """
import json, sys
import django
django.setup()
from coordination.celery import app
app.loader.import_default_modules()
ours = sorted(m for m in sys.modules if m.split(".")[0] in ("bench", "harness", "simulator"))
print(json.dumps({"tasks": sorted(app.tasks), "modules": ours}))
"""


def test_the_worker_carries_no_benchmark_or_harness_code():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "coordination.settings", "LOG_LEVEL": "WARNING"}
    result = subprocess.run(
        [sys.executable, "-c", LIST_TASKS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert "alerts.push_delivery" in found["tasks"]
    assert [name for name in found["tasks"] if name.startswith("bench")] == []
    assert found["modules"] == []
