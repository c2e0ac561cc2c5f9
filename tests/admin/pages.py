"""Reading admin pages as a browser would: a small HTML tree, form data, and test-data builders.

The admin tests post back exactly what the page offers (field names, the rating sheet's
per-criterion prefixes, hidden values), read from the rendered HTML rather than guessed, so a
renamed prefix or a missing field makes a test fail instead of silently posting something else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from projects.models import Project
from tests.support.builders import every_rating
from tests.support.builders import imported as imported  # the admin tests' drafts, from here too

VOID_TAGS = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "param",
    "source",
    "track",
    "wbr",
}


# --- a minimal HTML tree --------------------------------------------------------------------


@dataclass
class Element:
    tag: str
    attrs: dict[str, str | None] = field(default_factory=dict)
    children: list[Element | str] = field(default_factory=list)

    def iter(self):
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter()

    def find_all(self, tag: str | None = None, **attrs) -> list[Element]:
        """Descendants (and self) with ``tag`` whose attributes match; ``class_`` matches one class,
        a value of True only asks for the attribute to be present."""
        found = []
        for element in self.iter():
            if tag is not None and element.tag != tag:
                continue
            if all(element._matches(name, want) for name, want in attrs.items()):
                found.append(element)
        return found

    def find(self, tag: str | None = None, **attrs) -> Element:
        found = self.find_all(tag, **attrs)
        assert found, f"no <{tag or '*'} {attrs}> in the page"
        return found[0]

    def _matches(self, name: str, want) -> bool:
        if name == "class_":
            return want in self.classes
        value = self.attrs.get(name)
        if want is True:
            return name in self.attrs
        return value == want

    @property
    def classes(self) -> list[str]:
        return (self.attrs.get("class") or "").split()

    @property
    def text(self) -> str:
        parts = []
        for child in self.children:
            parts.append(child if isinstance(child, str) else child.text)
        return "".join(parts)

    @property
    def clean_text(self) -> str:
        return " ".join(self.text.split())

    def _text_without(self, hidden) -> str:
        parts = []
        for child in self.children:
            if isinstance(child, str):
                parts.append(child)
            elif not hidden(child):
                parts.append(child._text_without(hidden))
        return "".join(parts)

    @property
    def spoken_text(self) -> str:
        """What a screen reader reads: without what is aria-hidden, with what is visually hidden."""
        return " ".join(self._text_without(lambda e: e.attrs.get("aria-hidden") == "true").split())

    @property
    def seen_text(self) -> str:
        """What a sighted reader sees: without what is visually hidden (for screen readers only)."""
        return " ".join(self._text_without(lambda e: "visually-hidden" in e.classes).split())


class _TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Element("#document")
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        element = Element(tag, dict(attrs))
        self.stack[-1].children.append(element)
        if tag not in VOID_TAGS:
            self.stack.append(element)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(Element(tag, dict(attrs)))

    def handle_endtag(self, tag):
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse(html: str | bytes) -> Element:
    builder = _TreeBuilder()
    builder.feed(html.decode() if isinstance(html, bytes) else html)
    builder.close()
    return builder.root


# --- forms as a browser submits them ---------------------------------------------------------


def form_data(form: Element) -> dict[str, list[str]]:
    """What submitting ``form`` unchanged sends (buttons excluded)."""
    data: dict[str, list[str]] = {}

    def add(name, value):
        data.setdefault(name, []).append(value)

    for element in form.iter():
        name = element.attrs.get("name")
        if not name or "disabled" in element.attrs:
            continue
        if element.tag == "input":
            kind = (element.attrs.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                continue
            if kind in ("checkbox", "radio"):
                if "checked" in element.attrs:
                    value = element.attrs.get("value")
                    add(name, "on" if value is None else value)  # value="" sends ""
                continue
            add(name, element.attrs.get("value") or "")
        elif element.tag == "textarea":
            text = element.text
            add(name, text[1:] if text.startswith("\n") else text)
        elif element.tag == "select":
            options = element.find_all("option")
            chosen = [option for option in options if "selected" in option.attrs]
            if not chosen and options and "multiple" not in element.attrs:
                chosen = options[:1]
            for option in chosen:
                add(name, option.attrs.get("value", option.text))
    return data


@dataclass
class ProjectPage:
    """A rendered project add/change page and the form data it would submit."""

    tree: Element
    data: dict[str, list[str]]

    @classmethod
    def of(cls, response) -> ProjectPage:
        assert response.status_code == 200, response.status_code
        tree = parse(response.content)
        return cls(tree, form_data(tree.find("form", id="project_form")))

    def post_data(self) -> dict[str, list[str]]:
        return {**self.data, "_save": ["Save"]}


@dataclass
class SheetPage:
    """A rendered rating sheet (every criterion of the method) and the form data it would submit."""

    tree: Element
    data: dict[str, list[str]]

    @classmethod
    def of(cls, response) -> SheetPage:
        assert response.status_code == 200, response.status_code
        tree = parse(response.content)
        return cls(tree, form_data(tree.find("form", id="rating_sheet")))

    @staticmethod
    def prefix(code: str) -> str:
        """The prefix of a criterion's fields (``S7_1`` for S7.1)."""
        return code.replace(".", "_")

    def rate(
        self,
        code: str,
        rating,
        *,
        justification="Seen in the operator's report.",
        grade="B",
        url=None,
        justification_ja=None,
    ):
        """Choose ``rating`` (0–4, "na" or "" for not assessed) with its evidence; grades A and B
        cite a source (the rules ask for one) unless ``url`` says otherwise ("" for none)."""
        if url is None:
            url = "https://example.org/evidence" if grade in ("A", "B") else ""
        prefix = self.prefix(code)
        assert f"{prefix}-justification" in self.data, f"{code} is not on the sheet"
        self.data[f"{prefix}-rating"] = [str(rating)]
        self.data[f"{prefix}-justification"] = [justification]
        self.data[f"{prefix}-evidence_grade"] = [grade]
        self.data[f"{prefix}-source_url"] = [url]
        if justification_ja is not None:
            self.data[f"{prefix}-justification_ja"] = [justification_ja]
        return prefix

    def clear(self, code: str) -> str:
        """Choose "not assessed"."""
        prefix = self.prefix(code)
        self.data[f"{prefix}-rating"] = [""]
        return prefix

    def rating(self, code: str) -> list[str]:
        return self.data.get(f"{self.prefix(code)}-rating", [])

    def post_data(self, button: str = "_save") -> dict[str, list[str]]:
        return {**self.data, button: ["Save"]}

    def criterion(self, code: str) -> Element:
        """The criterion's fieldset: its texts, its fields and their errors."""
        return self.tree.find("fieldset", id=f"criterion-{self.prefix(code)}")


