"""Every string the code marks for translation (admin, public pages, validation messages) has a
Japanese translation in locale/ja/LC_MESSAGES/django.po, and the committed .mo is that .po compiled.

The strings are found the way ``make messages`` finds them: Django's makemessages (xgettext), run
on a copy of the sources in a temporary directory, so locale/ is never touched. Needs GNU gettext
(Debian's ``gettext`` package); without it the test is skipped.
"""

import ast
import contextlib
import gettext
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

ROOT = Path(settings.BASE_DIR)
PO_FILE = ROOT / "locale" / "ja" / "LC_MESSAGES" / "django.po"
MO_FILE = PO_FILE.with_suffix(".mo")
# What `make messages` extracts from: the project's own code (the Makefile ignores tests, bench,
# proof and migrations, whose strings nobody sees translated).
SOURCES = ["projects", "sdgscore"]
SKIPPED_DIRECTORIES = shutil.ignore_patterns("migrations", "__pycache__", "static")
EXTENSIONS = ["html", "txt", "py", "svg"]
GETTEXT_NAMES = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext", "pgettext_lazy"}
UPDATE = "run `make messages`, translate the new entries in locale/ja/LC_MESSAGES/django.po, run it again"

pytestmark = pytest.mark.skipif(
    not (shutil.which("xgettext") and shutil.which("msgfmt")),
    reason="GNU gettext (xgettext, msgfmt) is not installed",
)


@dataclass
class Entry:
    msgid: str = ""
    context: str | None = None
    plural: str | None = None
    msgstrs: list[str] = field(default_factory=list)
    fuzzy: bool = False
    locations: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str | None, str]:
        return self.context, self.msgid

    @property
    def translated(self) -> bool:
        return bool(self.msgstrs) and all(self.msgstrs) and not self.fuzzy


def read_po(path: Path) -> list[Entry]:
    """The entries of a .po file (header and obsolete entries left out)."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry, current = Entry(), None
        for line in block.splitlines():
            if line.startswith("#:"):
                entry.locations += line[2:].split()
            elif line.startswith("#,"):
                entry.fuzzy = "fuzzy" in (flag.strip() for flag in line[2:].split(","))
            elif line.startswith("#"):
                continue
            elif line.startswith('"') and current:
                _append(entry, current, ast.literal_eval(line))
            elif line:
                keyword, _, literal = line.partition(" ")
                current = keyword
                _append(entry, current, ast.literal_eval(literal), start=True)
        if entry.msgid:
            entries.append(entry)
    return entries


def _append(entry: Entry, keyword: str, text: str, start: bool = False) -> None:
    if keyword == "msgid":
        entry.msgid += text
    elif keyword == "msgctxt":
        entry.context = (entry.context or "") + text
    elif keyword == "msgid_plural":
        entry.plural = (entry.plural or "") + text
    elif keyword.startswith("msgstr"):
        if start:
            entry.msgstrs.append("")
        entry.msgstrs[-1] += text


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> list[Entry]:
    """Every msgid makemessages finds in the sources, with the files it is used in."""
    work = tmp_path_factory.mktemp("messages")
    for name in SOURCES:
        shutil.copytree(ROOT / name, work / name, ignore=SKIPPED_DIRECTORIES)
    (work / "locale").mkdir()
    with contextlib.chdir(work), override_settings(LOCALE_PATHS=[str(work / "locale")]):
        call_command("makemessages", locale=["ja"], extensions=EXTENSIONS, no_wrap=True, verbosity=0)
    return read_po(work / "locale" / "ja" / "LC_MESSAGES" / "django.po")


def test_the_extraction_finds_admin_public_and_model_strings(extracted):
    msgids = {entry.msgid for entry in extracted}
    assert "sdgscore administration" in msgids  # projects/admin_site.py
    assert "Skip to main content" in msgids  # the public pages' templates
    assert "Publish the selected projects…" in msgids  # projects/admin/projects.py
    assert "evidence grade" in msgids  # a model field's verbose name
    assert all(entry.locations for entry in extracted)


def test_every_extracted_msgid_has_a_japanese_translation(extracted):
    catalogue = {entry.key: entry for entry in read_po(PO_FILE)}
    missing = []
    for entry in extracted:
        known = catalogue.get(entry.key)
        if known is None or not known.translated:
            state = "missing" if known is None else "fuzzy" if known.fuzzy else "untranslated"
            context = f" [context {entry.context!r}]" if entry.context else ""
            where = ", ".join(sorted({location.rsplit(":", 1)[0] for location in entry.locations}))
            missing.append(f"{state}: {entry.msgid!r}{context} — {where}")
    if missing:
        pytest.fail(
            f"{len(missing)} msgid(s) without a Japanese translation ({UPDATE}):\n" + "\n".join(missing)
        )


def test_no_string_is_marked_where_makemessages_cannot_see_it(extracted):
    """xgettext does not look inside f-strings: ``f"{_('severe')}"`` is never extracted, so its
    string would stay English unless it happens to be marked elsewhere too."""
    found = {entry.msgid for entry in extracted}
    hidden = []
    for name in SOURCES:
        for path in sorted((ROOT / name).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.JoinedStr):
                    for call in ast.walk(node):
                        msgid = _marked_string(call)
                        if msgid is not None and msgid not in found:
                            hidden.append(f"{msgid!r} — {path.relative_to(ROOT)}:{call.lineno}")
    assert hidden == [], "mark these outside the f-string (assign the gettext call to a name first)"


def _marked_string(node) -> str | None:
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name in GETTEXT_NAMES and isinstance(node.args[0].value, str):
            return node.args[0].value
    return None


def test_the_catalogue_has_no_fuzzy_entries():
    fuzzy = [entry.msgid for entry in read_po(PO_FILE) if entry.fuzzy]
    assert fuzzy == [], "check these translations and remove their `#, fuzzy` line"


def test_compiled_catalogue_is_the_po_file_compiled(tmp_path):
    """The committed .mo holds exactly what the .po says (msgfmt --check also checks that every
    translation keeps its %(name)s placeholders)."""
    fresh = tmp_path / "django.mo"
    command = [shutil.which("msgfmt"), "--check", "-o", str(fresh), str(PO_FILE)]
    checked = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 (our files)
    assert checked.returncode == 0, checked.stderr
    with fresh.open("rb") as compiled, MO_FILE.open("rb") as committed:
        expected, actual = (
            gettext.GNUTranslations(compiled)._catalog,
            gettext.GNUTranslations(committed)._catalog,
        )
    stale = sorted(str(key) for key in expected.keys() ^ actual.keys())
    stale += sorted(str(key) for key in expected.keys() & actual.keys() if expected[key] != actual[key])
    assert stale == [], "the .mo is out of date (run `make messages`); differing msgids:\n" + "\n".join(stale)
