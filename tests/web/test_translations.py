"""Every string the public pages show has a Japanese translation, and the compiled .mo is current."""

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation.template import templatize

ROOT = Path(settings.BASE_DIR)
PO_FILE = ROOT / "locale" / "ja" / "LC_MESSAGES" / "django.po"
TEMPLATES = ROOT / "projects" / "templates" / "web"
# projects/changes.py writes the change line of the public history table.
PYTHON_SOURCES = [
    *sorted((ROOT / "projects" / "web").rglob("*.py")),
    ROOT / "projects" / "vocabularies.py",
    ROOT / "projects" / "changes.py",
]
GETTEXT_NAMES = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext", "pgettext_lazy"}
TEMPLATE_CALL = re.compile(r"\b(?:n?gettext)\((u'(?:[^'\\]|\\.)*')")


def po_entries() -> dict[str, tuple[str, bool]]:
    """msgid -> (msgstr or msgstr[0], fuzzy) from the .po file, header left out."""
    entries = {}
    for block in PO_FILE.read_text(encoding="utf-8").split("\n\n"):
        fuzzy = "#, fuzzy" in block
        parts: dict[str, str] = {}
        current = None
        for line in block.splitlines():
            match = re.match(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[0\])?) (".*")$', line)
            if match:
                current = match.group(1).replace("[0]", "")
                parts[current] = ast.literal_eval(match.group(2))
            elif line.startswith('"') and current:
                parts[current] += ast.literal_eval(line)
        if parts.get("msgid") and "msgctxt" not in parts:
            entries[parts["msgid"]] = (parts.get("msgstr", ""), fuzzy)
    return entries


def po_entries_in_context() -> dict[tuple[str, str], tuple[str, bool]]:
    """(msgctxt, msgid) -> (msgstr, fuzzy) for the entries with a context (pgettext)."""
    entries = {}
    for block in PO_FILE.read_text(encoding="utf-8").split("\n\n"):
        context = re.search(r'^msgctxt (".*")$', block, re.M)
        msgid = re.search(r'^msgid (".*")$', block, re.M)
        msgstr = re.search(r'^msgstr(?:\[0\])? (".*")$', block, re.M)
        if context and msgid and msgstr:
            key = (ast.literal_eval(context.group(1)), ast.literal_eval(msgid.group(1)))
            entries[key] = (ast.literal_eval(msgstr.group(1)), "#, fuzzy" in block)
    return entries


def template_msgids() -> set[str]:
    found = set()
    for path in TEMPLATES.rglob("*"):
        if path.is_file():
            for literal in TEMPLATE_CALL.findall(
                templatize(path.read_text(encoding="utf-8"), origin=str(path))
            ):
                found.add(ast.literal_eval(literal))
    return found


def python_msgids() -> set[str]:
    found = set()
    for path in PYTHON_SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in GETTEXT_NAMES and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    found.add(first.value)
    return found


def test_the_extractors_find_strings_in_templates_and_code():
    assert "Skip to main content" in template_msgids()
    assert "%(counter)s published project" in template_msgids()
    assert "Near-Earth asteroid" in python_msgids()
    assert "first publication" in python_msgids()  # the change line of the history table


@pytest.mark.parametrize("source", ["templates", "python"])
def test_every_msgid_of_the_public_pages_is_translated(source):
    used = template_msgids() if source == "templates" else python_msgids()
    entries = po_entries()
    untranslated = sorted(msgid for msgid in used if not entries.get(msgid, ("", False))[0])
    fuzzy = sorted(msgid for msgid in used if entries.get(msgid, ("", False))[1])
    assert untranslated == [], "add these to locale/ja/LC_MESSAGES/django.po (see docs/pages.md)"
    assert fuzzy == []


def test_compiled_catalogue_matches_the_po_file():
    stale = []
    with translation.override("ja"):
        for msgid, (msgstr, fuzzy) in po_entries().items():
            if msgstr and not fuzzy and "%(counter)s" not in msgid and translation.gettext(msgid) != msgstr:
                stale.append(msgid)
        for (context, msgid), (msgstr, fuzzy) in po_entries_in_context().items():
            if msgstr and not fuzzy and "%(" not in msgid and translation.pgettext(context, msgid) != msgstr:
                stale.append(f"{context}: {msgid}")
    assert stale == [], "recompile: msgfmt -o locale/ja/LC_MESSAGES/django.mo locale/ja/LC_MESSAGES/django.po"
