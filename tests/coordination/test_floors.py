"""Floors, not circles: no app imports an app above it (docs/architecture.md, style.md).

``coordination`` imports no app; ``agencies`` only ``coordination``; ``cases``
``agencies`` (and below); ``alerts`` ``cases`` (and below). Every import counts,
the ones inside function bodies too: an import hidden in a function to dodge the
cycle is still a cycle. A lower floor that must set off work above it sends a
signal or calls a hook (``coordination.hooks``).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FLOORS = {"coordination": 0, "agencies": 1, "cases": 2, "alerts": 3, "imports": 3, "review": 4}


def sources():
    for app in FLOORS:
        for path in sorted((ROOT / app).rglob("*.py")):
            parts = path.relative_to(ROOT).parts
            if "migrations" in parts or "tests" in parts:
                continue
            yield path


def module_name(rel: str) -> str:
    parts = rel.removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported(rel: str, source: str):
    """Every module the file ``rel`` imports (absolute names) with its line, at any depth of the code."""
    name = module_name(rel)
    package = name if rel.endswith("__init__.py") else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(source, filename=rel)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            yield target, node.lineno


def offences(rel: str, source: str):
    """The imports of ``rel`` that reach a floor above its own: (file, module, line)."""
    floor = FLOORS[rel.split("/")[0]]
    return [
        (rel, target, line) for target, line in imported(rel, source) if FLOORS.get(target.split(".")[0], -1) > floor
    ]


def upward_imports():
    found = []
    for path in sources():
        rel = path.relative_to(ROOT).as_posix()
        found.extend(offences(rel, path.read_text(encoding="utf-8")))
    return found


def test_no_app_imports_a_floor_above_it():
    offenders = [(rel, target, line) for rel, target, line in upward_imports()]
    assert not offenders, "Imports up a floor (send a signal or register a hook instead):\n" + "\n".join(
        f"  {rel}:{line} imports {target}" for rel, target, line in offenders
    )


def test_the_check_catches_hidden_and_relative_imports():
    """Imports in function bodies count; relative ones resolve to their app; lower floors pass."""
    hidden = "import django\n\ndef f():\n    from cases.models import Task\n    import alerts.tasks\n"
    assert offences("agencies/views.py", hidden) == [
        ("agencies/views.py", "cases.models", 4),
        ("agencies/views.py", "alerts.tasks", 5),
    ]
    relative = "from ..models import Task\nfrom .. import permissions\nfrom agencies import roles\n"
    assert offences("cases/views/tasks.py", relative) == []
    assert offences("coordination/views.py", "from agencies import roles\n") == [
        ("coordination/views.py", "agencies", 1)
    ]
    assert dict(imported("cases/views/__init__.py", "from . import tasks\n")) == {"cases.views": 1}
