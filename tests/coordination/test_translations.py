"""The Simplified Chinese catalogue is complete and in step with the code.

`locale/zh_Hans/LC_MESSAGES/django.po` must translate every msgid of the codebase
(docs/ui.md, "Languages"): no empty msgstr, no fuzzy entry, placeholders intact,
and `makemessages` run over the current code must find nothing new.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import translation

ROOT = Path(__file__).resolve().parents[2]
ZH_PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
ZH_MO = ZH_PO.with_suffix(".mo")

# What `make messages` / docs/ui.md leave out of makemessages.
IGNORED = [".venv", "var", "node_modules", "static/vendor", "tests", "test-artifacts"]
# Top-level entries never copied into the scratch tree (big, or not code).
NOT_COPIED = {".venv", "var", "node_modules", ".git", "test-artifacts", "tests", "locale", "__pycache__"}
# makemessages' default extensions for the "django" domain.
SOURCE_SUFFIXES = {".py", ".html", ".txt"}


@dataclass
class Entry:
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)

    @property
    def label(self) -> str:
        return (f"[{self.msgctxt}] " if self.msgctxt else "") + repr(self.msgid)


def parse_po(path: Path) -> list[Entry]:
    """A tiny .po reader: active entries only (obsolete `#~` ones are skipped), header included."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int | None] | None = None

    def start() -> Entry:
        nonlocal current
        if current is None:
            current = Entry()
        return current

    def finish() -> None:
        nonlocal current, target
        if current is not None:
            entries.append(current)
        current, target = None, None

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            continue
        if line.startswith("#,"):
            if current is not None and target is not None and target[0] == "msgstr":
                finish()
            start().flags.update(f.strip() for f in line[2:].split(","))
            continue
        if line.startswith("#"):
            if current is not None and target is not None and target[0] == "msgstr":
                finish()
            start()
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            assert target is not None and current is not None, f"stray continuation line in {path}: {raw!r}"
            value = ast.literal_eval(line)
        else:
            value = ast.literal_eval(rest)
            if keyword in ("msgctxt", "msgid") and current is not None and target and target[0] == "msgstr":
                finish()
            entry = start()
            if keyword.startswith("msgstr["):
                target = ("msgstr", int(keyword[7:-1]))
                entry.msgstr[target[1]] = ""
            elif keyword == "msgstr":
                target = ("msgstr", 0)
                entry.msgstr[0] = ""
            elif keyword in ("msgctxt", "msgid", "msgid_plural"):
                target = (keyword, None)
                setattr(entry, keyword, "")
            else:
                raise AssertionError(f"unexpected line in {path}: {raw!r}")
        kind, index = target
        if kind == "msgstr":
            current.msgstr[index] += value
        else:
            setattr(current, kind, getattr(current, kind) + value)
    finish()
    return entries


def shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def messages(path: Path) -> list[Entry]:
    """Every entry except the header."""
    return [e for e in parse_po(path) if not (e.msgid == "" and e.msgctxt is None)]


def test_the_parser_sees_the_whole_catalogue():
    entries = messages(ZH_PO)
    assert len(entries) > 500
    assert len({e.key for e in entries}) == len(entries), "duplicate msgids in the catalogue"
    by_id = {e.msgid: e for e in entries}
    assert by_id["Emergency stop-payment"].msgstr == {0: "紧急止付"}


def test_parser_spots_untranslated_and_fuzzy_entries(tmp_path):
    """The checks below can fail: a catalogue with gaps is seen as such."""
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: zh_Hans\\n"\n\n'
        'msgid "Freeze"\nmsgstr "冻结"\n\n'
        '#, fuzzy, python-format\n#| msgid "Old %(n)s"\nmsgid "New %(n)s"\nmsgstr "旧 %(n)s"\n\n'
        'msgid ""\n"Two "\n"lines"\nmsgstr ""\n\n'
        'msgid "one"\nmsgid_plural "many"\nmsgstr[0] ""\n\n'
        '#~ msgid "gone"\n#~ msgstr ""\n',
        encoding="utf-8",
    )
    entries = messages(po)
    assert [e.msgid for e in entries] == ["Freeze", "New %(n)s", "Two lines", "one"]
    assert [e.label for e in untranslated(entries)] == ["'Two lines'", "'one'"]
    assert [e.label for e in fuzzy(entries)] == ["'New %(n)s'"]


