"""`.env.example` lists every variable the settings read."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_variable_is_documented():
    settings = (ROOT / "coordination" / "settings.py").read_text()
    read = set(re.findall(r'(?:env\.\w+|_typed)\(\s*"([A-Z][A-Z0-9_]+)"', settings))
    documented = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    assert len(read) > 20
    assert read - documented == set(), "add these to .env.example"