def sheet_url(project: Project) -> str:
    return f"/admin/projects/project/{project.pk}/ratings/"


def errors_in(element: Element) -> list[str]:
    return [
        item.clean_text for ul in element.find_all("ul", class_="errorlist") for item in ul.find_all("li")
    ]


def field_errors(tree: Element, name: str) -> list[str]:
    """The error messages the page ties to the field ``name`` (through aria-describedby)."""
    widget = tree.find(name=name)
    ids = (widget.attrs.get("aria-describedby") or "").split()
    return [message for id_ in ids if id_.endswith("_error") for message in errors_in(tree.find(id=id_))]


def field_label(tree: Element, name: str) -> str:
    widget = tree.find(name=name)
    return tree.find("label", **{"for": widget.attrs["id"]}).clean_text


def score_card_text(tree: Element) -> str:
    return tree.find("div", class_="field-score_card").find("div", class_="readonly").clean_text


def score_card_rows(tree: Element) -> dict[str, list[str]]:
    """The dimension table of the score card: label -> [score, range, coverage, risk level]."""
    table = tree.find("div", class_="field-score_card").find("table")
    rows = {}
    for tr in table.find("tbody").find_all("tr"):
        label = tr.find("th").clean_text
        rows[label] = [td.clean_text for td in tr.find_all("td")]
    return rows


# --- test data, through the interchange importer ---------------------------------------------

ratings = every_rating  # every criterion rated, with overrides (tests/support/builders.py)


def change_url(project: Project) -> str:
    return f"/admin/projects/project/{project.pk}/change/"


ADD_URL = "/admin/projects/project/add/"
LIST_URL = "/admin/projects/project/"


def preview_digests(response) -> dict:
    """The draft digests a publish preview carries (hidden inputs ``digest-<pk>``)."""
    return {
        name.decode(): value.decode()
        for name, value in re.findall(rb'name="(digest-\d+)" value="([0-9a-f]+)"', response.content)
    }


def publish_via(client, url, data, **kwargs):
    """Publish as a reviewer does: look at the preview, then confirm with the note."""
    if "action" in data:
        preview = client.post(url, {key: value for key, value in data.items() if key != "note"})
    else:
        preview = client.get(url)
    return client.post(url, {**data, **preview_digests(preview)}, **kwargs)