def untranslated(entries: list[Entry]) -> list[Entry]:
    return [e for e in entries if not e.msgstr or any(not s for s in e.msgstr.values())]


def fuzzy(entries: list[Entry]) -> list[Entry]:
    return [e for e in entries if "fuzzy" in e.flags]


def test_zh_hans_has_no_untranslated_entries():
    missing = untranslated(messages(ZH_PO))
    assert not missing, f"{len(missing)} untranslated msgids in {shown(ZH_PO)}:\n" + "\n".join(e.label for e in missing)


def test_zh_hans_has_no_fuzzy_entries():
    entries = parse_po(ZH_PO)
    found = fuzzy(entries)
    assert not found, f"{len(found)} fuzzy entries in {shown(ZH_PO)} (check, then drop the flag):\n" + (
        "\n".join(e.label for e in found)
    )


def test_zh_hans_compiles_with_format_checks(tmp_path):
    """msgfmt --check: python-format placeholders (%(name)s, %s) match between msgid and msgstr."""
    if shutil.which("msgfmt") is None:
        pytest.skip("msgfmt not installed (apt package gettext)")
    result = subprocess.run(
        ["msgfmt", "--check", "-o", str(tmp_path / "django.mo"), str(ZH_PO)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_catalogue_is_in_sync_with_the_code(tmp_path, monkeypatch):
    """makemessages over a scratch copy of the code finds no msgid the catalogue lacks."""
    if shutil.which("xgettext") is None or shutil.which("msgmerge") is None:
        pytest.skip("xgettext/msgmerge not installed (apt package gettext)")
    tree = tmp_path / "tree"
    tree.mkdir()
    for item in ROOT.iterdir():
        if item.name in NOT_COPIED or item.name.startswith("."):
            continue
        if item.is_dir():
            shutil.copytree(
                item,
                tree / item.name,
                ignore=lambda d, names: (
                    [n for n in names if not (Path(d, n).is_dir() or Path(n).suffix in SOURCE_SUFFIXES)]
                    + [n for n in names if n in ("__pycache__", "node_modules")]
                ),
            )
        elif item.suffix in SOURCE_SUFFIXES:
            shutil.copy2(item, tree / item.name)
    scratch_po = tree / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    scratch_po.parent.mkdir(parents=True)
    shutil.copy2(ZH_PO, scratch_po)

    before = ZH_PO.read_bytes()
    monkeypatch.chdir(tree)
    with override_settings(LOCALE_PATHS=[str(tree / "locale")]):
        call_command(
            "makemessages",
            locale=["zh_Hans"],
            no_location=True,
            ignore_patterns=IGNORED,
            verbosity=0,
        )
    assert ZH_PO.read_bytes() == before, "makemessages must write to the scratch copy only"

    committed = {e.key for e in messages(ZH_PO)}
    fresh = messages(scratch_po)
    assert len(fresh) > 500, "makemessages found next to no strings: is the scratch copy complete?"
    new = [e for e in fresh if e.key not in committed]
    assert not new, (
        f"{len(new)} msgids in the code are missing from {shown(ZH_PO)}; run `make messages` "
        "(docs/ui.md) and translate them:\n" + "\n".join(e.label for e in new)
    )
    # msgmerge would also mark an entry fuzzy when only a plural form or context changed.
    assert not untranslated(fresh) and not fuzzy(fresh)


@pytest.mark.parametrize(
    ("msgid", "chinese"),
    [
        ("Emergency stop-payment", "紧急止付"),
        ("Freeze", "冻结"),
        ("Centre analyst", "中心研判员"),
        ("Agency liaison", "单位联络员"),
    ],
)
def test_key_strings_translate_at_runtime(msgid, chinese):
    """Django, through the compiled catalogue (`make compilemessages`), answers in Chinese."""
    if not ZH_MO.exists():
        pytest.skip(f"{shown(ZH_MO)} not compiled: run `make compilemessages`")
    with translation.override("zh-hans"):
        assert translation.gettext(msgid) == chinese
    with translation.override("en"):
        assert translation.gettext(msgid) == msgid
